"""The generated branch examples (臺中分局, 臺南分局) are what `make examples` builds,
and the three example masters roll up into the 附表2 their data says."""
import importlib.util

from click.testing import CliRunner
from conftest import ROOT
from python_calamine import CalamineWorkbook

from xltool.cli import cli
from xltool.plan import load_plan

EXAMPLES = ROOT / "examples"
BRANCHES = ("taichung-109", "tainan-109")


def _build_module():
    spec = importlib.util.spec_from_file_location("build_examples", EXAMPLES / "build_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_generated_branch_examples_are_not_stale(tmp_path):
    build = _build_module()
    assert ("kaohsiung-109", *BRANCHES) == build.EXAMPLES
    for name in BRANCHES:
        folder = EXAMPLES / name
        for path in build.build(folder, tmp_path / name):
            committed = folder / path.relative_to(tmp_path / name)
            assert committed.exists(), f"{committed} is missing: run `make examples`"
            assert committed.read_bytes() == path.read_bytes(), f"{committed} is stale: run `make examples`"


def test_the_branches_share_the_109_scheme_with_other_units_and_items():
    base = load_plan(EXAMPLES / "kaohsiung-109" / "plan.xlsx")
    scheme = [(d.name, d.points) for d in base.dimensions]
    for name in BRANCHES:
        plan = load_plan(EXAMPLES / name / "plan.xlsx")
        assert [(d.name, d.points) for d in plan.dimensions] == scheme
        assert (plan.info.year, plan.info.period) == (base.info.year, base.info.period)
        assert plan.info.agency != base.info.agency
        assert {u.name for u in plan.units} != {u.name for u in base.units}
        assert {i.id for i in plan.items} < {i.id for i in base.items}
        for dim in plan.dimensions:  # every 構面 keeps its points over fewer items
            assert sum(i.points for i in plan.items if i.dimension == dim.code) == dim.points
        assert plan.warnings == []


def test_the_three_example_masters_roll_up(tmp_path):
    build = _build_module()
    masters, want = [], {}
    for name in build.EXAMPLES:
        folder = EXAMPLES / name
        master = tmp_path / f"{name}.xlsx"
        res = CliRunner().invoke(cli, ["merge", str(folder / "plan.xlsx"), str(folder / "returns"), "-o", str(master)])
        assert master.exists(), res.output
        masters.append(str(master))
        data = build.load_data(folder)
        want[data.INFO["機關名稱"]] = [*data.TABLE2.values(), data.TOTAL, data.GRADE]
    out = tmp_path / "附表2.xlsx"
    res = CliRunner().invoke(cli, ["rollup", *masters, "-o", str(out)])
    assert res.exit_code == 0, res.output
    rows = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("附表2").to_python()[6:9]
    assert {r[2]: [*(int(v) for v in r[3:9]), r[9]] for r in rows} == want
