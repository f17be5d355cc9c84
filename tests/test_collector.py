"""Python's cyclic garbage collector during a merge: off in the main process while the
master is made (and as it was afterwards), and in the workers kept off what they were
started with, which lives as long as they do."""
import gc

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
