"""One writer at a time for a file people also keep open.

Two things can spoil a master while it is being replaced: a second xltool writing the
same file (the later one wins, and the reviews the first one kept may be lost with it),
and an office program holding it open (Excel then refuses the replacement after the
whole merge; LibreOffice lets it happen and later saves its old copy over the new one,
reviews typed since included). Both are found before any work starts."""
from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import XltoolError
from .files import display_name, unwritable

if sys.platform == "win32":  # (sys.platform, not os.name: mypy follows it)
    import msvcrt

    def _try_lock(fd: int) -> bool:
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except OSError:
            return False


def lock_path(target: Path) -> Path:
    """The file whose lock says an xltool is writing ``target``."""
    return target.with_name(f".~xltool-lock.{target.name}")


@contextmanager
def one_writer(target: Path) -> Iterator[None]:
    """Hold ``target`` for this process while it is written: another xltool writing it
    meanwhile is refused in the user's terms. The operating system lets go of the lock
    when a process ends however it ends, so a crash leaves no lock behind."""
    target = Path(target)
    fd = _acquire(lock_path(target), target)
    try:
        yield
    finally:
        # Unlink before unlocking: a process that opened the file meanwhile then finds
        # it gone from its path and tries again (see _acquire), rather than holding a
        # lock on a file nobody else can see.
        try:
            lock_path(target).unlink(missing_ok=True)
        except OSError:  # Windows: another process has it open; it will clean up
            pass
        os.close(fd)


def _acquire(path: Path, target: Path) -> int:
    for _ in range(3):
        try:
            path.parent.mkdir(parents=True, exist_ok=True)  # as writing the file itself would
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
        except OSError as exc:  # where the lock cannot go, the file itself cannot either
            raise unwritable(target, exc) from None
        if not _try_lock(fd):
            os.close(fd)
            raise XltoolError(f"另一個 xltool 正在寫入「{display_name(target)}」；"
                              "請等它完成後再執行。")
        if _still_there(path, fd):
            return fd
        os.close(fd)  # the holder removed it between our open and our lock: start over
    raise XltoolError(f"無法鎖定「{display_name(target)}」：另一個 xltool 反覆寫入同一個檔案；"
                      "請等它完成後再執行。")


def _still_there(path: Path, fd: int) -> bool:
    if os.name == "nt":  # Windows cannot remove a file another process holds open
        return True
    try:
        return os.stat(path).st_ino == os.fstat(fd).st_ino
    except OSError:
        return False


# ------------------------------------------------------------ office programs

def office_holding(target: Path) -> str | None:
    """A zh-TW sentence saying which office program has ``target`` open (from the lock
    file it keeps beside it), or None. A lock file left by a crash looks the same, so
    the sentence names the file to remove if the program is in fact closed."""
    target = Path(target)
    for lock, program, reader in _office_locks(target):
        try:
            if not lock.is_file():
                continue
            raw = lock.read_bytes()[:4096]
        except OSError:
            continue
        who = reader(raw)
        by = f"（使用者：{who}）" if who else ""
        return (f"「{display_name(target)}」正在 {program} 中開啟{by}；請先存檔並關閉後再執行，"
                f"否則新的檔案無法寫入，或之後在 {program} 中存檔時會蓋掉新的檔案。"
                f"若確定沒有開啟，請刪除鎖定檔「{display_name(lock)}」後重新執行。")
    return None


def _office_locks(target: Path):
    name = target.name
    yield target.with_name(f".~lock.{name}#"), "LibreOffice", _libreoffice_user
    yield target.with_name(f"~${name}"), "Excel", _excel_user


def _libreoffice_user(raw: bytes) -> str:
    # "Full name,system user,host,time,URL;" in UTF-8
    fields = raw.decode("utf-8", "replace").split(",")
    return next((f.strip() for f in fields[:2] if f.strip()), "")[:40]


def _excel_user(raw: bytes) -> str:
    # One length byte, the user name in the ANSI code page, padding; later a UTF-16 copy.
    if not raw:
        return ""
    size = raw[0]
    name = raw[1:1 + size]
    for encoding in ("cp950", "latin-1"):
        try:
            return name.decode(encoding).strip("\x00 ")[:40]
        except UnicodeDecodeError:
            continue
    return ""


def check_not_open(target: Path) -> None:
    """Refuse to replace ``target`` while an office program holds it open."""
    held = office_holding(target)
    if held:
        raise XltoolError(held)
