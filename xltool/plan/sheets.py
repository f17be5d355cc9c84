"""One reader per plan sheet, and the checks across sheets.

Each reader takes the :class:`PlanBook`, adds a fault for every cell that is
wrong, and returns what it could read (with the rows things came from, for
the cross-sheet checks to point at).
"""
from __future__ import annotations

import re
from typing import Any

from schema import Schema, SchemaError

from ..cells import fmt_number, header_name, norm_text, prose
from ..errors import WARNING
from ..quoting import quote
from .addresses import needs_smtputf8
from .book import PlanBook, Row
from .grades import GradeBand
from .model import STATUS_LIST, Dimension, Item, PlanInfo
from .rules import (
    CONTROL,
    DIM_RULES,
    DIM_SHEET,
    GRADE_RULES,
    GRADE_SHEET,
    INFO_FIELDS,
    INFO_RULES,
    INFO_SHEET,
    ITEM_RULES,
    ITEM_SHEET,
    LIST_SHEET,
    OPTIONAL,
    SINGLE_LINE_INFO,
    UNIT_RULES,
    UNIT_SHEET,
    key,
    schema_message,
)
from .units import Unit, UnitDirectory, split_names

# ---------------------------------------------------------------- 計畫


def read_info(book: PlanBook) -> PlanInfo | None:
    """The 計畫 sheet (欄位｜內容 rows); None when a required field is missing or wrong."""
    if INFO_SHEET in book.missing:
        return None
    if book.header(INFO_SHEET)[:2] != ["欄位", "內容"]:
        book.fault("工作表「計畫」第 1 列須為「欄位｜內容」。", INFO_SHEET, 0, 0, code="missing-column")
        return None
    sheet = book.sheets[INFO_SHEET]
    found: dict[str, tuple[int, Any]] = {}
    for r in range(1, len(sheet.rows)):
        label = norm_text(sheet.cell(r, 0))
        if label:
            found[label] = (r, sheet.cell(r, 1))
    values: dict[str, Any] = {}
    for label, (attr, required) in INFO_FIELDS.items():
        value = _info_value(book, label, required, found.get(label))
        if value is not None:
            values[attr] = value
    for label in SINGLE_LINE_INFO:
        if label in found:
            check_single_line(book, found[label][1], INFO_SHEET, found[label][0], 1, label)
    if "電子郵件" in found and values.get("contact_email"):
        check_address_charset(book, values["contact_email"], INFO_SHEET, found["電子郵件"][0], 1)
    if any(required and attr not in values for attr, required in INFO_FIELDS.values()):
        return None
    return PlanInfo(**values)


def _info_value(book: PlanBook, label: str, required: bool, found: tuple[int, Any] | None) -> Any:
    """One 計畫 field through its rule; None when absent, blank or wrong (with a fault
    where that matters)."""
    if found is None:
        if required:
            book.fault(f"工作表「計畫」缺少「{label}」這一列。", INFO_SHEET, code="missing-value", field=label)
        return None
    r, raw = found
    if raw is None or norm_text(raw) == "":
        if required:
            book.fault(f"「{label}」必填，不可空白。", INFO_SHEET, r, 1, code="missing-value", field=label)
        return None
    try:
        return Schema(INFO_RULES.get(label, OPTIONAL)).validate(raw)
    except SchemaError as exc:
        book.fault(f"{label}：{schema_message(exc)}。", INFO_SHEET, r, 1, value=raw, field=label,
                   code="type-error")
        return None


# ---------------------------------------------------------------- 構面


def read_dimensions(book: PlanBook) -> tuple[list[Dimension], dict[str, int]]:
    """The dimensions, and the row of each (by 代碼)."""
    dims: list[Dimension] = []
    rows: dict[str, int] = {}
    for row in book.table(DIM_SHEET, DIM_RULES):
        for field in ("代碼", "名稱"):
            if any(key(row[field]) in (d.code, key(d.name)) for d in dims):
                book.fault(f"構面{field}「{row[field]}」重複。", DIM_SHEET, row.index, row.cols[field],
                           value=row[field], code="duplicate", field=field)
        dims.append(Dimension(row["代碼"], row["名稱"], row["配分"]))
        rows[row["代碼"]] = row.index
    if not dims and not book.has_faults(DIM_SHEET):
        book.fault("工作表「構面」沒有任何構面。", DIM_SHEET, code="missing-value")
    return dims, rows


# ---------------------------------------------------------------- 單位


def read_units(book: PlanBook) -> tuple[list[Unit], dict[str, int]]:
    """The units, and the row of each (by name)."""
    units: list[Unit] = []
    rows: dict[str, int] = {}
    for row in book.table(UNIT_SHEET, UNIT_RULES):
        _check_unit_cells(book, row)
        name = row["名稱"]
        if name in rows:
            book.fault(f"單位「{name}」重複。", UNIT_SHEET, row.index, row.cols["名稱"],
                       value=name, code="duplicate", field="名稱")
            continue
        units.append(Unit(name=name, category=row["類別"], groups=tuple(split_names(row["群組"])),
                          aliases=tuple(split_names(row["別名"])), email=row["電子郵件"]))
        rows[name] = row.index
    _check_names_are_not_units(book, units, rows)
    if not units and not book.has_faults(UNIT_SHEET):
        book.fault("工作表「單位」沒有任何單位。", UNIT_SHEET, code="missing-value")
    return units, rows


def _check_unit_cells(book: PlanBook, row: Row) -> None:
    check_single_line(book, row["名稱"], UNIT_SHEET, row.index, row.cols["名稱"], "名稱")
    for field in ("群組", "別名"):
        check_single_line(book, row[field], UNIT_SHEET, row.index, row.cols[field], field, list_cell=True)
    check_address_charset(book, row["電子郵件"], UNIT_SHEET, row.index, row.cols["電子郵件"])


def _check_names_are_not_units(book: PlanBook, units: list[Unit], rows: dict[str, int]) -> None:
    """An alias or group spelled like a unit would make 主辦單位 ambiguous."""
    names = {u.name for u in units}
    for u in units:
        for field, values in (("別名", u.aliases), ("群組", u.groups)):
            for value in values:
                if value in names:
                    book.fault(f"{field}「{value}」與單位名稱相同。", UNIT_SHEET, rows[u.name],
                               book.header_col(UNIT_SHEET, field), value=value, code="duplicate",
                               field=field)


def check_single_line(book: PlanBook, value: Any, sheet: str, row: int, col: int, field: str,
                      list_cell: bool = False) -> None:
    """A fault when a name holds a line break or a control character: these values go
    into mail headers, file names and sheet titles. A list cell (群組, 別名) may put one
    name per line: only those lines are checked."""
    text = norm_text(value)
    if list_cell:
        text = re.sub(r"[\r\n]+", "、", text)
    if not CONTROL.search(text):
        return
    kind = "換行" if re.search(r"[\r\n\u2028\u2029]", text) else "控制字元"
    book.fault(f"{field}「{quote(text)}」含有{kind}；請改為單行文字，不要有換行或特殊字元。",
               sheet, row, col, code="control-character", value=quote(text), field=field)


def check_address_charset(book: PlanBook, address: str, sheet: str, row: int, col: int) -> None:
    """A non-ASCII local part is valid, but only SMTPUTF8 servers deliver it."""
    if address and needs_smtputf8(address):
        book.fault(f"電子郵件「{address}」@ 前的帳號含有中文或其他非英數字元，只有支援 SMTPUTF8 的"
                   "郵件伺服器能寄送；建議改用英數帳號（網域可為中文）。", sheet, row, col,
                   code="needs-smtputf8", severity=WARNING, value=address, field="電子郵件")


# ---------------------------------------------------------------- 項目


def read_items(book: PlanBook, dims: list[Dimension], directory: UnitDirectory
               ) -> tuple[list[Item], set[str]]:
    """The items, and the dimensions that lost an item to a fault in its row (their
    points cannot be checked: the fault already says what is wrong)."""
    items: list[Item] = []
    incomplete: set[str] = set()
    seen: set[str] = set()
    for row in book.table(ITEM_SHEET, ITEM_RULES):
        if row["編號"] in seen:
            book.fault(f"編號「{row['編號']}」重複。", ITEM_SHEET, row.index, row.cols["編號"],
                       value=row["編號"], code="duplicate", field="編號")
            continue
        seen.add(row["編號"])
        dim = _dimension_of(book, row, dims)
        leads = _leads_of(book, row, directory)
        if dim is not None and leads:
            items.append(Item(id=row["編號"], dimension=dim.code, strategy=row["執行策略"],
                              method=row["執行方法"], lead_text=row["主辦單位"], practice=row["具體作法"],
                              target=row["目標值"], measure=row["計量單位"], points=row["配分"],
                              leads=tuple(leads)))
        elif dim is not None:
            incomplete.add(dim.code)
    return items, incomplete


def _dimension_of(book: PlanBook, row: Row, dims: list[Dimension]) -> Dimension | None:
    dim = next((d for d in dims if row["構面"] in (d.code, key(d.name))), None)
    if dim is None and dims:  # with no usable 構面 sheet, that sheet's fault says it
        book.fault(f"構面「{row['構面']}」不在工作表「構面」的代碼或名稱中。", ITEM_SHEET, row.index,
                   row.cols["構面"], value=row["構面"], code="unknown-dimension", field="構面")
    return dim


def _leads_of(book: PlanBook, row: Row, directory: UnitDirectory) -> list[str]:
    """The units 主辦單位 names, expanded; empty when any of it is not a unit."""
    leads, unknown = directory.expand(row["主辦單位"])
    for token in unknown:
        book.fault(f"主辦單位「{token}」不是工作表「單位」中的單位、群組或別名。", ITEM_SHEET,
                   row.index, row.cols["主辦單位"], value=row["主辦單位"], code="unknown-unit",
                   field="主辦單位")
    if not leads and not unknown:
        book.fault("主辦單位沒有對應到任何單位。", ITEM_SHEET, row.index, row.cols["主辦單位"],
                   value=row["主辦單位"], code="unknown-unit", field="主辦單位")
    return [] if unknown else leads


# ---------------------------------------------------------------- 等第 and 選項


def read_grades(book: PlanBook) -> list[GradeBand]:
    rows = book.table(GRADE_SHEET, GRADE_RULES)
    for row, prev in zip(rows[1:], rows):
        if row["最低分"] >= prev["最低分"]:
            book.fault(f"等第須由高到低排列：「{row['等第']}」的最低分 {row['最低分']} 應小於上一列"
                       f"「{prev['等第']}」的 {prev['最低分']}。", GRADE_SHEET, row.index,
                       row.cols["最低分"], value=row["最低分"], code="grade-order", field="最低分")
    if not rows and not book.has_faults(GRADE_SHEET):
        book.fault("工作表「等第」沒有任何等第。", GRADE_SHEET, code="missing-value")
    elif rows and rows[-1]["最低分"] > 0:
        last = rows[-1]
        book.fault(f"最低一級「{last['等第']}」的最低分不是 0，低於此分數的總分將沒有等第。",
                   GRADE_SHEET, last.index, last.cols["最低分"], severity=WARNING, code="grade-gap")
    return [GradeBand(row["等第"], row["最低分"]) for row in rows]


def read_lists(book: PlanBook) -> dict[str, list[str]]:
    """The 選項 sheet: one list per column, its name in row 1."""
    lists: dict[str, list[str]] = {}
    if LIST_SHEET in book.missing:
        return lists
    sheet = book.sheets[LIST_SHEET]
    for c, head in enumerate(sheet.rows[0] if sheet.rows else []):
        name = header_name(head)
        if name:
            lists[name] = _list_values(book, name, c)
    if STATUS_LIST not in lists:
        book.fault(f"工作表「選項」缺少「{STATUS_LIST}」清單（第 1 列為清單名稱）。", LIST_SHEET,
                   0, len(lists), code="missing-column", field=STATUS_LIST)
    return lists


def _list_values(book: PlanBook, name: str, c: int) -> list[str]:
    sheet = book.sheets[LIST_SHEET]
    values: list[str] = []
    keys: set[str] = set()
    for r in range(1, len(sheet.rows)):
        v = prose(sheet.cell(r, c))  # shown in every drop-down: the plan's wording
        if not v:
            continue
        if norm_text(v) in keys:
            book.fault(f"清單「{name}」的值「{v}」重複。", LIST_SHEET, r, c, value=v,
                       code="duplicate", field=name)
            continue
        values.append(v)
        keys.add(norm_text(v))
    if not values:
        book.fault(f"清單「{name}」沒有任何值。", LIST_SHEET, 1, c, code="missing-value", field=name)
    return values


# ---------------------------------------------------------------- across sheets


def check_points(book: PlanBook, dims: list[Dimension], items: list[Item], rows: dict[str, int],
                 incomplete: set[str]) -> None:
    """Each dimension's points equal the sum of its items' points (where every item
    of the dimension could be read)."""
    for d in dims:
        if d.code in incomplete:
            continue
        total = sum(i.points for i in items if i.dimension == d.code)
        if abs(total - d.points) > 1e-6:
            book.fault(f"構面「{d.name}」配分 {fmt_number(d.points)}，但其項目配分合計 {fmt_number(total)}。",
                       DIM_SHEET, rows[d.code], book.header_col(DIM_SHEET, "配分"),
                       value=d.points, code="points-mismatch", field="配分")


def check_leads(book: PlanBook, units: list[Unit], items: list[Item], rows: dict[str, int]) -> None:
    """A warning for a unit that leads nothing: it gets no form."""
    if book.has_faults(ITEM_SHEET, errors_only=True):
        return  # a bad 主辦單位 cell would make this warning misleading
    leading = {lead for i in items for lead in i.leads}
    for u in units:
        if u.name not in leading:
            book.fault(f"單位「{u.name}」沒有主辦任何項目，將不會產生填報表。", UNIT_SHEET,
                       rows[u.name], book.header_col(UNIT_SHEET, "名稱"),
                       value=u.name, severity=WARNING, code="unit-without-items", field="名稱")
