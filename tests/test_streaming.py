"""The master's 明細 is written while the isolated workers read (master/streaming.py):
the streamed master is byte for byte the master a sequential run writes from the
finished merge, with the pool and without it, and whatever order the workers
finish in."""
import shutil
import time
from pathlib import Path

import pytest
from conftest import ROOT

from xltool.intake import discover
from xltool.master import fit
from xltool.master.merge import merge
from xltool.master.run import run_merge
from xltool.master.streaming import Stream, StreamedMaster, guess_units
from xltool.master.writer import write_master
from xltool.plan import load_plan
from xltool.reading.isolation import start_method

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
FIRST = "109_提升服務效能_第一課.xlsx"
ORIGINAL_JOB = fit.read_and_fit
FINISHED = Path()  # set per test: where the slowed workers note each file they finish


def _slow_job(plan, payload):
    """Some files take longer, so that later files finish first."""
    path = Path(payload[0])
    if sum(path.name.encode("utf-8")) % 3 == 0:
        time.sleep(0.05)
    answer = ORIGINAL_JOB(plan, payload)
    with FINISHED.open("a", encoding="utf-8") as fh:
        fh.write(path.name + "\n")
    return answer


@pytest.fixture
def inbox(tmp_path):
    """The example's returns, plus enough copies for the pool; the copies' names name
    no unit, and one unit sends an older second copy."""
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE / "returns", folder)
    for n in range(26):
        shutil.copy(folder / FIRST, folder / f"copy{n:02d}.xlsx")
    return folder


def sequential(plan, inbox: Path, target: Path) -> bytes:
    write_master(merge(plan, [inbox], workers=1, spill_from=10 ** 9), target)
    return target.read_bytes()


@pytest.mark.parametrize("mode", ["no-pool", "one-worker", "two-workers-shuffled"])
def test_the_streamed_master_is_the_sequential_one(inbox, tmp_path, monkeypatch, mode):
    global FINISHED
    plan = load_plan(EXAMPLE / "plan.xlsx")
    expected = sequential(plan, inbox, tmp_path / "sequential.xlsx")
    if mode == "no-pool":
        monkeypatch.setenv("XLTOOL_ISOLATION", "off")
    elif mode == "one-worker":
        monkeypatch.setenv("XLTOOL_WORKERS", "1")
    else:
        if start_method() != "fork":
            pytest.skip("the slowed job reaches the workers by fork")
        monkeypatch.setenv("XLTOOL_WORKERS", "2")
        FINISHED = tmp_path / "finished.txt"
        monkeypatch.setattr(fit, "read_and_fit", _slow_job)
    streamed = tmp_path / "out" / "master.xlsx"
    run = run_merge(plan, [inbox], streamed)
    assert run.written and streamed.read_bytes() == expected
    if mode == "two-workers-shuffled":
        files = discover([inbox])[0]
        issued = [files[n].name for n in Stream(plan, files, None).order]
        finished = FINISHED.read_text(encoding="utf-8").split()
        assert sorted(finished) == sorted(issued) and finished != issued  # really shuffled


def test_a_return_under_another_units_name_is_written_again(tmp_path):
    """The name only schedules: 第一課's return named for the unit read last spoils the
    stream (第一課 is written by then), and the master is written again from the result."""
    plan = load_plan(EXAMPLE / "plan.xlsx")
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE / "returns", folder)
    last = plan.units[-1].name
    misnamed = next(f for f in folder.iterdir() if last in f.name)
    misnamed.unlink()
    shutil.copy(folder / FIRST, folder / f"109_提升服務效能_{last}.xlsx")
    expected = sequential(plan, folder, tmp_path / "sequential.xlsx")
    with StreamedMaster(plan, tmp_path / "streamed.xlsx") as master:
        result = merge(plan, [folder], master=master)
        master.commit(result)
    assert master.rewritten
    assert (tmp_path / "streamed.xlsx").read_bytes() == expected


def test_an_uncommitted_master_leaves_nothing_behind(tmp_path):
    """--strict with errors: no master, no temporary file, an older master untouched."""
    plan = load_plan(EXAMPLE / "plan.xlsx")
    folder = tmp_path / "in"
    shutil.copytree(EXAMPLE / "returns", folder)
    (folder / FIRST).unlink()  # a unit that sent nothing is an error
    out = tmp_path / "out"
    out.mkdir()
    (out / "master.xlsx").write_bytes(b"older")
    run = run_merge(plan, [folder], out / "master.xlsx", strict=True)
    assert not run.written and run.errors
    assert [f.name for f in out.iterdir()] == ["master.xlsx"]
    assert (out / "master.xlsx").read_bytes() == b"older"


def test_files_are_read_unnamed_first_then_in_plan_order(tmp_path):
    plan = load_plan(EXAMPLE / "plan.xlsx")
    names = [u.name for u in plan.units]
    files = [tmp_path / f"109_提升服務效能_{names[2]}.xlsx", tmp_path / "unknown.xlsx",
             tmp_path / f"{names[0]}的回傳（修正版）.ods", tmp_path / f"109_提升服務效能_{names[1]}.xlsx"]
    assert guess_units(plan, files) == [2, None, 0, 1]
    assert Stream(plan, files, None).order == [1, 2, 3, 0]
