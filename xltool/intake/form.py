"""Reading a return's 填報表: its header, its rows, and every cell checked against
the form's declarations and the plan."""
from __future__ import annotations

import math
from datetime import date, datetime, time, timedelta
from typing import Any

from ..cells import (
    FIRST_EARLY_SERIAL,
    a1,
    col_letter,
    date_to_serial,
    early_serial_to_date,
    fmt_number,
    header_name,
    norm_text,
    prose,
    serial_to_date,
    squeeze,
)
from ..errors import WARNING
from ..forms import fields as F
from ..forms.identity import KEYS, cell_digest, legacy_fingerprint, plan_cell_value
from ..quoting import quote
from ..reading.workbook import SheetData
from .returns import Row
from .rules import check, expected_text, rule_for
from .state import Reading, show_value

HEADER_SEARCH_ROWS = 30
_RULES: dict[tuple, tuple] = {}  # (column, choices, maximum) → (rule, expected text)
# As far as a return may reach (read.return_bounds: 256 columns): a cell typed anywhere
# is seen, to be read or told (check_text_outside), never cut off unseen. A form's
# rows are only as wide as their farthest value, so the usual file costs no more.
MAX_RETURN_COLS = 256
OUTSIDE_CELLS_TOLD = 20  # cells beside the form quoted one by one; the rest in one issue


def read_form(rd: Reading, sheet: SheetData) -> None:
    """Read and check the 填報表 sheet into ``rd.ret``: header, fields, rows."""
    header_row = find_header_row(sheet)
    if header_row is None:
        rd.issue("header-missing", f"「{quote(sheet.name)}」找不到標題列（含「編號」等欄名），無法讀取。")
        rd.ret.usable = False
        return
    read_columns(rd, sheet, header_row)
    read_form_fields(rd, sheet, header_row)
    check_merged_inputs(rd, sheet, header_row)
    assert rd.ret.unit is not None, "read_form runs once the unit is known"
    expected = [i.id for i in rd.plan.items_for(rd.ret.unit)]
    seen = read_rows(rd, sheet, header_row, expected)
    check_text_outside(rd, sheet, header_row)
    check_missing_rows(rd, expected)
    if seen != [i for i in expected if i in seen]:
        rd.issue("rows-reordered", "項目列的順序已變動（可能經過排序）；已依編號對應，"
                 "請勿排序或搬移列。", WARNING, cell=a1(header_row + 1, _id_col(rd)))


def read_columns(rd: Reading, sheet: SheetData, header_row: int) -> None:
    """``rd.ret.cols`` from the header row: each column found by its name."""
    cols = rd.ret.cols
    seen_names: set[str] = set()
    for c, v in enumerate(sheet.rows[header_row]):
        name = _column_name(v)
        if name in seen_names and name in {col.name for col in F.COLUMNS}:
            rd.issue("duplicate-column", f"標題列有重複的欄名「{quote(name)}」（{a1(header_row, c)}），"
                     "只採用第一個；請勿新增或複製欄。", cell=a1(header_row, c), field=name)
        if name:
            seen_names.add(name)
            cols.setdefault(name, c)
    for c, col in enumerate(F.PLAN_COLUMNS):
        if cols.get(col.name) != c:
            # Locked columns cannot move in a protected sheet: one whose title is not
            # where the template put it was retitled or replaced. Its cells are still
            # read where the template put them, and compared with the plan.
            rd.issue("locked-column-changed", f"鎖定欄位「{col.name}」的標題或位置被變更（應在 "
                     f"{a1(header_row, c)}）；請勿修改灰色欄位。", cell=a1(header_row, c),
                     field=col.name, expected=col.name)
            cols[col.name] = c
    missing = [col.name for col in F.COLUMNS if col.name not in cols]
    if missing:
        rd.issue("columns-missing", f"標題列缺少欄位：{'、'.join(missing)}。請勿刪除或更名欄位。",
                 cell=a1(header_row, 0), expected="、".join(c.name for c in F.COLUMNS))
    if any(cols.get(col.name) != c for c, col in enumerate(F.COLUMNS) if col.name in cols):
        rd.issue("columns-moved", "欄位順序或位置已變動；已依欄名讀取，請勿插入、刪除或搬移欄。",
                 WARNING, cell=a1(header_row, 0))


def check_merged_inputs(rd: Reading, sheet: SheetData, header_row: int) -> None:
    """A merge over input cells shows only its top-left value. The cells it covers are
    read as blank, whatever they hold: Excel empties them, LibreOffice keeps what they
    held hidden, and the same return must read alike from either. What a covered cell
    held is quoted in the issue, so that nothing typed is lost unseen."""
    input_cols = {rd.ret.cols[c.name] for c in F.INPUT_COLUMNS if c.name in rd.ret.cols}
    names = header_row_names(sheet, header_row)
    budget = [MERGE_CELLS_EMPTIED]
    for r1, c1, r2, c2 in sheet.merged:
        if r2 > header_row and any(c1 <= c <= c2 for c in input_cols):
            hidden = _empty_covered(rd, sheet, (r1, c1, r2, c2), header_row, input_cols, names, budget)
            told = f"被合併遮住的儲存格所填的內容未採用（{quote(hidden, 120)}）；" if hidden else ""
            rd.issue("merged-input-cells", f"填寫欄位有合併儲存格（{a1(r1, c1)}:{a1(r2, c2)}），"
                     f"只讀得到左上角的值；{told}請取消合併後分別填寫。", cell=a1(r1, c1),
                     value=hidden or None)


# Covered cells walked per sheet: every input cell of the most rows a return may have,
# twice over; a file of overlapping merges (no program writes one) costs no more.
MERGE_CELLS_EMPTIED = 2 * 20_000 * len(F.INPUT_COLUMNS)


def _empty_covered(rd: Reading, sheet: SheetData, merge: tuple[int, int, int, int], header_row: int,
                   input_cols: set[int], names: dict[int, str], budget: list[int]) -> str:
    """Blank the input cells a merge covers (all but its top-left) below the header
    row; what they held, as 儲存格 欄名：值, joined (a formula as written)."""
    r1, c1, r2, c2 = merge
    found: list[str] = []
    for r in range(max(r1, header_row + 1), min(r2, len(sheet.rows) - 1) + 1):
        cells = sheet.rows[r]
        for c in sorted(input_cols):
            if not c1 <= c <= c2 or (r, c) == (r1, c1):
                continue
            budget[0] -= 1
            if budget[0] < 0:
                return "；".join(found)
            formula = rd.formulas.pop((r, c), None)  # "" where the file keeps no text
            value = cells[c] if c < len(cells) else None
            if formula is None and (value is None or not norm_text(value)):
                continue
            if c < len(cells):
                cells[c] = None
            if len(found) < 20:
                shown = show_value(value) if formula is None else formula or "（公式）"
                found.append(f"{a1(r, c)} {names.get(c, col_letter(c))}：{shown}")
    return "；".join(found)


def _id_col(rd: Reading) -> int:
    return rd.ret.cols.get(F.column("id").name, 0)


def read_rows(rd: Reading, sheet: SheetData, header_row: int, expected: list[str]) -> list[str]:
    """Every row below the header, each read as its item's row or set aside with the
    reason; returns the unit's item ids in the order their rows were found."""
    cols, id_col, id_name = rd.ret.cols, _id_col(rd), F.column("id").name
    items = _items_by_id(rd.plan)
    layout = _Layout(rd, cols)
    expected_ids = set(expected)
    seen: list[str] = []
    formula_rows = {r for r, _ in rd.formulas}
    names = header_row_names(sheet, header_row)  # to quote a row read into no item
    last = _last_item_row(sheet, header_row, id_col, expected_ids)
    known = (items, rd.made.items)  # a 編號 of these typed below is a row, not a remark
    rd.percent = sheet.percent
    for r in range(header_row + 1, len(sheet.rows)):
        cells = sheet.rows[r]
        if r > last and (lone := _lone_text(cells, r, formula_rows, id_col, known)) is not None:
            rd.below_form.append((r, lone))  # a remark under the form (check_text_outside)
            continue
        item_id = norm_text(_at(cells, id_col))
        width = len(cells)
        inputs = {col.name: v if (v := cells[c] if c < width else None) is None or type(v) is str
                  else as_declared(rd, col, v) for col, c, _ in layout.inputs}
        if rd.plan_changed and item_id and item_id not in rd.locked:  # for the fingerprint
            rd.locked[item_id] = [
                norm_text(as_declared(rd, c, sheet.cell(r, cols[c.name]))) if c.name in cols
                else "" for c in F.PLAN_COLUMNS]
        if not item_id:
            if any(c != id_col and v is not None and norm_text(v) for c, v in enumerate(cells)) \
                    or r in formula_rows:
                # Not read into any item: the issue keeps what the row holds, so that
                # 檢核結果, the report and the correction copy still quote it.
                rd.issue("row-without-id", "此列沒有編號卻有填寫內容（可能是插入的列），"
                         "內容未納入彙整；請填在對應項目的列。", cell=a1(r, id_col),
                         value=row_content(rd, r, cells, names))
        elif item_id not in expected_ids and item_id in rd.made.items \
                and item_id not in rd.ret.removed:
            # The unit's template had it; the plan has since removed it (or given it
            # to other units): kept for the record, not scored, nobody's fault.
            rd.ret.removed[item_id] = read_removed(rd, sheet, r, cols, item_id, inputs)
        elif item_id not in expected_ids:
            whose = "其他單位" if item_id in items else "計畫中沒有"
            rd.issue("foreign-row", f"編號「{quote(item_id)}」不是本單位的項目（{whose}的編號），"
                     "此列未納入彙整；請勿新增或複製列。", cell=a1(r, id_col), field=id_name,
                     value=_typed_in(rd, r, cells, names, id_col, layout))
        elif item_id in rd.ret.rows:
            rd.issue("duplicate-row", f"編號「{quote(item_id)}」重複出現，只採用第一列。",
                     cell=a1(r, id_col), field=id_name,
                     value=_typed_in(rd, r, cells, names, id_col, layout))
        else:
            seen.append(item_id)
            rd.ret.rows[item_id] = read_row(rd, sheet, r, cols, items[item_id], inputs, layout)
    return seen


def _last_item_row(sheet: SheetData, header_row: int, id_col: int, expected: set[str]) -> int:
    """The last row holding one of the unit's items (the header row when none does)."""
    return max((r for r in range(header_row + 1, len(sheet.rows))
                if norm_text(_at(sheet.rows[r], id_col)) in expected), default=header_row)


def _lone_text(cells: list, r: int, formula_rows: set[int], id_col: int, known: tuple) -> int | None:
    """The column of a row's only typed cell, if it has just one, typed as text and no
    formula: under the form that is a remark (「填表人請假，由代理人填寫」), not an item
    row added. A number, a date or a 編號 of the plan alone is data (an 實際值 whose
    row lost its 編號, an item typed below), read as a row and told as before."""
    typed = [c for c, v in enumerate(cells) if v is not None and norm_text(v)]
    if len(typed) != 1 or r in formula_rows:
        return None
    c, value = typed[0], cells[typed[0]]
    if type(value) is not str or (c == id_col and any(norm_text(value) in ids for ids in known)):
        return None
    return c


def check_text_outside(rd: Reading, sheet: SheetData, header_row: int) -> None:
    """Text typed beside the form is read into nothing: each such cell is a warning
    quoting it, so that nothing a unit wrote is lost unseen (and a template with only
    such text is no blank return). Beside the form: a cell of the header area that is
    neither the title nor a 填表人／聯絡電話／填報日期 label or its input, and a cell of
    the header row or of a row with a 編號 in a column the form does not have (right
    of its last column, or inserted). A row without a 編號 is told whole (row-without-id)."""
    form_cols = {rd.ret.cols[col.name] for col in F.COLUMNS if col.name in rd.ret.cols}
    found = _outside_header_area(sheet, header_row)
    width = max((len(cells) for cells in sheet.rows[header_row:]), default=0)
    beside = [c for c in range(width) if c not in form_cols]
    if beside:  # the usual return has no column beyond the form's: nothing to walk
        id_col = _id_col(rd)
        for r in range(header_row, len(sheet.rows)):
            cells = sheet.rows[r]
            if r > header_row and not norm_text(_at(cells, id_col)):
                continue
            found += [(r, c) for c in beside if c < len(cells) and _typed(rd, r, c, cells[c])]
    _tell_outside(rd, sheet, header_row, found + rd.below_form)


def _outside_header_area(sheet: SheetData, header_row: int) -> list[tuple[int, int]]:
    """The cells above the header row holding text that is not the form's own."""
    labels = {f.name for f in F.FORM_FIELDS}
    found: list[tuple[int, int]] = []
    title_seen = False
    for r in range(min(header_row, len(sheet.rows))):
        cells = sheet.rows[r]
        for c, value in enumerate(cells):
            if value is None or not norm_text(value):
                continue
            if not title_seen:  # the sheet's first text is its title
                title_seen = True
                continue
            if norm_text(value) in labels or (c > 0 and norm_text(cells[c - 1]) in labels):
                continue
            found.append((r, c))
    return found


def _typed(rd: Reading, r: int, c: int, value: Any) -> bool:
    return (r, c) in rd.formulas or (value is not None and bool(norm_text(value)))


def _tell_outside(rd: Reading, sheet: SheetData, header_row: int, found: list[tuple[int, int]]) -> None:
    """One warning per cell beside the form (at most OUTSIDE_CELLS_TOLD), then one for the rest."""
    names = header_row_names(sheet, header_row)
    last = max((rd.ret.cols[col.name] for col in F.COLUMNS if col.name in rd.ret.cols), default=0)
    for r, c in found[:OUTSIDE_CELLS_TOLD]:
        shown = _shown(rd, r, c, sheet.cell(r, c))
        below = (r, c) in rd.below_form
        where = "表格最後一列的下方" if below else _where(r, c, header_row, last, names)
        rd.issue("text-outside-form", f"此儲存格在填報表的表格外（{where}），"
                 f"所填的「{quote(shown, 60)}」未納入彙整；要填報的內容請填在對應項目列的黃色儲存格。",
                 WARNING, cell=a1(r, c), field=names.get(c, "") if r > header_row and not below else "", value=shown)
    rest = found[OUTSIDE_CELLS_TOLD:]
    if rest:
        cells = "、".join(a1(r, c) for r, c in rest[:10]) + ("…" if len(rest) > 10 else "")
        rd.issue("text-outside-form", f"表格外另有 {len(rest)} 個儲存格有填寫內容（{cells}），"
                 "同樣未納入彙整；要填報的內容請填在對應項目列的黃色儲存格。", WARNING,
                 cell=a1(*rest[0]), value=_shown(rd, *rest[0], sheet.cell(*rest[0])))


def _shown(rd: Reading, r: int, c: int, value: Any) -> str:
    """A cell's content as typed: a formula as written (its cached value is not what was typed)."""
    if (r, c) in rd.formulas:
        return rd.formulas[(r, c)] or "（公式）"
    return show_value(value)


def _where(r: int, c: int, header_row: int, last: int, names: dict[int, str]) -> str:
    if r < header_row:
        return "表頭的填表人、聯絡電話、填報日期以外的儲存格"
    if c > last:
        return f"最後一欄「{names.get(last, col_letter(last))}」的右側"
    return f"填報表沒有的「{names[c]}」欄" if names.get(c) else f"插入的 {col_letter(c)} 欄"


ROW_CONTENT_CHARS = 200  # as show_value bounds any 填寫內容


def _typed_in(rd: Reading, r: int, cells: list[Any], names: dict[int, str], id_col: int,
              layout: _Layout) -> str:
    """A row left out of the merge under its 編號: the 編號 and what was typed in its
    input cells (the grey plan text would crowd them out)."""
    columns = [id_col, *(c for _, c, _ in layout.inputs)]
    return row_content(rd, r, cells, names, columns)


def header_row_names(sheet: SheetData, header_row: int) -> dict[int, str]:
    """Each titled column of the header row: index → its name."""
    return {c: name for c, v in enumerate(sheet.rows[header_row]) if (name := _column_name(v))}


def row_content(rd: Reading, r: int, cells: list[Any], names: dict[int, str],
                columns: list[int] | None = None) -> str:
    """What a row holds, for an issue that does not read it into an item: each
    non-empty cell (of ``columns``, else of the whole row) as 欄名：值 (a column
    without a title by its letter), joined, at most ROW_CONTENT_CHARS characters. A
    formula is shown as written (its cached value is not what the unit typed), or
    named where the file keeps no text."""
    parts: list[str] = []
    size = 0
    for c in range(len(cells)) if columns is None else columns:
        value = cells[c] if c < len(cells) else None
        formula = (r, c) in rd.formulas
        if not formula and (value is None or not norm_text(value)):
            continue
        name = names.get(c) or f"{col_letter(c)} 欄"
        shown = (rd.formulas[(r, c)] or "（公式）") if formula else show_value(value)
        parts.append(f"{name}：{shown}")
        size += len(parts[-1]) + 1
        if size > ROW_CONTENT_CHARS:
            break
    text = "；".join(parts)
    return text if len(text) <= ROW_CONTENT_CHARS else text[:ROW_CONTENT_CHARS] + "…"


class _Layout:
    """Where the form's columns stand in this sheet, worked out once, not for every row:
    the locked columns to compare (all but the id), and the input columns with the
    choices of each list column."""

    __slots__ = ("locked", "inputs", "status")

    def __init__(self, rd: Reading, cols: dict[str, int]):
        self.status = F.column("status")
        self.locked = [(col, cols[col.name]) for col in F.PLAN_COLUMNS
                       if col.name in cols and col.role != "id"]
        self.inputs = [(col, cols[col.name], tuple(rd.plan.lists.get(col.list_name, ()))
                        if col.kind == "list" else None)
                       for col in F.INPUT_COLUMNS if col.name in cols]


def _at(cells: list[Any], col: int) -> Any:
    """A row's value at ``col``, or None past its data (as SheetData.cell)."""
    return cells[col] if col < len(cells) else None


def _items_by_id(plan) -> dict[str, Any]:
    cache = plan.__dict__.get("_items_by_id")
    if cache is None:
        cache = plan.__dict__["_items_by_id"] = {i.id: i for i in plan.items}
    return cache


def _plan_cells(plan, item) -> dict[str, Any]:
    """What the template shows in each locked column of ``item`` (cached: every return
    of the item asks)."""
    cache = plan.__dict__.setdefault("_plan_cells", {})
    entry = cache.get(item.id)
    if entry is None or entry[0] is not item:
        entry = cache[item.id] = (item, {col.attr: plan_cell_value(plan, item, col.attr)
                                         for col in F.PLAN_COLUMNS})
    return entry[1]


def check_missing_rows(rd: Reading, expected: list[str]) -> None:
    """Each of the unit's items without a row: deleted, or added to the plan since."""
    for item_id in expected:
        if item_id in rd.ret.rows:
            continue
        if rd.plan_changed and item_id not in rd.made.items:
            rd.ret.new_items.append(item_id)  # added to the plan after the template
            continue
        rd.issue("row-deleted", f"項目「{item_id}」的列已被刪除，該項以 0 分計；"
                 "請以原填報表填寫。", field=F.column("id").name, expected=item_id, cell="")


def read_form_fields(rd: Reading, sheet: SheetData, header_row: int) -> None:
    """填表人, 聯絡電話, 填報日期: each label's value is the cell to its right. A date is
    taken as the unit typed it, ROC or Gregorian (rules._as_date); the message for one
    that is no date gives an example from the plan (its 繳交期限)."""
    from .rules import Checked, date_message, is_lost_date

    fields: dict[str, F.Column] = {}
    for f in F.FORM_FIELDS:
        fields.setdefault(f.name, f)
    for r in range(0, header_row):
        for c, value in enumerate(sheet.rows[r] if r < len(sheet.rows) else ()):
            col = None if value is None else fields.get(norm_text(value))
            if col is None or col.name in rd.ret.header:
                continue
            raw = as_declared(rd, col, sheet.cell(r, c + 1))
            result: Checked = check(rule_for(col), col, raw, expected_text(col))
            # Keep what was typed when it is invalid, so nothing is lost: as text,
            # since an impossible date or a NaN is no value any writer can store. A date
            # whose number could not be read is no text the unit typed ("00:00:00"): none.
            rd.ret.header[col.name] = result.value if not result.problem else \
                None if is_lost_date(raw) else show_value(raw)
            if result.problem:
                message = result.problem.message if col.kind != "date" else \
                    date_message(col, raw, rd.plan.info.deadline)
                rd.issue(result.problem.code, message, WARNING,
                           cell=a1(r, c + 1), field=col.name, value=raw,
                           expected=result.problem.expected)


def read_row(rd: Reading, sheet: SheetData, r: int, cols: dict[str, int], item, inputs,
             layout: _Layout | None = None) -> Row:
    layout = layout or _Layout(rd, cols)
    row = Row(item_id=item.id, row=r, raw=dict(inputs) if rd.keep_raw else None)
    cells = sheet.rows[r] if r < len(sheet.rows) else []
    width = len(cells)
    wanted = _plan_cells(rd.plan, item)
    for col, c in layout.locked:  # locked content must be the plan's
        raw_found = cells[c] if c < width else None
        if raw_found is not None and type(raw_found) is not str:
            raw_found = as_declared(rd, col, raw_found)
        want_raw = wanted[col.attr]
        if raw_found == want_raw:
            continue  # the usual case, without normalising
        found, want = norm_text(raw_found), norm_text(want_raw)
        if squeeze(found) != squeeze(want) and not _same_number(found, want):
            if is_earlier_wording(rd, item.id, col, raw_found):
                rd.ret.revisions.append((item.id, col.name, prose(raw_found), prose(want_raw)))
                if col.attr == "points":
                    rd.seen_points[item.id] = raw_found
            else:
                rd.edits.append((row, col.name, a1(r, c), found, want))
    formula_cols = _read_inputs(rd, r, item, inputs, layout, row, cells)
    _check_required(rd, r, cols, item, inputs, formula_cols, row, layout)
    return row


def _read_inputs(rd: Reading, r: int, item, inputs: dict[str, Any], layout: _Layout,
                 row: Row, cells: list[Any] | None = None) -> set[str]:
    """Check each input cell of the row into ``row``; returns the columns holding formulas."""
    formula_cols: set[str] = set()
    cells = cells or []
    for col, c, choices in layout.inputs:
        raw = inputs.get(col.name)
        if (r, c) in rd.formulas:
            # The cached value of a formula can be stale or forged: never trust it. What
            # the unit typed is the formula itself, which the issue keeps.
            rd.issue("formula", f"「{col.name}」是公式而非數值，已忽略（編號 {item.id}）；"
                       "請直接輸入數值或文字。", cell=a1(r, c), field=col.name,
                       value=rd.formulas[(r, c)] or raw)
            row.flags.append("formula")
            row.invalid.append(col.name)
            row.values[col.name] = None
            formula_cols.add(col.name)
            continue
        if raw is None:
            row.values[col.name] = None  # blank: what the check gives, without it
            continue
        maximum = getattr(item, col.maximum_attr) if col.maximum_attr else None
        seen = rd.seen_points.get(item.id) if col.maximum_attr == "points" else None
        if isinstance(seen, (int, float)) and seen > (maximum or 0):
            maximum = seen  # the unit scored against the points its template showed
        key = (col.name, choices, maximum)
        rule = _RULES.get(key)
        if rule is None:  # a plain dict: hashing the Column itself costs more than the check
            rule = _RULES[key] = (rule_for(col, choices=choices, maximum=maximum),
                                  expected_text(col, choices, maximum))
        result = check(rule[0], col, raw, rule[1], (choices, maximum))
        row.values[col.name] = result.value
        current = getattr(item, col.maximum_attr) if col.maximum_attr else None
        if current is not None and isinstance(result.value, (int, float)) and \
                result.value > current:
            # Valid under the points the unit saw, above the revised ones: capped until
            # the secretariat's 複評 (README, 評分規則), and never the unit's error.
            rd.ret.capped[item.id] = result.value
            row.values[col.name] = current
            row.flags.append("revised-points")
        shown = shown_as_date(col, cells[c] if c < len(cells) else None)
        as_percent = shown_as_percent(col, raw) if not shown and (r, c) in rd.percent else ""
        shown = shown or as_percent
        if result.problem:
            seen_as = f"（此儲存格顯示為「{shown}」，其數值為 {show_value(raw)}）" if shown else ""
            rd.issue(result.problem.code, f"{result.problem.message}（編號 {item.id}）{seen_as}。",
                       cell=a1(r, c), field=col.name, value=raw,
                       expected=result.problem.expected)
            row.flags.append(result.problem.code)
            row.invalid.append(col.name)
        elif as_percent:
            # 95% typed is the number 0.95: a 實際值 of 95 (計量單位 %) read as 0.95, a
            # 自評分數 of 90 as 0.9 points, unless the unit is told.
            rd.issue("number-shown-as-percent", f"「{col.name}」的儲存格顯示為百分比「{shown}」，"
                     f"已依其數值採計為 {show_value(raw)}（編號 {item.id}）；若要填的是 "
                     f"{shown[:-1]}，請直接輸入 {shown[:-1]}，並將儲存格格式改為「數值」。", WARNING,
                     cell=a1(r, c), field=col.name, value=shown, expected=rule[1])
        elif shown:
            # The unit sees a date or a time (Excel and Calc turn 3/4 or 1-2 typed into a
            # number cell into a date): what is taken is the number the cell holds, never
            # silently, since it is rarely what the unit meant.
            rd.issue("number-shown-as-date", f"「{col.name}」的儲存格顯示為日期或時間「{shown}」，"
                     f"已依其數值採計為 {show_value(raw)}（編號 {item.id}）；若不是要填這個數字，"
                     "請將儲存格格式改為「數值」後重新輸入。", WARNING, cell=a1(r, c), field=col.name,
                     value=shown, expected=rule[1])
        elif result.note:
            rd.issue("normalized", f"{result.note}（編號 {item.id}）。",
                       cell=a1(r, c), field=col.name, value=raw)
    return formula_cols


def _check_required(rd: Reading, r: int, cols: dict[str, int], item, inputs: dict[str, Any],
                    formula_cols: set[str], row: Row, layout: _Layout) -> None:
    """A required input left blank (unless the row is 不適用) is an issue."""
    plan = rd.plan
    status_col = layout.status
    not_applicable = row.values.get(status_col.name) == plan.info.not_applicable
    for col in F.INPUT_COLUMNS:
        if not col.required or col.name not in cols or row.values.get(col.name) is not None:
            continue
        if _raw_present(inputs.get(col.name)) or col.name in formula_cols:
            continue  # present but invalid: already reported above
        if not_applicable and col is not status_col:
            continue  # 不適用 rows may leave the result and the score blank
        hint = "" if col is status_col else \
            f"；若本項不適用，請於「{status_col.name}」選「{plan.info.not_applicable}」"
        rd.issue("missing-value", f"「{col.name}」未填（編號 {item.id}）{hint}。",
                   cell=a1(r, cols[col.name]), field=col.name, expected="必填")
        row.flags.append("missing-value")
        row.invalid.append(col.name)


def read_removed(rd: Reading, sheet: SheetData, r: int, cols: dict[str, int], item_id: str,
                 inputs: dict[str, Any]) -> Row:
    """A row of an item the plan no longer gives this unit: kept as found."""
    row = Row(item_id=item_id, row=r, raw=dict(inputs) if rd.keep_raw else None)
    for col in F.INPUT_COLUMNS:
        if col.name in cols and (r, cols[col.name]) not in rd.formulas:
            value = inputs.get(col.name)
            row.values[col.name] = show_value(value) if isinstance(value, str) else value
    row.flags.append("removed-item")
    return row


def is_earlier_wording(rd: Reading, item_id: str, col: F.Column, value: Any) -> bool:
    """The locked cell holds what the template showed (its digest matches)."""
    digests = rd.made.digests.get(item_id)
    if not digests:
        return False
    return cell_digest(value) == digests[F.PLAN_COLUMNS.index(col)]


def as_declared(rd: Reading, col: F.Column, value: Any) -> Any:
    """A cell value of the type the form declares for its column.

    Readers decide "date or number" from the cell's number format, so a number
    under a date-looking format comes back as a date (7 → 1900-01-07) and a date
    typed as a plain number as a number. The form knows better: turn the value
    back, in the workbook's own date system."""
    if col.kind == "number" and isinstance(value, (date, datetime)):
        return date_to_serial(value, rd.date_system)
    if col.kind == "number" and isinstance(value, timedelta):
        return value.total_seconds() / 86400
    if col.kind == "number" and isinstance(value, time):  # a time of day: a fraction of one
        return (value.hour * 3600 + value.minute * 60 + value.second
                + value.microsecond / 1e6) / 86400
    if col.kind == "date" and isinstance(value, (int, float)) and not isinstance(value, bool):
        if 0 < value < 2_958_466:  # Excel's last day, 9999-12-31
            return serial_to_date(value, rd.date_system)
        if FIRST_EARLY_SERIAL <= value < 0:  # a day before 1900 (LibreOffice's 116/01/05)
            return early_serial_to_date(value, rd.date_system)
    return value


def shown_as_percent(col: F.Column, value: Any) -> str:
    """How a number column's cell under a percentage format shows its number (0.95 as
    95%); "" for any other cell."""
    if col.kind != "number" or type(value) not in (int, float) or not math.isfinite(value):
        return ""
    return f"{fmt_number(round(value * 100, 9))}%"


def shown_as_date(col: F.Column, value: Any) -> str:
    """How a number column's cell shows when its format makes it a date, a time or a
    duration (as the unit sees it); "" for any other cell."""
    if col.kind != "number":
        return ""
    if isinstance(value, datetime):
        shown = f"{value.year}/{value.month}/{value.day}"
        return shown if value.time() == time() else f"{shown} {value:%H:%M:%S}"
    if isinstance(value, date):
        return f"{value.year}/{value.month}/{value.day}"
    if isinstance(value, time):
        return f"{value:%H:%M:%S}"
    if isinstance(value, timedelta):
        seconds = round(value.total_seconds())
        sign, seconds = ("-" if seconds < 0 else ""), abs(seconds)
        return f"{sign}{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
    return ""


def verify_fingerprint(rd: Reading, meta: dict[str, str]) -> None:
    """Judge the locked cells that differ from the plan. A cell that still holds
    the wording of the plan version its template was made from (its digest, or
    for version-1 templates the fingerprint of the whole content, says so) is the
    plan's change: recorded for the secretariat, no issue for the unit. Any other
    difference is the unit's edit: an error."""
    legacy_genuine = False
    if rd.plan_changed and meta.get(KEYS["version"]) == "1":
        order = rd.made.items or list(rd.locked)
        found = [rd.locked[i] for i in order if i in rd.locked]
        legacy_genuine = len(found) == len(order) and \
            legacy_fingerprint(found) == meta.get(KEYS["fingerprint"], "")
        if not legacy_genuine:
            rd.issue("fingerprint-mismatch", "填報表的識別碼與鎖定欄位的內容不符（識別資料可能被竄改，"
                       "或灰色欄位被修改）；鎖定欄位已以計畫內容為準，請以原填報表填寫後回傳。",
                       sheet="")
    for row, name, cell, found_text, want in rd.edits:
        if legacy_genuine:
            rd.ret.revisions.append((row.item_id, name, found_text, want))
            continue
        rd.issue("locked-cell-edited", f"鎖定欄位「{name}」的內容被修改，已以計畫內容為準；"
                   "請勿修改灰色欄位。", cell=cell, field=name, value=found_text, expected=want)
        row.flags.append("locked-cell-edited")


def find_header_row(sheet: SheetData) -> int | None:
    for r in range(min(HEADER_SEARCH_ROWS, len(sheet.rows))):
        names = {"" if v is None else _column_name(v) for v in sheet.rows[r]}
        if F.header_signature() <= names:
            return r
    return None


def _column_name(value: Any) -> str:
    return header_name(value)


def item_ids(sheet: SheetData) -> list[str]:
    header = find_header_row(sheet)
    if header is None:
        return []
    col = [_column_name(v) for v in sheet.rows[header]].index(F.column("id").name)
    return [norm_text(sheet.cell(r, col)) for r in range(header + 1, len(sheet.rows))
            if norm_text(sheet.cell(r, col))]


def _same_number(a: str, b: str) -> bool:
    try:
        return float(a) == float(b)
    except ValueError:
        return False


def _raw_present(value: Any) -> bool:
    return value is not None and norm_text(value) != ""
