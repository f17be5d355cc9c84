"""Parse untrusted files in worker processes that may crash, hang or blow up.

python-calamine is native code: on a hostile file it can panic, abort the whole
process, or ask for gigabytes. So every untrusted file is handled in a worker
process with hard limits, and a worker that dies costs only the file it held:

- address space, per worker (POSIX ``RLIMIT_AS``; a job object on Windows);
- CPU time, per file (POSIX ``RLIMIT_CPU``, re-armed before each file);
- wall time, per file (a watchdog here, on every platform).

The caller gets a :class:`Failure` for that file and a fresh worker takes over.
The worker's stderr goes to a file, so a native crash report never reaches the
user's terminal; it is read back only to tell "out of memory" from a crash.
"""
from __future__ import annotations

import gc
import os
import signal
import sys
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

IN_WORKER = False  # set inside a worker: nested reads run in place
WORKER_YOUNG_OBJECTS = 50_000  # a worker's young generation: collected when it passes this
DEPTH = 3  # files a worker holds at once: the one it reads, and the next ones queued


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 400  # more than the worker needed at start
    cpu_seconds: float = 60.0
    wall_seconds: float = 120.0


@dataclass(frozen=True)
class Failure:
    """A file whose worker did not come back with an answer."""

    kind: str  # "memory" | "timeout" | "crash" | "error"
    detail: str = ""


def limits_from_env() -> Limits:
    """Defaults, or XLTOOL_WORKER_MEMORY_MB / XLTOOL_WORKER_SECONDS where set."""
    base = Limits()
    memory = _env_number("XLTOOL_WORKER_MEMORY_MB", base.memory_mb)
    seconds = _env_number("XLTOOL_WORKER_SECONDS", base.wall_seconds)
    return Limits(memory_mb=int(memory), cpu_seconds=min(base.cpu_seconds, seconds),
                  wall_seconds=seconds)


def isolation_enabled() -> bool:
    """Off only for the benchmark that measures what isolation costs."""
    return os.environ.get("XLTOOL_ISOLATION", "on").lower() not in ("off", "0", "no")


def start_method() -> str:
    """How workers start: ``fork`` on Linux (cheap, and the context need not be
    pickled), ``spawn`` elsewhere (Windows has nothing else). XLTOOL_START_METHOD=spawn
    runs the Windows way on Linux, for the tests."""
    import multiprocessing

    asked = os.environ.get("XLTOOL_START_METHOD", "").strip().lower()
    if asked in multiprocessing.get_all_start_methods():
        return asked
    return "fork" if sys.platform.startswith("linux") else "spawn"


def _env_number(name: str, default: float) -> float:
    try:
        value = float(os.environ.get(name, ""))
    except ValueError:
        return default
    return value if value > 0 else default


Handler = Callable[[Any, Any], Any]


class Pool:
    """Worker processes that each run ``handler(context, payload)`` for one payload
    at a time. ``map`` yields answers in payload order (a :class:`Failure` where a
    worker died), holding at most a few payloads per worker in flight."""

    def __init__(self, handler: Handler, context: Any = None, *, workers: int = 1,
                 limits: Limits | None = None, isolate: bool | None = None):
        self.handler = handler
        self.context = context
        self.workers = max(1, workers)
        self.limits = limits or limits_from_env()
        self.isolate = (isolation_enabled() if isolate is None else isolate) and not IN_WORKER
        self._idle: list[_Worker] = []
        self._all: list[_Worker] = []
        self._tmp: tempfile.TemporaryDirectory | None = None

    # -------------------------------------------------------------- public

    def call(self, payload: Any) -> Any:
        return next(iter(self.map([payload])))

    def map(self, payloads: Iterable[Any]) -> Iterator[Any]:
        if not self.isolate:
            for payload in payloads:
                yield run_in_place(self.handler, self.context, payload)
            return
        yield from self._map_isolated(iter(payloads))

    def close(self) -> None:
        for worker in self._all:
            worker.stop()
        self._all.clear()
        self._idle.clear()
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -------------------------------------------------------------- scheduling

    def _map_isolated(self, payloads: Iterator[Any]) -> Iterator[Any]:
        """Each worker holds up to DEPTH files: the one it reads and the next ones, so
        that it goes on reading while the caller is busy with an answer (writing the
        master's rows, say). Answers still come out in payload order."""
        window = self.workers * (DEPTH + 2)  # answers waiting to be taken, plus work in flight
        waiting: deque[tuple[int, Any]] = deque()
        done: dict[int, Any] = {}
        busy: dict[_Worker, deque[tuple[int, Any]]] = {}  # the job in hand first
        issued = emitted = 0
        exhausted = False
        try:
            while True:
                while not exhausted and issued - emitted < window:
                    try:
                        waiting.append((issued, next(payloads)))
                    except StopIteration:
                        exhausted = True
                        break
                    issued += 1
                self._hand_out(waiting, busy)
                if not busy and not waiting:
                    if exhausted:
                        break
                    continue
                for worker, answer in self._wait(list(busy)):
                    jobs = busy.pop(worker)
                    done[jobs.popleft()[0]] = answer
                    if worker.alive and jobs:
                        worker.next_job()
                        busy[worker] = jobs
                    elif worker.alive:
                        self._idle.append(worker)
                    else:  # its other files go to another worker, in their order
                        waiting.extendleft(reversed(jobs))
                        self._all.remove(worker)
                while emitted in done:
                    yield done.pop(emitted)
                    emitted += 1
        finally:
            for worker in busy:  # abandoned mid-run (an error, or Ctrl-C)
                worker.stop()
                self._all.remove(worker)

    def _hand_out(self, waiting: deque, busy: dict) -> None:
        """Work to idle or new workers first, then to the least loaded, up to DEPTH."""
        while waiting:
            if len(busy) < self.workers:
                worker = self._worker()
                busy[worker] = deque()
            else:
                worker = min(busy, key=lambda w: len(busy[w]))
                if len(busy[worker]) >= DEPTH:
                    return
            index, payload = waiting.popleft()
            worker.start_job(payload, first=not busy[worker])
            busy[worker].append((index, payload))

    def _worker(self) -> _Worker:
        if self._idle:
            return self._idle.pop()
        if self._tmp is None:
            self._tmp = tempfile.TemporaryDirectory(
                prefix="xltool-workers-", ignore_cleanup_errors=True)  # Windows: a file still held
        worker = _Worker(self, Path(self._tmp.name) / f"stderr-{len(self._all)}-{time.monotonic_ns()}")
        self._all.append(worker)
        return worker

    def _wait(self, busy: list[_Worker]) -> list[tuple[_Worker, Any]]:
        from multiprocessing.connection import wait

        deadline = min(w.deadline for w in busy)
        timeout = max(0.0, deadline - time.monotonic())
        handles: dict[Any, _Worker] = {}  # pipe ends and process sentinels
        for w in busy:
            handles[w.conn] = w
            handles[w.process.sentinel] = w
        ready = wait(list(handles), timeout=timeout)
        answers: dict[_Worker, Any] = {}
        for handle in ready:
            worker = handles[handle]
            if worker not in answers:
                answers[worker] = worker.collect()
        now = time.monotonic()
        for w in busy:
            if w not in answers and now >= w.deadline:
                w.stop()
                answers[w] = Failure("timeout", f"{self.limits.wall_seconds:g}")
        return list(answers.items())


def run_in_place(handler: Handler, context: Any, payload: Any) -> Any:
    """The same contract without a worker: used inside workers, and when isolation is off."""
    try:
        return handler(context, payload)
    except MemoryError:
        return Failure("memory")
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException as exc:  # noqa: BLE001 — a Rust panic is a BaseException
        return Failure("error", f"{type(exc).__name__}: {exc}"[:300])


# ------------------------------------------------------------------ one worker


class _Worker:
    def __init__(self, pool: Pool, stderr_path: Path):
        import multiprocessing

        ctx: Any = multiprocessing.get_context(start_method())  # a Process class per method
        self.limits = pool.limits
        self.stderr_path = stderr_path
        self.conn, child = ctx.Pipe()
        self.process = ctx.Process(target=_worker_main, daemon=True, args=(
            child, pool.handler, pool.context, pool.limits, str(stderr_path), os.getpid()))
        self.process.start()
        child.close()
        pid = self.process.pid
        assert pid is not None  # start() has set it
        self._job = _limit_windows_process(pid, self.limits) if sys.platform == "win32" else None
        self.alive = True
        self.deadline = float("inf")

    def start_job(self, payload: Any, first: bool = True) -> None:
        """Send a file; the clock runs from now if it is the only one the worker holds
        (a queued file's clock starts when the one before it is answered)."""
        if first:
            self.deadline = time.monotonic() + self.limits.wall_seconds
        try:
            self.conn.send(payload)
        except (OSError, EOFError):
            pass  # the worker is gone; collect() says so

    def next_job(self) -> None:
        """The file in hand was answered: the next one queued is being read now."""
        self.deadline = time.monotonic() + self.limits.wall_seconds

    def collect(self) -> Any:
        """The answer to the job in hand, or a Failure when the worker died."""
        self.deadline = float("inf")
        try:
            if self.conn.poll():
                status, value = self.conn.recv()
                if status == "ok":
                    return value
                if status == "memory":
                    return Failure("memory")
                return Failure("error", str(value))
        except (EOFError, OSError):
            pass
        except Exception as exc:  # noqa: BLE001 — an answer that cannot be unpickled
            self.stop()
            return Failure("error", f"{type(exc).__name__}")
        self.process.join(5)
        code = self.process.exitcode
        self.stop()
        return _classify(code, _tail(self.stderr_path))

    def stop(self) -> None:
        self.alive = False
        try:
            self.conn.close()
        except OSError:
            pass
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        if self._job is not None:
            _close_handle(self._job)
            self._job = None


def _classify(exitcode: int | None, stderr: str) -> Failure:
    if "memory allocation" in stderr or "MemoryError" in stderr or "Cannot allocate" in stderr:
        return Failure("memory", stderr[-200:])
    if exitcode is not None and hasattr(signal, "SIGXCPU") and exitcode == -signal.SIGXCPU:
        return Failure("timeout", "cpu")
    return Failure("crash", f"exit {exitcode}: {stderr[-200:]}")


def _tail(path: Path, size: int = 4096) -> str:
    try:
        with open(path, "rb") as fh:
            fh.seek(0, os.SEEK_END)
            fh.seek(max(0, fh.tell() - size))
            return fh.read().decode("utf-8", "replace")
    except OSError:
        return ""


def _worker_main(conn, handler: Handler, context: Any, limits: Limits, stderr_path: str,
                 parent: int) -> None:
    global IN_WORKER
    IN_WORKER = True
    try:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C
        for name in ("SIGTERM", "SIGHUP"):  # not the parent's clean-up (see cli.main)
            if hasattr(signal, name):
                signal.signal(getattr(signal, name), signal.SIG_DFL)
    except (ValueError, OSError):
        pass
    _exit_with(parent)
    err = os.open(stderr_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.dup2(err, 2)
    import faulthandler

    faulthandler.disable()  # a crash report written elsewhere would reach the terminal
    _limit_memory(limits)
    # What the worker was forked with (the plan, the modules) lives as long as it does:
    # kept out of its garbage collections, which need then walk only what a file made.
    gc.freeze()
    # Its own collector, whatever the parent's was at the fork (a merge forks with its
    # collector off): a file that left cyclic garbage must not add to what a worker
    # holds for the next thousand files. Collected rarely, since a file's objects go
    # with their last reference (an ordinary return leaves no cyclic garbage at all).
    gc.set_threshold(WORKER_YOUNG_OBJECTS)
    gc.enable()
    while True:
        try:
            payload = conn.recv()
        except (EOFError, OSError):
            break
        os.ftruncate(2, 0)
        os.lseek(2, 0, os.SEEK_SET)
        _arm_cpu_limit(limits)
        answer = run_in_place(handler, context, payload)
        if isinstance(answer, Failure):
            reply = ("memory", "") if answer.kind == "memory" else ("error", answer.detail)
        else:
            reply = ("ok", answer)
        try:
            conn.send(reply)
        except (OSError, EOFError):
            break
        except Exception as exc:  # noqa: BLE001 — an answer that cannot be pickled
            conn.send(("error", f"{type(exc).__name__}"))
    os._exit(0)


def _exit_with(parent: int) -> None:
    """End this worker when the process that started it is gone (killed, or its
    terminal closed): a worker can be waiting on a file that never ends (a FIFO) or
    on a pipe that a sibling worker holds open too, and would otherwise live on."""
    if sys.platform == "win32":
        return  # a job object ends its workers with it (see _limit_windows_process)
    import threading

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(PARENT_CHECK_SECONDS)
        os._exit(0)

    threading.Thread(target=watch, name="xltool-parent-watch", daemon=True).start()


PARENT_CHECK_SECONDS = 0.5


# ------------------------------------------------------------------ limits


def _limit_memory(limits: Limits) -> None:
    try:
        import resource
    except ImportError:
        return  # Windows: the parent put this process in a job object
    budget = limits.memory_mb * 1024 * 1024
    current = _address_space_now()
    cap = current + budget if current else max(budget, 1 << 30)
    try:
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))
    except (ValueError, OSError):
        pass  # macOS does not enforce RLIMIT_AS; the wall-time watchdog remains


def _address_space_now() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as fh:
            return int(fh.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, AttributeError):
        return 0


def _arm_cpu_limit(limits: Limits) -> None:
    """CPU time is counted per process, so the budget is re-armed before each file.
    Only the soft limit moves (SIGXCPU ends the worker): a process may not raise its
    hard limit again once set, so a hard limit would stop the re-arming, and a worker
    that had read many files would die on an ordinary one."""
    try:
        import resource
    except ImportError:
        return
    used = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(used.ru_utime + used.ru_stime + limits.cpu_seconds) + 1
    try:
        hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
        if hard != resource.RLIM_INFINITY:
            soft = min(soft, hard)
        resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))
    except (ValueError, OSError):
        pass


def _limit_windows_process(pid: int, limits: Limits):  # pragma: no cover — Windows only
    """Put the worker in a job object that caps its committed memory."""
    if sys.platform != "win32":  # called only there; ctypes.WinDLL exists only there
        return None
    import ctypes
    from ctypes import wintypes

    kernel32 = _kernel32()

    class IoCounters(ctypes.Structure):
        _fields_ = [(name, ctypes.c_ulonglong) for name in (
            "ReadOperationCount", "WriteOperationCount", "OtherOperationCount",
            "ReadTransferCount", "WriteTransferCount", "OtherTransferCount")]

    class Basic(ctypes.Structure):
        _fields_ = [("PerProcessUserTimeLimit", ctypes.c_int64),
                    ("PerJobUserTimeLimit", ctypes.c_int64),
                    ("LimitFlags", wintypes.DWORD),
                    ("MinimumWorkingSetSize", ctypes.c_size_t),
                    ("MaximumWorkingSetSize", ctypes.c_size_t),
                    ("ActiveProcessLimit", wintypes.DWORD),
                    ("Affinity", ctypes.c_size_t),
                    ("PriorityClass", wintypes.DWORD),
                    ("SchedulingClass", wintypes.DWORD)]

    class Extended(ctypes.Structure):
        _fields_ = [("BasicLimitInformation", Basic), ("IoInfo", IoCounters),
                    ("ProcessMemoryLimit", ctypes.c_size_t), ("JobMemoryLimit", ctypes.c_size_t),
                    ("PeakProcessMemoryUsed", ctypes.c_size_t),
                    ("PeakJobMemoryUsed", ctypes.c_size_t)]

    limit_process_memory, kill_on_close = 0x100, 0x2000
    job = kernel32.CreateJobObjectW(None, None)
    if not job:
        return None
    info = Extended()
    info.BasicLimitInformation.LimitFlags = limit_process_memory | kill_on_close
    # A fresh interpreter commits some 60 MB before it reads anything.
    info.ProcessMemoryLimit = (limits.memory_mb + 100) * 1024 * 1024
    kernel32.SetInformationJobObject(job, 9, ctypes.byref(info), ctypes.sizeof(info))
    handle = kernel32.OpenProcess(0x0001 | 0x0100, False, pid)  # TERMINATE | SET_QUOTA
    if handle:
        kernel32.AssignProcessToJobObject(job, handle)
        kernel32.CloseHandle(handle)
    return job


def _close_handle(handle) -> None:  # pragma: no cover — Windows only
    if sys.platform != "win32":  # a job handle exists only there
        return
    _kernel32().CloseHandle(handle)


def _kernel32():  # pragma: no cover — Windows only
    """kernel32 with the signatures of the calls made here. Without them ctypes takes
    every argument and result for a C int, 32 bits, where a HANDLE is 64 bits wide on
    64-bit Windows."""
    if sys.platform != "win32":  # ctypes.WinDLL exists only there
        raise OSError("kernel32 is Windows only")
    import ctypes
    from ctypes import wintypes

    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    for name, result, arguments in (
            ("CreateJobObjectW", wintypes.HANDLE, (ctypes.c_void_p, wintypes.LPCWSTR)),
            ("SetInformationJobObject", wintypes.BOOL,
             (wintypes.HANDLE, ctypes.c_int, ctypes.c_void_p, wintypes.DWORD)),
            ("OpenProcess", wintypes.HANDLE, (wintypes.DWORD, wintypes.BOOL, wintypes.DWORD)),
            ("AssignProcessToJobObject", wintypes.BOOL, (wintypes.HANDLE, wintypes.HANDLE)),
            ("CloseHandle", wintypes.BOOL, (wintypes.HANDLE,))):
        function = getattr(kernel32, name)
        function.restype, function.argtypes = result, arguments
    return kernel32
