"""The merge report written beside the master, in a child process, on another core.

Once the merge is scored, writing the master's last sheets and zipping it takes one
core, while the JSON report (0.1 s for 1,000 returns) needs only the finished
result. Where the operating system forks (Linux), a forked child, which holds the
result as the parent does without it being copied or pickled, writes the report to
a scratch file meanwhile; the parent moves it into place after the master, as the
report always came. Where there is no fork, where another thread runs (a fork
would copy its locks mid-use), or when the child fails, the parent writes the
report itself, as before: the report's bytes are the same either way.
"""
from __future__ import annotations

import os
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from typing import IO, NoReturn

from ..files import atomic_path

Writer = Callable[[IO[str]], None]
# The signals that stop a merge (Ctrl-C, kill, a closed terminal).
STOPPING = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name))


def can_fork() -> bool:
    return sys.platform.startswith("linux") and hasattr(os, "fork") and threading.active_count() == 1


class ReportAside:
    """A report at ``target`` made by ``write(fh)``: started in a child by :meth:`start`,
    put in place by :meth:`finish`, or dropped by :meth:`abandon`."""

    def __init__(self, target: Path, write: Writer):
        self.target, self.write = Path(target), write
        self.pid: int | None = None
        self.scratch: Path | None = None

    def start(self) -> ReportAside:
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
            fd, name = tempfile.mkstemp(prefix="xltool-report-", suffix=".json")
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
        """Write the report, and end without running the parent's exit handlers; a
        signal now ends the child at once (the parent then writes the report)."""
        code = 1
        try:
            for stopping in STOPPING:
                signal.signal(stopping, signal.SIG_DFL)
            signal.pthread_sigmask(signal.SIG_SETMASK, mask)
            assert self.scratch is not None
            with self.scratch.open("w", encoding="utf-8", newline="\n") as fh:
                self.write(fh)
            code = 0
        except BaseException:  # noqa: BLE001 — the parent writes the report instead
            pass
        finally:
            os._exit(code)

    def finish(self) -> None:
        """The report in place at ``target``: the child's, else written here."""
        try:
            made = self.scratch if self._reap() == 0 else None
            with atomic_path(self.target) as tmp:
                if made is not None:
                    shutil.copyfile(made, tmp)
                else:
                    with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                        self.write(fh)
        finally:  # (interrupted while waiting: the child stopped, its file gone)
            self.abandon()

    def abandon(self) -> None:
        """The child stopped and its file gone: nothing of the report left behind (what
        a master not written asks for, and what follows the report put in place)."""
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
