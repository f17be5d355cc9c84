"""Examining one message, in an isolated worker: parse it leniently, find every
spreadsheet among its parts (forwarded messages and single-part bodies too),
write each to a scratch file and identify it with intake; only a small,
picklable summary goes back to the collector. Every other attachment (and a
spreadsheet that is not this plan's template) is evidence: written to a scratch
file under a fixed name and hashed, never opened (see evidence.py).

xltool's own messages (its drafts, marked X-Unsent, and anything with its
Message-ID, such as a copy of what it sent) are not replies: they are passed
over, and so is a message of xltool's forwarded inside a reply."""
from __future__ import annotations

import hashlib
import re
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from email.header import decode_header
from email.message import Message
from email.parser import BytesFeedParser
from email.utils import parseaddr, parsedate_to_datetime
from pathlib import Path

from ..errors import ERROR, WARNING, Issue
from ..files import safe_filename
from ..intake import read_return
from ..plan import Plan
from ..quoting import quote, visible
from ..reading.gate import MAX_FILE_BYTES, SPREADSHEET_SUFFIXES
from . import sources
from .evidence import MAX_EVIDENCE_PER_MESSAGE, UNNAMED, Evidence, evidence_name
from .sources import Mail, label_of, open_regular, peek_message_id, size_mb

MAX_ATTACHMENT_BYTES = MAX_FILE_BYTES  # the gate's cap on a return
MAX_DEPTH = 12  # MIME levels, forwarded messages included
SPREADSHEET_TYPES = {
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
    "application/vnd.ms-excel.sheet.macroenabled.12": ".xlsm",
    "application/vnd.ms-excel": ".xls",
    "application/vnd.oasis.opendocument.spreadsheet": ".ods",
}
ENCRYPTED_TYPES = {"multipart/encrypted", "application/pkcs7-mime", "application/x-pkcs7-mime"}
TNEF_TYPES = {"application/ms-tnef", "application/vnd.ms-tnef"}
ARCHIVE_SUFFIXES = {".zip", ".rar", ".7z", ".gz", ".tgz", ".tar", ".bz2", ".xz", ".lzh"}
ARCHIVE_TYPES = {"application/zip", "application/x-zip-compressed", "application/x-rar-compressed",
                 "application/vnd.rar", "application/x-7z-compressed", "application/gzip"}
OWN_MESSAGE_ID = "<xltool."  # how every Message-ID xltool writes begins (see send.py)
MESSAGE_ID_FILE = ".message-id"  # in a message's scratch folder: its Message-ID, for the collector


@dataclass
class Found:
    """A spreadsheet attachment identified as one unit's return."""

    name: str  # as shown to people: short and printable
    path: str  # the scratch copy
    suffix: str
    digest: str
    unit: str
    senders: tuple[str, ...] = ()  # authors of the forwarded messages that carried it
    size: int = 0


@dataclass
class Examined:
    """What a worker learnt about one message: small, and safe to pickle."""

    label: str
    msg_id: str = ""  # the Message-ID, or a hash of the message without one
    real_id: str = ""  # the Message-ID as the message gave it, when valid
    sender: str = ""
    sender_address: str = ""
    subject: str = ""
    sent: str = datetime(1970, 1, 1).isoformat()  # the sender's Date header
    received: str = ""  # when the server took it in (aware ISO text), "" when unknown
    received_from: str = ""  # "imap", "mbox" or "received" (the topmost Received header)
    found: list[Found] = field(default_factory=list)
    evidence: list[Evidence] = field(default_factory=list)
    issues: list[Issue] = field(default_factory=list)
    already: int = 0
    known_keys: list[str] = field(default_factory=list)  # attachments saved by earlier runs
    evidence_refused: int = 0  # attachments past MAX_EVIDENCE_PER_MESSAGE
    own: bool = False  # xltool's own message (a draft, or a copy of one it sent): passed over

    @property
    def arrived(self) -> str:
        """When the message arrived: the server's receipt time, else (the sender's
        clock, which may be wrong) its Date header."""
        return self.received or self.sent

    @property
    def where(self) -> str:
        return f"{quote(self.sender) if self.sender else '（寄件者不明）'}（{self.label}）"


def _examine_job(context, payload) -> Examined:
    plan, known, scratch = context
    index, mail = payload
    folder = Path(scratch) / str(index)
    _note_message_id(mail, folder)
    return examine(plan, mail, folder, known)


def _note_message_id(mail: Mail, folder: Path) -> None:
    """Leave the Message-ID in the scratch folder first, so that the collector can
    name a message whose worker dies, without opening the message itself."""
    found = peek_message_id(mail)
    if found:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / MESSAGE_ID_FILE).write_text(found, encoding="ascii", errors="replace")


def noted_message_id(folder: Path) -> str:
    """The Message-ID the worker left in ``folder``, or ""."""
    try:
        with (folder / MESSAGE_ID_FILE).open("rb") as fh:
            text = fh.read(300).decode("ascii", "replace")
    except OSError:
        return ""
    return text if re.fullmatch(r"<[^<>\s]{1,250}>", text) else ""


def examine(plan: Plan, mail: Mail, folder: Path, known: frozenset[str] = frozenset()) -> Examined:
    """Parse one message and identify its spreadsheet attachments, writing each to
    ``folder``. Never raises for a bad message: that becomes an issue naming it.
    ``known`` are the attachments saved by earlier runs, which are not read again."""
    ex = Examined(mail.label)
    if mail.size > sources.MAX_MESSAGE_BYTES:
        ex.issues.append(Issue("too-large", f"{label_of(mail.label, '')} 大小 {size_mb(mail.size)} MB，"
                               f"超過上限 {size_mb(sources.MAX_MESSAGE_BYTES)} MB，未讀取；請對方將附件另行寄送。",
                               file=mail.label))
        return ex
    if mail.path is None:
        ex.issues.append(Issue(mail.problem_code, f"{label_of(mail.label, '')} "
                               f"{mail.problem or '無法取得內容，已略過。'}", file=mail.label))
        return ex
    try:
        msg, digest = _parse(mail)
    except OSError as exc:
        ex.issues.append(Issue("unreadable", f"{label_of(mail.label, '')} 無法讀取（{quote(exc)}）。",
                               file=mail.label))
        return ex
    except Exception as exc:  # noqa: BLE001 — e.g. RecursionError on deep nesting
        ex.issues.append(Issue("bad-message", f"{label_of(mail.label, peek_message_id(mail))} 的結構"
                               f"無法解析（{type(exc).__name__}），已略過；請對方重寄。", file=mail.label))
        return ex
    _read_headers(ex, msg, digest)
    _read_receipt(ex, mail, msg, plan.zone)
    if _is_own(msg, ex.real_id):
        ex.own, ex.issues = True, []
        return ex
    try:
        _examine_parts(plan, ex, msg, folder, known)
    except Exception as exc:  # noqa: BLE001 — one bad message must not stop the rest
        ex.issues.append(Issue("bad-message", f"{label_of(ex.label, ex.real_id)} 無法完整解析"
                               f"（{type(exc).__name__}），其餘附件未檢查；請對方重寄。", file=ex.label))
    return ex


def _parse(mail: Mail, chunk: int = 1 << 20) -> tuple[Message, str]:
    """The message (compat32: headers stay text until asked) and the SHA-256 of its
    bytes. Fed in chunks, so the raw bytes are never held whole beside the parse."""
    parser = BytesFeedParser()
    digest = hashlib.sha256()
    unquote = _Unquote() if mail.mbox else None
    remaining = mail.size if mail.stop is None else mail.stop - mail.start
    skipping = None  # inside an mbox "From " separator line, which is not the message
    assert mail.path is not None  # examine() has set aside a message that was not read
    with open_regular(mail.path) as fh:
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
            digest.update(data)  # of the bytes as stored: the same whichever reader
            parser.feed(unquote.feed(data) if unquote else data)
    if unquote:
        parser.feed(unquote.flush())
    return parser.close(), digest.hexdigest()


_QUOTED_FROM = re.compile(rb"(?m)^>(>*From )")
_PARTIAL_QUOTE = re.compile(rb">+(F(r(o(m)?)?)?)?")  # a line's start that may be ">…From "


class _Unquote:
    """mboxrd: the writer put a ">" before every body line starting ">…From " (so that
    "From " never starts a line); one comes off again here, so that a text or
    quoted-printable attachment reads as it was sent. (Base64 and uuencoded
    parts cannot hold such a line.) The bytes come in chunks: the start of a line
    cut by a chunk's end is held back until it can be told."""

    def __init__(self) -> None:
        self.held = b""
        self.at_line_start = True

    def feed(self, data: bytes) -> bytes:
        data, self.held = self.held + data, b""
        cut = data.rfind(b"\n") + 1
        if (cut or self.at_line_start) and _PARTIAL_QUOTE.fullmatch(data[cut:]):
            data, self.held = data[:cut], data[cut:]
        out = self._unquote(data)
        if data:
            self.at_line_start = data.endswith(b"\n")
        return out

    def flush(self) -> bytes:
        held, self.held = self.held, b""
        return held  # an unfinished ">Fro" at the very end is no quoted line

    def _unquote(self, data: bytes) -> bytes:
        if self.at_line_start:
            return _QUOTED_FROM.sub(rb"\1", data)
        first = data.find(b"\n") + 1  # the rest of a line begun in the last chunk
        return data if not first else data[:first] + _QUOTED_FROM.sub(rb"\1", data[first:])


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
        ex.issues.append(Issue("bad-header", f"{label_of(ex.label, ex.real_id)}（寄件者 {who}）的標頭 "
                               f"{'、'.join(bad)} 格式不正確，已盡量解讀並繼續收取。",
                               WARNING, file=ex.label))


def _is_own(msg: Message, message_id: str | None = None) -> bool:
    """A message xltool wrote: a draft (X-Unsent: 1) or one with its Message-ID."""
    bad: list[str] = []
    if message_id is None:
        message_id = _message_id(msg, bad)
    return message_id.startswith(OWN_MESSAGE_ID) or _header(msg, "X-Unsent", bad).strip() == "1"


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


# Charset labels that mail programs put on bytes of any charset: old Outlook and
# Taiwanese mail programs send Big5 marked so, or not marked at all.
_LOOSE_LABELS = {"", "ascii", "us-ascii", "iso-8859-1", "latin-1", "latin1", "windows-1252",
                 "cp1252", "unknown-8bit", "x-unknown", "unknown", "default"}
_GUESSES = ("utf-8", "cp950", "big5hkscs")  # what 8-bit text here is, most likely first
_BIG5_LABELS = {"big5", "big5-hkscs", "big5hkscs", "cp950", "ms950", "x-x-big5"}  # cp950 in practice


def _decode_bytes(chunk: bytes, charset: str | None) -> tuple[str, bool]:
    """Text from bytes said to be in ``charset``. A charset that reads them strictly
    is believed, unless it is a loose label (see _LOOSE_LABELS), which is tried
    after UTF-8 and Big5 (cp950); the second value is False when the declared
    charset was wrong (another one read the bytes, or none did)."""
    label = (charset or "").strip().lower()
    loose = label in _LOOSE_LABELS
    names = ["ascii", *_GUESSES, label] if loose else [label, *_GUESSES]
    for name in names:
        try:
            return chunk.decode(name), loose or name == label or (
                label in _BIG5_LABELS and name in _GUESSES[1:])
        except (LookupError, UnicodeDecodeError):
            continue
    return chunk.decode("utf-8", "replace"), False


def _text_of(raw: str) -> str:
    """A header value as the parser left it, raw 8-bit bytes (kept as surrogates)
    decoded as UTF-8, else Big5: such bytes would otherwise read as U+FFFD."""
    if not any("\udc80" <= ch <= "\udcff" for ch in raw):
        return raw
    return _decode_bytes(raw.encode("ascii", "surrogateescape"), None)[0]


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


def _read_receipt(ex: Examined, mail: Mail, msg: Message, zone) -> None:
    """When the server took the message in: what the source said (IMAP's INTERNALDATE,
    the mbox separator line, read in ``zone`` (the plan's, else this machine's) when it
    has no zone), else the topmost Received header, written by the receiving server.
    Unknown: ``ex.received`` stays "" and the Date header is used (see Examined.arrived)."""
    when = _aware(mail.received, zone)
    if when is not None:
        ex.received, ex.received_from = when.isoformat(), mail.received_from
        return
    when = _received_header_date(msg)
    if when is not None:
        ex.received, ex.received_from = when.isoformat(), "received"


def _aware(text: str, zone) -> datetime | None:
    try:
        when = datetime.fromisoformat(text) if text else None
    except ValueError:
        return None
    if when is None or when.tzinfo is not None:
        return when
    return when.replace(tzinfo=zone) if zone is not None else when.astimezone()


def _received_header_date(msg: Message) -> datetime | None:
    """The date of the topmost Received header (after its last ";"), aware; a date
    marked -0000 is UTC (RFC 5322 §3.3). Only the topmost: the lower ones may be
    written by the sender."""
    text = _header(msg, "Received", [])
    if ";" not in text:
        return None
    try:
        when = parsedate_to_datetime(text.rsplit(";", 1)[1].strip()[:100])
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when is None or when.year <= 1970:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)


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
        ex.issues.append(Issue("no-attachment", f"{ex.where} 的郵件「{quote(ex.subject)}」沒有附件。"))


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
            _note_messagelabel_of_like_a_file(ex, part)
            stack.extend((c, depth + 1, senders + (_address_of(_header(c, "From", []), []),))
                         for c in reversed(children) if not _is_own(c))  # xltool's, forwarded back
        else:
            stack.extend((c, depth + 1, senders) for c in reversed(children))
    if too_deep:
        ex.issues.append(Issue("too-deep", f"{ex.where} 的郵件結構超過 {MAX_DEPTH} 層（轉寄或巢狀附件過多），"
                               "更深層的附件未檢查；請對方直接附上檔案重寄。", file=ex.label))


def _note_messagelabel_of_like_a_file(ex: Examined, part: Message) -> None:
    name = _filename(part)
    if name and Path(name).suffix.lower() in SPREADSHEET_SUFFIXES:
        ex.issues.append(Issue("not-a-spreadsheet", f"{ex.where} 的附件「{quote(name)}」標示為轉寄郵件"
                               "（message/rfc822），不是試算表檔；已檢查其中的附件。", WARNING,
                               file=quote(name)))


def _filename(part: Message) -> str:
    """The attachment's name (Content-Disposition's filename, else Content-Type's
    name), decoded whatever its form: raw 8-bit bytes, RFC 2231 (``filename*=``)
    or RFC 2047 encoded words, with a charset that is wrong or missing tried as
    UTF-8, then Big5 (see _decode_bytes)."""
    try:
        for header, param in (("content-disposition", "filename"), ("content-type", "name")):
            name = _param(part, header, param)
            if name:
                return name.strip()
    except Exception:  # noqa: BLE001 — a name that cannot be read is no reason to stop
        return UNNAMED
    return ""


def _param(part: Message, header: str, param: str) -> str:
    """One parameter of the first ``header`` of ``part``, decoded (see _filename).
    The raw header is read: the parser's own reading of 8-bit bytes is U+FFFD."""
    raw = next((value for key, value in part.raw_items() if key.lower() == header), None)
    if raw is None:
        return ""
    probe = Message()
    probe[header] = _text_of(str(raw))
    value = probe.get_param(param, header=header)
    if isinstance(value, tuple):  # RFC 2231: (charset, language, %-decoded as Latin-1)
        charset, _language, text = value
        try:
            data = str(text).encode("latin-1")
        except UnicodeEncodeError:  # raw 8-bit text, already decoded above
            return str(text)
        return _decode_bytes(data, charset)[0]
    return _decode_words(value)[0] if value else ""


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
    data = _payload(part, where, ex, shown)
    if data is None:
        return
    digest = hashlib.sha256(data).hexdigest()
    if f"{ex.msg_id}|{digest}" in known:
        ex.already += 1
        ex.known_keys.append(f"{ex.msg_id}|{digest}")
        return
    if suffix not in SPREADSHEET_SUFFIXES:
        _evidence(ex, name, part.get_content_type(), data, digest, senders, folder)
        return
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / (safe_filename(visible(Path(name).stem))[:60] + suffix)
    path.write_bytes(data)
    del data
    unit, refusal = _identify(plan, path)
    if refusal and refusal.code == "no-metadata" and _evidence(ex, name, "", path, digest, senders):
        ex.issues.append(replace(refusal, message=f"{where}沒有本計畫填報表的識別資料，不是回傳檔；"
                                 "已存為佐證資料。", file=shown))
        return
    if refusal:
        ex.issues.append(replace(refusal, message=f"{where}{refusal.message}", file=shown))
        return
    ex.found.append(Found(shown, str(path), suffix, digest, unit, senders, path.stat().st_size))


def _evidence(ex: Examined, name: str, ctype: str, data: bytes | Path, digest: str,
              senders: tuple[str, ...], folder: Path | None = None) -> bool:
    """Keep an attachment that is not a return as evidence: its bytes go to a scratch
    file under a fixed name (``data`` may already be that file). False when the
    message has more evidence than is kept."""
    if len(ex.evidence) >= MAX_EVIDENCE_PER_MESSAGE:
        if not ex.evidence_refused:
            ex.issues.append(Issue("too-large", f"{ex.where} 的附件超過 {MAX_EVIDENCE_PER_MESSAGE} 個，"
                                   f"其餘（自「{quote(name)}」起）未存檔；請對方分次寄送。", file=ex.label))
        ex.evidence_refused += 1
        return False
    if isinstance(data, Path):
        path, size = data, data.stat().st_size
    else:
        assert folder is not None  # bytes come with the folder to write them to
        folder.mkdir(parents=True, exist_ok=True)
        path, size = folder / "evidence.bin", len(data)
        path.write_bytes(data)
    ex.evidence.append(Evidence(quote(name), str(path), size, digest, evidence_name(name, ctype),
                                senders, _wrapping(name, ctype)))
    return True


def _wrapping(name: str, ctype: str) -> str:
    """"tnef" for Outlook's winmail.dat, "archive" for a .zip and the like: wrappings a
    return may be inside, which xltool does not open; "" otherwise."""
    if ctype in TNEF_TYPES or name.strip().lower() == "winmail.dat":
        return "tnef"
    if ctype in ARCHIVE_TYPES or Path(name.strip()).suffix.lower() in ARCHIVE_SUFFIXES:
        return "archive"
    return ""


def _payload(part: Message, where: str, ex: Examined, shown: str) -> bytes | None:
    """The attachment's bytes, or None (and an error) when it is over the size cap.
    The encoded size is looked at first, so an oversized part is never decoded."""
    encoded = part.get_payload()
    encoded_size = len(encoded) if isinstance(encoded, (str, bytes)) else 0
    cte = str(part.get("Content-Transfer-Encoding", "")).strip().lower()
    estimate = encoded_size * 3 // 4 if cte == "base64" else encoded_size
    data = None if estimate > MAX_ATTACHMENT_BYTES + 4096 else part.get_payload(decode=True)
    assert data is None or isinstance(data, bytes)  # decoded: bytes, or None for a multipart part
    if data is None or len(data) > MAX_ATTACHMENT_BYTES:
        size = len(data) if data is not None else estimate
        ex.issues.append(Issue("too-large", f"{where}大小約 {size_mb(size)} MB，超過上限 "
                               f"{size_mb(MAX_ATTACHMENT_BYTES)} MB，未存檔；請對方確認檔案。", file=shown))
        return None
    return data


def _suffix(name: str, ctype: str) -> str:
    suffix = Path(name).suffix.lower()
    if suffix in SPREADSHEET_SUFFIXES or ctype not in SPREADSHEET_TYPES:
        return suffix
    return SPREADSHEET_TYPES[ctype]


def _identify(plan: Plan, path: Path) -> tuple[str, Issue | None]:
    """Which unit's template this attachment is, by its metadata only:
    (unit, None), or ("", the reason it is not one) — the reason's message is
    completed with where the attachment came from."""
    ret = read_return(plan, path)
    codes = {i.code for i in ret.issues}
    if ret.unit and "no-metadata" not in codes:
        return ret.unit, None
    if "wrong-plan" in codes:
        return "", Issue("wrong-plan", "是其他計畫或其他年度的填報表，未存檔。", ERROR)
    if "no-metadata" in codes or "unrecognized" in codes:
        return "", Issue("no-metadata", "沒有本計畫填報表的識別資料，未存檔。", WARNING)
    first = next((i for i in ret.issues if i.is_error), None)
    if first is None:
        return "", Issue("unreadable", "無法讀取，未存檔。", ERROR)
    return "", Issue(first.code, f"未存檔：{first.message}", ERROR)


