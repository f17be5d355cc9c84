"""`xltool collect`: take the returns out of a mailbox.

Sources: a folder of .eml files, an mbox file, a Maildir, or an IMAP mailbox
(TLS, opened read-only and fetched with BODY.PEEK, so nothing is deleted or
flagged). Only spreadsheet attachments that carry this plan's template
metadata are kept; everything else is reported. Each kept file gets a clean,
collision-free name and a record of who sent it, when, and in which message.

Mail is untrusted. Each message is parsed and examined on its own in an
isolated worker (see :mod:`.reading.isolation`): the worker parses it, writes
each spreadsheet attachment to a scratch file and identifies it; only a small
summary comes back. A message that cannot be parsed, or whose worker dies,
becomes one issue naming it, and collection goes on. Sizes are checked before
anything is read, so no message over :data:`MAX_MESSAGE_BYTES` is ever held in
memory. Returns forwarded as an attached message, and messages whose whole
body is the spreadsheet, are collected too.
"""
from __future__ import annotations

import base64
import hashlib
import imaplib
import json
import os
import re
import shutil
import ssl
import tempfile
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime
from email.header import decode_header
from email.message import Message
from email.parser import BytesFeedParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path
from typing import Callable, Iterable, Iterator

from ..plan.addresses import same_address
from ..errors import ERROR, WARNING, Issue, XltoolError
from ..files import atomic_path, safe_filename
from ..intake.read import read_return
from ..plan.load import Plan
from ..quoting import quote, visible
from ..reading.gate import MAX_FILE_BYTES, SPREADSHEET_SUFFIXES
from ..reading.isolation import Failure, Limits, Pool

LOG_NAME = ".xltool-collect.jsonl"  # beside the returns; merge reads it to say who sent what
OLD_LOG_NAME = ".xltool-collect.json"  # the whole-file log of earlier versions, still read
MAX_MESSAGE_BYTES = 80 * 1024 * 1024  # never read a larger message into memory
MAX_ATTACHMENT_BYTES = MAX_FILE_BYTES  # the gate's cap on a return
MAX_DEPTH = 12  # MIME levels, forwarded messages included
DEFAULT_TIMEOUT = 60.0  # seconds, for the IMAP connection and every read on it
SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
ENCRYPTED_TYPES = {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}
UNNAMED = "（未命名附件）"


@dataclass
class ImapSettings:
    host: str
    port: int
    user: str
    password: str
    folder: str = "INBOX"
    starttls: bool = False
    cafile: str | None = None
    since: date | None = None
    before: date | None = None
    timeout: float = DEFAULT_TIMEOUT


@dataclass(frozen=True)
class Mail:
    """One message to examine: where its bytes are, and how many there are.
    ``path`` is None when the message was not read (too large, or not fetched)."""

    label: str
    size: int
    path: Path | None = None
    start: int = 0
    stop: int | None = None  # None: to the end of the file
    spooled: bool = False  # a temporary copy (IMAP), removed once examined


@dataclass
class Saved:
    path: Path
    unit: str
    sender: str
    sent: str
    message_id: str


@dataclass
class CollectResult:
    saved: list[Saved] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    already: int = 0  # attachments saved by an earlier run, not saved again


# ------------------------------------------------------------------ the log


def read_log(folder: Path) -> dict:
    """Who sent each saved file: ``{"files": {name: record}, "seen": [key, …],
    "issues": [Issue, …]}``. Reads the JSON Lines log and an older whole-file log;
    a damaged or half-written log is a warning, and what can be read is used."""
    folder = Path(folder)
    found: dict = {"files": {}, "seen": [], "issues": []}
    if (folder / OLD_LOG_NAME).exists():
        _read_old_log(folder / OLD_LOG_NAME, found)
    if (folder / LOG_NAME).exists():
        _read_log_lines(folder / LOG_NAME, found)
    return found


def _read_old_log(path: Path, found: dict) -> None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        found["files"].update({str(k): dict(v) for k, v in dict(data.get("files", {})).items()})
        found["seen"].extend(str(k) for k in data.get("seen", []))
    except (OSError, ValueError, TypeError, AttributeError):
        found["issues"].append(_damaged_log(path, "無法讀取"))


def _read_log_lines(path: Path, found: dict) -> None:
    bad = 0
    try:
        with path.open(encoding="utf-8", errors="replace") as fh:
            for line in fh:
                if not line.strip():
                    continue
                try:
                    record = json.loads(line)
                except ValueError:
                    record = None
                if not isinstance(record, dict) or not isinstance(record.get("file"), str):
                    bad += 1
                    continue
                name, key = record.pop("file"), record.pop("key", None)
                found["files"][name] = record
                if isinstance(key, str):
                    found["seen"].append(key)
    except OSError:
        found["issues"].append(_damaged_log(path, "無法讀取"))
        return
    if bad:
        found["issues"].append(_damaged_log(path, f"有 {bad} 行無法讀取（可能在寫入時中斷）"))


def _damaged_log(path: Path, what: str) -> Issue:
    return Issue("damaged-log", f"收件紀錄「{path.name}」{what}，已略過無法讀取的部分；其餘紀錄照常"
                                "使用，先前收過的郵件可能會再存一次。", WARNING, file=path.name)


class _Log:
    """The collect log, appended one line per saved file (never rewritten)."""

    def __init__(self, folder: Path):
        self.path = Path(folder) / LOG_NAME
        self._fh = None

    def add(self, name: str, record: dict) -> None:
        if self._fh is None:
            self._fh = self._open()
        self._fh.write(json.dumps({"file": name, **record}, ensure_ascii=False) + "\n")
        self._fh.flush()  # a crash loses at most the line being written

    def _open(self):
        ends_mid_line = False
        if self.path.exists() and self.path.stat().st_size:
            with self.path.open("rb") as fh:
                fh.seek(-1, os.SEEK_END)
                ends_mid_line = fh.read(1) != b"\n"
        fh = self.path.open("a", encoding="utf-8", newline="\n")
        if ends_mid_line:  # an interrupted write: keep it on a line of its own
            fh.write("\n")
        return fh

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None


# ------------------------------------------------------------------ sources


def messages_from(source: Path) -> Iterator[Mail]:
    """Every message of a folder of .eml files, an mbox file, a Maildir or one
    .eml file, by where it lies: nothing is read here but the mbox separators."""
    source = Path(source)
    if source.is_dir() and all((source / d).is_dir() for d in ("cur", "new", "tmp")):
        files = [p for d in ("new", "cur") for p in (source / d).iterdir() if p.is_file()]
        for path in sorted(files, key=lambda p: p.name):
            yield _file_mail(f"Maildir:{visible(path.name.split(':')[0])}", path)
    elif source.is_dir():
        for path in sorted(source.rglob("*.eml")):
            yield _file_mail(visible(path.relative_to(source).as_posix()), path)
    elif source.is_file():
        with source.open("rb") as fh:
            is_mbox = fh.read(5) == b"From "
        if not is_mbox:
            yield _file_mail(visible(source.name), source)
            return
        for n, (start, stop) in enumerate(_mbox_spans(source), start=1):
            yield Mail(f"mbox#{n}", stop - start, source, start, stop)
    else:
        raise XltoolError(f"找不到郵件來源「{source}」（應為 .eml 資料夾、mbox 檔或 Maildir）。")


def _file_mail(label: str, path: Path) -> Mail:
    try:
        return Mail(label, path.stat().st_size, path)
    except OSError:
        return Mail(label, 0)


def _mbox_spans(path: Path, chunk: int = 1 << 16) -> Iterator[tuple[int, int]]:
    """(start, stop) of each message of an mbox file: a message starts at a line
    beginning "From ". Read in bounded chunks, so a huge line costs no memory."""
    start = None
    at_line_start = True
    with path.open("rb") as fh:
        while True:
            pos = fh.tell()
            piece = fh.readline(chunk)
            if not piece:
                break
            if at_line_start and piece.startswith(b"From "):
                if start is not None:
                    yield start, pos
                start = pos
            at_line_start = piece.endswith(b"\n")
        if start is not None:
            yield start, fh.tell()


def messages_from_imap(s: ImapSettings) -> Iterator[Mail]:
    """Every message of one IMAP folder, read-only: never deleted, never marked read.
    Sizes are asked first; a message over the cap is never fetched. Each fetched
    message is spooled to a temporary file, so only one is in memory at a time."""
    conn = _imap_connect(s)
    broken = False  # after a timeout or a dropped connection, LOGOUT would only wait again
    try:
        _imap_login_and_select(conn, s)
        criteria = []
        if s.since:
            criteria += ["SINCE", s.since.strftime("%d-%b-%Y")]
        if s.before:
            criteria += ["BEFORE", s.before.strftime("%d-%b-%Y")]
        status, data = conn.uid("SEARCH", None, *(criteria or ["ALL"]))
        uids = (data[0] or b"").split() if status == "OK" and data else []
        sizes = _imap_sizes(conn, uids)
        for uid in uids:
            label = f"IMAP:{quote(s.folder)}#{uid.decode('ascii', 'replace')}"
            size = sizes.get(uid, 0)
            if size > MAX_MESSAGE_BYTES:
                yield Mail(label, size)
                continue
            status, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple)), None)
            if not raw:
                yield Mail(label, 0)
                continue
            yield Mail(label, len(raw), _spool(raw), spooled=True)
            del raw
    except TimeoutError:
        broken = True
        raise XltoolError(f"郵件伺服器 {s.host}:{s.port} 超過 {s.timeout:g} 秒沒有回應，已停止收取；"
                          "已存入的回傳檔都已記錄，重新執行會接著收取。") from None
    except (imaplib.IMAP4.error, OSError) as exc:  # a dropped connection, or a refused command
        broken = True
        raise XltoolError(f"與郵件伺服器 {s.host}:{s.port} 的連線中斷或指令被拒（{quote(exc)}）；"
                          "已存入的回傳檔都已記錄，重新執行會接著收取。") from None
    finally:
        _imap_close(conn, logout=not broken)


def _spool(raw: bytes) -> Path:
    """A temporary file holding one fetched message; collect removes it once examined."""
    fd, name = tempfile.mkstemp(prefix="xltool-imap-", suffix=".eml")
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    return Path(name)


def _imap_connect(s: ImapSettings) -> imaplib.IMAP4:
    """A connection with ``s.timeout`` on the connect and on every read after it."""
    try:
        return _imap_open(s)
    except TimeoutError:
        hint = "；這個連接埠可能只接受 SSL（例如 993 埠），請改為不加 --starttls" if s.starttls else \
            "；如伺服器使用 STARTTLS（143 埠），請加上 --starttls"
        raise XltoolError(f"郵件伺服器 {s.host}:{s.port} 超過 {s.timeout:g} 秒沒有回應{hint}。") from None
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise XltoolError(f"與郵件伺服器 {s.host} 的加密連線失敗（{quote(exc, 200)}）；"
                          "如使用自簽憑證，請以 --cafile 指定憑證。") from None
    except (OSError, imaplib.IMAP4.error) as exc:
        raise XltoolError(f"無法連線到郵件伺服器 {s.host}:{s.port}（{quote(exc, 200)}）。") from None


def _imap_open(s: ImapSettings) -> imaplib.IMAP4:
    context = ssl.create_default_context(cafile=s.cafile)
    if not s.starttls:
        return imaplib.IMAP4_SSL(s.host, s.port, ssl_context=context, timeout=s.timeout)
    conn = imaplib.IMAP4(s.host, s.port, timeout=s.timeout)
    try:
        conn.starttls(ssl_context=context)
    except BaseException:
        _imap_close(conn, logout=False)
        raise
    return conn


def _imap_login_and_select(conn: imaplib.IMAP4, s: ImapSettings) -> None:
    try:
        conn.login(s.user, s.password)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error:
        raise XltoolError(f"郵件伺服器 {s.host} 拒絕登入：請確認帳號與密碼。") from None
    status, _ = conn.select(_quote(imap_folder_name(s.folder)), readonly=True)
    if status != "OK":
        raise XltoolError(f"郵件伺服器上沒有資料夾「{quote(s.folder)}」。")


def _imap_sizes(conn: imaplib.IMAP4, uids: list[bytes]) -> dict[bytes, int]:
    """RFC822.SIZE of every message, asked in batches before anything is fetched."""
    sizes: dict[bytes, int] = {}
    for i in range(0, len(uids), 500):
        status, data = conn.uid("FETCH", b",".join(uids[i:i + 500]).decode("ascii"),
                                "(RFC822.SIZE)")
        for line in data or []:
            line = line[0] if isinstance(line, tuple) else line
            uid = re.search(rb"UID (\d+)", line or b"")
            size = re.search(rb"RFC822\.SIZE (\d+)", line or b"")
            if uid and size:
                sizes[uid.group(1)] = int(size.group(1))
    return sizes


def _imap_close(conn: imaplib.IMAP4, logout: bool = True) -> None:
    try:
        if logout:
            conn.logout()
        else:
            conn.shutdown()
    except (imaplib.IMAP4.error, OSError):
        pass


def imap_folder_name(name: str) -> str:
    """A folder name as IMAP writes it: modified UTF-7 (RFC 3501 §5.1.3), so that
    收件匣 becomes &ZTZO9lMj-. Printable ASCII stands for itself, "&" is "&-"."""
    out: list[str] = []
    pending: list[str] = []

    def flush() -> None:
        if pending:
            encoded = base64.b64encode("".join(pending).encode("utf-16-be")).decode("ascii")
            out.append("&" + encoded.rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def _quote(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


# ------------------------------------------------------------------ collecting


def collect(plan: Plan, messages: Iterable[Mail], out_dir: Path,
            progress: Callable[[str], None] | None = None,
            workers: int | None = None) -> CollectResult:
    """Save this plan's returns from ``messages`` into ``out_dir``. Each message is
    examined in an isolated worker; what it found is saved here, in message order."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    known = read_log(out_dir)
    saver = _Saver(plan, out_dir, set(known["seen"]))
    saver.result.issues.extend(known["issues"])
    pending: deque[Mail] = deque()

    def jobs() -> Iterator[tuple[int, Mail]]:
        for index, mail in enumerate(messages):
            pending.append(mail)
            yield index, mail

    workers = workers or min(os.cpu_count() or 1, 4)
    with tempfile.TemporaryDirectory(prefix="xltool-collect-") as scratch:
        try:
            context = (plan, frozenset(known["seen"]), scratch)
            with Pool(_examine_job, context, workers=workers) as pool:
                for index, answer in enumerate(pool.map(jobs())):
                    mail = pending.popleft()
                    if progress:
                        progress(mail.label)
                    if isinstance(answer, Failure):
                        saver.result.issues.append(_failure_issue(mail, answer, pool.limits))
                    else:
                        saver.keep(answer)
                    _discard(mail)
                    shutil.rmtree(Path(scratch) / str(index), ignore_errors=True)
        finally:
            saver.log.close()
            while pending:
                _discard(pending.popleft())
    return saver.result


class _Saver:
    """Saves the returns found in examined messages and records each in the log."""

    def __init__(self, plan: Plan, out_dir: Path, seen: set[str]):
        self.plan = plan
        self.out_dir = out_dir
        self.seen = seen  # message id | attachment hash, of every file saved
        self.log = _Log(out_dir)
        self.result = CollectResult()
        self._next: dict[str, int] = {}  # stem → next number to try: no rescans

    def keep(self, ex: "Examined") -> None:
        """Save the identified returns of one examined message; record its issues."""
        self.result.issues.extend(ex.issues)
        self.result.already += ex.already
        sent = _parse_iso(ex.sent)
        for found in ex.found:
            key = f"{ex.msg_id}|{found.digest}"
            if key in self.seen:
                self.result.issues.append(Issue(
                    "duplicate-message", f"{ex.where} 的附件「{found.name}」先前已收過（同一封郵件），"
                    "未重複存檔。", WARNING, file=found.name))
                continue
            target = self._free_name(f"{found.unit}_{sent.strftime('%Y%m%dT%H%M')}", found.suffix)
            with atomic_path(target) as tmp:
                shutil.copyfile(found.path, tmp)
            self.seen.add(key)
            self.log.add(target.name, {"unit": found.unit, "sender": ex.sender,
                                       "date": sent.isoformat(), "message_id": ex.msg_id,
                                       "subject": ex.subject, "attachment": found.name, "key": key})
            self.result.saved.append(Saved(target, found.unit, ex.sender, sent.isoformat(),
                                           ex.msg_id))
            sender_issue = _sender_issue(self.plan, ex, found)
            if sender_issue:
                self.result.issues.append(sender_issue)

    def _free_name(self, stem: str, suffix: str) -> Path:
        """``stem.suffix``, or ``stem_2.suffix`` and on, whichever does not exist yet."""
        stem = safe_filename(stem)
        n = self._next.get(stem + suffix, 1)
        candidate = self.out_dir / (f"{stem}{suffix}" if n == 1 else f"{stem}_{n}{suffix}")
        while candidate.exists():
            n += 1
            candidate = self.out_dir / f"{stem}_{n}{suffix}"
        self._next[stem + suffix] = n + 1
        return candidate


def _sender_issue(plan: Plan, ex: "Examined", found: "Found") -> Issue | None:
    """A warning when neither the sender nor the author of a forwarded message
    is the unit's own address: the file may not come from that unit."""
    expected = plan.unit(found.unit).email
    senders = [a for a in (ex.sender_address, *found.senders) if a]
    if not expected or any(same_address(a, expected) for a in senders):
        return None
    who = quote(senders[0]) if senders else "（寄件者不明）"
    return Issue("unexpected-sender", f"「{found.unit}」的回傳檔「{found.name}」由 {who} 寄出（{ex.label}），"
                 f"不是計畫檔中「{found.unit}」的電子郵件 {expected}；已存檔，如非代為轉寄，請向該單位確認。",
                 WARNING, file=found.name, unit=found.unit, value=who, expected=expected)


def _failure_issue(mail: Mail, failure: Failure, limits: Limits) -> Issue:
    """The issue for a message whose worker died, ran out of memory or of time."""
    named = _named(mail.label, _peek_message_id(mail))
    if failure.kind == "memory":
        return Issue("too-large", f"{named} 處理時需要的記憶體超過上限（{limits.memory_mb} MB），"
                                  "已略過；其他郵件照常收取。", file=mail.label)
    if failure.kind == "timeout":
        return Issue("timeout", f"{named} 處理超過時間上限（{limits.wall_seconds:g} 秒），已略過；"
                                "其他郵件照常收取。", file=mail.label)
    return Issue("unreadable", f"{named} 無法處理（解析程式異常結束），已略過；其他郵件照常收取。",
                 file=mail.label)


def _peek_message_id(mail: Mail) -> str:
    """The Message-ID from the first bytes of a message, without parsing it."""
    if mail.path is None:
        return ""
    try:
        with mail.path.open("rb") as fh:
            fh.seek(mail.start)
            head = fh.read(64 * 1024)
    except OSError:
        return ""
    head = re.split(rb"\r?\n\r?\n", head, maxsplit=1)[0]  # the headers, not a forwarded part
    found = re.search(rb"(?im)^message-id:[ \t]*(<[^<>\s]{1,250}>)", head)
    return found.group(1).decode("ascii", "replace") if found else ""


def _discard(mail: Mail) -> None:
    if mail.spooled and mail.path is not None:
        try:
            mail.path.unlink()
        except OSError:
            pass


def _parse_iso(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return datetime(1970, 1, 1)


# ------------------------------------------------------------------ in the worker


@dataclass
class Found:
    """A spreadsheet attachment identified as one unit's return."""

    name: str  # as shown to people: short and printable
    path: str  # the scratch copy
    suffix: str
    digest: str
    unit: str
    senders: tuple[str, ...] = ()  # authors of the forwarded messages that carried it


@dataclass
class Examined:
    """What a worker learnt about one message: small, and safe to pickle."""

    label: str
    msg_id: str = ""  # the Message-ID, or a hash of the message without one
    real_id: str = ""  # the Message-ID as the message gave it, when valid
    sender: str = ""
    sender_address: str = ""
    subject: str = ""
    sent: str = datetime(1970, 1, 1).isoformat()
    found: list[Found] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    already: int = 0

    @property
    def where(self) -> str:
        return f"{quote(self.sender) if self.sender else '（寄件者不明）'}（{self.label}）"


def _examine_job(context, payload) -> Examined:
    plan, known, scratch = context
    index, mail = payload
    return examine(plan, mail, Path(scratch) / str(index), known)


def examine(plan: Plan, mail: Mail, folder: Path, known: frozenset[str] = frozenset()) -> Examined:
    """Parse one message and identify its spreadsheet attachments, writing each to
    ``folder``. Never raises for a bad message: that becomes an issue naming it.
    ``known`` are the attachments saved by earlier runs, which are not read again."""
    ex = Examined(mail.label)
    if mail.size > MAX_MESSAGE_BYTES:
        ex.issues.append(Issue("too-large", f"{_named(mail.label, '')} 大小 {_mb(mail.size)} MB，"
                               f"超過上限 {_mb(MAX_MESSAGE_BYTES)} MB，未讀取；請對方將附件另行寄送。",
                               file=mail.label))
        return ex
    if mail.path is None:
        ex.issues.append(Issue("unreadable", f"{_named(mail.label, '')} 無法取得內容，已略過。",
                               file=mail.label))
        return ex
    try:
        msg, digest = _parse(mail)
    except OSError as exc:
        ex.issues.append(Issue("unreadable", f"{_named(mail.label, '')} 無法讀取（{quote(exc)}）。",
                               file=mail.label))
        return ex
    except Exception as exc:  # noqa: BLE001 — e.g. RecursionError on deep nesting
        ex.issues.append(Issue("bad-message", f"{_named(mail.label, _peek_message_id(mail))} 的結構"
                               f"無法解析（{type(exc).__name__}），已略過；請對方重寄。", file=mail.label))
        return ex
    _read_headers(ex, msg, digest)
    try:
        _examine_parts(plan, ex, msg, folder, known)
    except Exception as exc:  # noqa: BLE001 — one bad message must not stop the rest
        ex.issues.append(Issue("bad-message", f"{_named(ex.label, ex.real_id)} 無法完整解析"
                               f"（{type(exc).__name__}），其餘附件未檢查；請對方重寄。", file=ex.label))
    return ex


def _parse(mail: Mail, chunk: int = 1 << 20) -> tuple[Message, str]:
    """The message (compat32: headers stay text until asked) and the SHA-256 of its
    bytes. Fed in chunks, so the raw bytes are never held whole beside the parse."""
    parser = BytesFeedParser()
    digest = hashlib.sha256()
    remaining = mail.size if mail.stop is None else mail.stop - mail.start
    skipping = None  # inside an mbox "From " separator line, which is not the message
    with mail.path.open("rb") as fh:
        fh.seek(mail.start)
        while remaining > 0:
            data = fh.read(min(chunk, remaining))
            if not data:
                break
            remaining -= len(data)
            if skipping is None:
                skipping = data.startswith(b"From ")
            if skipping:
                end = data.find(b"\n")
                if end < 0:
                    continue
                data, skipping = data[end + 1:], False
            digest.update(data)
            parser.feed(data)
    return parser.close(), digest.hexdigest()


def _read_headers(ex: Examined, msg: Message, digest: str) -> None:
    bad: list[str] = []
    sender = _header(msg, "From", bad)
    ex.sender = quote(sender, 120)
    ex.sender_address = _address_of(sender, bad)
    ex.subject = quote(_header(msg, "Subject", bad), 200)
    ex.real_id = _message_id(msg, bad)
    ex.msg_id = ex.real_id or "sha256:" + digest
    ex.sent = _date(msg, bad).isoformat()
    if bad:
        who = quote(ex.sender) or "不明"
        ex.issues.append(Issue("bad-header", f"{_named(ex.label, ex.real_id)}（寄件者 {who}）的標頭 "
                               f"{'、'.join(bad)} 格式不正確，已盡量解讀並繼續收取。",
                               WARNING, file=ex.label))


def _header(msg: Message, name: str, bad: list[str]) -> str:
    """A header's text, decoded leniently; the name goes into ``bad`` when broken."""
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001
        bad.append(name)
        return ""
    if value is None:
        return ""
    text, ok = _decode_words(value)
    if not ok:
        bad.append(name)
    return text


def _decode_words(value) -> tuple[str, bool]:
    """RFC 2047 encoded words and raw 8-bit text (UTF-8, else Big5), never raising."""
    try:
        pieces = decode_header(value)
    except Exception:  # noqa: BLE001
        return str(value), False
    out, ok = [], True
    for chunk, charset in pieces:
        if isinstance(chunk, str):
            out.append(chunk)
            continue
        text, good = _decode_bytes(chunk, charset)
        out.append(text)
        ok = ok and good
    return "".join(out), ok


def _decode_bytes(chunk: bytes, charset: str | None) -> tuple[str, bool]:
    names = [charset] if charset and charset != "unknown-8bit" else ["utf-8", "cp950"]
    if charset is None:
        names = ["ascii", "utf-8", "cp950"]
    for name in names:
        try:
            return chunk.decode(name), True
        except (LookupError, UnicodeDecodeError):
            continue
    return chunk.decode("utf-8", "replace"), False


def _address_of(sender: str, bad: list[str]) -> str:
    """The address in a From value; a plain search when the parser gives up."""
    if not sender:
        return ""
    try:
        address = parseaddr(sender)[1]
    except Exception:  # noqa: BLE001 — RecursionError on 1,000 "("
        address = ""
    if "@" not in address:
        found = re.search(r"[^\s<>()\"',;:]+@[^\s<>()\"',;:]+", sender[:2000])
        address = found.group() if found else ""
        if "From" not in bad:
            bad.append("From")
    return address[:254]


def _message_id(msg: Message, bad: list[str]) -> str:
    value = _header(msg, "Message-ID", bad).strip()
    if not value:
        return ""
    if re.fullmatch(r"<[^<>\s]{1,250}>", value):
        return value
    if "Message-ID" not in bad:
        bad.append("Message-ID")
    return ""


def _date(msg: Message, bad: list[str]) -> datetime:
    text = _header(msg, "Date", bad)
    if text:
        try:
            value = parsedate_to_datetime(text)
            if value is not None:
                return value
        except Exception:  # noqa: BLE001
            pass
        if "Date" not in bad:
            bad.append("Date")
    return datetime(1970, 1, 1)


def _examine_parts(plan: Plan, ex: Examined, msg: Message, folder: Path,
                   known: frozenset[str]) -> None:
    attachments, before = 0, len(ex.issues)
    for n, (part, senders) in enumerate(_leaves(ex, msg)):
        name = _attachment_name(part)
        if name is None:
            continue
        attachments += 1
        try:
            _examine_attachment(plan, ex, part, name, senders, folder / str(n), known)
        except Exception as exc:  # noqa: BLE001 — one bad part must not stop the others
            ex.issues.append(Issue("unreadable", f"{ex.where} 的附件「{quote(name)}」無法取出"
                                   f"（{type(exc).__name__}），未存檔；請對方重寄。", file=quote(name)))
    if not attachments and len(ex.issues) == before:
        ex.issues.append(Issue("no-attachment", f"{ex.where} 的郵件「{quote(ex.subject)}」沒有附件。",
                               WARNING))


def _leaves(ex: Examined, msg: Message) -> Iterator[tuple[Message, tuple[str, ...]]]:
    """Every leaf part in order, with the authors of the forwarded messages around
    it. Walked with a stack, depth-bounded: nesting must not exhaust the stack."""
    stack: list[tuple[Message, int, tuple[str, ...]]] = [(msg, 0, ())]
    too_deep = False
    while stack:
        part, depth, senders = stack.pop()
        ctype = part.get_content_type()
        if ctype in ENCRYPTED_TYPES:
            ex.issues.append(Issue("encrypted", f"{ex.where} 的郵件已加密（S/MIME 或 PGP），無法取出附件；"
                                   "請對方以未加密的郵件重寄。", file=ex.label))
            continue
        if not part.is_multipart():
            yield part, senders
            continue
        if depth >= MAX_DEPTH:
            too_deep = True
            continue
        children = [c for c in (part.get_payload() or []) if isinstance(c, Message)]
        if ctype.startswith("message/"):
            _note_message_named_like_a_file(ex, part)
            stack.extend((c, depth + 1, senders + (_address_of(_header(c, "From", []), []),))
                         for c in reversed(children))
        else:
            stack.extend((c, depth + 1, senders) for c in reversed(children))
    if too_deep:
        ex.issues.append(Issue("too-deep", f"{ex.where} 的郵件結構超過 {MAX_DEPTH} 層（轉寄或巢狀附件過多），"
                               "更深層的附件未檢查；請對方直接附上檔案重寄。", file=ex.label))


def _note_message_named_like_a_file(ex: Examined, part: Message) -> None:
    name = _filename(part)
    if name and Path(name).suffix.lower() in SPREADSHEET_SUFFIXES:
        ex.issues.append(Issue("not-a-spreadsheet", f"{ex.where} 的附件「{quote(name)}」標示為轉寄郵件"
                               "（message/rfc822），不是試算表檔；已檢查其中的附件。", WARNING,
                               file=quote(name)))


def _filename(part: Message) -> str:
    try:
        name = part.get_filename()
    except Exception:  # noqa: BLE001
        return UNNAMED
    return _decode_words(name)[0].strip() if name else ""


def _attachment_name(part: Message) -> str | None:
    """The name of a leaf that is an attachment (or a spreadsheet body); None for
    the text of the message."""
    name = _filename(part)
    if name:
        return name
    ctype = part.get_content_type()
    if ctype in SPREADSHEET_TYPES:
        return UNNAMED + SPREADSHEET_TYPES[ctype]
    if part.get_content_disposition() == "attachment":
        return UNNAMED
    return None


def _examine_attachment(plan: Plan, ex: Examined, part: Message, name: str,
                        senders: tuple[str, ...], folder: Path, known: frozenset[str]) -> None:
    shown = quote(name)
    suffix = _suffix(name, part.get_content_type())
    where = f"{ex.where} 的附件「{shown}」"
    if suffix not in SPREADSHEET_SUFFIXES:
        ex.issues.append(Issue("not-a-spreadsheet", f"{where}不是試算表，未存檔。", WARNING, file=shown))
        return
    data = _payload(part, where, ex, shown)
    if data is None:
        return
    digest = hashlib.sha256(data).hexdigest()
    if f"{ex.msg_id}|{digest}" in known:
        ex.already += 1
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (safe_filename(visible(Path(name).stem))[:60] + suffix)
    path.write_bytes(data)
    del data
    unit, problem = _identify(plan, path)
    if problem:
        code, why, severity = problem
        ex.issues.append(Issue(code, f"{where}{why}", severity, file=shown))
        return
    ex.found.append(Found(shown, str(path), suffix, digest, unit, senders))


def _payload(part: Message, where: str, ex: Examined, shown: str) -> bytes | None:
    """The attachment's bytes, or None (and an error) when it is over the size cap.
    The encoded size is looked at first, so an oversized part is never decoded."""
    encoded = part.get_payload()
    encoded_size = len(encoded) if isinstance(encoded, (str, bytes)) else 0
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    estimate = encoded_size * 3 // 4 if cte == "base64" else encoded_size
    data = None if estimate > MAX_ATTACHMENT_BYTES + 4096 else part.get_payload(decode=True)
    if data is None or len(data) > MAX_ATTACHMENT_BYTES:
        size = len(data) if data is not None else estimate
        ex.issues.append(Issue("too-large", f"{where}大小約 {_mb(size)} MB，超過上限 "
                               f"{_mb(MAX_ATTACHMENT_BYTES)} MB，未存檔；請對方確認檔案。", file=shown))
        return None
    return data


def _suffix(name: str, ctype: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES or ctype not in SPREADSHEET_TYPES:
        return suffix
    return SPREADSHEET_TYPES[ctype]


def _identify(plan: Plan, path: Path) -> tuple[str, tuple[str, str, str] | None]:
    """Which unit's template this attachment is, by its metadata only:
    (unit, None), or ("", (code, why, severity)) when it is not one."""
    ret = read_return(plan, path)
    codes = {i.code for i in ret.issues}
    if ret.unit and "no-metadata" not in codes:
        return ret.unit, None
    if "wrong-plan" in codes:
        return "", ("wrong-plan", "是其他計畫或其他年度的填報表，未存檔。", ERROR)
    if "no-metadata" in codes or "unrecognised" in codes:
        return "", ("no-metadata", "沒有本計畫填報表的識別資料，未存檔。", WARNING)
    first = next((i for i in ret.issues if i.is_error), None)
    if first is None:
        return "", ("unreadable", "無法讀取，未存檔。", ERROR)
    return "", (first.code, f"未存檔：{first.message}", ERROR)


def _named(label: str, message_id: str) -> str:
    return f"郵件 {label}" + (f"（Message-ID {quote(message_id)}）" if message_id else "")


def _mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}"
