"""Work done beside the master, in a forked child process, on another core.

Once the merge is scored, writing the master's last sheets and zipping it takes one
core, while some of what is written needs only the finished result: the JSON report
(0.1 s for 1,000 returns) and the layout of 總表's rows (0.2 s). Where the operating
system forks (Linux), a forked child, which holds the result as the parent does
without it being copied or pickled, does that work meanwhile into a scratch file:

- :class:`ReportAside`: the report, which the parent moves into place after the
  master, as the report always came;
- :class:`ValueAside`: a value the parent then reads back (pickled: the child is a
  copy of this very process, not a file from outside).

Where there is no fork, where another thread runs (a fork would copy its locks
mid-use), or when the child fails, the parent does the work itself, as before: what
is written is the same either way.
"""
from __future__ import annotations

import os
import pickle
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, Generic, NoReturn, TypeVar

from ..files import atomic_path

Writer = Callable[[IO[str]], None]
T = TypeVar("T")
# The signals that stop a merge (Ctrl-C, kill, a closed terminal).
STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


class _Aside:
    """Work started in a child by :meth:`start`, whose result the child leaves in a
    scratch file (:meth:`_work`); a subclass takes it, or :meth:`abandon` drops it."""

    PREFIX, SUFFIX = "xltool-aside-", ""

    def __init__(self) -> None:
        self.pid: int | None = None
        self.scratch: Path | None = None

    def _work(self, scratch: Path) -> None:
        raise NotImplementedError

    def start(self):
        if not can_fork():
            return self
        # No signal between the scratch file and the child's pid being noted here (the
        # caller could not clean up after either), nor in the child before it ends as
        # a child must: interrupted, it would run the parent's handlers and clean-ups.
        blocked, pid = signal.pthread_sigmask(signal.SIG_BLOCK, STOPPING), None
        try:
            pid = self._fork()
        finally:
            if pid != 0:
                signal.pthread_sigmask(signal.SIG_SETMASK, blocked)
        if pid == 0:
            self._be_the_child(blocked)
        return self

    def _fork(self) -> int | None:
        """The child's pid here, 0 in the child, None when there is no child."""
        try:
            fd, name = tempfile.mkstemp(prefix=self.PREFIX, suffix=self.SUFFIX)
        except OSError:
            return None
        os.close(fd)
        self.scratch = Path(name)
        parent = os.getpid()
        try:
            pid = os.fork()
        except BaseException as stopped:
            if os.getpid() != parent:  # a child stopped before it knew it was one
                os._exit(1)
            self._remove_scratch()
            if isinstance(stopped, OSError):
                return None
            raise
        if pid:
            self.pid = pid
        return pid

    def _be_the_child(self, mask) -> NoReturn:
        """Do the work, and end without running the parent's exit handlers (nor
        flushing its files); a signal now ends the child at once (the parent then
        does the work itself)."""
        code = 1
        try:
            for stopping in STOPPING:
                signal.signal(stopping, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            assert self.scratch is not None
            self._work(self.scratch)
            code = 0
        except BaseException:  # noqa: BLE001 — the parent does the work instead
            pass
        finally:
            os._exit(code)

    def _made(self) -> Path | None:
        """The child's scratch file, once it has ended well (None: there is none)."""
        return self.scratch if self._reap() == 0 else None

    def abandon(self) -> None:
        """The child stopped and its file gone: nothing of its work left behind (what
        a master not written asks for, and what follows the work taken)."""
        if self.pid is not None:
            try:
                os.kill(self.pid, signal.SIGKILL)
            except OSError:
                pass
        self._reap()
        self._remove_scratch()

    def _reap(self) -> int | None:
        """The child's exit code, once it has ended (None: there was no child)."""
        if self.pid is None:
            return None
        try:
            _, status = os.waitpid(self.pid, 0)
        except ChildProcessError:
            status = None
        self.pid = None  # (only once reaped: interrupted while waiting, abandon kills it)
        return None if status is None else os.waitstatus_to_exitcode(status)

    def _remove_scratch(self) -> None:
        if self.scratch is not None:
            self.scratch.unlink(missing_ok=True)
            self.scratch = None


class ReportAside(_Aside):
    """A report at ``target`` made by ``write(fh)``: started in a child by :meth:`start`,
    put in place by :meth:`finish`, or dropped by :meth:`abandon`."""

    PREFIX, SUFFIX = "xltool-report-", ".json"

    def __init__(self, target: Path, write: Writer):
        super().__init__()
        self.target, self.write = Path(target), write

    def _work(self, scratch: Path) -> None:
        with scratch.open("w", encoding="utf-8", newline="\n") as fh:
            self.write(fh)

    def finish(self) -> None:
        """The report in place at ``target``: the child's, else written here."""
        try:
            made = self._made()
            with atomic_path(self.target) as tmp:
                if made is not None:
                    shutil.copyfile(made, tmp)
                else:
                    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                        self.write(fh)
        finally:  # (interrupted while waiting: the child stopped, its file gone)
            self.abandon()


class ValueAside(_Aside, Generic[T]):
    """``compute()``, worked out in a child by :meth:`start` and taken by :meth:`value`
    (worked out here when there is no child, or it failed), or dropped by :meth:`abandon`.
    ``compute`` must be pure given the process's state at :meth:`start`."""

    PREFIX, SUFFIX = "xltool-value-", ".pickle"

    def __init__(self, compute: Callable[[], T]):
        super().__init__()
        self.compute = compute

    def _work(self, scratch: Path) -> None:
        with scratch.open("wb") as fh:
            pickle.dump(self.compute(), fh, protocol=pickle.HIGHEST_PROTOCOL)

    def value(self) -> T:
        try:
            made = self._made()
            if made is not None:
                try:
                    with made.open("rb") as fh:
                        found: Any = pickle.load(fh)
                    return found
                except Exception:  # noqa: BLE001 — a file cut short (a full disk): work it out here
                    pass
            return self.compute()
        finally:
            self.abandon()
