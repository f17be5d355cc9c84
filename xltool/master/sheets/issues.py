"""The 檢核結果 sheet: every issue, with its place in spreadsheet terms."""
from __future__ import annotations

from ..layout import ISSUE_SHEET
from .context import Context


def write(ctx: Context) -> None:
    f = ctx.f
    ws = ctx.ws[ISSUE_SHEET]
    head = ["嚴重度", "代碼", "單位", "檔案", "工作表", "儲存格", "欄位", "填寫內容", "應為", "說明"]
    ctx.header(ws, 0, head, [7, 16, 11, 30, 9, 8, 12, 24, 18, 60])
    for r, issue in enumerate(ctx.r.issues, start=1):
        values = [issue.severity, issue.code, issue.unit, issue.file, issue.sheet, issue.cell,
                  issue.field, issue.value, issue.expected, issue.message]
        for c, v in enumerate(values):
            ws.write_string(r, c, v, f["bad"] if c == 0 and issue.is_error else f["wrap"])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(len(ctx.r.issues), 1), len(head) - 1)
    ctx.print_setup(ws, 0)
