"""The merge report written beside the master in a forked child (master/aside.py):
the same bytes as written in the process itself, in place only once the master is,
and written all the same when the child fails."""
import json
import os
import tempfile
import time
from pathlib import Path

import pytest
from conftest import ROOT, forked_children

from xltool.master import aside, report
from xltool.master.run import run_merge
from xltool.master.streaming import StreamedMaster
from xltool.plan import load_plan

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
needs_fork = pytest.mark.skipif(not aside.can_fork(), reason="the report is forked only on Linux")


@pytest.fixture
def plan():
    return load_plan(EXAMPLE / "plan.xlsx")


@pytest.fixture
def children(monkeypatch):
    """The pids of the report's children, as started."""
    return forked_children(monkeypatch, aside.ReportAside)


def _scratch_files() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("xltool-report-*")}


def _merge(plan, tmp_path, name: str) -> bytes:
    out = tmp_path / name
    run = run_merge(plan, [EXAMPLE / "returns"], out / "master.xlsx", report=out / "r.json")
    assert run.written
    return (out / "r.json").read_bytes()


@needs_fork
def test_the_forked_report_is_the_one_written_in_process(plan, tmp_path, monkeypatch, children):
    before = _scratch_files()
    forked = _merge(plan, tmp_path, "forked")
    assert len(children) == 1  # a child wrote it
    monkeypatch.setattr(aside, "can_fork", lambda: False)
    assert forked == _merge(plan, tmp_path, "in-process")
    data = json.loads(forked)
    assert data["total"] == 910 and data["grade"] == "優"
    assert _scratch_files() == before


@needs_fork
def test_a_child_that_fails_leaves_the_report_to_the_parent(plan, tmp_path, monkeypatch, children):
    parent, written = os.getpid(), report.write_result_json

    def fails_in_the_child(result, out):
        if os.getpid() != parent:
            out.write("{ half")
            raise OSError("disk full in the child")
        written(result, out)

    monkeypatch.setattr("xltool.master.run.write_result_json", fails_in_the_child)
    text = _merge(plan, tmp_path, "failed-child")
    assert len(children) == 1
    monkeypatch.setattr(aside, "can_fork", lambda: False)
    monkeypatch.setattr("xltool.master.run.write_result_json", written)
    assert text == _merge(plan, tmp_path, "in-process")


@pytest.mark.parametrize("fork", [True, False])
def test_no_report_when_the_master_is_not_written(plan, tmp_path, monkeypatch, fork, children):
    if fork and not aside.can_fork():
        pytest.skip("the report is forked only on Linux")
    if not fork:
        monkeypatch.setattr(aside, "can_fork", lambda: False)
    before = _scratch_files()

    def broken(self, result):
        raise OSError("the disk went away")

    monkeypatch.setattr(StreamedMaster, "commit", broken)
    out = tmp_path / "out"
    with pytest.raises(OSError):
        run_merge(plan, [EXAMPLE / "returns"], out / "master.xlsx", report=out / "r.json")
    assert not (out / "r.json").exists() and not (out / "master.xlsx").exists()
    assert not list(out.glob("*.json")) and _scratch_files() == before
    assert len(children) == fork
    for pid in children:  # stopped and reaped: no child left behind
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)


@needs_fork
def test_a_merge_stopped_while_it_waits_for_the_report_leaves_nothing_of_it(plan, tmp_path, monkeypatch,
                                                                           children):
    """Ctrl-C while the parent waits for a slow child (found by helper-51: the child went
    on writing after xltool had ended, and its scratch file stayed): the master is in
    place, the child is stopped and reaped, no report and no scratch file."""
    parent, written = os.getpid(), report.write_result_json

    def slow_in_the_child(result, out):
        if os.getpid() != parent:
            time.sleep(60)
        written(result, out)

    monkeypatch.setattr("xltool.master.run.write_result_json", slow_in_the_child)
    real_wait, stopped = os.waitpid, []

    def interrupted(pid, options):
        if pid in children and not stopped:
            stopped.append(pid)
            raise KeyboardInterrupt
        return real_wait(pid, options)

    monkeypatch.setattr(aside.os, "waitpid", interrupted)
    before, out = _scratch_files(), tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        run_merge(plan, [EXAMPLE / "returns"], out / "master.xlsx", report=out / "r.json")
    assert stopped == children and (out / "master.xlsx").exists() and not (out / "r.json").exists()
    with pytest.raises(ChildProcessError):  # stopped and reaped
        real_wait(children[0], os.WNOHANG)
    assert _scratch_files() == before


@needs_fork
def test_the_child_is_stopped_by_a_signal_as_any_process_is(plan, tmp_path, monkeypatch, children):
    """In the child, Ctrl-C and kill stop it at once (the parent then writes the report):
    with the parent's handlers it would run the parent's clean-ups as its own."""
    parent, written = os.getpid(), report.write_result_json

    def tells_its_handlers(result, out):
        if os.getpid() != parent:
            import signal
            out.write(json.dumps([signal.getsignal(s) == signal.SIG_DFL for s in aside.STOPPING]))
            return
        written(result, out)

    monkeypatch.setattr("xltool.master.run.write_result_json", tells_its_handlers)
    assert json.loads(_merge(plan, tmp_path, "child")) == [True] * len(aside.STOPPING)
    assert len(children) == 1
