"""The lines the workers work out for the master (master/fit.py) are the lines the
sheets would count themselves: a master written from them is the master written
without them, byte for byte, long texts (總表's continued rows) included."""
from conftest import ROOT

from xltool.forms import fields as F
from xltool.master.fit import fit_return
from xltool.master.merge import merge
from xltool.master.writer import write_master
from xltool.plan import load_plan

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
RESULT = F.column("result").name
LONG = "\n".join(f"第 {n} 段：辦理說明會、訪視與教育訓練，計 {n * 3} 場次，參加 {n * 41} 人次（含線上）。"
                 for n in range(1, 60))


def _chosen(result):
    return [s.ret for s in result.units if s.ret is not None]


def test_the_workers_lines_are_the_sheets_own(tmp_path):
    plan = load_plan(EXAMPLE / "plan.xlsx")
    result = merge(plan, [EXAMPLE / "returns"], workers=2)
    returns = _chosen(result)
    assert returns and all(row.fit is not None for ret in returns for row in ret.rows.values())
    for k, ret in enumerate(returns):  # texts taller than a row, in 明細 and in 總表
        for n, row in enumerate(ret.rows.values()):
            if (n + k) % 3 == 0:
                row.values[RESULT] = LONG[: 200 + 900 * ((n + k) % 5)] + "  "
        fit_return(plan, ret)
    write_master(result, tmp_path / "fitted.xlsx")
    for ret in returns:
        for row in ret.rows.values():
            row.fit = None
    write_master(result, tmp_path / "counted.xlsx")
    assert (tmp_path / "fitted.xlsx").read_bytes() == (tmp_path / "counted.xlsx").read_bytes()


def test_rows_read_back_from_the_row_store_keep_their_lines(tmp_path):
    plan = load_plan(EXAMPLE / "plan.xlsx")
    stored = merge(plan, [EXAMPLE / "returns"], workers=1, spill_from=0)
    assert stored.store is not None
    rows = [row for ret in _chosen(stored) for _, row in ret.rows.items()]
    assert rows and all(row.fit is not None for row in rows)
