"""The 明細 sheet: one row per unit and item, as the unit wrote it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ... import textfit
from ...codes import code
from ...forms import fields as F
from ..layout import DETAIL_SHEET
from .context import Context

if TYPE_CHECKING:
    from ...intake import Return, Row

# A row's flags that the catalogue has no entry for, in words.
FLAG_WORDS = {"removed-item": "計畫已刪除的項目"}
# What 檢核 says of a unit's item that has no row (other readers of 明細 rely on
# these words), and the code beside it.
MISSING, NEW_ITEM, ROW_DELETED = "未繳", "新增項目未填報", "列已刪除"
NO_ROW_CODES = {MISSING: "missing-return", NEW_ITEM: "new-item-unreported", ROW_DELETED: "row-deleted"}


def flag_label(flag: str) -> str:
    """What a row's flag (an issue code) says, in words."""
    return FLAG_WORDS.get(flag) or code(flag).label


def write(ctx: Context) -> None:
    """One row per unit and item, as tall as its text wraps to (up to Excel's tallest
    row: a record stays one row, for filters, pivot tables and the readers of this
    sheet; 總表 prints even longer texts whole). The biggest sheet by far (600,000 rows
    for 10,000 units), so every cell counts: who filled it in is on 繳交狀態, once per
    unit. 檢核 says what is wrong in words; the issue codes are in the hidden last
    column, for scripts."""
    plan = ctx.plan
    ws = ctx.ws[DETAIL_SHEET]
    inputs = [c.name for c in F.INPUT_COLUMNS]
    head = ["單位", "編號", "構面", *inputs, "來源檔案", "工作表列", "檢核", "檢核代碼"]
    widths = [11, 9, 10, *(c.width for c in F.INPUT_COLUMNS), 30, 10, 18, 18]
    ctx.header(ws, 0, head[:-1], widths[:-1])
    ws.write_string(0, len(head) - 1, head[-1], ctx.f["header"])
    ws.set_column(len(head) - 1, len(head) - 1, widths[-1], None, {"hidden": True})
    dims = {d.code: d.name for d in plan.dimensions}
    r = 1
    for status in ctx.r.units:
        ret = status.ret
        rows = dict(ret.rows.items()) if ret else {}  # one read per return
        removed = list(ret.removed.values()) if ret else []
        for item in plan.items_for(status.unit) + [None] * len(removed):
            row: Row | None
            if item is None:  # an item the plan took away: kept as the unit wrote it
                row = removed.pop(0)
                item_id, dim_name = row.item_id, ""
            else:
                row = rows.get(item.id)
                item_id, dim_name = item.id, dims[item.dimension]
            words, codes = _flags(ret, row, item_id)
            values = [status.unit, item_id, dim_name,
                      *(row.values.get(name) if row else None for name in inputs),
                      ret.name if ret else "", f"{ret.sheet}!{row.row + 1}" if row and ret else "",
                      "、".join(words), "、".join(codes)]
            _row(ctx, ws, r, values, widths, bool(codes))
            r += 1
    ws.autofilter(0, 0, max(r - 1, 1), len(head) - 1)
    ws.freeze_panes(1, 2)
    ctx.print_setup(ws, 0)


def _flags(ret: Return | None, row: Row | None, item_id: str) -> tuple[list[str], list[str]]:
    """What 檢核 says of a row, in words, and the issue codes behind them."""
    if row:
        codes = sorted(set(row.flags))
        return [flag_label(c) for c in codes], codes
    word = MISSING if ret is None else NEW_ITEM if item_id in ret.new_items else ROW_DELETED
    return [word], [NO_ROW_CODES[word]]


def _row(ctx: Context, ws, r: int, values: list, widths: list[float], bad: bool) -> None:
    """One record, as tall as its tallest text (the hidden codes aside) wraps to."""
    f, last = ctx.f, len(values) - 1
    ctx.set_height(ws, r, textfit.row_height(
        (v, w) for v, w in zip(values[:last], widths) if isinstance(v, str)))
    for c, value in enumerate(values):
        if c == last:
            ws.write_string(r, c, value, f["cell"])
        elif c == last - 1:
            ws.write_string(r, c, value, f["bad"] if bad else f["wrap"])
        elif 3 <= c < 3 + len(F.INPUT_COLUMNS):
            ctx.value(ws, r, c, value, bad)
        else:
            ws.write_string(r, c, value, f["wrap"])
