"""The 檢核結果 sheet: every issue, with its place in spreadsheet terms."""
from __future__ import annotations

from ..layout import ISSUE_SHEET
from .context import CONTINUED, UNMEASURED, Context

HEAD = ("嚴重度", "問題", "單位", "檔案", "工作表", "儲存格", "欄位", "填寫內容", "應為", "說明", "代碼")
WIDTHS = (7, 16, 11, 28, 9, 8, 11, 24, 24, 56, 18)
NONE_FOUND = "沒有發現任何錯誤或警告。"


def write(ctx: Context) -> None:
    """One row per issue, as tall as its longest text wraps to, so that 說明 and 應為
    print whole (an issue taller than a row can be goes on in the rows below). 問題
    is the issue's label in words; its code, for scripts, is in the hidden last column."""
    ws = ctx.ws[ISSUE_SHEET]
    ctx.header(ws, 0, HEAD[:-1], WIDTHS[:-1])
    ws.write_string(0, len(HEAD) - 1, HEAD[-1], ctx.f["header"])
    ws.set_column(len(HEAD) - 1, len(HEAD) - 1, WIDTHS[-1], None, {"hidden": True})
    r = 1
    for issue in ctx.r.issues:
        values = [issue.severity, issue.label, issue.unit, issue.file, issue.sheet, issue.cell,
                  issue.field, issue.value, issue.expected, issue.message, issue.code]
        styles = ["bad" if issue.is_error else "wrap"] + ["wrap"] * (len(HEAD) - 2) + ["cell"]
        carry = {0: issue.severity, 1: CONTINUED, 2: issue.unit, len(HEAD) - 1: issue.code}
        r = ctx.record(ws, r, values, WIDTHS[:-1] + (UNMEASURED,), styles, carry)  # hidden
    if r == 1:  # said in words, as 計畫修訂 does: a header alone could be a page that failed
        ws.write_string(1, 0, NONE_FOUND, ctx.f["text"])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r - 1, 1), len(HEAD) - 1)
    ctx.print_setup(ws, 0)
