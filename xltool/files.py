"""Writing files safely (temp file + os.replace, so a crash leaves the old file), file
names as people read them, and where LibreOffice is."""
from __future__ import annotations

import errno
import os
import re
import shutil
import tempfile
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


def _umask_mode() -> int:
    """0666 less the user's umask (0644 under umask 022), read once at start-up."""
    if os.name == "nt":
        return 0o666  # only the read-only bit means anything on Windows
    mask = os.umask(0o022)
    os.umask(mask)
    return 0o666 & ~mask


_NEW_FILE_MODE = _umask_mode()

# Characters Windows forbids in file names, plus control characters.
_FORBIDDEN = re.compile(r'[<>:"/\\|?*\x00-\x1f]')


# Names Windows keeps for devices, also with an extension (NUL.xlsx is NUL: what is
# written there is lost, and CON.xlsx is the console, where a read waits for typing).
_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)([ .].*)?")


def safe_filename(name: str) -> str:
    """A file name that is valid on Windows and Linux and cannot climb folders."""
    cleaned = _FORBIDDEN.sub("_", name).strip(" .")
    return "_" + cleaned if _DEVICE.fullmatch(cleaned) else cleaned or "_"


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside ``target``; move it into place on success.

    A folder that cannot be written to is an :class:`XltoolError` in the user's
    terms, not a traceback. A link is written through: the file it names is replaced,
    not the link (which would leave that file as it was, and the link a copy)."""
    target = Path(target)
    if target.is_symlink():
        target = real_path(target)
        if not target.parent.is_dir():  # a link to nowhere: make no folders where it points
            raise unwritable(target, FileNotFoundError(errno.ENOENT, "連結指向的資料夾不存在"))
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".~xltool-", suffix=target.suffix, dir=target.parent)
    except OSError as exc:
        raise unwritable(target, exc) from None
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        try:
            yield tmp_path
        except Exception as exc:
            full = disk_full(exc)
            if full is None:
                raise
            # A writer's half-written zip is still open in the failed frames: let it go
            # now, so that the temporary file can be removed (Windows keeps open files).
            traceback.clear_frames(exc.__traceback__)
            raise out_of_space(target, full) from None
        try:
            # mkstemp makes the file private (0600); colleagues must be able to open
            # what xltool writes, so give it the mode a plain open() would.
            os.chmod(tmp_path, _NEW_FILE_MODE)
            _replace(tmp_path, target)
        except OSError as exc:
            raise unwritable(target, exc) from None
    finally:
        try:
            tmp_path.unlink(missing_ok=True)
        except OSError:  # still open elsewhere (Windows): a stray temporary file, not a failure
            pass


REPLACE_TRIES = (0.1, 0.25, 0.5, 1.0)  # seconds between tries of a refused replace (Windows)
RETRY_REFUSED_REPLACE = os.name == "nt"


def _replace(source: Path, target: Path) -> None:
    """os.replace, tried again a few times where Windows refuses it for a moment: a
    virus scanner, a search indexer or OneDrive opens a file just written, and the
    replace fails with "access denied" until it lets go. A lasting refusal (the file
    open in Excel) is still one after the last try."""
    for pause in (*REPLACE_TRIES, None):
        try:
            os.replace(source, target)
            return
        except PermissionError:
            if not RETRY_REFUSED_REPLACE or pause is None:
                raise
            time.sleep(pause)


def real_path(path: Path) -> Path:
    """``path`` with its links and ``..`` resolved as far as they can be (a link loop,
    an unreadable folder: the name as given, made absolute): one file, one key."""
    try:
        return Path(path).resolve()
    except (OSError, RuntimeError):
        return Path(path).absolute()


def unwritable(target: Path, exc: OSError):
    from .errors import XltoolError

    reason = exc.strerror or type(exc).__name__
    return XltoolError(f"無法寫入「{target}」（{reason}）；請確認資料夾存在、有寫入權限，"
                       "且檔案沒有被其他程式開啟。")


# No room to write: a full disk, a full quota, or a file larger than the system allows.
_NO_SPACE = frozenset(n for n in (errno.ENOSPC, getattr(errno, "EDQUOT", None), errno.EFBIG) if n)
_SQLITE_FULL = 13  # SQLITE_FULL: "database or disk is full"


def disk_full(exc: BaseException) -> OSError | None:
    """The "no space left" error behind ``exc``, if that is what it is: writers wrap
    the OSError they met (XlsxWriter's FileCreateError holds it as its argument)."""
    seen: set[int] = set()
    todo: list[object] = [exc]
    while todo:
        item = todo.pop()
        if not isinstance(item, BaseException) or id(item) in seen:
            continue
        seen.add(id(item))
        if isinstance(item, OSError) and item.errno in _NO_SPACE:
            return item
        if getattr(item, "sqlite_errorcode", None) == _SQLITE_FULL:  # the row store's disk
            return OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        todo.extend([item.__cause__, item.__context__, *item.args])
    return None


def out_of_space(target: Path | str | None, exc: OSError):
    """The zh-TW error for a write that ran out of room; the old file is untouched."""
    from .errors import XltoolError

    where = f"「{target}」" if target else f"暫存檔「{exc.filename}」" if exc.filename else "檔案"
    return XltoolError(f"磁碟空間不足（或超過系統允許的檔案大小），無法寫入{where}；"
                       "原有的檔案沒有更動。請清出磁碟空間後重新執行。")


def display_name(path: Path | str) -> str:
    """A file's name as a person should see it, whatever bytes it is made of.

    On Linux a name that is not UTF-8 (Big5 from an old Windows share or archive)
    arrives with surrogate escapes, which no writer can encode: decode it as Big5
    where that works, else mark the undecodable bytes."""
    name = Path(path).name
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:
        raw = os.fsencode(name)
    for encoding in ("cp950", "big5hkscs"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return raw.decode("utf-8", "replace")


MAX_NAME_BYTES = 180  # file systems allow 255 bytes; leave room for suffixes and copies


def short_filename(name: str, max_bytes: int = MAX_NAME_BYTES) -> str:
    """``safe_filename`` cut to fit ``max_bytes`` of UTF-8 (CJK takes three bytes each)."""
    name = safe_filename(name)
    if len(name.encode("utf-8")) <= max_bytes:
        return name
    while len((name + "…").encode("utf-8")) > max_bytes:
        name = name[:-1]
    return name.rstrip(" .") + "…"


def find_soffice() -> str | None:
    """LibreOffice's soffice, on the path or where its installers put it (Windows, macOS)."""
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    for base in (os.environ.get("PROGRAMFILES", ""), os.environ.get("PROGRAMFILES(X86)", "")):
        candidate = Path(base) / "LibreOffice" / "program" / "soffice.exe"
        if base and candidate.exists():
            return str(candidate)
    mac = Path("/Applications/LibreOffice.app/Contents/MacOS/soffice")
    return str(mac) if mac.exists() else None
