"""The correction copy's list of what to fix (待修正事項): written by
master/feedback.py, read back for the correction mail (mail/reminders.py), so that
the mail says exactly what the file the unit opens says."""
from __future__ import annotations

from ..cells import header_name, norm_text, prose
from ..reading.workbook import SheetData

TODO_SHEET = "待修正事項"
TODO_HEADER_ROW = 3  # 0-based; the title and the introduction above it
TODO_COLUMNS = ("項次", "儲存格", "欄位", "填寫內容", "問題與修正方式", "應填內容")


def todo_rows(sheet: SheetData) -> list[dict[str, str]]:
    """The entries of a correction copy's 待修正事項 sheet, in order, each as
    {column name: text}; its columns found by their titles (a copy written before
    a column was added lacks it)."""
    names = {c: header_name(v) for c, v in enumerate(sheet.rows[TODO_HEADER_ROW])} \
        if len(sheet.rows) > TODO_HEADER_ROW else {}
    if TODO_COLUMNS[0] not in names.values():
        return []
    out = []
    for r in range(TODO_HEADER_ROW + 1, len(sheet.rows)):
        if norm_text(sheet.cell(r, 0)) == "":
            continue
        out.append({name: prose(sheet.cell(r, c)) for c, name in names.items() if name})
    return out
