"""The 明細 sheet: one row per unit and item, as the unit wrote it."""
from __future__ import annotations

from typing import TYPE_CHECKING

from ...forms import fields as F
from ..layout import DETAIL_SHEET
from .context import Context

if TYPE_CHECKING:
    from ...intake import Row


def write(ctx: Context) -> None:
    """One row per unit and item. The biggest sheet by far (600,000 rows for 10,000
    units), so every cell counts: who filled it in is on 繳交狀態, once per unit.
    Rows keep the default height, one line each, as data sheets for filtering and
    pivot tables do; XlsxWriter would also keep every row height in memory."""
    plan, f = ctx.plan, ctx.f
    ws = ctx.ws[DETAIL_SHEET]
    inputs = [c.name for c in F.INPUT_COLUMNS]
    head = ["單位", "編號", "構面", *inputs, "來源檔案", "工作表列", "檢核"]
    widths = [11, 9, 10, *(c.width for c in F.INPUT_COLUMNS), 30, 10, 18]
    ctx.header(ws, 0, head, widths)
    dims = {d.code: d.name for d in plan.dimensions}
    r = 1
    for status in ctx.r.units:
        ret = status.ret
        rows = dict(ret.rows.items()) if ret else {}  # one read per return
        source = ret.name if ret else ""
        removed = list(ret.removed.values()) if ret else []
        for item in plan.items_for(status.unit) + [None] * len(removed):
            row: Row | None
            if item is None:  # an item the plan took away: kept as the unit wrote it
                row = removed.pop(0)
                item_id, dim_name = row.item_id, ""
            else:
                row = rows.get(item.id)
                item_id, dim_name = item.id, dims[item.dimension]
            flags = sorted(set(row.flags)) if row else (
                ["未繳"] if ret is None else
                ["新增項目未填報"] if item_id in ret.new_items else ["列已刪除"])
            bad = bool(flags)
            ws.write_string(r, 0, status.unit, f["cell"])
            ws.write_string(r, 1, item_id, f["cell"])
            ws.write_string(r, 2, dim_name, f["cell"])
            if row:
                for k, name in enumerate(inputs):
                    ctx.value(ws, r, 3 + k, row.values.get(name), bad, wrap=False)
            c = 3 + len(inputs)
            ws.write_string(r, c, source, f["cell"])
            # A row comes only from a return: ``ret`` is never None where ``row`` is set.
            ws.write_string(r, c + 1, f"{ret.sheet}!{row.row + 1}" if row and ret is not None else "",
                            f["cell"])
            ws.write_string(r, c + 2, "、".join(flags), f["bad"] if bad else f["cell"])
            r += 1
    ws.autofilter(0, 0, max(r - 1, 1), len(head) - 1)
    ws.freeze_panes(1, 2)
    ctx.print_setup(ws, 0)
