"""Where messages come from: a folder of .eml files, an mbox file, a Maildir, or an
IMAP mailbox (TLS, read-only, fetched with BODY.PEEK: nothing is deleted or
flagged). Sizes are known before anything is read, so that no message larger
than MAX_MESSAGE_BYTES is ever held in memory; so is when the server took each
message in (IMAP's INTERNALDATE, an mbox separator line's date), where it says.

Only regular files are read (no pipes, devices or symbolic links), and a folder
that holds xltool's own output (a collect log or an evidence folder) is passed
over, so that saved evidence is never read back as mail. IMAP reads are bounded
in size (a literal over the cap is refused, whatever the server announced) and in
time (every read, and each message as a whole); a message that cannot be fetched
becomes one issue naming it, and collection goes on with a new connection."""
from __future__ import annotations

import base64
import imaplib
import io
import math
import os
import re
import ssl
import stat
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from pathlib import Path
from typing import BinaryIO, TypeVar, cast

from ..errors import XltoolError
from ..intake.log import EVIDENCE_MARKER, LOG_NAME, OLD_LOG_NAME
from ..quoting import quote, visible

T = TypeVar("T")
MAX_MESSAGE_BYTES = 80 * 1024 * 1024  # never read a larger message into memory
DEFAULT_TIMEOUT = 60.0  # seconds, for the IMAP connection and every read on it
MESSAGE_TIMEOUTS = 10  # a message (or any other command) may take this many read timeouts
COMMAND_BYTES = 8 * 1024 * 1024  # what any IMAP command but a message FETCH may read
MAX_IMAP_FAILURES = 3  # messages in a row that cannot be fetched: then the server is given up


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
    message_seconds: float | None = None  # per message; None: MESSAGE_TIMEOUTS × timeout

    @property
    def deadline(self) -> float:
        return self.message_seconds or self.timeout * MESSAGE_TIMEOUTS


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
    problem: str = ""  # why it could not be fetched (path None), said after its label
    problem_code: str = "unreadable"  # the issue code of ``problem``
    # When the server took the message in (ISO text): IMAP's INTERNALDATE (with its
    # zone), or the mbox separator line's date (no zone: the collector's zone is
    # given to it). "" when the source does not say; examine then looks at the
    # Received headers, and only last at the sender's own Date header.
    received: str = ""
    received_from: str = ""  # "imap" or "mbox" when ``received`` is set
    mbox: bool = False  # a message of an mbox file: body lines ">From " are quoted (mboxrd)


def messages_from(source: Path, skip: Path | None = None) -> Iterator[Mail]:
    """Every message of a folder of .eml files, an mbox file, a Maildir or one
    .eml file, by where it lies: nothing is read here but the mbox separators.
    A folder is listed whole before the first message is handed out, so nothing
    saved meanwhile is taken for mail; ``skip`` (the output folder) is passed over."""
    source = Path(source)
    if source.is_dir() and all((source / d).is_dir() for d in ("cur", "new", "tmp")):
        files = [p for d in ("new", "cur") for p in _regular_files(source / d)
                 if not p.name.startswith(".")]  # .DS_Store and the like are no messages
        for path in sorted(files, key=lambda p: p.name):
            yield _file_mail(f"Maildir:{visible(path.name.split(':')[0])}", path)
    elif source.is_dir():
        for path in _eml_files(source, skip):
            yield _file_mail(visible(path.relative_to(source).as_posix()), path)
    elif source.is_file():
        source = source.resolve()  # a link given by hand is followed once, here
        with source.open("rb") as fh:
            is_mbox = fh.read(5) == b"From "
        if not is_mbox:
            yield _file_mail(visible(source.name), source)
            return
        for n, (start, stop, separator) in enumerate(_mbox_spans(source), start=1):
            when = separator_date(separator)
            yield Mail(f"mbox#{n}", stop - start, source, start, stop,
                       received=when, received_from="mbox" if when else "", mbox=True)
    else:
        raise XltoolError(f"找不到郵件來源「{source}」（應為 .eml 資料夾、mbox 檔或 Maildir）。")


def _regular_files(folder: Path) -> list[Path]:
    """The regular files of one folder: no pipes, devices, folders or symbolic links."""
    try:
        with os.scandir(folder) as entries:
            return [Path(e.path) for e in entries if e.is_file(follow_symlinks=False)]
    except OSError:
        return []


def _eml_files(source: Path, skip: Path | None) -> list[Path]:
    """Every regular *.eml file under ``source``, in order. Symbolic links are not
    followed (nothing outside the folder is read); the output folder, and any folder
    holding xltool's collect log or evidence, are passed over."""
    skipped = skip.resolve() if skip is not None else None
    found: list[Path] = []
    for top, dirs, _files in os.walk(source, followlinks=False):
        here = Path(top)
        dirs[:] = [d for d in dirs if not _is_output(here / d, skipped)]
        found += [p for p in _regular_files(here)
                  if p.suffix.lower() == ".eml" and not p.name.startswith("._")]  # macOS AppleDouble
    return sorted(found)


def _is_output(folder: Path, skipped: Path | None) -> bool:
    try:
        if skipped is not None and folder.resolve() == skipped:
            return True
    except OSError:
        return True
    return any((folder / name).exists() for name in (LOG_NAME, OLD_LOG_NAME, EVIDENCE_MARKER))


def _file_mail(label: str, path: Path) -> Mail:
    try:
        return Mail(label, path.stat().st_size, path)
    except OSError:
        return Mail(label, 0)


def open_regular(path: Path) -> BinaryIO:
    """``path`` opened for reading, only if it is a regular file: opening never
    blocks (a pipe put in a message's place is refused, not waited on)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(f"不是一般檔案：{visible(Path(path).name)}")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


# The separator line of an mbox message, as mbox writers write it: "From ", the
# envelope sender, then the date in ctime form ("Thu Jul  2 09:30:00 2020") or close
# to it. A body line such as "From now on ..." is not one.
_SEPARATOR = re.compile(
    rb"From \S+ +(?:[A-Za-z]{3},? +)?(?:[A-Za-z]{3} +\d{1,2}|\d{1,2} +[A-Za-z]{3})"
    rb"(?: +\d{4})? +\d{1,2}:\d\d")


def _mbox_spans(path: Path, chunk: int = 1 << 16) -> Iterator[tuple[int, int, bytes]]:
    """(start, stop, separator line) of each message of an mbox file: a message starts
    at a separator line (see _SEPARATOR). Read in bounded chunks, so a huge line
    costs no memory."""
    start = None
    separator = b""
    at_line_start = True
    with path.open("rb") as fh:
        while True:
            pos = fh.tell()
            piece = fh.readline(chunk)
            if not piece:
                break
            if at_line_start and (start is None and piece.startswith(b"From ")
                                  or _SEPARATOR.match(piece)):
                if start is not None:
                    yield start, pos, separator
                start, separator = pos, piece[:200]
            at_line_start = piece.endswith(b"\n")
        if start is not None:
            yield start, fh.tell(), separator


def separator_date(line: bytes) -> str:
    """The date of an mbox separator line ("From sender Wed Jan 10 09:30:00 2024"),
    written by whoever stored the message, as ISO text; "" when it has none. The
    ctime form has no zone: the text is then without one."""
    words = line.decode("ascii", "replace").split(None, 2)
    if len(words) < 3 or words[0] != "From":
        return ""
    try:
        when = parsedate_to_datetime(words[2].strip())
    except (TypeError, ValueError, IndexError, OverflowError):
        return ""
    return when.isoformat() if when is not None and when.year > 1970 else ""


def messages_from_imap(s: ImapSettings) -> Iterator[Mail]:
    """Every message of one IMAP folder, read-only: never deleted, never marked read.
    Sizes are asked first; a message over the cap is never fetched. Each fetched
    message is spooled to a temporary file, so only one is in memory at a time.

    Every read has ``s.timeout``; each command (each message's FETCH) has
    ``s.deadline`` as a whole, and may read no more than the cap. A message that
    fails (too slow, too large whatever the server said, a dropped connection)
    becomes a Mail with its ``problem``, and the next one is fetched over a new
    connection; after MAX_IMAP_FAILURES in a row the server is given up."""
    first = _imap_connect(s)
    conn: _Imap | None = first
    try:
        try:
            _imap_login_and_select(first, s)
            criteria = []
            if s.since:
                criteria += ["SINCE", s.since.strftime("%d-%b-%Y")]
            if s.before:
                criteria += ["BEFORE", s.before.strftime("%d-%b-%Y")]
            # typeshed types uid()'s arguments as str, but imaplib skips None (no charset)
            # and sends bytes as they are.
            first.arm(s.deadline, COMMAND_BYTES)
            status, data = first.uid("SEARCH", None, *(criteria or ["ALL"]))  # type: ignore[arg-type]
            found = (data[0] or b"").split() if status == "OK" and data else []
            sizes, dates = _imap_sizes(first, s, [u for u in found if u.isdigit()])
        except BaseException:
            _imap_close(first, logout=False)
            conn = None
            raise
        uids = [u for u in found if u.isdigit()]
        if len(uids) < len(found):
            yield Mail(f"IMAP:{quote(s.folder)}", 0, problem=f"伺服器回傳 {len(found) - len(uids)} 個"
                       "格式不正確的郵件編號，已略過。")
        failures = 0
        for uid in uids:
            label = f"IMAP:{quote(s.folder)}#{uid.decode('ascii', 'replace')}"
            size = sizes.get(uid, 0)
            if size > MAX_MESSAGE_BYTES:
                yield Mail(label, size)
                continue
            if conn is None:
                conn = _imap_reconnect(s)
            try:
                conn.arm(s.deadline, MAX_MESSAGE_BYTES + 64 * 1024)
                status, parts = conn.uid("FETCH", uid, "(BODY.PEEK[])")  # type: ignore[arg-type]  # bytes uid: see above
            except (_TooLarge, TimeoutError, imaplib.IMAP4.error, OSError) as exc:
                _imap_close(conn, logout=False)  # in an unknown state: a new connection goes on
                conn = None
                failures += 1
                yield _failed(label, s, exc)
                if failures >= MAX_IMAP_FAILURES:
                    raise XltoolError(f"郵件伺服器 {s.host}:{s.port} 連續 {failures} 封郵件無法下載，已停止收取；"
                                      f"{_RESUME}") from None
                continue
            failures = 0
            raw = next((p[1] for p in parts or [] if isinstance(p, tuple)), None)
            if not raw:
                yield Mail(label, 0)
                continue
            when = dates.get(uid, "")
            yield Mail(label, len(raw), _spool(raw), spooled=True, received=when,
                       received_from="imap" if when else "")
            del raw, parts
    except (_TooLarge, TimeoutError):
        if conn is not None:
            _imap_close(conn, logout=False)
            conn = None
        raise XltoolError(f"郵件伺服器 {s.host}:{s.port} 超過 {s.timeout:g} 秒沒有回應，已停止收取；"
                          f"{_RESUME}") from None
    except (imaplib.IMAP4.error, OSError) as exc:  # a dropped connection, or a refused command
        if conn is not None:
            _imap_close(conn, logout=False)
            conn = None
        raise XltoolError(f"與郵件伺服器 {s.host}:{s.port} 的連線中斷或指令被拒（{quote(exc)}），"
                          f"已停止收取；{_RESUME}") from None
    finally:
        if conn is not None:
            _imap_close(conn)


_RESUME = "在此之前取得的郵件都已處理並記錄；重新執行時，已收過的不會重複存檔，並會接著收取。"


def _failed(label: str, s: ImapSettings, exc: BaseException) -> Mail:
    """The Mail standing for a message that could not be fetched, saying why."""
    again = "重新執行時會再試；如一再發生，請改以郵件軟體匯出該郵件。"
    if isinstance(exc, _TooLarge):
        return Mail(label, exc.size)  # examine says it is over the cap
    if isinstance(exc, _Deadline):
        return Mail(label, 0, problem=f"超過 {s.deadline:g} 秒仍未下載完成（伺服器傳送過慢），已略過；{again}",
                    problem_code="timeout")
    if isinstance(exc, TimeoutError):
        return Mail(label, 0, problem=f"下載時郵件伺服器超過 {s.timeout:g} 秒沒有回應，已略過；{again}",
                    problem_code="timeout")
    return Mail(label, 0, problem=f"下載時連線中斷或指令被拒（{quote(exc, 200)}），已略過；{again}")


class _TooLarge(Exception):
    """The server sent (or began to send) more than a command may read."""

    def __init__(self, size: int):
        super().__init__(size)
        self.size = size


class _Deadline(TimeoutError):
    """A command (a message's FETCH, say) took longer than it may as a whole."""


_MAXLINE = 1_000_000  # imaplib's bound on a line


class _Imap(imaplib.IMAP4):
    """imaplib, with every read bounded: a command may read at most ``budget`` bytes
    (a literal announced larger is refused before a byte of it is read; imaplib
    would read it whole into memory) and must end by ``deadline``; each single read
    also times out after ``timeout``. Reads go through the buffered socket file one
    receive at a time, so that a server sending one byte a second still meets the
    deadline."""

    def __init__(self, *args, timeout: float, deadline: float, **kwargs):
        self.io_timeout = timeout
        self.budget = COMMAND_BYTES
        self.spent = 0
        self.deadline = math.inf
        self.arm(deadline, COMMAND_BYTES)  # the greeting too
        kwargs["timeout"] = timeout
        super().__init__(*args, **kwargs)

    def arm(self, seconds: float, budget: int) -> None:
        """The bounds of the next command: ``seconds`` from now, ``budget`` bytes."""
        self.deadline = time.monotonic() + seconds
        self.budget = budget
        self.spent = 0

    def _clock(self) -> io.BufferedReader:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise _Deadline("deadline")
        sock = getattr(self, "sock", None)
        if sock is not None:
            sock.settimeout(min(self.io_timeout, left))
        return cast(io.BufferedReader, self.file)

    def _timed(self, receive: Callable[..., T], arg) -> T:
        """``receive(arg)``; a read timed out by the deadline (the last read's timeout is
        what was left of it) is the deadline's, not the server's silence."""
        try:
            return receive(arg)
        except TimeoutError:
            if time.monotonic() >= self.deadline - 0.01:
                raise _Deadline("deadline") from None
            raise

    def _spend(self, size: int) -> None:
        if size > self.budget:
            raise _TooLarge(self.spent + size)
        self.budget -= size
        self.spent += size

    def read(self, size: int) -> bytes:
        self._spend(size)
        buf = bytearray(size)
        view, got = memoryview(buf), 0
        while got < size:
            file = self._clock()
            n = self._timed(file.readinto1, view[got:got + (1 << 16)])
            if not n:
                break
            got += n
        view.release()
        del buf[got:]
        return bytes(buf)

    def readline(self) -> bytes:
        line = bytearray()
        while True:
            file = self._clock()
            ahead = self._timed(file.peek, 1)[: 1 << 16]  # at most one receive
            if not ahead:
                break
            end = ahead.find(b"\n")
            take = len(ahead) if end < 0 else end + 1
            self._spend(take)
            line += file.read(take)
            if end >= 0:
                break
            if len(line) > _MAXLINE:
                raise self.error(f"got more than {_MAXLINE} bytes")
        return bytes(line)


class _ImapSSL(_Imap, imaplib.IMAP4_SSL):
    """The same over SSL."""


def _spool(raw: bytes) -> Path:
    """A temporary file holding one fetched message; collect removes it once examined."""
    fd, name = tempfile.mkstemp(prefix="xltool-imap-", suffix=".eml")
    with os.fdopen(fd, "wb") as fh:
        fh.write(raw)
    return Path(name)


def _imap_reconnect(s: ImapSettings) -> _Imap:
    """A new connection, logged in and on the folder, after one was given up."""
    conn = _imap_connect(s)
    try:
        _imap_login_and_select(conn, s)
    except BaseException:
        _imap_close(conn, logout=False)
        raise
    return conn


def _imap_connect(s: ImapSettings) -> _Imap:
    """A connection with ``s.timeout`` on the connect and on every read after it."""
    try:
        return _imap_open(s)
    except TimeoutError:  # _Deadline too: a greeting sent too slowly
        hint = "；這個連接埠可能只接受 SSL（例如 993 埠），請改為不加 --starttls" if s.starttls else \
            "；如伺服器使用 STARTTLS（143 埠），請加上 --starttls"
        raise XltoolError(f"郵件伺服器 {s.host}:{s.port} 超過 {s.timeout:g} 秒沒有回應{hint}。") from None
    except (ssl.SSLError, ssl.CertificateError) as exc:
        raise XltoolError(f"與郵件伺服器 {s.host} 的加密連線失敗（{quote(exc, 200)}）；"
                          "如使用自簽憑證，請以 --cafile 指定憑證。") from None
    except (OSError, imaplib.IMAP4.error, _TooLarge) as exc:
        raise XltoolError(f"無法連線到郵件伺服器 {s.host}:{s.port}（{quote(exc, 200)}）。") from None


def _imap_open(s: ImapSettings) -> _Imap:
    context = ssl.create_default_context(cafile=s.cafile)
    if not s.starttls:
        return _ImapSSL(s.host, s.port, ssl_context=context, timeout=s.timeout, deadline=s.deadline)
    conn = _Imap(s.host, s.port, timeout=s.timeout, deadline=s.deadline)
    try:
        conn.arm(s.deadline, COMMAND_BYTES)
        conn.starttls(ssl_context=context)
    except BaseException:
        _imap_close(conn, logout=False)
        raise
    return conn


def _imap_login_and_select(conn: _Imap, s: ImapSettings) -> None:
    try:
        conn.arm(s.deadline, COMMAND_BYTES)
        conn.login(s.user, s.password)
    except imaplib.IMAP4.abort:
        raise
    except imaplib.IMAP4.error:
        raise XltoolError(f"郵件伺服器 {s.host} 拒絕登入：請確認帳號與密碼。") from None
    conn.arm(s.deadline, COMMAND_BYTES)
    status, _ = conn.select(_quote(imap_folder_name(s.folder)), readonly=True)
    if status != "OK":
        raise XltoolError(f"郵件伺服器上沒有資料夾「{quote(s.folder)}」。")


def _imap_sizes(conn: _Imap, s: ImapSettings, uids: list[bytes]
                ) -> tuple[dict[bytes, int], dict[bytes, str]]:
    """RFC822.SIZE and INTERNALDATE (when the server took it in, ISO text) of every
    message, asked in batches before anything is fetched."""
    sizes: dict[bytes, int] = {}
    dates: dict[bytes, str] = {}
    for i in range(0, len(uids), 500):
        conn.arm(s.deadline, COMMAND_BYTES)
        status, data = conn.uid("FETCH", b",".join(uids[i:i + 500]).decode("ascii"),
                                "(RFC822.SIZE INTERNALDATE)")
        for line in data or []:
            line = line[0] if isinstance(line, tuple) else line
            uid = re.search(rb"UID (\d+)", line or b"")
            size = re.search(rb"RFC822\.SIZE (\d+)", line or b"")
            if uid and size:
                sizes[uid.group(1)] = int(size.group(1))
            when = re.search(rb'INTERNALDATE "([^"]{1,40})"', line or b"")
            if uid and when:
                dates[uid.group(1)] = internal_date(when.group(1))
    return sizes, dates


_MONTHS = {m: n for n, m in enumerate(("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug",
                                       "Sep", "Oct", "Nov", "Dec"), start=1)}
_INTERNALDATE = re.compile(rb" ?(\d{1,2})-([A-Za-z]{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)")


def internal_date(text: bytes) -> str:
    """An IMAP INTERNALDATE ("10-Jan-2024 09:30:00 +0800", RFC 3501) as ISO text,
    or "" when it is not one. Read by hand: strptime's month names follow the locale."""
    found = _INTERNALDATE.fullmatch(text.strip())
    if not found:
        return ""
    day, name, year, hour, minute, second, sign, zone_h, zone_m = found.groups()
    offset = timedelta(hours=int(zone_h), minutes=int(zone_m)) * (-1 if sign == b"-" else 1)
    try:
        return datetime(int(year), _MONTHS.get(name.decode("ascii").title(), 0), int(day),
                        int(hour), int(minute), int(second), tzinfo=timezone(offset)).isoformat()
    except ValueError:  # no such month or day, or an offset of a day or more
        return ""


def _imap_close(conn: imaplib.IMAP4, logout: bool = True) -> None:
    try:
        if isinstance(conn, _Imap):
            conn.arm(conn.io_timeout, COMMAND_BYTES)  # a LOGOUT need not wait long
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
        with open_regular(mail.path) as fh:
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
