"""Carry the secretariat's 複評 and 複評說明 from an existing master into the next
merge, and say where a 複評 needs a 複評說明 that is not there.

The review sheet and its columns are found by their headers: 評分, else the one
sheet whose header row holds 編號 and a 複評 column; 複評 by its name, else by
where the master puts it (right after 自評). Whatever cannot be read is said, as
an issue naming the file, the sheet and the cell, never dropped in silence: a
review that cannot be adopted is carried into the new master as typed (red, not
counted) until someone fixes it."""
from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..cells import a1, fmt_number, header_name, norm_text, prose, to_number
from ..errors import WARNING, Issue
from ..files import display_name
from ..quoting import quote
from ..reading.workbook import SPREADSHEET_SUFFIXES, Rejected, SheetData, read_workbook
from .layout import MAX_CELL_TEXT, REVIEW_HEADER, SCORE_SHEET

NOTE_HEADER = "複評說明"  # the column beside 複評: why the 複評 differs from the 自評
MARGIN_FIELD = "複評說明門檻"  # the plan's 計畫 field: how far they may differ without a note
ID_HEADER, SELF_HEADER, ADOPTED_HEADER = "編號", "自評", "採計分數"
HEADER_ROWS = 20  # the header row is looked for in the first rows of a sheet


@dataclass(frozen=True)
class Unusable:
    """A 複評 that cannot be adopted: kept as typed, with why, and where it was."""

    typed: str
    reason: str  # e.g. 超出 0 到配分 20.25 之間
    cell: str  # in the master read
    expected: str  # what it should be: 0～20.25, or 數字


@dataclass
class Reviews:
    """What a master's 評分 holds for the next merge, by item 編號."""

    scores: dict[str, float] = field(default_factory=dict)
    notes: dict[str, str] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    unusable: dict[str, Unusable] = field(default_factory=dict)
    lost: list[Issue] = field(default_factory=list)  # its reviews could not be read at all
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


def read_reviews(master: Path, plan=None) -> tuple[dict[str, float], list[Issue]]:
    """複評 by item 編號 from ``master``'s 評分 sheet, plus any problems found."""
    found = read_review_sheet(master, plan)
    return found.scores, found.lost + found.issues + unusable_issues(found, plan)


def read_review_sheet(master: Path, plan=None) -> Reviews:
    """複評 and 複評說明 by item 編號 from ``master``'s review sheet, found by their
    headers, plus any problems found.

    With the plan, a 複評 outside 0 … the item's 配分 (typed past the sheet's
    validation, or written by another program) is not adopted (see :class:`Unusable`)."""
    master = Path(master)
    if not master.exists():
        return Reviews()
    name = display_name(master)
    try:
        sheet, layout, why = _review_sheet(master, name)
    except Rejected as exc:
        return Reviews(source=master, lost=[Issue(
            "review-unreadable", f"無法讀取既有總表「{name}」中的複評：{exc.issue.message}"
            "本次彙整不含先前的複評與複評說明。", file=name, sheet=SCORE_SHEET)])
    if sheet is None or layout is None:
        return Reviews(source=master, lost=why)
    found = Reviews(read=True, source=master, issues=[i for i in why if i.code != "review-column-missing"],
                    lost=[i for i in why if i.code == "review-column-missing"])  # its notes
    points = {i.id: i.points for i in plan.items} if plan is not None else {}
    first: dict[str, int] = {}
    for r in range(layout.header_row + 1, len(sheet.rows)):
        item_id = norm_text(sheet.cell(r, layout.id_col))
        if not item_id:
            continue
        if item_id in first:
            found.issues.append(_duplicate(name, sheet, layout, item_id, first[item_id], r))
            continue
        first[item_id] = r
        if layout.note_col is not None:
            note = prose(sheet.cell(r, layout.note_col))[:MAX_CELL_TEXT]
            if note:
                found.notes[item_id] = note
        _review(found, sheet, r, layout.review_col, item_id, points.get(item_id))
    return found


def _review_sheet(master: Path, name: str) -> tuple[SheetData | None, _Layout | None, list[Issue]]:
    """The sheet the reviews are on and where: 評分, else the one sheet whose header
    row holds 編號 and 複評. With the issues to show: what was found where it was
    not expected, or, without a sheet, why none could be read. Raises Rejected."""
    sheet = read_workbook(master, only={SCORE_SHEET}).sheets.get(SCORE_SHEET)
    layout = _layout(sheet) if sheet is not None else None
    if sheet is not None and layout is not None:
        return sheet, layout, _retitled(name, sheet.name, layout)
    try:
        heads = read_workbook(master, max_rows=HEADER_ROWS).sheets  # every sheet's first rows
    except Rejected:  # too large to look through (a 明細 of many rows): say what is missing
        return None, None, [_not_found(name, sheet, [], searched=False)]
    others = [n for n, s in heads.items() if n != SCORE_SHEET and _layout(s) is not None]
    if len(others) != 1:
        return None, None, [_not_found(name, sheet, others)]
    other = read_workbook(master, only={others[0]}).sheets.get(others[0])
    layout = _layout(other) if other is not None else None
    if other is None or layout is None:  # changed since: as good as none
        return None, None, [_not_found(name, sheet, [])]
    where = (f"「{SCORE_SHEET}」工作表中找不到含「{ID_HEADER}」與「{REVIEW_HEADER}」的標題列"
             if sheet is not None else f"沒有「{SCORE_SHEET}」工作表")
    renamed = Issue("sheet-renamed", f"既有總表「{name}」{where}，已從標題列有「{ID_HEADER}」與「{REVIEW_HEADER}」的"
                    f"工作表「{other.name}」讀取複評；新總表的工作表名稱恢復為「{SCORE_SHEET}」，"
                    "請勿更改工作表名稱。", WARNING, file=name, sheet=other.name,
                    cell=a1(layout.header_row, layout.review_col), value=other.name, expected=SCORE_SHEET)
    return other, layout, [renamed, *_retitled(name, other.name, layout)]


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
                   notes_lost=note is None and after != ADOPTED_HEADER)


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


def _review(found: Reviews, sheet: SheetData, r: int, c: int, item_id: str, points: float | None) -> None:
    """The 複評 in row ``r``: adopted, or kept as typed with why it cannot be."""
    value: Any = sheet.cell(r, c)
    if value is None or norm_text(value) == "":
        return
    try:
        number = to_number(value)
    except ValueError:
        found.unusable[item_id] = Unusable(norm_text(value), "不是數字", a1(r, c), "數字")
        return
    if points is not None and not 0 <= number <= points:
        found.unusable[item_id] = Unusable(fmt_number(number), f"超出 0 到配分 {fmt_number(points)} 之間",
                                           a1(r, c), f"0～{fmt_number(points)}")
        return
    found.scores[item_id] = number


def unusable_issues(reviews: Reviews, plan=None, carried_to: str = "") -> list[Issue]:
    """One issue per 複評 that cannot be adopted. ``carried_to``: the new master's
    name, where the value is kept as typed (its cell there named); else the cell read."""
    from .sheets.scores import review_cell

    order = {i.id: n for n, i in enumerate(plan.items)} if plan is not None else {}
    name = display_name(reviews.source) if reviews.source else ""
    issues = []
    for item_id, bad in reviews.unusable.items():
        if carried_to and item_id not in order:
            continue  # not carried: the item is gone (merge reports its 複評)
        cell = review_cell(plan, order[item_id]) if carried_to else bad.cell
        where = f"總表「{SCORE_SHEET}」{cell}"
        kept = "已照原樣保留在新總表並以紅色標示，" if carried_to else ""
        text = (f"項目「{item_id}」的複評「{quote(bad.typed)}」{bad.reason}，未採計（以自評計）；{kept}"
                f"請修正{where} 後重新彙整。")
        if bad.expected != "數字":
            issues.append(Issue("review-out-of-range", text, file=carried_to or name, sheet=SCORE_SHEET,
                                cell=cell, field=REVIEW_HEADER, value=bad.typed, expected=bad.expected))
        else:
            issues.append(Issue("type-error", text, WARNING, file=carried_to or name, sheet=SCORE_SHEET,
                                cell=cell, field=REVIEW_HEADER, value=quote(bad.typed), expected="數字"))
    return issues


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
    the ones to keep. The newest such, or None."""
    master = Path(master)
    since = master.stat().st_mtime if master.exists() else float("-inf")
    copies = [p for p in (master.with_suffix(s) for s in sorted(SPREADSHEET_SUFFIXES - {master.suffix.lower()}))
              if p.is_file() and p.stat().st_mtime > since]
    return max(copies, key=lambda p: p.stat().st_mtime, default=None)


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


def orphan_notes(plan, reviews: Reviews) -> list[Issue]:
    """複評說明 of items no longer in the plan (without a 複評, which merge reports)."""
    known = {i.id for i in plan.items}
    return [Issue("orphan-review", f"總表中編號「{item_id}」的複評說明對應的項目已不在計畫中，未保留：「"
                  f"{quote(note, 40)}」。", WARNING, sheet=SCORE_SHEET, field=NOTE_HEADER,
                  value=quote(note, 40))
            for item_id, note in reviews.notes.items() if item_id not in known and item_id not in reviews.scores]


def carry_notes(result, reviews: Reviews) -> list[Issue]:
    """Give the merge ``result`` the 複評說明 of the previous master, and the 複評 that
    cannot be adopted (kept as typed, see :func:`unusable_reviews`); the warnings
    about notes that are missing, or whose item is gone."""
    known = {i.id for i in result.plan.items}
    result.review_notes = {k: v for k, v in reviews.notes.items() if k in known}
    result.unusable_reviews = {k: v for k, v in reviews.unusable.items() if k in known}
    scored = [(n, r.item, r.self_score, r.review) for n, r in enumerate(result.items)]
    return orphan_notes(result.plan, reviews) + missing_notes(result.plan, scored, result.review_notes)


def unusable_reviews(result) -> dict[str, Unusable]:
    """The 複評 of the previous master that could not be adopted, by item 編號: 評分
    shows them as typed (red, not counted), so that they are fixed, not lost."""
    return result.unusable_reviews
