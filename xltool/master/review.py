"""Carry the secretariat's 複評 and 複評說明 from an existing master into the next
merge, and say where a 複評 needs a 複評說明 that is not there.

The review sheet and its columns are found by their headers: 評分, else the one
sheet whose header row holds 編號 and a 複評 column; 複評 by its name, else by
where the master puts it (right after 自評). Whatever cannot be read is said, as
an issue naming the file, the sheet and the cell, never dropped in silence: a
review that cannot be adopted is carried into the new master as typed (red, not
counted) until someone fixes it, exactly as typed (a number is never rounded, a
text never normalised); so is the review of an item the plan no longer has, in a
list of its own below the totals (see sheets/scores.py). A 複評 or 複評說明 typed
beside a 自評 that has changed since (a unit's corrected return) is kept as typed,
and said (see :func:`self_changes`)."""
from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..cells import a1, date_to_serial, fmt_number, header_name, norm_text, prose, to_number
from ..errors import ERROR, WARNING, Issue
from ..files import display_name
from ..quoting import quote
from ..reading.bounds import Formulas
from ..reading.workbook import SPREADSHEET_SUFFIXES, Rejected, SheetData, WorkbookData, read_workbook
from .layout import MAX_CELL_TEXT, REVIEW_HEADER, SCORE_SHEET
from .sheets.identity import IDENTITY_SHEET

NOTE_HEADER = "複評說明"  # the column beside 複評: why the 複評 differs from the 自評
MARGIN_FIELD = "複評說明門檻"  # the plan's 計畫 field: how far they may differ without a note
ID_HEADER, SELF_HEADER, ADOPTED_HEADER = "編號", "自評", "採計分數"
HEADER_ROWS = 20  # the header row is looked for in the first rows of a sheet
REMOVED = "項目已不在計畫中"  # Unusable.reason of a 複評 whose item the plan no longer has
# What Excel (評分 (2)), LibreOffice (評分_2), Google Sheets and openpyxl name a copy of
# 評分: read along with it, so that reviews typed into a copy are said, not ignored.
COPY_NAMES = frozenset([*(f"{SCORE_SHEET} ({n})" for n in range(2, 10)),
                        *(f"{SCORE_SHEET}({n})" for n in range(2, 10)),
                        *(f"{SCORE_SHEET}_{n}" for n in range(2, 10)),
                        f"{SCORE_SHEET} Copy", f"Copy of {SCORE_SHEET}", f"「{SCORE_SHEET}」的副本",
                        f"{SCORE_SHEET} 的副本"])
LISTED = 10  # differences of a copied 評分 quoted in its issue
SUBTOTALS = "構面小計"  # a label in 評分's 編號 column below the items (see sheets/scores.py)


@dataclass(frozen=True)
class _Cells:
    """What of the master read, beyond 評分's values, tells how a 複評 was typed."""

    formulas: Formulas = field(default_factory=dict)  # 評分's formula cells
    date1904: bool = False
    plan: tuple[str, str] = ("", "")  # (計畫名稱, 年度) the master says it was made for


@dataclass(frozen=True)
class Unusable:
    """A 複評 that cannot be adopted: kept as typed, with why, and where it was."""

    typed: str  # as messages show it: the text typed, or the number's exact decimal
    reason: str  # e.g. 超出 0 到配分 20.25 之間, or REMOVED
    cell: str  # in the master read
    expected: str  # what it should be: 0～20.25, or 數字 ("" for REMOVED)
    value: str | int | float  # the cell's own value, which the new master writes back

    @property
    def removed(self) -> bool:
        return self.reason == REMOVED

    @property
    def code(self) -> str:
        """The issue code that says it (see :func:`unusable_issues`, :func:`removed_issues`)."""
        return "orphan-review" if self.removed else "type-error" if self.expected == "數字" else \
            "review-out-of-range"


@dataclass
class Reviews:
    """What a master's 評分 holds for the next merge, by item 編號."""

    scores: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    unusable: dict[str, Unusable] = field(default_factory=dict)
    lost: list[Issue] = field(default_factory=list)  # its reviews could not be read at all
    # The 自評 評分 showed beside each 複評 or 複評說明, by item 編號: what it was typed
    # against (see :func:`self_changes`); none where that 自評 is not a number
    shown: dict[str, float] = field(default_factory=dict)
    read: bool = False  # a review sheet was found and read
    source: Path | None = None  # the file read


@dataclass(frozen=True)
class _Layout:
    """Where 評分's header row and columns are (0-based), and any header not as written."""

    header_row: int
    id_col: int
    review_col: int
    note_col: int | None
    retitled: tuple[tuple[int, str, str], ...] = ()  # (column, header seen, header meant)
    notes_lost: bool = False  # neither 複評說明 nor the layout without one
    self_col: int | None = None  # 自評's, where one column is so named


def read_reviews(master: Path, plan=None) -> tuple[dict[str, float], list[Issue]]:
    """複評 by item 編號 from ``master``'s 評分 sheet, plus any problems found."""
    found = read_review_sheet(master, plan, beside=False)
    return found.scores, found.lost + found.issues + unusable_issues(found, plan)


def read_review_sheet(master: Path, plan=None, beside: bool = True) -> Reviews:
    """複評 and 複評說明 by item 編號 from ``master``'s review sheet, found by their
    headers, plus any problems found.

    With the plan, a 複評 outside 0 … the item's 配分 (typed past the sheet's
    validation, or written by another program), or of an item the plan no longer
    has, is not adopted (see :class:`Unusable`). ``beside``: also say which newer
    copies of ``master`` (總表.ods) could not be read, and so were passed over
    (see :func:`newer_copy`)."""
    master = Path(master)
    if not master.exists():
        return Reviews()
    name = display_name(master)
    passed_over = _passed_over(master) if beside else []
    try:
        sheet, layout, why, copies, cells = _review_sheet(master, name)
    except Rejected as exc:
        return Reviews(source=master, issues=passed_over, lost=[Issue(
            "review-unreadable", f"無法讀取既有總表「{name}」中的複評：{exc.issue.message}"
            "本次彙整不含先前的複評與複評說明。", file=name, sheet=SCORE_SHEET)])
    if sheet is None or layout is None:
        return Reviews(source=master, issues=passed_over, lost=why)
    other = _other_plan(name, cells, plan)
    if other is not None:
        return Reviews(source=master, issues=passed_over, lost=[other])
    found = Reviews(read=True, source=master,
                    issues=passed_over + [i for i in why if i.code != "review-column-missing"],
                    lost=[i for i in why if i.code == "review-column-missing"])  # its notes
    points = {i.id: i.points for i in plan.items} if plan is not None else {}
    first: dict[str, int] = {}
    for r in range(layout.header_row + 1, len(sheet.rows)):
        item_id = _item_id(sheet, r, layout)
        if not item_id:
            found.lost += _without_id(name, sheet, r, layout)
            continue
        if item_id in first:
            found.issues.append(_duplicate(name, sheet, layout, item_id, first[item_id], r))
            continue
        first[item_id] = r
        note = prose(sheet.cell(r, layout.note_col))[:MAX_CELL_TEXT] if layout.note_col is not None else ""
        if note:
            found.notes[item_id] = note
        _shown(found, sheet, r, layout, item_id, note)
        if plan is not None and item_id not in points:
            _removed_review(found, sheet, r, layout.review_col, item_id)
        else:
            _review(found, _typed_as(sheet, r, layout.review_col, cells), item_id, points.get(item_id), name)
    found.lost += _copy_issues(name, sheet, layout, copies)
    return found


def _review_sheet(master: Path, name: str
                  ) -> tuple[SheetData | None, _Layout | None, list[Issue], list[SheetData], _Cells]:
    """The sheet the reviews are on and where: 評分, else the one sheet whose header
    row holds 編號 and 複評. With the issues to show: what was found where it was
    not expected, or, without a sheet, why none could be read; and, when 評分 is the
    one, the copies of it (評分 (2)) beside it; and how its cells were typed. Raises Rejected."""
    book = read_workbook(master, only={SCORE_SHEET, *COPY_NAMES, IDENTITY_SHEET})
    sheets, cells = book.sheets, _cells_of(book, SCORE_SHEET)
    sheet = sheets.get(SCORE_SHEET)
    layout = _layout(sheet) if sheet is not None else None
    if sheet is not None and layout is not None:
        copies = [s for n, s in sheets.items() if n not in (SCORE_SHEET, IDENTITY_SHEET)]
        return sheet, layout, _retitled(name, sheet.name, layout), copies, cells
    try:
        heads = read_workbook(master, max_rows=HEADER_ROWS).sheets  # every sheet's first rows
    except Rejected:  # too large to look through (a 明細 of many rows): say what is missing
        return None, None, [_not_found(name, sheet, [], searched=False)], [], cells
    others = [n for n, s in heads.items() if n not in (SCORE_SHEET, IDENTITY_SHEET) and _layout(s) is not None]
    if len(others) != 1:
        return None, None, [_not_found(name, sheet, others)], [], cells
    book = read_workbook(master, only={others[0], IDENTITY_SHEET})
    other, cells = book.sheets.get(others[0]), _cells_of(book, others[0])
    layout = _layout(other) if other is not None else None
    if other is None or layout is None:  # changed since: as good as none
        return None, None, [_not_found(name, sheet, [])], [], cells
    where = (f"「{SCORE_SHEET}」工作表中找不到含「{ID_HEADER}」與「{REVIEW_HEADER}」的標題列"
             if sheet is not None else f"沒有「{SCORE_SHEET}」工作表")
    renamed = Issue("sheet-renamed", f"既有總表「{name}」{where}，已從標題列有「{ID_HEADER}」與「{REVIEW_HEADER}」的"
                    f"工作表「{other.name}」讀取複評；新總表的工作表名稱恢復為「{SCORE_SHEET}」，"
                    "請勿更改工作表名稱。", WARNING, file=name, sheet=other.name,
                    cell=a1(layout.header_row, layout.review_col), value=other.name, expected=SCORE_SHEET)
    return other, layout, [renamed, *_retitled(name, other.name, layout)], [], cells


def _cells_of(book: WorkbookData, sheet: str) -> _Cells:
    """The formulas of ``sheet``, the date system, and the plan the master names."""
    facts = {}
    identity = book.sheets.get(IDENTITY_SHEET)
    for row in identity.rows if identity is not None else []:
        if len(row) >= 3 and norm_text(row[0]) == "計畫":
            facts[norm_text(row[1])] = norm_text(row[2])
    return _Cells(book.formulas.get(sheet, {}), book.date1904, (facts.get("計畫名稱", ""), facts.get("年度", "")))


def _other_plan(name: str, cells: _Cells, plan) -> Issue | None:
    """An error where the master says it was made for another year's plan: its 複評
    are not this plan's, even where the 編號 are the same (A01 is in every year's)."""
    title, year = cells.plan
    if plan is None or not year or year == str(plan.info.year):
        return None
    theirs, ours = f"{title}（{year} 年度）", f"{plan.info.name}（{plan.info.year} 年度）"
    return Issue("review-other-plan", f"既有總表「{name}」是「{theirs}」的總表，不是本計畫「{ours}」的；其中的複評與"
                 "複評說明不屬於本計畫，未採用，本次彙整不含先前的複評。若輸出檔名有誤，請改用其他檔名重新彙整。",
                 file=name, sheet=IDENTITY_SHEET, value=theirs, expected=ours)


def _typed(sheet: SheetData, layout: _Layout) -> dict[str, tuple[str, str, int]]:
    """What ``sheet`` holds by item 編號 (its first row): (複評 as typed, 複評說明, row)."""
    out: dict[str, tuple[str, str, int]] = {}
    for r in range(layout.header_row + 1, len(sheet.rows)):
        item_id = norm_text(sheet.cell(r, layout.id_col))
        if item_id and item_id not in out:
            note = prose(sheet.cell(r, layout.note_col)) if layout.note_col is not None else ""
            out[item_id] = (exact_text(sheet.cell(r, layout.review_col)), note, r)
    return out


def _copy_differences(ours: dict[str, tuple[str, str, int]], copy: SheetData, theirs: _Layout
                      ) -> list[tuple[str, str, int]]:
    """The items whose 複評 or 複評說明 in ``copy`` (a copy of 評分) is not what 評分
    has (``ours``, see :func:`_typed`): (編號, what the copy says, row in the copy)."""
    differences = []
    for item_id, (review, note, r) in _typed(copy, theirs).items():
        my_review, my_note, _ = ours.get(item_id, ("", "", 0))
        said = []
        if review.strip() and review != my_review:
            was = f"（「{SCORE_SHEET}」為「{quote(my_review, 20)}」）" if my_review.strip() else ""
            said.append(f"{REVIEW_HEADER}「{quote(review, 20)}」{was}")
        if note and note != my_note:
            said.append(f"{NOTE_HEADER}「{quote(note, 30)}」")
        if said:
            differences.append((item_id, "、".join(said), r))
    return differences


def _copy_issues(name: str, sheet: SheetData, layout: _Layout, copies: list[SheetData]) -> list[Issue]:
    """An error for each copy of 評分 (評分 (2)) holding reviews that 評分 does not:
    they are not adopted, and the new master has no such sheet, so each is quoted.
    A copy whose header row is not 評分's cannot be compared, and is not one."""
    ours = _typed(sheet, layout) if copies else {}
    issues = []
    for copy in copies:
        theirs = _layout(copy)
        found = _copy_differences(ours, copy, theirs) if theirs is not None else []
        if theirs is not None and found:
            issues.append(_copy_issue(name, copy, a1(found[0][2], theirs.review_col), found))
    return issues


def _copy_issue(name: str, copy: SheetData, cell: str, found: list[tuple[str, str, int]]) -> Issue:
    """The error for one copy of 評分, quoting (the first :data:`LISTED` of) ``found``."""
    listed = "；".join(f"{item_id} {said}" for item_id, said, _ in found[:LISTED])
    more = f"等 {len(found)} 項" if len(found) > LISTED else f"共 {len(found)} 項"
    return Issue("review-sheet-copy", f"既有總表「{name}」另有工作表「{copy.name}」（「{SCORE_SHEET}」的複本），"
                 f"其中的複評或複評說明與「{SCORE_SHEET}」不同：{listed}（{more}）。複評只從「{SCORE_SHEET}」讀取，"
                 f"這些內容未採用，新總表也不含「{copy.name}」；要採用的請填入「{SCORE_SHEET}」後重新彙整。",
                 ERROR, file=name, sheet=copy.name, cell=cell, field=REVIEW_HEADER, value=copy.name,
                 expected=SCORE_SHEET)


def _header(sheet: SheetData) -> tuple[int, list[str]] | None:
    """The first row (of the first :data:`HEADER_ROWS`) with an 編號 header, and its names."""
    for r, row in enumerate(sheet.rows[:HEADER_ROWS]):
        names = [header_name(v) for v in row]
        if ID_HEADER in names:
            return r, names
    return None


def _layout(sheet: SheetData) -> _Layout | None:
    """Where the reviews are on ``sheet``; None where it has no 編號 and 複評 header."""
    head = _header(sheet)
    if head is None:
        return None
    r, names = head
    review = _review_column(names)
    if review is None:
        return None
    retitled = [] if names[review] == REVIEW_HEADER else [(review, names[review], REVIEW_HEADER)]
    note = _note_column(names, review)
    after = names[review + 1] if review + 1 < len(names) else ""
    if note is not None and names[note] != NOTE_HEADER:
        retitled.append((note, names[note], NOTE_HEADER))
    return _Layout(r, names.index(ID_HEADER), review, note, tuple(retitled),
                   notes_lost=note is None and after != ADOPTED_HEADER,
                   self_col=names.index(SELF_HEADER) if names.count(SELF_HEADER) == 1 else None)


def _shown(found: Reviews, sheet: SheetData, r: int, layout: _Layout, item_id: str, note: str) -> None:
    """Remember the 自評 row ``r`` shows beside its 複評 or 複評說明 (``note``), when it
    has either and that 自評 is a number (a cached result, or its text in a copy)."""
    if layout.self_col is None or (not note and norm_text(sheet.cell(r, layout.review_col)) == ""):
        return
    value = sheet.cell(r, layout.self_col)
    if isinstance(value, (date, time, timedelta)):
        return
    try:
        number = float(to_number(value))
    except (ValueError, OverflowError):
        return  # none shown (a formula whose result was not saved) or not a number: nothing to compare
    if math.isfinite(number):
        found.shown[item_id] = number


def _review_column(names: list[str]) -> int | None:
    """複評's column: the one so named; else the one header after 自評 naming 複評
    (複評分數, 秘書室複評); else the column right after 自評 where 複評說明 or
    採計分數 follows it, as the master has it. None where that is not one column."""
    exact = [c for c, n in enumerate(names) if n == REVIEW_HEADER]
    if exact:
        return exact[0] if len(exact) == 1 else None
    start = names.index(SELF_HEADER) + 1 if SELF_HEADER in names else 0
    like = [c for c in range(start, len(names)) if REVIEW_HEADER in names[c] and "說明" not in names[c]]
    if len(like) == 1:
        return like[0]
    if SELF_HEADER in names and start + 1 < len(names) and not like and \
            names[start + 1] in (NOTE_HEADER, ADOPTED_HEADER):
        return start
    return None


def _note_column(names: list[str], review: int) -> int | None:
    """複評說明's column: the one so named, else the one right after 複評 when its
    header speaks of 說明, or when 採計分數 follows it (as the master has it)."""
    exact = [c for c, n in enumerate(names) if n == NOTE_HEADER]
    if len(exact) == 1:
        return exact[0]
    c = review + 1
    if exact or c >= len(names) or names[c] in (ADOPTED_HEADER, SELF_HEADER, ID_HEADER):
        return None
    if "說明" in names[c] or (c + 1 < len(names) and names[c + 1] == ADOPTED_HEADER):
        return c
    return None


def _retitled(name: str, sheet: str, layout: _Layout) -> list[Issue]:
    """What was read from a column whose header was changed, and notes that were not."""
    issues = [Issue("review-header-changed", f"既有總表「{name}」工作表「{sheet}」{a1(layout.header_row, c)} "
                    f"的標題「{quote(seen)}」已被更改，已依位置當作「{meant}」讀取；新總表的標題恢復為"
                    f"「{meant}」，請勿更改標題列。", file=name, sheet=sheet, cell=a1(layout.header_row, c),
                    field=meant, value=quote(seen), expected=meant)
              for c, seen, meant in layout.retitled]
    if layout.notes_lost:
        cell = a1(layout.header_row, layout.review_col + 1)
        issues.append(Issue("review-column-missing", f"既有總表「{name}」工作表「{sheet}」的標題列（第 "
                            f"{layout.header_row + 1} 列）找不到「{NOTE_HEADER}」欄（應在 {cell}），其中的複評說明"
                            "未能讀取，新總表不含先前的複評說明。", file=name, sheet=sheet, cell=cell,
                            field=NOTE_HEADER, expected=NOTE_HEADER))
    return issues


def _not_found(name: str, sheet: SheetData | None, others: list[str], searched: bool = True) -> Issue:
    """Why no review sheet could be read (``others``: sheets that each looked like one;
    not ``searched``: the other sheets were too large to look through)."""
    lost = ("，其中的複評與複評說明未能讀取，本次彙整不含先前的複評。" if searched else
            "（其他工作表過大，無法逐一檢查），其中的複評與複評說明未能讀取，本次彙整不含先前的複評。")
    if len(others) > 1:
        listed = "、".join(f"「{o}」" for o in others)
        return Issue("review-sheet-missing", f"既有總表「{name}」沒有「{SCORE_SHEET}」工作表，而 {listed} 的"
                     f"標題列都有「{ID_HEADER}」與「{REVIEW_HEADER}」，無法判斷是哪一個{lost}",
                     file=name, sheet=others[0], value="、".join(others), expected=SCORE_SHEET)
    if sheet is None:
        return Issue("review-sheet-missing", f"既有總表「{name}」沒有「{SCORE_SHEET}」工作表，也沒有標題列含"
                     f"「{ID_HEADER}」與「{REVIEW_HEADER}」的工作表{lost}", file=name, sheet=SCORE_SHEET,
                     expected=SCORE_SHEET)
    head = _header(sheet)
    if head is None:
        return Issue("review-column-missing", f"既有總表「{name}」工作表「{SCORE_SHEET}」的前 {HEADER_ROWS} 列"
                     f"找不到含「{ID_HEADER}」的標題列{lost}", file=name, sheet=SCORE_SHEET, cell="A1",
                     field=ID_HEADER, expected=ID_HEADER)
    r, names = head
    cell = a1(r, names.index(SELF_HEADER) + 1 if SELF_HEADER in names else names.index(ID_HEADER))
    return Issue("review-column-missing", f"既有總表「{name}」工作表「{SCORE_SHEET}」的標題列（第 {r + 1} 列）"
                 f"找不到（或不只一個）「{REVIEW_HEADER}」欄（應在 {cell}）{lost}", file=name,
                 sheet=SCORE_SHEET, cell=cell, field=REVIEW_HEADER, expected=REVIEW_HEADER)


def _duplicate(name: str, sheet: SheetData, layout: _Layout, item_id: str, first: int, r: int) -> Issue:
    """A second row of one item: only the first is read."""
    def said(row: int) -> str:
        review = norm_text(sheet.cell(row, layout.review_col))
        note = prose(sheet.cell(row, layout.note_col)) if layout.note_col is not None else ""
        return ((f"複評「{quote(review)}」" if review else "無複評")
                + (f"、複評說明「{quote(note, 30)}」" if note else ""))

    kept, dropped = a1(first, layout.id_col), a1(r, layout.id_col)
    same = said(first) == said(r)
    return Issue("review-duplicate-row", f"既有總表「{name}」工作表「{sheet.name}」中編號「{item_id}」出現兩次"
                 f"（{kept} 與 {dropped}）；只採用第一列（{said(first)}），"
                 + ("兩列內容相同。" if same else f"第二列的{said(r)}未採用，請確認。"), file=name,
                 sheet=sheet.name, cell=dropped, field=ID_HEADER, value=item_id)


def exact_text(value: Any) -> str:
    """A cell's value as text that loses nothing: text as it is, a number's exact
    decimal (20.2500001, never 20.25; -0.0000001, never -0)."""
    if isinstance(value, str):
        return value
    if isinstance(value, float) and not value.is_integer():
        return format(Decimal(repr(value)), "f")
    return norm_text(value)


def _kept(value: Any) -> str | int | float:
    """What the new master writes back for a 複評 it cannot adopt: the text or the
    number itself; anything else (a date) as its text."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return value
    return norm_text(value)


@dataclass(frozen=True)
class _Typed:
    """One 複評 cell as read: its value, and what else says how it was typed."""

    value: Any
    cell: str
    formula: str = ""  # the formula it holds, as written ("" for none)
    date1904: bool = False


def _typed_as(sheet: SheetData, r: int, c: int, cells: _Cells) -> _Typed:
    return _Typed(sheet.cell(r, c), a1(r, c), cells.formulas.get((r, c), ""), cells.date1904)


def _review(found: Reviews, typed: _Typed, item_id: str, points: float | None, name: str = "") -> None:
    """A 複評: adopted, or kept as typed with why it cannot be. Adopted from what is
    not a plain number (a formula's result, a number typed as text) only with a note
    saying so, as the new master holds the number."""
    value: Any = typed.value
    if typed.formula:
        _formula_review(found, typed, item_id, points, name)
        return
    if value is None or norm_text(value) == "":
        return
    if isinstance(value, (date, time, timedelta)):
        serial = _serial(value, typed.date1904)
        found.unusable[item_id] = Unusable(exact_text(serial), f"是日期或時間格式（顯示為 {norm_text(value)}，"
                                           f"其數值為 {exact_text(serial)}）", typed.cell, "數字", serial)
        return
    try:
        number = to_number(value)
    except ValueError:
        found.unusable[item_id] = Unusable(exact_text(value), "不是數字", typed.cell, "數字", _kept(value))
        return
    if points is not None and not 0 <= number <= points:
        found.unusable[item_id] = Unusable(exact_text(value), f"超出 0 到配分 {fmt_number(points)} 之間",
                                           typed.cell, f"0～{fmt_number(points)}", _kept(value))
        return
    found.scores[item_id] = number
    if isinstance(value, str):
        found.issues.append(_adopted_from(name, typed, item_id, number, f"是文字「{quote(value)}」"))


def _formula_review(found: Reviews, typed: _Typed, item_id: str, points: float | None, name: str) -> None:
    """A 複評 typed as a formula: its result adopted when it is a number within range
    (said: the new master holds the number); else the formula kept as its text."""
    value = typed.value
    result = value if isinstance(value, (int, float)) and not isinstance(value, bool) else None
    if result is not None and (points is None or 0 <= result <= points):
        found.scores[item_id] = result
        found.issues.append(_adopted_from(name, typed, item_id, result, f"是公式「{quote(typed.formula)}」"))
        return
    shown = exact_text(value) if value is not None and norm_text(value) != "" else ""
    limit = f"0 到配分 {fmt_number(points)} 之間的數字" if points is not None else "數字"
    why = f"是公式，其結果「{quote(shown)}」不是 {limit}" if shown else "是公式，檔案中沒有它的計算結果"
    found.unusable[item_id] = Unusable(typed.formula, why, typed.cell, "數字", typed.formula)


def _adopted_from(name: str, typed: _Typed, item_id: str, number: float, what: str) -> Issue:
    return Issue("review-converted", f"既有總表「{name}」{typed.cell} 項目「{item_id}」的複評{what}，已當作數字 "
                 f"{exact_text(number)} 採計；新總表的複評欄寫為數字 {exact_text(number)}，請確認。", file=name,
                 sheet=SCORE_SHEET, cell=typed.cell, field=REVIEW_HEADER, value=quote(typed.formula or
                                                                                    exact_text(typed.value)),
                 expected=exact_text(number))


def _serial(value: date | time | timedelta, date1904: bool) -> float | int:
    """The number a date-formatted cell holds, in its workbook's date system."""
    if isinstance(value, timedelta):
        days = value.total_seconds() / 86400
    elif isinstance(value, time):
        days = (value.hour * 3600 + value.minute * 60 + value.second + value.microsecond / 1e6) / 86400
    else:
        days = date_to_serial(value, "1904" if date1904 else "1900")
        if isinstance(value, datetime) and value.microsecond:
            days += value.microsecond / 1e6 / 86400
    return int(days) if float(days).is_integer() else days


def _item_id(sheet: SheetData, r: int, layout: _Layout) -> str:
    """Row ``r``'s 編號, none for the labels 評分 writes in that column below its items."""
    from .sheets.scores import REMOVED_TITLE

    item_id = norm_text(sheet.cell(r, layout.id_col))
    return "" if item_id in (SUBTOTALS, REMOVED_TITLE) else item_id


def _without_id(name: str, sheet: SheetData, r: int, layout: _Layout) -> list[Issue]:
    """An error for a 複評 or 複評說明 in a row without 編號 (an inserted row, a total's
    row): it belongs to no item, so it is not adopted, and the new master lacks it."""
    review = exact_text(sheet.cell(r, layout.review_col))
    note = prose(sheet.cell(r, layout.note_col)) if layout.note_col is not None else ""
    if not review.strip() and not note:
        return []
    said = "、".join([*([f"複評「{quote(review)}」"] if review.strip() else []),
                     *([f"複評說明「{quote(note, 40)}」"] if note else [])])
    cell = a1(r, layout.review_col if review.strip() else layout.note_col or layout.review_col)
    return [Issue("review-without-id", f"既有總表「{name}」工作表「{sheet.name}」第 {r + 1} 列有{said}，但該列沒有"
                  f"「{ID_HEADER}」，無法對應到項目，未採用，新總表不含這些內容；請填入該項目那一列後重新彙整。",
                  file=name, sheet=sheet.name, cell=cell, field=REVIEW_HEADER if review.strip() else NOTE_HEADER,
                  value=quote(review) if review.strip() else quote(note, 40))]


def _removed_review(found: Reviews, sheet: SheetData, r: int, c: int, item_id: str) -> None:
    """The 複評 in row ``r`` of an item the plan no longer has: never adopted, kept as typed."""
    value: Any = sheet.cell(r, c)
    if value is not None and norm_text(value) != "":
        found.unusable[item_id] = Unusable(exact_text(value), REMOVED, a1(r, c), "", _kept(value))


def unusable_issues(reviews: Reviews, plan=None, carried_to: str = "") -> list[Issue]:
    """One issue per 複評 that cannot be adopted, and per item the plan no longer has
    that was reviewed (:func:`removed_issues`). ``carried_to``: the new master's name,
    where the value is kept as typed (its cell there named); else the cell read."""
    from .sheets.scores import review_cell

    order = {i.id: n for n, i in enumerate(plan.items)} if plan is not None else {}
    name = display_name(reviews.source) if reviews.source else ""
    issues = []
    for item_id, bad in reviews.unusable.items():
        if bad.removed or (carried_to and item_id not in order):
            continue  # the item is gone: see removed_issues
        cell = review_cell(plan, order[item_id]) if carried_to else bad.cell
        where = f"總表「{SCORE_SHEET}」{cell}"
        kept = "已照原樣保留在新總表並以紅色標示，" if carried_to else ""
        text = (f"項目「{item_id}」的複評「{quote(bad.typed)}」{bad.reason}，未採計（以自評計）；{kept}"
                f"請修正{where} 後重新彙整。")
        # Not a number is a warning here (the item is scored by its 自評); its code says
        # "error" wherever a unit's cell holds one.
        number = bad.expected == "數字"
        issues.append(Issue("type-error" if number else "review-out-of-range", text, WARNING if number else "",
                            file=carried_to or name, sheet=SCORE_SHEET, cell=cell, field=REVIEW_HEADER,
                            value=quote(bad.typed), expected=bad.expected))
    return issues + (removed_issues(plan, reviews, carried_to) if plan is not None else [])


def with_backup(issues: list[Issue], backup: Path | None, written: bool = True) -> list[Issue]:
    """The issues about reviews that could not be read, saying where the old master is."""
    if not written:
        tail = "未寫出新總表，原總表未變更。"
    elif backup is not None:
        tail = f"原總表已另存為「{display_name(backup)}」，先前的複評仍在其中，可從該檔找回。"
    else:
        tail = ""
    return [dataclasses.replace(i, message=i.message + tail) for i in issues]


def newer_copy(master: Path) -> Path | None:
    """A file beside ``master`` of the same name in another spreadsheet format (總表.ods
    beside 總表.xlsx) saved after it: the copy a reviewer saved, whose reviews are
    the ones to keep. The newest such whose reviews can be read, or None: one that
    cannot be read does not hide the master's (read_review_sheet says it was passed
    over). Without a master there is nothing else to read: the newest, read or not."""
    master = Path(master)
    copies = newer_copies(master)
    if not master.exists():
        return copies[0] if copies else None
    return next((copy for copy in copies if _unreadable(copy) is None), None)


def newer_copies(master: Path) -> list[Path]:
    """The files beside ``master`` of its name in another spreadsheet format saved after it, newest first."""
    since = master.stat().st_mtime if master.exists() else float("-inf")
    copies = [p for p in (master.with_suffix(s) for s in sorted(SPREADSHEET_SUFFIXES - {master.suffix.lower()}))
              if p.is_file() and p.stat().st_mtime > since]
    return sorted(copies, key=lambda p: p.stat().st_mtime, reverse=True)


def _unreadable(path: Path) -> str | None:
    """Why no reviews can be read from ``path``, or None when they can."""
    stat = path.stat()
    return _unreadable_as_of(path, stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=8)  # newer_copy, then read_review_sheet, ask of the same file: read it once
def _unreadable_as_of(path: Path, _mtime_ns: int, _size: int) -> str | None:
    try:
        sheet, layout, _, _, _ = _review_sheet(path, display_name(path))
    except Rejected as exc:
        return exc.issue.message
    if sheet is None or layout is None:
        return f"其中找不到標題列含「{ID_HEADER}」與「{REVIEW_HEADER}」的「{SCORE_SHEET}」工作表。"
    return None


def _passed_over(used: Path) -> list[Issue]:
    """A warning for each newer copy of ``used`` that :func:`newer_copy` passed over,
    as its reviews could not be read: those of ``used`` are kept instead."""
    issues = []
    for copy in newer_copies(used):
        why = _unreadable(copy)
        if why is None:
            break  # a readable newer copy: the one newer_copy chose, not this file
        copy_name, used_name = display_name(copy), display_name(used)
        issues.append(Issue("review-copy-unreadable", f"「{copy_name}」與總表同名、較晚存檔（{used_name} 之後），"
                            f"但無法從中讀取複評：{why}已改從「{used_name}」讀取複評與複評說明；「{copy_name}」未變更，"
                            f"若其中有較新的複評，請修復該檔（或在「{used_name}」重新填寫）後重新彙整。", WARNING,
                            file=copy_name, sheet=SCORE_SHEET, value=copy_name, expected=used_name))
    return issues


def other_copy_issue(copy: Path, master: Path) -> Issue:
    what = f"較晚存檔（{display_name(master)} 之後）" if Path(master).exists() else f"在（{display_name(master)} 不在）"
    return Issue("review-other-file", f"「{display_name(copy)}」與總表同名、{what}，複評與複評說明已從這個檔案"
                 f"讀取；新總表仍寫為「{display_name(master)}」，往後請在「{display_name(master)}」填寫並存成 .xlsx。",
                 file=display_name(copy), sheet=SCORE_SHEET)


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


def removed_items(plan, unusable: dict[str, Unusable], notes: dict[str, str]) -> list[str]:
    """The 編號 of the items the plan no longer has that a 複評 or 複評說明 was written
    for, in the order 評分 lists them below its totals."""
    known = {i.id for i in plan.items}
    return sorted({k for k in unusable if k not in known} | {k for k in notes if k not in known})


def removed_issues(plan, reviews: Reviews, carried_to: str = "") -> list[Issue]:
    """One warning per item no longer in the plan whose 複評 or 複評說明 was read, quoting
    them; ``carried_to``: the new master's name, where they are kept (its cell named)."""
    from .sheets.scores import removed_note_cell, removed_review_cell

    name = display_name(reviews.source) if reviews.source else ""
    issues = []
    for k, item_id in enumerate(removed_items(plan, reviews.unusable, reviews.notes)):
        bad, note = reviews.unusable.get(item_id), reviews.notes.get(item_id, "")
        said = "、".join([*([f"複評「{quote(bad.typed)}」"] if bad else []),
                         *([f"複評說明「{quote(note, 40)}」"] if note else [])])
        if carried_to:
            cell = removed_review_cell(plan, k) if bad else removed_note_cell(plan, k)
            tail = (f"已照原樣移到新總表「{SCORE_SHEET}」{cell}（總分下方的「已不在計畫中的項目」），"
                    "確認不需要後可清除。")
        else:
            cell, tail = bad.cell if bad else "", "請確認。"
        issues.append(Issue("orphan-review", f"既有總表「{name}」中編號「{item_id}」的項目已不在計畫中，其{said}"
                            f"未採計；{tail}", WARNING, file=carried_to or name, sheet=SCORE_SHEET, cell=cell,
                            field=REVIEW_HEADER if bad else NOTE_HEADER,
                            value=quote(bad.typed) if bad else quote(note, 40)))
    return issues


def carry_notes(result, reviews: Reviews, master: str = "") -> list[Issue]:
    """Give the merge ``result`` the 複評說明 of the previous master, and the 複評 that
    cannot be adopted (kept as typed, see :func:`unusable_reviews`), those of items
    the plan no longer has included (評分 lists them below its totals); the warnings
    about notes that are missing, in ``master`` (the new master's name; :func:`unusable_issues`
    says those whose item is gone)."""
    result.review_notes = dict(reviews.notes)
    result.unusable_reviews = dict(reviews.unusable)
    result.self_changes = self_changes(result, reviews)
    scored = [(n, r.item, r.self_score, r.review) for n, r in enumerate(result.items)]
    return self_changed_issues(result, reviews, master) + missing_notes(result.plan, scored,
                                                                         result.review_notes, master)


SAME_SELF = 1e-6  # a 自評 read back as 23.250000000000004 (or as the text 23.25) is 23.25


def self_changes(result, reviews: Reviews) -> dict[str, tuple[float, float]]:
    """The items whose 複評 or 複評說明 was typed beside a 自評 other than this merge's
    (a unit's corrected return since): 編號 → (the 自評 then, the 自評 now). The 複評
    stays as typed; 評分 marks the 自評 and the issue says so (:func:`self_changed_issues`)."""
    changes = {}
    for r in result.items:
        was = reviews.shown.get(r.item.id)
        if was is not None and abs(was - r.self_score) > SAME_SELF:
            changes[r.item.id] = (was, r.self_score)
    return changes


def _typed_review(reviews: Reviews, item_id: str) -> str:
    """The 複評 of ``item_id`` as the previous master had it ("" for none)."""
    bad = reviews.unusable.get(item_id)
    if bad is not None:
        return bad.typed
    return exact_text(reviews.scores[item_id]) if item_id in reviews.scores else ""


def reviewed_what(reviews: Reviews, item_id: str, typed: bool = True) -> str:
    """複評 40 與複評說明, as much of them as ``item_id`` has (not ``typed``: 複評與複評說明)."""
    review = _typed_review(reviews, item_id)
    said = [*([f"{REVIEW_HEADER} {quote(review, 20)}" if typed else REVIEW_HEADER] if review else []),
            *([NOTE_HEADER] if reviews.notes.get(item_id) else [])]
    return (" 與" if typed and review else "與").join(said)


def self_changed_issues(result, reviews: Reviews, master: str = "") -> list[Issue]:
    """A warning for each item whose 自評 changed under its 複評 or 複評說明 (see
    :func:`self_changes`), naming the cell of the new master to look at again."""
    from .sheets.scores import note_cell, review_cell

    order = {r.item.id: n for n, r in enumerate(result.items)}
    name = display_name(reviews.source) if reviews.source else ""
    issues = []
    for item_id, (was, now) in result.self_changes.items():
        typed, what = _typed_review(reviews, item_id), reviewed_what(reviews, item_id)
        short = reviewed_what(reviews, item_id, typed=False)
        n = order[item_id]
        cell = review_cell(result.plan, n) if typed else note_cell(result.plan, n)
        kept = f"複評已照原樣保留（仍為 {quote(typed, 20)}，未隨自評調整）" if typed else "複評說明已照原樣保留"
        issues.append(Issue("review-self-changed", f"項目「{item_id}」的自評已由 {fmt_number(was)} 變為 "
                            f"{fmt_number(now)}（主辦單位的回傳已更新），既有總表「{name}」中的{what}是在自評為 "
                            f"{fmt_number(was)} 時填寫的；{kept}。請確認總表「{SCORE_SHEET}」{cell} 的{short}"
                            "是否仍適用（自評未再變動時，下次彙整不再提醒）。", WARNING, file=master,
                            sheet=SCORE_SHEET, cell=cell, field=SELF_HEADER,
                            value=f"自評 {fmt_number(was)} → {fmt_number(now)}", expected="確認複評"))
    return issues


def unusable_reviews(result) -> dict[str, Unusable]:
    """The 複評 of the previous master that could not be adopted, by item 編號: 評分
    shows them as typed (red, not counted), so that they are fixed, not lost."""
    return result.unusable_reviews
