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


def test_the_merge_command_leaves_what_it_made_to_the_end_of_the_process(tmp_path):
    """The command's process ends with the merge: its collector stays off to the end, and
    what the merge made is frozen, out of the interpreter's last collection at exit."""
    script = ("import gc, sys\nfrom xltool.cli import main\ntry:\n    main()\n"
              "finally:\n    print(gc.isenabled(), gc.get_freeze_count() > 10_000)\n")
    proc = subprocess.run([sys.executable, "-c", script, "merge", str(EXAMPLE / "plan.xlsx"),
                           str(EXAMPLE / "returns"), "-o", str(tmp_path / "m.xlsx")],
                          capture_output=True, text=True, encoding="utf-8")
    assert proc.stdout.splitlines()[-1] == "False True", proc.stdout + proc.stderr
    assert (tmp_path / "m.xlsx").exists()


def test_the_merge_command_called_in_process_leaves_the_collector_as_it_was(tmp_path):
    from click.testing import CliRunner

    from xltool.cli import cli

    frozen = gc.get_freeze_count()
    res = CliRunner().invoke(cli, ["merge", str(EXAMPLE / "plan.xlsx"), str(EXAMPLE / "returns"),
                                   "-o", str(tmp_path / "m.xlsx")])
    assert res.exit_code in (0, 1), res.output
    assert gc.isenabled() and gc.get_freeze_count() == frozen
