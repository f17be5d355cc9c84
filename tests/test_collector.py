"""Python's cyclic garbage collector during a merge: off in the main process while the
master is made (and as it was afterwards), and in the workers kept off what they were
started with, which lives as long as they do."""
import gc
import subprocess
import sys

import pytest
from conftest import ROOT

import xltool.master.run as run
from xltool.plan import load_plan
from xltool.reading.isolation import Pool

EXAMPLE = ROOT / "examples" / "kaohsiung-109"


def _frozen(_context, _payload) -> int:
    return gc.get_freeze_count()


def test_a_worker_keeps_what_it_was_started_with_out_of_its_collections():
    with Pool(_frozen, None, workers=1, isolate=True) as pool:
        assert next(iter(pool.map([0]))) > 1000  # the modules, and the context given
    assert gc.get_freeze_count() == 0  # the parent's own collector is left alone


@pytest.mark.parametrize("enabled", [True, False])
def test_the_merge_runs_with_the_collector_off_and_leaves_it_as_it_was(tmp_path, monkeypatch, enabled):
    seen = []
    merge = run.merge

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return merge(*args, **kwargs)
    monkeypatch.setattr(run, "merge", watched)
    (gc.enable if enabled else gc.disable)()
    try:
        out = run.run_merge(load_plan(EXAMPLE / "plan.xlsx"), [EXAMPLE / "returns"], tmp_path / "m.xlsx",
                            report=tmp_path / "r.json")
        assert gc.isenabled() is enabled
    finally:
        gc.enable()
    assert seen == [False] and out.written and (tmp_path / "r.json").exists()


def _collects_its_own_garbage(_context, _payload) -> tuple[bool, int]:
    before = gc.get_stats()[0]["collections"]
    for _ in range(100_000):  # cycles, which only the collector frees
        pair: list = []
        pair.append([pair])
    return gc.isenabled(), gc.get_stats()[0]["collections"] - before


def test_a_worker_forked_while_the_merge_has_its_collector_off_collects_its_own():
    """A merge forks its workers with its own collector off; each worker has its own
    on all the same: cyclic garbage a file leaves does not pile up over the files."""
    with run.collector_paused(), Pool(_collects_its_own_garbage, None, workers=1, isolate=True) as pool:
        enabled, collections = next(iter(pool.map([0])))
    assert enabled and collections > 0


def test_the_merge_command_leaves_what_it_made_out_of_its_last_collections(tmp_path):
    """The command's process ends with the merge: what the merge made is frozen once the
    master is written, out of the later collections and the interpreter's last one at
    exit; the collector itself is back on, for what comes after (the report, the
    correction copies, whose cyclic garbage it collects)."""
    script = ("import gc, sys\nfrom xltool.cli import main\ntry:\n    main()\n"
              "finally:\n    print(gc.isenabled(), gc.get_freeze_count() > 10_000)\n")
    proc = subprocess.run([sys.executable, "-c", script, "merge", str(EXAMPLE / "plan.xlsx"),
                           str(EXAMPLE / "returns"), "-o", str(tmp_path / "m.xlsx")],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.stdout.splitlines()[-1] == "True True", proc.stdout + proc.stderr
    assert (tmp_path / "m.xlsx").exists()


def test_correction_copies_are_collected_after_the_merge(tmp_path):
    """What the correction copies leave (odfpy's trees hold their parents) is collected:
    the collector is on again when they are written."""
    import xltool.master.feedback as feedback

    seen = []
    write = feedback.write_feedback

    def watched(*args, **kwargs):
        seen.append(gc.isenabled())
        return write(*args, **kwargs)
    feedback.write_feedback = watched
    try:
        out = run.run_merge(load_plan(EXAMPLE / "plan.xlsx"), [EXAMPLE / "returns"], tmp_path / "m.xlsx",
                            feedback_dir=tmp_path / "fb", ends_process=True)
    finally:
        feedback.write_feedback = write
        gc.unfreeze()
    assert out.written and seen == [True]


def test_the_merge_command_called_in_process_leaves_the_collector_as_it_was(tmp_path):
    from click.testing import CliRunner

    from xltool.cli import cli

    frozen = gc.get_freeze_count()
    res = CliRunner().invoke(cli, ["merge", str(EXAMPLE / "plan.xlsx"), str(EXAMPLE / "returns"),
                                   "-o", str(tmp_path / "m.xlsx")])
    assert res.exit_code in (0, 1), res.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen
