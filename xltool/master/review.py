"""Carry the secretariat's 複評 from an existing master into the next merge."""
from __future__ import annotations

from pathlib import Path

from ..cells import a1, fmt_number, header_name, norm_text, to_number
from ..errors import WARNING, Issue
from ..quoting import quote
from ..reading.workbook import Rejected, read_workbook
from .layout import REVIEW_HEADER, SCORE_SHEET


def read_reviews(master: Path, plan=None) -> tuple[dict[str, float], list[Issue]]:
    """複評 by item 編號 from ``master``'s 評分 sheet, plus any problems found.

    With the plan, a 複評 outside 0 … the item's 配分 (typed past the sheet's
    validation, or written by another program) is an error and is not adopted."""
    master = Path(master)
    if not master.exists():
        return {}, []
    try:
        wb = read_workbook(master, only={SCORE_SHEET})
    except Rejected as exc:
        return {}, [Issue("review-unreadable", f"無法讀取既有總表中的複評：{exc.issue.message}"
                          "；本次彙整不含先前的複評，舊檔已另存備份。", WARNING, file=master.name)]
    sheet = wb.sheets.get(SCORE_SHEET)
    if sheet is None:
        return {}, []
    for r, row in enumerate(sheet.rows[:20]):
        names = [header_name(v) for v in row]
        if "編號" in names and REVIEW_HEADER in names:
            header_row, id_col, review_col = r, names.index("編號"), names.index(REVIEW_HEADER)
            break
    else:
        return {}, []
    reviews, issues = {}, []
    items = {i.id: i.points for i in plan.items} if plan is not None else {}
    for r in range(header_row + 1, len(sheet.rows)):
        item_id = norm_text(sheet.cell(r, id_col))
        value = sheet.cell(r, review_col)
        if not item_id or value is None or norm_text(value) == "":
            continue
        try:
            number = to_number(value)
        except ValueError:
            issues.append(Issue("type-error", f"既有總表的複評「{quote(norm_text(value))}」不是數字，未採計。",
                                WARNING, file=master.name, sheet=SCORE_SHEET,
                                cell=a1(r, review_col), field=REVIEW_HEADER, value=quote(norm_text(value))))
            continue
        points = items.get(item_id)
        if points is not None and not 0 <= number <= points:
            issues.append(Issue("review-out-of-range", f"項目「{item_id}」的複評 {fmt_number(number)} 超出 0 到配分 "
                                f"{fmt_number(points)} 之間，未採計；請修正總表「{SCORE_SHEET}」"
                                f"{a1(r, review_col)} 後重新彙整。", file=master.name, sheet=SCORE_SHEET,
                                cell=a1(r, review_col), field=REVIEW_HEADER,
                                value=fmt_number(number), expected=f"0～{fmt_number(points)}"))
            continue
        reviews[item_id] = number
    return reviews, issues
