"""One writer at a time for a file people also keep open.

Two things can spoil a master while it is being replaced: a second xltool writing the
same file (the later one wins, and the reviews the first one kept may be lost with it),
and an office program holding it open (Excel then refuses the replacement after the
whole merge; LibreOffice lets it happen, and a save there afterwards may put its old
copy back over the new one, reviews typed since included). Both are found before any
work starts."""
from __future__ import annotations

import hashlib
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import XltoolError
from .files import display_name, real_path, unwritable

if sys.platform == "win32":  # (sys.platform, not os.name: mypy follows it)
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        # Windows may release a lock on a closed file only later: release it now.
        try:
            msvcrt.locking(fd, msvcrt.LK_UNLCK, 1)
        except OSError:
            pass
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False

    def _unlock(fd: int) -> None:
        fcntl.flock(fd, fcntl.LOCK_UN)


MAX_NAME_BYTES = 255  # what most file systems allow a file name, in bytes
PREFIX = ".~xltool-lock."


def lock_path(target: Path) -> Path:
    """The file whose lock says an xltool is writing ``target``: beside the file
    itself, whatever name it is given (a relative path, ``..``, a link to it), so
    that two names for one file are one lock. A name too long to take the prefix
    gets a digest of it instead, the same for every xltool."""
    real = real_path(Path(target))
    name = PREFIX + real.name
    if len(os.fsencode(name)) > MAX_NAME_BYTES:
        digest = hashlib.sha256(os.fsencode(real.name)).hexdigest()[:32]
        name = PREFIX + digest + real.suffix
    return real.with_name(name)


@contextmanager
def one_writer(target: Path) -> Iterator[None]:
    """Hold ``target`` for this process while it is written: another xltool writing it
    meanwhile is refused in the user's terms. The operating system lets go of the lock
    when a process ends however it ends, so a crash leaves no lock behind (the file
    left is taken over by the next xltool)."""
    target = Path(target)
    path = lock_path(target)
    fd = _acquire(path, target)
    try:
        yield
    finally:
        _release(path, fd)


def _release(path: Path, fd: int) -> None:
    if os.name == "nt":
        # Windows removes no file that is open, ours included: let go of it first. A
        # process that opened it meanwhile keeps it (the removal fails) and locks it.
        _unlock(fd)
        os.close(fd)
        _remove(path)
    else:
        # Unlink before unlocking: a process that opened the file meanwhile then finds
        # it gone from its path and tries again (see _acquire), rather than holding a
        # lock on a file nobody else can see.
        _remove(path)
        os.close(fd)


def _remove(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:  # another process has it open, or the folder became read-only
        pass


def _acquire(path: Path, target: Path) -> int:
    for _ in range(3):
        fd = _open(path, target)
        if not _try_lock(fd):
            os.close(fd)
            raise XltoolError(f"另一個 xltool 正在寫入「{display_name(target)}」；"
                              "請等它完成後再執行。")
        if _still_there(path, fd):
            return fd
        os.close(fd)  # the holder removed it between our open and our lock: start over
    raise XltoolError(f"無法鎖定「{display_name(target)}」：另一個 xltool 反覆寫入同一個檔案；"
                      "請等它完成後再執行。")


def _open(path: Path, target: Path) -> int:
    """The lock file, opened (made where it is not there): read-only where it is
    another user's, left by a merge that was stopped (a lock needs no writing).
    Never through a link: what is locked is this file, and nothing is made elsewhere."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)  # as writing the file itself would
    except OSError as exc:  # where the lock cannot go, the file itself cannot either
        raise unwritable(target, exc) from None
    if _odd(path):
        raise _odd_lock(path, target, "不是一般檔案")
    try:
        return os.open(path, os.O_RDWR | os.O_CREAT | _NO_FOLLOW, 0o666)
    except PermissionError as exc:
        if not _is_file(path):  # the folder refuses a new file: so it would the master
            raise unwritable(target, exc) from None
        try:
            return os.open(path, os.O_RDONLY | _NO_FOLLOW)
        except OSError as again:
            raise _odd_lock(path, target, f"無法開啟（{again.strerror or again}）") from None
    except OSError as exc:
        if _odd(path):  # made meanwhile
            raise _odd_lock(path, target, "不是一般檔案") from None
        raise unwritable(target, exc) from None


def _is_file(path: Path) -> bool:
    """Whether ``path`` is a regular file; False where it cannot be told (Windows
    refuses even a look at a file whose removal is pending)."""
    try:
        return path.is_file()
    except OSError:
        return False


def _odd(path: Path) -> bool:
    """A link, or something there that is not a regular file."""
    try:
        return path.is_symlink() or (path.exists() and not path.is_file())
    except OSError:
        return False


_NO_FOLLOW = getattr(os, "O_NOFOLLOW", 0)


def _odd_lock(path: Path, target: Path, what: str) -> XltoolError:
    return XltoolError(f"「{display_name(target)}」的鎖定檔「{display_name(path)}」{what}，無法確認是否有另一個 "
                       f"xltool 正在寫入；若沒有，請刪除該鎖定檔（與總表在同一資料夾「{_folder(path)}」，"
                       "可能是隱藏檔）後重新執行。")


def _folder(path: Path) -> str:
    """The folder a lock file is in, whole: "." (a master named without a folder)
    tells a user nothing; each part as :func:`display_name` shows it."""
    folder = Path(path).absolute().parent
    names = [display_name(part) for part in folder.parts[1:]]
    return folder.anchor + os.sep.join(names)


def _still_there(path: Path, fd: int) -> bool:
    if os.name == "nt":  # Windows cannot remove a file another process holds open
        return True
    try:
        return os.stat(path, follow_symlinks=False).st_ino == os.fstat(fd).st_ino
    except OSError:
        return False


# ------------------------------------------------------------ office programs

LOCK_READ = 4096  # bytes of an office lock file read: the user's name is at its start


def office_holding(target: Path) -> str | None:
    """A zh-TW sentence saying which office program has ``target`` open (from the lock
    file it keeps beside it), or None. A lock file left by a crash looks the same, so
    the sentence names the file to remove, and where, if the program is in fact closed."""
    target = Path(target)
    for lock, program, reader in _office_locks(target):
        try:
            if not lock.is_file():
                continue
        except OSError:
            continue
        who = _readable(reader(_head(lock)))
        by = f"（{who}）" if who else ""
        return (f"「{display_name(target)}」正在 {program} 中開啟{by}；請先存檔並關閉後再執行，"
                f"否則新的檔案無法寫入，或之後在 {program} 中存檔時會蓋掉新的檔案。"
                f"若確定沒有開啟（例如程式曾當掉），請刪除鎖定檔「{display_name(lock)}」（與該檔在同一資料夾"
                f"「{_folder(lock)}」，可能是隱藏檔）後重新執行。")
    return None


def _head(lock: Path) -> bytes:
    """The start of a lock file; nothing where it cannot be read (it is there all the
    same: the program may hold it for itself alone)."""
    try:
        with lock.open("rb") as fh:
            return fh.read(LOCK_READ)
    except OSError:
        return b""


WORD_FORMATS = (".doc", ".docx", ".rtf", ".odt")  # what Word may have open


def word_lock(target: Path) -> Path:
    """The lock file Word keeps beside a document it has open: ``~$`` and the name, less
    its first two characters where the name before the extension is 8 or more (UTF-16)
    characters long, less its first where it is 7 (LibreOffice's msodocumentlockfile.cxx
    reads and writes it so)."""
    target = Path(target)
    length = len(target.stem.encode("utf-16-le")) // 2
    cut = 2 if length >= 8 else 1 if length == 7 else 0
    return target.with_name("~$" + target.name[cut:])


def _office_locks(target: Path):
    """The lock files LibreOffice, Excel and Word keep beside ``target``: by the name it
    was opened under, and by its real name (LibreOffice resolves links; so may a share).
    Excel's is ~$ and the whole name, whatever its length; Word shortens a long one."""
    seen = set()
    for path in (target, real_path(target)):
        name = path.name
        locks = [(path.with_name(f".~lock.{name}#"), "LibreOffice", _libreoffice_user),
                 (path.with_name(f"~${name}"), "Excel", _excel_user)]
        if path.suffix.lower() in WORD_FORMATS:  # its owner file is laid out as Excel's
            locks = [locks[0], (word_lock(path), "Word", _excel_user)]
        for lock, program, reader in locks:
            if lock not in seen:
                seen.add(lock)
                yield lock, program, reader


def _readable(text: str) -> str:
    """What of a lock file's text can be shown: printable characters, none of a broken decoding."""
    if "\ufffd" in text:
        return ""
    return "".join(ch for ch in text if ch.isprintable()).strip()[:60]


def _libreoffice_user(raw: bytes) -> str:
    # "Full name,system user,host,time,URL;" in UTF-8
    fields = raw.decode("utf-8", "replace").split(",")
    user = next((f.strip() for f in fields[:2] if f.strip()), "")[:40]
    host, since = (fields[2].strip(), fields[3].strip()) if len(fields) > 4 else ("", "")
    said = [f"使用者：{user}" if user else "", f"電腦：{host}" if host else "", f"開啟時間：{since}" if since else ""]
    return "，".join(s for s in said if s and "\ufffd" not in s)


def _excel_user(raw: bytes) -> str:
    """The user name: the UTF-16 copy where there is one (at byte 54 in Word's files,
    55 in Excel's, after its length; see LibreOffice's msodocumentlockfile.cxx), else
    the first copy, one length byte and the name in the ANSI code page."""
    if not raw or not 0 < raw[0] <= 52:
        return ""
    for at in (55, 54):
        size = raw[at] if len(raw) > at + 1 else 0
        if 0 < size <= 52 and raw[at + 1] == 0 and len(raw) >= at + 2 + 2 * size:
            try:
                name = raw[at + 2:at + 2 + 2 * size].decode("utf-16-le")
            except UnicodeDecodeError:
                continue
            if name.isprintable():
                return f"使用者：{name.strip()[:40]}"
    ansi = raw[1:1 + raw[0]]
    for encoding in ("cp950", "latin-1"):
        try:
            return f"使用者：{ansi.decode(encoding).strip(chr(0) + ' ')[:40]}"
        except UnicodeDecodeError:
            continue
    return ""


def check_not_open(target: Path) -> None:
    """Refuse to replace ``target`` while an office program holds it open."""
    held = office_holding(target)
    if held:
        raise XltoolError(held)
