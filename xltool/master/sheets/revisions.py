"""The 計畫修訂 sheet: what the plan changed since the returns' templates."""
from __future__ import annotations

from ...forms.book import row_height
from ..layout import REVISION_SHEET
from .context import Context


def write(ctx: Context) -> None:
    """What the plan changed since the templates the adopted returns were made from."""
    f = ctx.f
    ws = ctx.ws[REVISION_SHEET]
    head = ["填報表產生日", "編號", "欄位", "原內容", "新內容", "受影響單位"]
    ctx.header(ws, 0, head, [12, 9, 12, 44, 44, 24])
    changes = ctx.r.changes
    if not changes:
        ws.write_string(1, 0, "所採用的回傳檔都依目前的計畫填寫，沒有計畫修訂。", f["text"])
    for r, change in enumerate(changes, start=1):
        values = [change.generated, change.item, change.field, change.old, change.new,
                  "、".join(change.units)]
        widths = [12, 9, 12, 44, 44, 24]
        ws.set_row(r, row_height([(v, w) for v, w in zip(values, widths)]))
        for c, v in enumerate(values):
            ws.write_string(r, c, v, f["wrap"])
    ws.freeze_panes(1, 0)
    ctx.print_setup(ws, 0)
