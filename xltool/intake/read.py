"""Recognise each returned workbook and check every cell, in one pass per file.

A return is identified by the template's metadata (plan id, 年度, unit,
template version). When the metadata is gone, the file name and the item
numbers in 填報表 identify it instead, with a warning. Every problem becomes an
:class:`Issue`; rows are kept even when they have errors.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Callable, Iterator

from ..forms import fields as F
from ..cells import (a1, date_to_serial, fmt_number, local_text, norm_text, prose, serial_to_date,
                    squeeze)
from ..files import display_name
from ..quoting import quote
from .rules import check, clean_text, expected_text, rule_for
from ..errors import ERROR, WARNING, Issue
from ..forms.identity import (CELL_KEY, IDENTITY_KEYS, KEYS, cell_digest, fingerprint, fingerprint_of,
                              implausible_time,
                       legacy_fingerprint, plan_cell_value, saved_instant)
from ..cells import header_name
from ..plan import Plan
from ..reading.bounds import Bounds
from ..reading.workbook import SPREADSHEET_SUFFIXES, Rejected, SheetData, read_workbook

HEADER_SEARCH_ROWS = 30
_RULES: dict[tuple, tuple] = {}  # (column, choices, maximum) → (rule, expected text)
MAX_RETURN_ROWS = 5_000
MAX_RETURN_COLS = len(F.COLUMNS) + 12  # room to notice inserted columns
MAX_ISSUES_PER_FILE = 300  # a file can be wrong in every cell; the report stays readable


def return_bounds(plan: Plan) -> Bounds:
    """What a return may make a reader build: its form's items plus a margin of rows,
    a few hundred columns, and text for every input cell filled to Excel's limit."""
    cache = plan.__dict__.get("_return_bounds")
    if cache is None:
        most = max((len(plan.items_for(u.name)) for u in plan.units), default=0)
        rows = max(MAX_RETURN_ROWS, F.FIRST_ITEM_ROW + most + 500)
        text = max(8_000_000, most * len(F.INPUT_COLUMNS) * F.TEXT_LIMIT // 4)
        cache = plan.__dict__["_return_bounds"] = Bounds(rows=rows, cols=256, cells=rows * 100,
                                                         text=text, records=rows * 300)
    return cache


@dataclass(slots=True)
class Row:
    """One item row of a return. Kept small: a merge holds one per unit and item."""

    item_id: str
    row: int  # 0-based sheet row
    values: dict[str, Any] = field(default_factory=dict)  # input column → checked value
    flags: list[str] = field(default_factory=list)  # issue codes on this row
    invalid: list[str] = field(default_factory=list)  # input columns whose value was refused
    raw: dict[str, Any] | None = None  # input column → value as found (feedback only)


@dataclass
class Return:
    path: Path
    unit: str | None = None
    saved: datetime | None = None
    rows: dict[str, Row] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    usable: bool = False  # recognised and read: its rows count towards scores
    sheet: str = F.FORM_SHEET
    cols: dict[str, int] = field(default_factory=dict)  # column name → 0-based column
    # Made from an earlier version of the plan (see Made): what the plan changed since.
    version: str = ""  # the template's fingerprint: the plan version it was made from
    generated: str = ""  # when that template was made (ISO, as the template says)
    revisions: list[tuple[str, str, str, str]] = field(default_factory=list)  # item, field, old, new
    removed: dict[str, Row] = field(default_factory=dict)  # rows of items no longer the unit's
    new_items: list[str] = field(default_factory=list)  # the unit's items its template lacked
    capped: dict[str, float] = field(default_factory=dict)  # item → score over revised points

    @property
    def name(self) -> str:
        """The file's name as people should see it (see files.display_name)."""
        return display_name(self.path)

    def cell_ref(self, row: Row, column: str) -> str:
        """The A1 address of an input cell of ``row`` in this return's own layout."""
        return a1(row.row, self.cols[column])

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if not i.is_error)


@dataclass
class Made:
    """What a return's template was made from, as far as it can be trusted.

    ``digests`` are the template's own record of each locked cell (version 2); a
    locked cell that differs from the plan but matches its digest is the earlier
    plan's wording, not the unit's edit. Without trusted digests every difference
    is an edit."""

    items: list[str] = field(default_factory=list)  # the template's items, in order
    digests: dict[str, list[str]] = field(default_factory=dict)  # item → cell digests
    current: bool = True  # made from the plan as it is now


def discover(paths: list[Path]) -> tuple[list[Path], list[Issue]]:
    """Expand files and folders into candidate returns, in a stable order."""
    files, issues, seen = [], [], set()
    for p in paths:
        p = Path(p)
        found = sorted((f for f in p.rglob("*") if f.is_file()), key=lambda f: str(f)) \
            if p.is_dir() else [p]
        for f in found:
            key = f.resolve()
            if key in seen:
                continue
            seen.add(key)
            if f.name.startswith("~$") or f.name.startswith(".~lock."):
                issues.append(Issue("lock-file", f"「{display_name(f)}」是 Office／LibreOffice 的暫存鎖定檔，"
                                    "已略過。", WARNING, file=display_name(f)))
            elif f.name.startswith(".xltool-"):
                continue  # xltool's own records (who sent which file), not a return
            elif f.name.startswith(".~xltool-"):
                issues.append(Issue("lock-file", f"「{display_name(f)}」是 xltool 中斷時留下的暫存檔，"
                                    "已略過，可刪除。", WARNING, file=display_name(f)))
            elif f.suffix.lower() not in SPREADSHEET_SUFFIXES:
                issues.append(Issue("not-a-return", f"「{display_name(f)}」不是試算表檔，已略過。", WARNING,
                                    file=display_name(f)))
            else:
                files.append(f)
    return files, issues


class _Intake:
    """Reads one return; collects its issues as it goes."""

    def __init__(self, plan: Plan, path: Path, keep_raw: bool = False):
        self.plan = plan
        self.keep_raw = keep_raw
        self.ret = Return(path=path)
        self.file = display_name(path)
        self.plan_changed = False  # the plan was edited after this template was made
        self.formulas: set[tuple[int, int]] = set()  # formula cells of the form sheet
        self.meta: dict[str, str] = {}
        self.dropped = self.dropped_errors = 0  # issues past MAX_ISSUES_PER_FILE
        self.date_system = "1900"
        self.locked: dict[str, list[str]] = {}  # item id → its locked cells as found
        self.edits: list[tuple[Row, str, str, str, str]] = []  # locked cells unlike the plan
        self.made = Made()
        self.seen_points: dict[str, Any] = {}  # item → the 配分 its earlier template showed

    def issue(self, code: str, message: str, severity: str = ERROR, *, cell: str = "",
              field: str = "", value: Any = None, expected: str = "", sheet: str | None = None):
        if len(self.ret.issues) >= MAX_ISSUES_PER_FILE:
            self.dropped += 1
            self.dropped_errors += severity == ERROR
            return
        self.ret.issues.append(Issue(
            code=code, message=message, severity=severity, file=self.file,
            sheet=self.ret.sheet if sheet is None else sheet, cell=cell,
            unit=self.ret.unit or "", field=field,
            value="" if value is None else _show(value), expected=expected))

    # ---------------------------------------------------------------- flow

    def run(self) -> Return:
        self._run()
        if self.dropped:
            self.ret.issues.append(Issue(
                "too-many-issues", f"此檔還有 {self.dropped} 個問題未列出（其中 {self.dropped_errors} 個錯誤）；"
                "請先修正上列問題後重新回傳。", ERROR if self.dropped_errors else WARNING,
                file=self.file, unit=self.ret.unit or ""))
        if self.ret.unit:  # issues found before the unit was known get it now
            self.ret.issues = [i if i.unit else replace(i, unit=self.ret.unit)
                               for i in self.ret.issues]
        return self.ret

    def _run(self) -> None:
        try:
            wb = read_workbook(self.ret.path, bounds=return_bounds(self.plan),
                               max_rows=return_bounds(self.plan).rows, max_cols=MAX_RETURN_COLS,
                               prefer={F.FORM_SHEET, F.META_SHEET})
        except Rejected as exc:
            self.ret.issues.append(exc.issue)
            return
        for w in wb.warnings:
            self.ret.issues.append(w)
        meta = self.metadata(wb.properties, wb.sheets.get(F.META_SHEET))
        if meta is None:
            return
        self.meta = meta
        form = self.find_form(wb.sheets)
        if not self.identify(meta, form):
            return
        self.ret.saved = self.trusted_time(
            saved_instant(wb.saved, wb.producer, self.ret.path.suffix, self.plan.zone), meta)
        if form is None:
            self.issue("structure-changed", f"找不到「{F.FORM_SHEET}」工作表（可能已更名或刪除），"
                       "請以原填報表填寫後回傳。", sheet="")
            return
        self.formulas = wb.formulas.get(form.name, set())
        self.date_system = "odf" if self.ret.path.suffix.lower() == ".ods" else (
            "1904" if wb.date1904 else "1900")
        self.read_form(form, meta)
        self.verify_fingerprint(meta)

    def metadata(self, props: dict[str, str], sheet: SheetData | None) -> dict[str, str] | None:
        """The template's identity from both places it is kept, which must agree:
        a file that says one thing in its properties and another in its hidden
        sheet has been tampered with, and cannot be attributed to either unit."""
        from_props = {k: norm_text(v) for k, v in props.items() if k.startswith("xltool_")}
        from_sheet: dict[str, str] = {}
        if sheet is not None:
            for row in sheet.rows:
                if len(row) >= 2 and isinstance(row[0], str) and row[0].startswith("xltool_"):
                    from_sheet.setdefault(row[0], norm_text(row[1]))
        conflicts = [k for k in IDENTITY_KEYS
                     if k in from_props and k in from_sheet and from_props[k] != from_sheet[k]]
        if conflicts:
            key = conflicts[0]
            self.issue("identity-conflict", f"檔案的識別資料互相矛盾（文件屬性為「{quote(from_props[key])}」，"
                       f"隱藏工作表為「{quote(from_sheet[key])}」），無法確認是哪個單位的填報表，"
                       "未採用；請以原填報表填寫後回傳。", sheet="", field=key)
            return None
        return {**from_sheet, **from_props}

    def trusted_time(self, saved, meta: dict[str, str]):
        """The saved time, unless it is impossible: in the future, or before the
        template was made. Such a time is not trusted to pick the latest return."""
        if saved is None:
            return None
        problem = implausible_time(saved, meta.get(KEYS["generated"], ""), self.plan.info.year,
                                   self.plan.zone)
        if problem:
            self.issue("implausible-time", f"檔案記錄的存檔時間（{local_text(saved, self.plan.zone)}）{problem}，"
                       "不可信；挑選最新回傳檔時不採用此時間。", WARNING, sheet="")
            return None
        return saved

    def find_form(self, sheets: dict[str, SheetData]) -> SheetData | None:
        if F.FORM_SHEET in sheets:
            return sheets[F.FORM_SHEET]
        for sheet in sheets.values():  # renamed: recognise it by its header row
            if _header_row(sheet) is not None:
                self.ret.sheet = sheet.name
                self.issue("structure-changed", f"「{F.FORM_SHEET}」工作表被更名為「{quote(sheet.name)}」，"
                           "已依內容讀取；請勿更改工作表名稱。", WARNING, sheet=sheet.name)
                return sheet
        return None

    # ---------------------------------------------------------------- identity

    def identify(self, meta: dict[str, str], form: SheetData | None) -> bool:
        plan, info = self.plan, self.plan.info
        if meta.get(KEYS["plan_id"]):
            if meta[KEYS["plan_id"]] != plan.plan_id or meta.get(KEYS["year"]) != str(info.year):
                name = quote(meta.get(KEYS["plan_name"], "其他計畫"))
                self.issue("wrong-plan", f"此檔是「{name}」（{quote(meta.get(KEYS['year'], '?'), 8)} 年度）的填報表，"
                           f"不是本計畫（{info.name}）的；請改用本年度的填報表。", sheet="",
                           value=meta.get(KEYS["year"]), expected=str(info.year))
                return False
            version = meta.get(KEYS["version"], "")
            if version not in F.ACCEPTED_TEMPLATE_VERSIONS:
                self.issue("wrong-version", f"填報表範本版本「{quote(version, 12)}」無法辨識，請改用新產生的填報表。",
                           sheet="", value=version,
                           expected="、".join(F.ACCEPTED_TEMPLATE_VERSIONS))
                return False
            unit = meta.get(KEYS["unit"], "")
            if unit not in {u.name for u in plan.units}:
                self.issue("unknown-unit", f"填報表上的單位「{quote(unit)}」不在計畫的單位中。", sheet="",
                           value=unit)
                return False
            self.ret.unit = unit
            # Usually the file is named after its unit; only otherwise look for another name.
            named = [] if unit in squeeze(self.ret.path.stem) else self.units_in_name()
            if named and unit not in named:
                self.issue("name-mismatch", f"檔名看似「{'、'.join(named)}」，但檔案內容是「{unit}」的填報表；"
                           f"已依內容視為「{unit}」的回傳。", WARNING, sheet="")
            self.made = self.made_from(meta, unit)
            self.plan_changed = not self.made.current
            self.ret.usable = True
            return True
        return self.identify_without_metadata(form)

    def made_from(self, meta: dict[str, str], unit: str) -> Made:
        """Which version of the plan the template was made from (see Made). Digests
        that do not hash to the template's fingerprint were forged or damaged: an
        error, and none of them is trusted."""
        claimed = meta.get(KEYS["fingerprint"], "")
        expected = [i.id for i in self.plan.items_for(unit)]
        items = [i for i in meta.get(KEYS["items"], "").split(",") if i] or expected
        self.ret.version = claimed
        self.ret.generated = meta.get(KEYS["generated"], "")
        current = not claimed or claimed == fingerprint_of(self.plan, unit)
        if meta.get(KEYS["version"]) == "1" or current:
            return Made(items=items, current=current)
        digests = {i: meta.get(f"{CELL_KEY}{i}", "").split(",") for i in items}
        if fingerprint([digests[i] for i in items]) != claimed or \
                any(len(d) != len(F.PLAN_COLUMNS) for d in digests.values()):
            self.issue("fingerprint-mismatch", "填報表的識別資料與其識別碼不符（識別資料可能被竄改或損毀）；"
                       "鎖定欄位已以計畫內容為準，請以原填報表填寫後回傳。", sheet="")
            return Made(items=items, current=False)
        return Made(items=items, digests=digests, current=False)

    def units_in_name(self) -> list[str]:
        stem = squeeze(self.ret.path.stem)
        hits = []
        for u in self.plan.units:
            for name in (u.name, *u.aliases):
                if name and name in stem:
                    hits.append(u.name)
        # 第一課 also matches inside 第一課室-like names; keep the longest distinct matches
        return sorted(set(hits), key=lambda n: [u.name for u in self.plan.units].index(n))

    def identify_without_metadata(self, form: SheetData | None) -> bool:
        ids = _item_ids(form) if form is not None else []
        by_content = [u.name for u in self.plan.units
                      if ids and [i.id for i in self.plan.items_for(u.name)] == ids]
        named = self.units_in_name()
        candidates = [u for u in named if u in by_content] or \
            (named if len(named) == 1 else []) or (by_content if len(by_content) == 1 else [])
        if len(candidates) != 1:
            self.issue("unrecognised", "無法辨識這是哪個單位的回傳：檔案缺少填報表識別資料，"
                       "檔名與內容也無法對應到單一單位。請以原填報表填寫後回傳。", sheet="")
            return False
        self.ret.unit = candidates[0]
        self.ret.usable = True
        self.issue("no-metadata", f"檔案缺少填報表識別資料（可能是複製貼上到新檔案），已依檔名與內容視為"
                   f"「{self.ret.unit}」的回傳；請以原填報表填寫。", WARNING, sheet="")
        return True

    # ---------------------------------------------------------------- the form

    def read_form(self, sheet: SheetData, meta: dict[str, str]) -> None:
        plan, unit = self.plan, self.ret.unit
        header_row = _header_row(sheet)
        if header_row is None:
            self.issue("structure-changed", f"「{quote(sheet.name)}」找不到標題列（含「編號」等欄名），無法讀取。")
            self.ret.usable = False
            return
        cols = self.ret.cols
        seen_names: set[str] = set()
        for c, v in enumerate(sheet.rows[header_row]):
            name = _column_name(v)
            if name in seen_names and name in {col.name for col in F.COLUMNS}:
                self.issue("structure-changed", f"標題列有重複的欄名「{quote(name)}」（{a1(header_row, c)}），"
                           "只採用第一個；請勿新增或複製欄。", cell=a1(header_row, c), field=name)
            if name:
                seen_names.add(name)
                cols.setdefault(name, c)
        for c, col in enumerate(F.PLAN_COLUMNS):
            if cols.get(col.name) != c:
                # Locked columns cannot move in a protected sheet: one whose title is not
                # where the template put it was retitled or replaced. Its cells are still
                # read where the template put them, and compared with the plan.
                self.issue("structure-changed", f"鎖定欄位「{col.name}」的標題或位置被變更（應在 "
                           f"{a1(header_row, c)}）；請勿修改灰色欄位。", cell=a1(header_row, c),
                           field=col.name, expected=col.name)
                cols[col.name] = c
        missing = [col.name for col in F.COLUMNS if col.name not in cols]
        if missing:
            self.issue("structure-changed", f"標題列缺少欄位：{'、'.join(missing)}。請勿刪除或更名欄位。",
                       cell=a1(header_row, 0), expected="、".join(c.name for c in F.COLUMNS))
        if any(cols.get(col.name) != c for c, col in enumerate(F.COLUMNS) if col.name in cols):
            self.issue("structure-changed", "欄位順序或位置已變動；已依欄名讀取，請勿插入、刪除或搬移欄。",
                       WARNING, cell=a1(header_row, 0))
        self.read_form_fields(sheet, header_row)
        input_cols = {cols[c.name] for c in F.INPUT_COLUMNS if c.name in cols}
        for r1, c1, r2, c2 in sheet.merged:
            if r2 > header_row and any(c1 <= c <= c2 for c in input_cols):
                self.issue("structure-changed", f"填寫欄位有合併儲存格（{a1(r1, c1)}:{a1(r2, c2)}），"
                           "只讀得到左上角的值；請取消合併後分別填寫。", cell=a1(r1, c1))

        expected = [i.id for i in plan.items_for(unit)]
        items = {i.id: i for i in plan.items}
        seen: list[str] = []
        id_name = F.column("id").name
        id_col = cols.get(id_name, 0)
        for r in range(header_row + 1, len(sheet.rows)):
            raw_id = sheet.cell(r, id_col)
            item_id = norm_text(raw_id)
            inputs = {col.name: self.as_declared(col, sheet.cell(r, cols[col.name]))
                      for col in F.INPUT_COLUMNS if col.name in cols}
            if self.plan_changed and item_id and item_id not in self.locked:  # for the fingerprint
                self.locked[item_id] = [
                    norm_text(self.as_declared(c, sheet.cell(r, cols[c.name]))) if c.name in cols
                    else "" for c in F.PLAN_COLUMNS]
            if not item_id:
                if any(v is not None and norm_text(v) for v in inputs.values()):
                    self.issue("structure-changed", "此列沒有編號卻有填寫內容（可能是插入的列），"
                               "內容未納入彙整；請填在對應項目的列。", cell=a1(r, id_col))
                continue
            if item_id not in expected and item_id in self.made.items and \
                    item_id not in self.ret.removed:
                # The unit's template had it; the plan has since removed it (or given it
                # to other units): kept for the record, not scored, nobody's fault.
                self.ret.removed[item_id] = self.read_removed(sheet, r, cols, item_id, inputs)
                continue
            if item_id not in expected:
                whose = "其他單位" if item_id in items else "計畫中沒有"
                self.issue("structure-changed", f"編號「{quote(item_id)}」不是本單位的項目（{whose}的編號），"
                           "此列未納入彙整；請勿新增或複製列。", cell=a1(r, id_col), field=id_name,
                           value=item_id)
                continue
            if item_id in self.ret.rows:
                self.issue("structure-changed", f"編號「{quote(item_id)}」重複出現，只採用第一列。",
                           cell=a1(r, id_col), field=id_name, value=item_id)
                continue
            seen.append(item_id)
            self.ret.rows[item_id] = self.read_row(sheet, r, cols, items[item_id], inputs)
        for item_id in expected:
            if item_id in self.ret.rows:
                continue
            if self.plan_changed and item_id not in self.made.items:
                self.ret.new_items.append(item_id)  # added to the plan after the template
                continue
            self.issue("structure-changed", f"項目「{item_id}」的列已被刪除，該項以 0 分計；"
                       "請以原填報表填寫。", field=id_name, expected=item_id, cell="")
        if seen != [i for i in expected if i in seen]:
            self.issue("structure-changed", "項目列的順序已變動（可能經過排序）；已依編號對應，"
                       "請勿排序或搬移列。", WARNING, cell=a1(header_row + 1, id_col))

    def is_earlier_wording(self, item_id: str, col: F.Column, value: Any) -> bool:
        """The locked cell holds what the template showed (its digest matches)."""
        digests = self.made.digests.get(item_id)
        if not digests:
            return False
        return cell_digest(value) == digests[F.PLAN_COLUMNS.index(col)]

    def read_removed(self, sheet: SheetData, r: int, cols: dict[str, int], item_id: str,
                     inputs: dict[str, Any]) -> Row:
        """A row of an item the plan no longer gives this unit: kept as found."""
        row = Row(item_id=item_id, row=r, raw=dict(inputs) if self.keep_raw else None)
        for col in F.INPUT_COLUMNS:
            if col.name in cols and (r, cols[col.name]) not in self.formulas:
                value = inputs.get(col.name)
                row.values[col.name] = _show(value) if isinstance(value, str) else value
        row.flags.append("removed-item")
        return row

    def as_declared(self, col: F.Column, value: Any) -> Any:
        """A cell value of the type the form declares for its column.

        Readers decide "date or number" from the cell's number format, so a number
        under a date-looking format comes back as a date (7 → 1900-01-07) and a date
        typed as a plain number as a number. The form knows better: turn the value
        back, in the workbook's own date system."""
        if col.kind == "number" and isinstance(value, (date, datetime)):
            return date_to_serial(value, self.date_system)
        if col.kind == "number" and isinstance(value, timedelta):
            return value.total_seconds() / 86400
        if col.kind == "date" and isinstance(value, (int, float)) and not isinstance(value, bool) \
                and 0 < value < 2_958_466:  # Excel's last day, 9999-12-31
            return serial_to_date(value, self.date_system)
        return value

    def verify_fingerprint(self, meta: dict[str, str]) -> None:
        """Judge the locked cells that differ from the plan. A cell that still holds
        the wording of the plan version its template was made from (its digest, or
        for version-1 templates the fingerprint of the whole content, says so) is the
        plan's change: recorded for the secretariat, no issue for the unit. Any other
        difference is the unit's edit: an error."""
        legacy_genuine = False
        if self.plan_changed and meta.get(KEYS["version"]) == "1":
            order = self.made.items or list(self.locked)
            found = [self.locked.get(i) for i in order]
            legacy_genuine = all(row is not None for row in found) and \
                legacy_fingerprint(found) == meta.get(KEYS["fingerprint"], "")
            if not legacy_genuine:
                self.issue("fingerprint-mismatch", "填報表的識別碼與鎖定欄位的內容不符（識別資料可能被竄改，"
                           "或灰色欄位被修改）；鎖定欄位已以計畫內容為準，請以原填報表填寫後回傳。",
                           sheet="")
        for row, name, cell, found_text, want in self.edits:
            if legacy_genuine:
                self.ret.revisions.append((row.item_id, name, found_text, want))
                continue
            self.issue("structure-changed", f"鎖定欄位「{name}」的內容被修改，已以計畫內容為準；"
                       "請勿修改灰色欄位。", cell=cell, field=name, value=found_text, expected=want)
            row.flags.append("structure-changed")

    def read_form_fields(self, sheet: SheetData, header_row: int) -> None:
        """填表人, 聯絡電話, 填報日期: each label's value is the cell to its right."""
        from .rules import Checked

        for r in range(0, header_row):
            for c in range(len(sheet.rows[r]) if r < len(sheet.rows) else 0):
                label = norm_text(sheet.cell(r, c))
                col = next((f for f in F.FORM_FIELDS if f.name == label), None)
                if col is None or col.name in self.ret.header:
                    continue
                raw = self.as_declared(col, sheet.cell(r, c + 1))
                result: Checked = check(rule_for(col), col, raw, expected_text(col))
                # Keep what was typed when it is invalid, so nothing is lost: as text,
                # since an impossible date or a NaN is no value any writer can store.
                self.ret.header[col.name] = _show(raw) if result.problem else result.value
                if result.problem:
                    self.issue(result.problem.code, result.problem.message, WARNING,
                               cell=a1(r, c + 1), field=col.name, value=raw,
                               expected=result.problem.expected)

    def read_row(self, sheet: SheetData, r: int, cols: dict[str, int], item, inputs) -> Row:
        plan = self.plan
        row = Row(item_id=item.id, row=r, raw=dict(inputs) if self.keep_raw else None)
        for col in F.PLAN_COLUMNS:  # locked content must be the plan's
            if col.name not in cols or col.role == "id":
                continue
            raw_found = self.as_declared(col, sheet.cell(r, cols[col.name]))
            want_raw = plan_cell_value(plan, item, col.attr)
            if raw_found == want_raw:
                continue  # the usual case, without normalising
            found, want = norm_text(raw_found), norm_text(want_raw)
            if squeeze(found) != squeeze(want) and not _same_number(found, want):
                if self.is_earlier_wording(item.id, col, raw_found):
                    self.ret.revisions.append((item.id, col.name, prose(raw_found), prose(want_raw)))
                    if col.attr == "points":
                        self.seen_points[item.id] = raw_found
                else:
                    self.edits.append((row, col.name, a1(r, cols[col.name]), found, want))
        status_col = F.column("status")
        formula_cols: set[str] = set()
        for col in F.INPUT_COLUMNS:
            if col.name not in cols:
                continue
            c = cols[col.name]
            choices = tuple(plan.lists.get(col.list_name, ())) if col.kind == "list" else None
            maximum = getattr(item, col.maximum_attr) if col.maximum_attr else None
            seen = self.seen_points.get(item.id) if col.maximum_attr == "points" else None
            if isinstance(seen, (int, float)) and seen > (maximum or 0):
                maximum = seen  # the unit scored against the points its template showed
            raw = inputs.get(col.name)
            if (r, c) in self.formulas:
                # The cached value of a formula can be stale or forged: never trust it.
                self.issue("formula", f"「{col.name}」是公式而非數值，已忽略（編號 {item.id}）；"
                           "請直接輸入數值或文字。", cell=a1(r, c), field=col.name, value=raw)
                row.flags.append("formula")
                row.invalid.append(col.name)
                row.values[col.name] = None
                formula_cols.add(col.name)
                continue
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
                self.ret.capped[item.id] = result.value
                row.values[col.name] = current
                row.flags.append("revised-points")
            if result.problem:
                self.issue(result.problem.code, f"{result.problem.message}（編號 {item.id}）。",
                           cell=a1(r, c), field=col.name, value=raw,
                           expected=result.problem.expected)
                row.flags.append(result.problem.code)
                row.invalid.append(col.name)
            elif result.note:
                self.issue("normalized", f"{result.note}（編號 {item.id}）。", WARNING,
                           cell=a1(r, c), field=col.name, value=raw)
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
            self.issue("missing-value", f"「{col.name}」未填（編號 {item.id}）{hint}。",
                       cell=a1(r, cols[col.name]), field=col.name, expected="必填")
            row.flags.append("missing-value")
            row.invalid.append(col.name)
        return row


def read_returns(plan: Plan, paths: list[Path], *, keep_raw: bool = False,
                 workers: int | None = None,
                 progress: Callable[[Path], None] | None = None) -> Iterator[Return]:
    """Read and check every file in isolated worker processes, yielding in the order
    given. A worker that crashes, runs out of memory or of time costs only its file,
    which comes back as a Return holding one issue that says so."""
    from ..reading.isolation import Failure, Pool
    from ..reading.workbook import failure_issue

    paths = list(paths)
    if workers is None:
        workers = 1 if len(paths) < PARALLEL_FROM else worker_count()
    with Pool(_read_return_job, plan, workers=workers) as pool:
        answers = pool.map((path, keep_raw) for path in paths)
        for path, answer in zip(paths, answers):
            if isinstance(answer, Failure):
                answer = Return(path=path, issues=[failure_issue(path, answer, pool.limits)])
            if progress:
                progress(path)
            yield answer


PARALLEL_FROM = 24  # files; below this one worker is quicker than several


def worker_count() -> int:
    """One worker per core, up to 8; XLTOOL_WORKERS overrides (e.g. on a shared server)."""
    value = os.environ.get("XLTOOL_WORKERS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return min(os.cpu_count() or 1, 8)


def _read_return_job(plan: Plan, payload: tuple[Path, bool]) -> Return:
    path, keep_raw = payload
    return read_return(plan, path, keep_raw)


def read_return(plan: Plan, path: Path, keep_raw: bool = False) -> Return:
    """Recognise and check one returned workbook. Never raises for a bad file:
    anything unexpected becomes one issue record and the batch goes on.
    ``keep_raw`` keeps every value as found, for the correction copies."""
    intake = _Intake(plan, Path(path), keep_raw)
    try:
        return intake.run()
    except Exception as exc:  # noqa: BLE001 — one bad file must not stop the merge
        ret = Return(path=Path(path))
        ret.issues.append(Issue("internal-error", f"xltool 讀取「{display_name(path)}」時發生內部錯誤"
                                f"（{type(exc).__name__}）；這不是檔案的問題，請將此訊息回報開發者。",
                                file=display_name(path)))
        return ret


def _header_row(sheet: SheetData) -> int | None:
    for r in range(min(HEADER_SEARCH_ROWS, len(sheet.rows))):
        names = {_column_name(v) for v in sheet.rows[r]}
        if F.header_signature() <= names:
            return r
    return None


def _column_name(value: Any) -> str:
    return header_name(value)


def _item_ids(sheet: SheetData) -> list[str]:
    header = _header_row(sheet)
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


def _show(value: Any) -> str:
    text = clean_text(value) if isinstance(value, str) else norm_text(value)
    if isinstance(value, float):
        text = fmt_number(value)
    return text if len(text) <= 200 else text[:200] + "…"
