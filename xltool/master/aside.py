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
from typing import IO

from ..files import atomic_path

Writer = Callable[[IO[str]], None]


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
        try:
            fd, name = tempfile.mkstemp(prefix="xltool-report-", suffix=".json")
        except OSError:
            return self
        os.close(fd)
        self.scratch = Path(name)
        try:
            pid = os.fork()
        except OSError:
            self._remove_scratch()
            return self
        if pid == 0:  # the child: write, and end without running the parent's exit handlers
            code = 1
            try:
                with self.scratch.open("w", encoding="utf-8", newline="\n") as fh:
                    self.write(fh)
                code = 0
            except BaseException:  # noqa: BLE001 — the parent writes the report instead
                pass
            finally:
                os._exit(code)
        self.pid = pid
        return self

    def finish(self) -> None:
        """The report in place at ``target``: the child's, else written here."""
        made = self.scratch if self._reap() == 0 else None
        with atomic_path(self.target) as tmp:
            if made is not None:
                shutil.copyfile(made, tmp)
            else:
                with tmp.open("w", encoding="utf-8", newline="\n") as fh:
                    self.write(fh)
        self._remove_scratch()

    def abandon(self) -> None:
        """No report (the master was not written): the child stopped, nothing left."""
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
        pid, self.pid = self.pid, None
        try:
            _, status = os.waitpid(pid, 0)
        except ChildProcessError:
            return None
        return os.waitstatus_to_exitcode(status)

    def _remove_scratch(self) -> None:
        if self.scratch is not None:
            self.scratch.unlink(missing_ok=True)
            self.scratch = None
