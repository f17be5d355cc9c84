"""The 計畫修訂 sheet: what the plan changed since the returns' templates."""
from __future__ import annotations

from datetime import date

from ...cells import roc_date
from ..layout import REVISION_SHEET
from .context import Context

WIDTHS = (12, 9, 12, 44, 44, 24)


def shown_date(iso: str) -> str:
    """A template's date (ISO, as the template records it) in the ROC year."""
    try:
        return roc_date(date.fromisoformat(iso[:10]))
    except ValueError:
        return iso


def write(ctx: Context) -> None:
    """What the plan changed since the templates the adopted returns were made from."""
    f = ctx.f
    ws = ctx.ws[REVISION_SHEET]
    head = ["填報表產生日", "編號", "欄位", "原內容", "新內容", "受影響單位"]
    ctx.header(ws, 0, head, WIDTHS)
    changes = ctx.r.changes
    if not changes:
        ws.write_string(1, 0, "所採用的回傳檔都依目前的計畫填寫，沒有計畫修訂。", f["text"])
    r = 1
    for change in changes:
        values = [shown_date(change.generated), change.item, change.field, change.old, change.new,
                  "、".join(change.units)]
        r = ctx.record(ws, r, values, WIDTHS, ["wrap"] * len(values))
    ws.freeze_panes(1, 0)
    ctx.print_setup(ws, 0)
