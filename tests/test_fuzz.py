"""Fuzzing: mutated .xlsx, .ods and .xls returns (see fuzzing.py) yield xltool's own
issue records, never an unhandled exception, a dead batch or a hang.

A bounded run of fresh mutations goes through the isolated readers on every CI
run; the files the fuzzer once found (``fuzz_finds.json``) are replayed as
regression tests.
"""
import fuzzing
import pytest
from conftest import ROOT

from xltool.intake import read_returns
from xltool.master.merge import merge, score
from xltool.plan import load_plan

PLAN = load_plan(ROOT / "examples" / "kaohsiung-109" / "plan.xlsx")
PER_FORMAT = 150
FINDS = fuzzing.finds()


def _check(ret) -> None:
    for issue in ret.issues:
        assert issue.code and issue.message
        assert issue.code != "internal-error", issue.message


@pytest.mark.parametrize("name", sorted(FINDS))
def test_every_find_is_one_issue_for_its_file(tmp_path, name):
    recipe = FINDS[name]
    path = fuzzing.rebuild(recipe, tmp_path / f"109_提升服務效能_第二課.{recipe['format']}")
    (ret,) = read_returns(PLAN, [path])
    _check(ret)
    if recipe.get("expect") == "rejected":
        assert not ret.usable and any(i.is_error for i in ret.issues)


@pytest.mark.parametrize("fmt", fuzzing.FORMATS)
def test_fresh_mutations(tmp_path, fmt):
    batch = fuzzing.recipes(fmt, seed=2026, count=PER_FORMAT)
    paths = [fuzzing.rebuild(r, tmp_path / f"109_提升服務效能_第二課_{n}.{fmt}")
             for n, r in enumerate(batch)]
    returns = list(read_returns(PLAN, paths, workers=2))
    assert [r.path for r in returns] == paths
    for ret in returns:
        _check(ret)
    result = score(PLAN, returns, [], {})
    assert result.total >= 0


def test_mutations_beside_the_example_returns_change_nothing_else(tmp_path):
    """A batch of broken files never costs another unit its data."""
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    for fmt in fuzzing.FORMATS:
        for n, recipe in enumerate(fuzzing.recipes(fmt, seed=99, count=8)):
            path = fuzzing.rebuild(recipe, inbox / f"109_提升服務效能_第二課_{fmt}{n}.{fmt}")
            # dated before the good returns, so that they win the duplicate contest
            import os
            os.utime(path, (0, 0))
    good = merge(PLAN, [ROOT / "examples" / "kaohsiung-109" / "returns"])
    mixed = merge(PLAN, [ROOT / "examples" / "kaohsiung-109" / "returns", inbox])
    others = [u for u in PLAN.units if u.name != "第二課"]
    for unit in others:
        assert mixed.status_of(unit.name).ret.path == good.status_of(unit.name).ret.path
    assert [r.adopted for r in mixed.items if "第二課" not in r.item.leads] == \
        [r.adopted for r in good.items if "第二課" not in r.item.leads]
