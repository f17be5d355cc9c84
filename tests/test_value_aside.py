"""總表's rows laid out beside the other sheets in a forked child (master/aside.py,
ValueAside): the master is the same bytes whether the child laid them out, the
process did, or the child failed; and no child or scratch file is left behind."""
import os
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT, forked_children

from xltool.master import aside
from xltool.master.run import run_merge
from xltool.master.sheets import summary
from xltool.plan import load_plan

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
needs_fork = pytest.mark.skipif(not aside.can_fork(), reason="work is forked only on Linux")


@pytest.fixture
def children(monkeypatch):
    """The pids of the value children, as started."""
    return forked_children(monkeypatch, aside.ValueAside)


def _scratch() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("xltool-value-*")}


def _members(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _master(tmp_path: Path, name: str) -> dict[str, bytes]:
    out = tmp_path / name / "master.xlsx"
    out.parent.mkdir()
    assert run_merge(load_plan(EXAMPLE / "plan.xlsx"), [EXAMPLE / "returns"], out).written
    return _members(out)


@needs_fork
def test_the_childs_layout_writes_the_same_master(tmp_path, monkeypatch, children):
    before = _scratch()
    forked = _master(tmp_path, "forked")
    assert len(children) == 1  # the layout was the child's
    for pid in children:  # reaped: no child left
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)
    assert _scratch() == before
    monkeypatch.setattr(aside, "can_fork", lambda: False)
    here = _master(tmp_path, "here")
    assert forked == here
    sheets = [n for n in forked if n.startswith("xl/worksheets/sheet")]
    assert any("執行成果彙整".encode() in forked[n] for n in sheets)  # 總表 was written


@needs_fork
def test_a_child_that_fails_leaves_the_process_to_lay_out(tmp_path, monkeypatch, children):
    here = _master(tmp_path, "here")
    real = summary.prepare
    parent = os.getpid()

    def failing(ctx):
        if os.getpid() != parent:
            raise RuntimeError("the child fails")
        return real(ctx)

    monkeypatch.setattr(summary, "prepare", failing)
    before = _scratch()
    assert _master(tmp_path, "failed") == here
    assert children and _scratch() == before


def test_a_value_is_worked_out_here_without_a_child(monkeypatch):
    monkeypatch.setattr(aside, "can_fork", lambda: False)
    job = aside.ValueAside(lambda: {"rows": [("甲", 1.5)]}).start()
    assert job.pid is None and job.value() == {"rows": [("甲", 1.5)]}


@needs_fork
def test_a_value_comes_back_from_the_child(children):
    parent = os.getpid()
    job = aside.ValueAside(lambda: ("child" if os.getpid() != parent else "parent", [1, "二"])).start()
    assert children
    assert job.value() == ("child", [1, "二"])
    assert job.scratch is None and job.pid is None


@needs_fork
@pytest.mark.parametrize("why", ["text", "store"])
def test_a_large_merge_lays_out_here_item_by_item(tmp_path, monkeypatch, children, why):
    """The child gives 總表's rows all at once, a few times the results' text: past
    ASIDE_TEXT characters of results, or with the rows on disk (the row store), they
    are laid out here one item at a time, into the same master."""
    from xltool.master import merge as merging
    from xltool.master import writer

    forked = _master(tmp_path, "forked")
    assert len(children) == 1
    children.clear()
    laid_out = []
    real = summary._item
    monkeypatch.setattr(summary, "_item", lambda *a: laid_out.append(a[2].id) or real(*a))
    monkeypatch.setattr(summary, "prepare", lambda ctx: pytest.fail("all items at once"))
    if why == "text":
        monkeypatch.setattr(writer, "ASIDE_TEXT", 100)
    else:
        monkeypatch.setattr(merging, "SPILL_FROM", 0)
    assert _master(tmp_path, "here") == forked
    assert not children and len(laid_out) == len(load_plan(EXAMPLE / "plan.xlsx").items)
