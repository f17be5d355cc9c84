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
