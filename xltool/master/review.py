"""Carry the secretariat's 複評 and 複評說明 from an existing master into the next
merge, and say where a 複評 needs a 複評說明 that is not there."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cells import a1, fmt_number, header_name, norm_text, prose, to_number
from ..errors import WARNING, Issue
from ..quoting import quote
from ..reading.workbook import Rejected, SheetData, read_workbook
from .layout import MAX_CELL_TEXT, REVIEW_HEADER, SCORE_SHEET

NOTE_HEADER = "複評說明"  # the column beside 複評: why the 複評 differs from the 自評
MARGIN_FIELD = "複評說明門檻"  # the plan's 計畫 field: how far they may differ without a note


@dataclass
class Reviews:
    """What a master's 評分 holds for the next merge, by item 編號."""

    scores: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)


def read_reviews(master: Path, plan=None) -> tuple[dict[str, float], list[Issue]]:
    """複評 by item 編號 from ``master``'s 評分 sheet, plus any problems found."""
    found = read_review_sheet(master, plan)
    return found.scores, found.issues


def read_review_sheet(master: Path, plan=None) -> Reviews:
    """複評 and 複評說明 by item 編號 from ``master``'s 評分 sheet, found by their
    headers, plus any problems found.

    With the plan, a 複評 outside 0 … the item's 配分 (typed past the sheet's
    validation, or written by another program) is an error and is not adopted."""
    master = Path(master)
    if not master.exists():
        return Reviews()
    try:
        wb = read_workbook(master, only={SCORE_SHEET})
    except Rejected as exc:
        return Reviews(issues=[Issue("review-unreadable", f"無法讀取既有總表中的複評：{exc.issue.message}"
                                     "；本次彙整不含先前的複評，舊檔已另存備份。", WARNING, file=master.name)])
    sheet = wb.sheets.get(SCORE_SHEET)
    if sheet is None:
        return Reviews()
    for r, row in enumerate(sheet.rows[:20]):
        names = [header_name(v) for v in row]
        if "編號" in names and REVIEW_HEADER in names:
            header_row, id_col, review_col = r, names.index("編號"), names.index(REVIEW_HEADER)
            note_col = names.index(NOTE_HEADER) if NOTE_HEADER in names else None
            break
    else:
        return Reviews()
    found = Reviews()
    points = {i.id: i.points for i in plan.items} if plan is not None else {}
    for r in range(header_row + 1, len(sheet.rows)):
        item_id = norm_text(sheet.cell(r, id_col))
        if not item_id:
            continue
        if note_col is not None:
            note = prose(sheet.cell(r, note_col))[:MAX_CELL_TEXT]
            if note:
                found.notes[item_id] = note
        number = _review(master, sheet, r, review_col, item_id, points.get(item_id), found.issues)
        if number is not None:
            found.scores[item_id] = number
    return found


def _review(master: Path, sheet: SheetData, r: int, c: int, item_id: str, points: float | None,
            issues: list[Issue]) -> float | None:
    """The 複評 in row ``r``, when there is one and it can be adopted."""
    value: Any = sheet.cell(r, c)
    if value is None or norm_text(value) == "":
        return None
    try:
        number = to_number(value)
    except ValueError:
        issues.append(Issue("type-error", f"既有總表的複評「{quote(norm_text(value))}」不是數字，未採計。",
                            WARNING, file=master.name, sheet=SCORE_SHEET,
                            cell=a1(r, c), field=REVIEW_HEADER, value=quote(norm_text(value))))
        return None
    if points is not None and not 0 <= number <= points:
        issues.append(Issue("review-out-of-range", f"項目「{item_id}」的複評 {fmt_number(number)} 超出 0 到配分 "
                            f"{fmt_number(points)} 之間，未採計；請修正總表「{SCORE_SHEET}」"
                            f"{a1(r, c)} 後重新彙整。", file=master.name, sheet=SCORE_SHEET,
                            cell=a1(r, c), field=REVIEW_HEADER,
                            value=fmt_number(number), expected=f"0～{fmt_number(points)}"))
        return None
    return number


def missing_notes(plan, scored: Iterable[tuple[int, Any, float, float | None]],
                  notes: dict[str, str], file: str = "") -> list[Issue]:
    """A warning for each 複評 that differs from its 自評 by more than the plan's
    複評說明門檻 and has no 複評說明. ``scored`` is (row on 評分 counted from the
    first item, item, 自評, 複評) per item; the cell named is the note's on 評分."""
    from .sheets.scores import note_cell

    margin = plan.info.review_note_margin
    issues = []
    for n, item, self_score, review in scored:
        if review is None or notes.get(item.id) or abs(review - self_score) <= margin + 1e-9:
            continue
        gap = (f"相差 {fmt_number(abs(review - self_score))} 分，超過計畫檔「{MARGIN_FIELD}」的 "
               f"{fmt_number(margin)} 分" if margin else "不同")
        cell = note_cell(plan, n)
        issues.append(Issue("review-note-missing", f"項目「{item.id}」的複評 {fmt_number(review)} 與自評 "
                            f"{fmt_number(self_score)} {gap}，但「{NOTE_HEADER}」未填；請在總表「{SCORE_SHEET}」"
                            f"{cell} 寫明理由。", WARNING, file=file, sheet=SCORE_SHEET, cell=cell,
                            field=NOTE_HEADER, value=f"自評 {fmt_number(self_score)}，複評 {fmt_number(review)}",
                            expected="複評的理由"))
    return issues


def orphan_notes(plan, reviews: Reviews) -> list[Issue]:
    """複評說明 of items no longer in the plan (without a 複評, which merge reports)."""
    known = {i.id for i in plan.items}
    return [Issue("orphan-review", f"總表中編號「{item_id}」的複評說明對應的項目已不在計畫中，未保留：「"
                  f"{quote(note, 40)}」。", WARNING, sheet=SCORE_SHEET, field=NOTE_HEADER,
                  value=quote(note, 40))
            for item_id, note in reviews.notes.items() if item_id not in known and item_id not in reviews.scores]


def carry_notes(result, reviews: Reviews) -> list[Issue]:
    """Give the merge ``result`` the 複評說明 of the previous master; the warnings
    about notes that are missing, or whose item is gone."""
    known = {i.id for i in result.plan.items}
    result.review_notes = {k: v for k, v in reviews.notes.items() if k in known}
    scored = [(n, r.item, r.self_score, r.review) for n, r in enumerate(result.items)]
    return orphan_notes(result.plan, reviews) + missing_notes(result.plan, scored, result.review_notes)
