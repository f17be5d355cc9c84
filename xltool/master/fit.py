"""The lines a return's texts take in the master, worked out by the worker that read it.

One process writes the master (a workbook is one file), while the returns are read
in several. Laying out a text (:mod:`xltool.textfit`) is most of what writing a
row of 明細 or 總表 costs, and it depends only on the text and the column's width,
so the workers do it with the rows, in parallel, and each :class:`Row` carries
its answer in ``fit``:

- the most lines any of its cells in 明細 takes, the columns the merge alone knows
  aside (the unit and the source file, the same on every row of a unit, and 檢核);
- the lines each paragraph of its 總表 entry, 「【單位】成果」, takes.

The sheets use these numbers exactly where they would otherwise count the lines
themselves, so the master is the same either way (tests/test_fit.py).
"""
from __future__ import annotations

from .. import textfit
from ..forms import fields as F
from ..intake import Return, Row
from ..intake.read import read_return
from ..plan import Plan
from .layout import SUMMARY_RESULT_COLUMN, SUMMARY_WIDTHS, detail_widths

RESULT_FIELD = F.column("result").name
STATUS_FIELD = F.column("status").name
FIRST_INPUT = 3  # 明細: 單位, 編號, 構面, then the input columns, 來源檔案, 工作表列


def read_and_fit(plan: Plan, payload: tuple) -> Return:
    """The workers' job for a merge: read and check one return, then fit its rows."""
    path, keep_raw = payload
    ret = read_return(plan, path, keep_raw)
    fit_return(plan, ret)
    return ret


def fit_return(plan: Plan, ret: Return) -> None:
    if not ret.unit:
        return
    dims = {d.code: d.name for d in plan.dimensions}
    dim_of = {i.id: dims.get(i.dimension, "") for i in plan.items}
    names = [c.name for c in F.INPUT_COLUMNS]
    widths = detail_widths()
    for item_id, row in ret.rows.items():
        dim = dim_of.get(item_id, "")
        row.fit = (detail_lines(row, item_id, dim, ret.sheet, names, widths),
                   summary_lines(ret.unit, row))
    for row in ret.removed.values():  # kept in 明細 without a 構面
        row.fit = (detail_lines(row, row.item_id, "", ret.sheet, names, widths), ())


def detail_lines(row: Row, item_id: str, dim: str, sheet: str, names: list[str],
                 w: tuple[float, ...]) -> int:
    """The most lines the row's own cells take in 明細 (編號, 構面, the inputs, 工作表列)."""
    sheet_row = FIRST_INPUT + len(names) + 1
    lines = max(_lines(item_id, w[1]), _lines(dim, w[2]), _lines(f"{sheet}!{row.row + 1}", w[sheet_row]))
    for k, name in enumerate(names):
        value = row.values.get(name)
        if value and type(value) is str:
            lines = max(lines, textfit.lines_needed(value, w[FIRST_INPUT + k]))
    return lines


def summary_entry(unit: str, row: Row | None) -> str:
    """A lead unit's paragraph(s) in 總表's 執行績效與成果: its text, else its 執行狀態
    (or 未填) in brackets, as the 成果 documents say it: a unit that returned is
    never left out of the item it leads."""
    values = row.values if row else {}
    text = values.get(RESULT_FIELD)
    if text:
        return f"【{unit}】{text}"
    return f"【{unit}】（{values.get(STATUS_FIELD) or '未填'}）"


def summary_lines(unit: str, row: Row) -> tuple[int, ...]:
    width = SUMMARY_WIDTHS[SUMMARY_RESULT_COLUMN]
    return tuple(textfit.paragraph_lines(p, width) for p in textfit.paragraphs(summary_entry(unit, row)))


def _lines(text: str, width: float) -> int:
    return textfit.lines_needed(text, width) if text else 1
