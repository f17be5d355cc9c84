"""Isolated workers: whatever a parser does to its process costs only that file."""
import os
import sys
import time

import pytest

from xltool.reading.isolation import Failure, Limits, Pool

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and limits")


def behave(context, payload):
    """A stand-in parser: payload says what to do to the worker process."""
    kind, value = payload
    if kind == "ok":
        return value * context
    if kind == "abort":  # as a Rust allocation failure does
        os.write(2, f"memory allocation of {value} bytes failed\n".encode())
        os.abort()
    if kind == "segfault":
        import ctypes

        ctypes.string_at(0)
    if kind == "allocate":
        return len(bytearray(value))
    if kind == "spin":
        while True:
            pass
    if kind == "sleep":
        time.sleep(value)
    if kind == "panic":  # pyo3's PanicException derives from BaseException
        class PanicException(BaseException):
            pass
        raise PanicException("range end index 2 out of range")
    if kind == "exit":
        os._exit(value)
    return None


def run(payloads, workers=2, **limits):
    with Pool(behave, 3, workers=workers, limits=Limits(**limits)) as pool:
        return list(pool.map(payloads))


def test_answers_come_back_in_order_whatever_the_workers_do():
    payloads = [("ok", 1), ("abort", 10**11), ("ok", 2), ("segfault", 0), ("ok", 3),
                ("panic", 0), ("exit", 7), ("ok", 4)]
    answers = run(payloads, workers=3)
    assert [a for a in answers if not isinstance(a, Failure)] == [3, 6, 9, 12]
    assert answers[1].kind == "memory"  # the abort said why
    assert answers[3].kind == "crash"
    assert answers[5].kind == "error" and "PanicException" in answers[5].detail
    assert answers[6].kind == "crash"


def test_memory_ceiling_stops_one_file_and_the_next_is_read():
    answers = run([("allocate", 3 * 1024**3), ("ok", 5)], workers=1, memory_mb=200)
    assert answers[0] == Failure("memory")
    assert answers[1] == 15


def test_cpu_and_wall_time_limits():
    started = time.monotonic()
    answers = run([("spin", 0), ("sleep", 30), ("ok", 1)], workers=1, cpu_seconds=1,
                  wall_seconds=2)
    assert answers[0].kind == "timeout"
    assert answers[1].kind == "timeout"
    assert answers[2] == 3
    assert time.monotonic() - started < 15


def test_a_thousand_payloads_with_failures_among_them():
    payloads = [("exit", 1) if n % 97 == 0 else ("ok", n) for n in range(1000)]
    answers = run(payloads, workers=2)
    assert len(answers) == 1000
    for n, answer in enumerate(answers):
        if n % 97 == 0:
            assert isinstance(answer, Failure)
        else:
            assert answer == 3 * n


def test_in_place_mode_has_the_same_contract():
    with Pool(behave, 3, isolate=False) as pool:
        assert list(pool.map([("ok", 2), ("panic", 0)])) == [6, Failure(
            "error", "PanicException: range end index 2 out of range")]


ORPHANING = """
import sys, threading, time
sys.path.insert(0, sys.argv[1])
from test_isolation import behave
from xltool.reading.isolation import Limits, Pool
pool = Pool(behave, 3, workers=2, limits=Limits(wall_seconds=600))
threading.Thread(target=lambda: list(pool.map([("sleep", 600)] * 4)), daemon=True).start()
while len(pool._all) < 2:
    time.sleep(0.05)
print(" ".join(str(w.process.pid) for w in pool._all), flush=True)
time.sleep(600)
"""


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="utf-8") as fh:
            return fh.read().split(") ")[1][0] != "Z"  # not a zombie waiting for its reaper
    except FileNotFoundError:
        return False


@pytest.mark.skipif(not os.path.isdir("/proc"), reason="reads /proc")
@pytest.mark.parametrize("how", ["SIGKILL", "SIGTERM"])
def test_workers_end_when_the_process_that_started_them_is_gone(how):
    """Killed, or its terminal closed, a run must not leave workers behind: each one
    holds a file (here: sleeps) and would otherwise live on, reparented."""
    import signal
    import subprocess
    from pathlib import Path

    proc = subprocess.Popen([sys.executable, "-c", ORPHANING, str(Path(__file__).parent)],
                            stdout=subprocess.PIPE, text=True)
    pids = [int(p) for p in proc.stdout.readline().split()]
    assert len(pids) == 2 and all(_alive(p) for p in pids)
    proc.send_signal(getattr(signal, how))
    proc.wait(30)
    deadline = time.monotonic() + 10
    while any(_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(_alive(p) for p in pids)
