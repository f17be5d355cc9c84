"""Reading the plan workbook: loaded and checked once.

A plan workbook has the sheets 計畫, 構面, 單位, 項目, 等第 and 選項 (see
README). :func:`check_plan` reads it and returns the model together with every
fault found, each pinned to a sheet and cell; :func:`load_plan` is the same
but raises :class:`PlanError` when there are errors. Nothing here knows any
particular plan: names, points, units, groups, lists and grade bands are data.
"""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path
from typing import Any

from schema import And, Or, Schema, SchemaError, Use

from ..cells import a1, fmt_number, header_name, norm_text, parse_date, parse_offset, prose, to_number
from ..errors import WARNING, Issue, PlanError
from ..reading.workbook import Rejected, SheetData, read_workbook
from .grades import GradeBand
from .model import STATUS_LIST, Dimension, Item, Plan, PlanInfo
from .units import Unit, UnitDirectory, split_names

INFO_SHEET, DIM_SHEET, UNIT_SHEET, ITEM_SHEET, GRADE_SHEET, LIST_SHEET = (
    "計畫", "構面", "單位", "項目", "等第", "選項")
SHEETS = (INFO_SHEET, DIM_SHEET, UNIT_SHEET, ITEM_SHEET, GRADE_SHEET, LIST_SHEET)

# 計畫 sheet: field name → (attribute, required)
INFO_FIELDS = {
    "計畫名稱": ("name", True),
    "機關名稱": ("agency", True),
    "年度": ("year", True),
    "填報期間": ("period", True),
    "考核年月": ("review_month", True),
    "繳交期限": ("deadline", True),
    "承辦單位": ("contact_unit", False),
    "承辦人": ("contact_person", False),
    "聯絡電話": ("contact_phone", False),
    "電子郵件": ("contact_email", False),
    "不適用選項": ("not_applicable", False),
    "簡稱": ("short_name", False),
    "時區": ("time_zone", False),
}

# ---------------------------------------------------------------- cell rules
# Each rule is a `schema` Schema over one cell's raw value; the innermost
# error text is the message the user sees.


def _key(value: Any) -> str:
    """Text that is matched (codes, names, lists): NFKC, so ＡＢ and AB are one."""
    return norm_text(value)


def _review_month(value: Any) -> str:
    if not isinstance(value, str):
        # 109.10 typed as a number arrives as 109.1: the month is already lost.
        raise ValueError("number")
    text = norm_text(value)
    if not re.fullmatch(r"\d{2,3}\.(0[1-9]|1[0-2])", text):
        raise ValueError(text)
    return text


def _email(value: Any) -> str:
    """One address, local@domain.tld; the reason in zh-TW when it is not."""
    from .addresses import address_problem

    text = norm_text(value)
    problem = address_problem(text) if text else None
    if problem:
        raise SchemaError(None, problem)
    return text


# Line breaks and control characters: these values go into mail headers, file
# names and sheet titles, where a line break breaks the message or the file.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")
SINGLE_LINE_INFO = ("計畫名稱", "機關名稱", "簡稱", "承辦單位")


# Prose (the plan's signed wording) is kept exactly as typed, full-width punctuation and
# all; only what is matched is normalised (see cells.prose and cells.norm_text).
REQUIRED = And(Use(prose), len, error="此欄必填，不可空白")
OPTIONAL = Use(prose)
REQUIRED_KEY = And(Use(_key), len, error="此欄必填，不可空白")
OPTIONAL_KEY = Use(_key)
POSITIVE = And(Use(to_number, error="須為數字"), lambda v: v > 0, error="須為大於 0 的數字")
NON_NEGATIVE = And(Use(to_number, error="須為數字"), lambda v: v >= 0, error="須為 0 以上的數字")
OPTIONAL_NON_NEGATIVE = Or(None, NON_NEGATIVE)
YEAR = And(Use(to_number, error="須為民國年度數字，例如 109"),
           lambda v: isinstance(v, int) and 1 <= v <= 300, error="須為民國年度數字，例如 109")
INFO_RULES = {
    "年度": YEAR,
    "考核年月": Use(_review_month, error="須為文字格式的「年.月」，例如 109.07"
                                    "（請將儲存格設為文字；數字 109.10 會變成 109.1）"),
    "繳交期限": Use(parse_date, error="須為日期，例如 109/07/10 或 2020-07-10"),
    "電子郵件": Use(_email),
    "不適用選項": OPTIONAL_KEY,
    "時區": Use(lambda v: parse_offset(v) and norm_text(v), error="須為時差，例如 +08:00 或 UTC+8"),
}
DIM_RULES = {"代碼": REQUIRED_KEY, "名稱": REQUIRED, "配分": POSITIVE}
UNIT_RULES = {"名稱": REQUIRED_KEY, "類別": OPTIONAL, "群組": OPTIONAL_KEY, "別名": OPTIONAL_KEY,
              "電子郵件": Use(_email)}
ITEM_RULES = {"編號": REQUIRED_KEY, "構面": REQUIRED_KEY, "執行策略": REQUIRED, "執行方法": REQUIRED,
              "主辦單位": REQUIRED, "具體作法": REQUIRED, "目標值": OPTIONAL_NON_NEGATIVE,
              "計量單位": OPTIONAL, "配分": POSITIVE}
GRADE_RULES = {"等第": REQUIRED, "最低分": NON_NEGATIVE}

# ---------------------------------------------------------------- loading


def load_plan(path: Path) -> Plan:
    """Read and check a plan; raise :class:`PlanError` listing every error."""
    plan, issues = check_plan(path)
    if plan is None or any(i.is_error for i in issues):
        raise PlanError(issues)
    plan.warnings = issues
    return plan


def check_plan(path: Path) -> tuple[Plan | None, list[Issue]]:
    """Read a plan workbook and return (model or None, every issue found)."""
    path = Path(path)
    try:
        wb = read_workbook(path)
    except Rejected as exc:
        return None, [exc.issue]
    return _PlanReader(path, wb.sheets).read()


class _PlanReader:
    def __init__(self, path: Path, sheets: dict[str, SheetData]):
        self.path = path
        self.file = path.name
        self.sheets = sheets
        self.issues: list[Issue] = []

    def fault(self, message: str, sheet: str, row: int | None = None,
              col: int | None = None, *, code: str, severity: str = "",
              value: Any = None, field: str = "") -> None:
        cell = a1(row, col) if row is not None and col is not None else ""
        self.issues.append(Issue(code=code, severity=severity, message=message, file=self.file,
                                 sheet=sheet, cell=cell, field=field,
                                 value=norm_text(value) if value is not None else ""))

    def read(self) -> tuple[Plan | None, list[Issue]]:
        # A missing sheet reads as empty, so the other sheets are still checked.
        self.missing = [s for s in SHEETS if s not in self.sheets]
        for name in self.missing:
            self.fault(f"計畫檔缺少工作表「{name}」。", name, code="missing-sheet")
            self.sheets[name] = SheetData(name, [])
        info = self.read_info()
        dims = self.read_dimensions()
        units = self.read_units()
        directory = UnitDirectory(units)
        items = self.read_items(dims, directory)
        grades = self.read_grades()
        lists = self.read_lists()
        if info is None or self.missing:
            return None, self.issues
        self.check_points(dims, items)
        self.check_leads(units, items)
        statuses = {norm_text(v): v for v in lists.get(STATUS_LIST, [])}
        if info.not_applicable and statuses:
            if norm_text(info.not_applicable) in statuses:  # as the list words it
                info = replace(info, not_applicable=statuses[norm_text(info.not_applicable)])
            else:
                self.fault(f"「不適用選項」的值「{info.not_applicable}」不在「{STATUS_LIST}」清單中。",
                           INFO_SHEET, code="not-in-list")
        plan = Plan(info=info, dimensions=dims, units=units, items=items, grades=grades,
                    lists=lists, source=self.path)
        return plan, self.issues

    # -- generic table reading -------------------------------------------------

    def table(self, sheet_name: str, rules: dict[str, Schema]) -> list[tuple[int, dict]]:
        """Rows of a header-row-1 sheet as (row index, {column: value}) after the rules."""
        if sheet_name in self.missing:
            return []
        sheet = self.sheets[sheet_name]
        header = [header_name(v) for v in (sheet.rows[0] if sheet.rows else [])]
        cols = {}
        for name in rules:
            if name in header:
                cols[name] = header.index(name)
            else:
                self.fault(f"工作表「{sheet_name}」第 1 列缺少欄位「{name}」。", sheet_name,
                           0, len(header), code="missing-column", field=name)
        if len(cols) < len(rules):
            return []
        out = []
        for r in range(1, len(sheet.rows)):
            raw = {name: sheet.cell(r, c) for name, c in cols.items()}
            if all(v is None or norm_text(v) == "" for v in raw.values()):
                continue
            values, ok = {}, True
            for name, rule in rules.items():
                try:
                    values[name] = Schema(rule).validate(raw[name])
                except SchemaError as exc:
                    ok = False
                    self.fault(f"{name}：{_schema_message(exc)}。", sheet_name, r, cols[name],
                               value=raw[name], field=name,
                               code="missing-value" if raw[name] is None else "type-error")
            values["_cols"] = cols
            if ok:
                out.append((r, values))
        return out

    # -- sheets --------------------------------------------------------------

    def read_info(self) -> PlanInfo | None:
        if INFO_SHEET in self.missing:
            return None
        sheet = self.sheets[INFO_SHEET]
        found: dict[str, tuple[int, Any]] = {}
        header = [header_name(v) for v in (sheet.rows[0] if sheet.rows else [])]
        if header[:2] != ["欄位", "內容"]:
            self.fault("工作表「計畫」第 1 列須為「欄位｜內容」。", INFO_SHEET, 0, 0,
                       code="missing-column")
            return None
        for r in range(1, len(sheet.rows)):
            key = norm_text(sheet.cell(r, 0))
            if key:
                found[key] = (r, sheet.cell(r, 1))
        values: dict[str, Any] = {}
        for label, (attr, required) in INFO_FIELDS.items():
            if label not in found:
                if required:
                    self.fault(f"工作表「計畫」缺少「{label}」這一列。", INFO_SHEET,
                               code="missing-value", field=label)
                continue
            r, raw = found[label]
            if raw is None or norm_text(raw) == "":
                if required:
                    self.fault(f"「{label}」必填，不可空白。", INFO_SHEET, r, 1,
                               code="missing-value", field=label)
                continue
            try:
                values[attr] = Schema(INFO_RULES.get(label, OPTIONAL)).validate(raw)
            except SchemaError as exc:
                self.fault(f"{label}：{_schema_message(exc)}。", INFO_SHEET, r, 1,
                           value=raw, field=label, code="type-error")
        for label in SINGLE_LINE_INFO:
            if label in found:
                self.check_single_line(found[label][1], INFO_SHEET, found[label][0], 1, label)
        if "電子郵件" in found and values.get("contact_email"):
            self.check_address_charset(values["contact_email"], INFO_SHEET, found["電子郵件"][0], 1)
        if any(required and attr not in values for attr, required in INFO_FIELDS.values()):
            return None
        return PlanInfo(**values)

    def read_dimensions(self) -> list[Dimension]:
        dims: list[Dimension] = []
        self._dim_rows: dict[str, int] = {}
        for r, v in self.table(DIM_SHEET, DIM_RULES):
            for key, col in (("代碼", v["_cols"]["代碼"]), ("名稱", v["_cols"]["名稱"])):
                if any(_key(v[key]) in (d.code, _key(d.name)) for d in dims):
                    self.fault(f"構面{key}「{v[key]}」重複。", DIM_SHEET, r, col,
                               value=v[key], code="duplicate", field=key)
            dims.append(Dimension(v["代碼"], v["名稱"], v["配分"]))
            self._dim_rows[v["代碼"]] = r
        if not dims and not any(i.sheet == DIM_SHEET for i in self.issues):
            self.fault("工作表「構面」沒有任何構面。", DIM_SHEET, code="missing-value")
        return dims

    def read_units(self) -> list[Unit]:
        units: list[Unit] = []
        self._unit_rows: dict[str, int] = {}
        for r, v in self.table(UNIT_SHEET, UNIT_RULES):
            name = v["名稱"]
            cols = v["_cols"]
            self.check_single_line(name, UNIT_SHEET, r, cols["名稱"], "名稱")
            for key in ("群組", "別名"):
                self.check_single_line(v[key], UNIT_SHEET, r, cols[key], key, list_cell=True)
            self.check_address_charset(v["電子郵件"], UNIT_SHEET, r, cols["電子郵件"])
            if name in self._unit_rows:
                self.fault(f"單位「{name}」重複。", UNIT_SHEET, r, v["_cols"]["名稱"],
                           value=name, code="duplicate", field="名稱")
                continue
            units.append(Unit(name=name, category=v["類別"], groups=tuple(split_names(v["群組"])),
                              aliases=tuple(split_names(v["別名"])), email=v["電子郵件"]))
            self._unit_rows[name] = r
        names = {u.name for u in units}
        for u in units:
            for alias in u.aliases:
                if alias in names:
                    self.fault(f"別名「{alias}」與單位名稱相同。", UNIT_SHEET, self._unit_rows[u.name],
                               self.sheets_header_col(UNIT_SHEET, "別名"), value=alias,
                               code="duplicate", field="別名")
            for group in u.groups:
                if group in names:
                    self.fault(f"群組「{group}」與單位名稱相同。", UNIT_SHEET, self._unit_rows[u.name],
                               self.sheets_header_col(UNIT_SHEET, "群組"), value=group,
                               code="duplicate", field="群組")
        if not units and not any(i.sheet == UNIT_SHEET for i in self.issues):
            self.fault("工作表「單位」沒有任何單位。", UNIT_SHEET, code="missing-value")
        return units

    def check_single_line(self, value: Any, sheet: str, row: int, col: int, field: str,
                          list_cell: bool = False) -> None:
        """An error when a name holds a line break or a control character.
        A list cell (群組, 別名) may put one name per line: only those lines are checked."""
        from ..quoting import quote

        text = norm_text(value)
        if list_cell:
            text = re.sub(r"[\r\n]+", "、", text)
        if not _CONTROL.search(text):
            return
        kind = "換行" if re.search(r"[\r\n\u2028\u2029]", text) else "控制字元"
        self.fault(f"{field}「{quote(text)}」含有{kind}；請改為單行文字，不要有換行或特殊字元。",
                   sheet, row, col, code="control-character", value=quote(text), field=field)

    def check_address_charset(self, address: str, sheet: str, row: int, col: int) -> None:
        """A non-ASCII local part is valid, but only SMTPUTF8 servers deliver it."""
        from .addresses import needs_smtputf8

        if address and needs_smtputf8(address):
            self.fault(f"電子郵件「{address}」@ 前的帳號含有中文或其他非英數字元，只有支援 SMTPUTF8 的"
                       "郵件伺服器能寄送；建議改用英數帳號（網域可為中文）。", sheet, row, col,
                       code="needs-smtputf8", severity=WARNING, value=address, field="電子郵件")

    def sheets_header_col(self, sheet: str, name: str) -> int:
        header = [header_name(v) for v in self.sheets[sheet].rows[0]]
        return header.index(name)

    def read_items(self, dims: list[Dimension], directory: UnitDirectory) -> list[Item]:
        items: list[Item] = []
        seen: set[str] = set()
        for r, v in self.table(ITEM_SHEET, ITEM_RULES):
            cols = v["_cols"]
            if v["編號"] in seen:
                self.fault(f"編號「{v['編號']}」重複。", ITEM_SHEET, r, cols["編號"],
                           value=v["編號"], code="duplicate", field="編號")
                continue
            seen.add(v["編號"])
            dim = next((d for d in dims if v["構面"] in (d.code, _key(d.name))), None)
            if dim is None and dims:  # with no usable 構面 sheet, that sheet's fault says it
                self.fault(f"構面「{v['構面']}」不在工作表「構面」的代碼或名稱中。", ITEM_SHEET, r,
                           cols["構面"], value=v["構面"], code="unknown-dimension", field="構面")
            leads, unknown = directory.expand(v["主辦單位"])
            for token in unknown:
                self.fault(f"主辦單位「{token}」不是工作表「單位」中的單位、群組或別名。", ITEM_SHEET,
                           r, cols["主辦單位"], value=v["主辦單位"], code="unknown-unit",
                           field="主辦單位")
            if not leads and not unknown:
                self.fault("主辦單位沒有對應到任何單位。", ITEM_SHEET, r, cols["主辦單位"],
                           value=v["主辦單位"], code="unknown-unit", field="主辦單位")
            if dim is None or unknown or not leads:
                continue
            items.append(Item(id=v["編號"], dimension=dim.code, strategy=v["執行策略"],
                              method=v["執行方法"], lead_text=v["主辦單位"], practice=v["具體作法"],
                              target=v["目標值"], measure=v["計量單位"], points=v["配分"],
                              leads=tuple(leads)))
        return items

    def read_grades(self) -> list[GradeBand]:
        rows = self.table(GRADE_SHEET, GRADE_RULES)
        bands = [GradeBand(v["等第"], v["最低分"]) for _, v in rows]
        for (r, v), (_, prev) in zip(rows[1:], rows):
            if v["最低分"] >= prev["最低分"]:
                self.fault(f"等第須由高到低排列：「{v['等第']}」的最低分 {v['最低分']} 應小於上一列"
                           f"「{prev['等第']}」的 {prev['最低分']}。", GRADE_SHEET, r,
                           v["_cols"]["最低分"], value=v["最低分"], code="grade-order",
                           field="最低分")
        if not rows and not any(i.sheet == GRADE_SHEET for i in self.issues):
            self.fault("工作表「等第」沒有任何等第。", GRADE_SHEET, code="missing-value")
        elif rows and rows[-1][1]["最低分"] > 0:
            self.fault(f"最低一級「{rows[-1][1]['等第']}」的最低分不是 0，低於此分數的總分將沒有等第。",
                       GRADE_SHEET, rows[-1][0], rows[-1][1]["_cols"]["最低分"],
                       severity=WARNING, code="grade-gap")
        return bands

    def read_lists(self) -> dict[str, list[str]]:
        lists: dict[str, list[str]] = {}
        if LIST_SHEET in self.missing:
            return lists
        sheet = self.sheets[LIST_SHEET]
        for c, head in enumerate(sheet.rows[0] if sheet.rows else []):
            name = header_name(head)
            if not name:
                continue
            values, keys = [], set()
            for r in range(1, len(sheet.rows)):
                v = prose(sheet.cell(r, c))  # shown in every drop-down: the plan's wording
                if not v:
                    continue
                if norm_text(v) in keys:
                    self.fault(f"清單「{name}」的值「{v}」重複。", LIST_SHEET, r, c, value=v,
                               code="duplicate", field=name)
                    continue
                values.append(v)
                keys.add(norm_text(v))
            if not values:
                self.fault(f"清單「{name}」沒有任何值。", LIST_SHEET, 1, c, code="missing-value",
                           field=name)
            lists[name] = values
        if STATUS_LIST not in lists:
            self.fault(f"工作表「選項」缺少「{STATUS_LIST}」清單（第 1 列為清單名稱）。", LIST_SHEET,
                       0, len(lists), code="missing-column", field=STATUS_LIST)
        return lists

    # -- cross-sheet checks --------------------------------------------------

    def check_points(self, dims: list[Dimension], items: list[Item]) -> None:
        for d in dims:
            total = sum(i.points for i in items if i.dimension == d.code)
            if abs(total - d.points) > 1e-6:
                self.fault(f"構面「{d.name}」配分 {_n(d.points)}，但其項目配分合計 {_n(total)}。",
                           DIM_SHEET, self._dim_rows[d.code], self.sheets_header_col(DIM_SHEET, "配分"),
                           value=d.points, code="points-mismatch", field="配分")

    def check_leads(self, units: list[Unit], items: list[Item]) -> None:
        if any(i.sheet == ITEM_SHEET and i.is_error for i in self.issues):
            return  # a bad 主辦單位 cell would make this warning misleading
        leading = {lead for i in items for lead in i.leads}
        for u in units:
            if u.name not in leading:
                self.fault(f"單位「{u.name}」沒有主辦任何項目，將不會產生填報表。", UNIT_SHEET,
                           self._unit_rows[u.name], self.sheets_header_col(UNIT_SHEET, "名稱"),
                           value=u.name, severity=WARNING, code="unit-without-items", field="名稱")


def _schema_message(exc: SchemaError) -> str:
    return next((m for m in reversed(exc.errors) if m), "格式不正確")


def _n(value: float) -> str:
    return fmt_number(value)

