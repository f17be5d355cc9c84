"""Where messages come from: a folder of .eml files, an mbox file, a Maildir, or an
IMAP mailbox (TLS, read-only, fetched with BODY.PEEK: nothing is deleted or
flagged). Sizes are known before anything is read, so that no message larger
than MAX_MESSAGE_BYTES is ever held in memory."""
from __future__ import annotations

import base64
import imaplib
import os
import re
import ssl
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from ..errors import XltoolError
from ..quoting import quote, visible

MAX_MESSAGE_BYTES = 80 * 1024 * 1024  # never read a larger message into memory
DEFAULT_TIMEOUT = 60.0  # seconds, for the IMAP connection and every read on it


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
        # typeshed types uid()'s arguments as str, but imaplib skips None (no charset)
        # and sends bytes as they are.
        status, data = conn.uid("SEARCH", None, *(criteria or ["ALL"]))  # type: ignore[arg-type]
        uids = (data[0] or b"").split() if status == "OK" and data else []
        sizes = _imap_sizes(conn, uids)
        for uid in uids:
            label = f"IMAP:{quote(s.folder)}#{uid.decode('ascii', 'replace')}"
            size = sizes.get(uid, 0)
            if size > MAX_MESSAGE_BYTES:
                yield Mail(label, size)
                continue
            status, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")  # type: ignore[arg-type]  # bytes uid: see above
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


def peek_message_id(mail: Mail) -> str:
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


def label_of(label: str, message_id: str) -> str:
    return f"郵件 {label}" + (f"（Message-ID {quote(message_id)}）" if message_id else "")


def size_mb(size: int) -> str:
    return f"{size / 1024 / 1024:.0f}"
