"""One reader per plan sheet (the checks across sheets are in :mod:`.crossref`).

Each reader takes the :class:`PlanBook`, adds a fault for every cell that is
wrong, and returns what it could read (with the rows things came from, for
the cross-sheet checks to point at). A row with a wrong cell is still read for
what its other cells say.
"""
from __future__ import annotations

from typing import Any

from schema import Schema, SchemaError

from ..cells import a1, header_name, norm_text, prose, squeeze
from ..errors import WARNING
from ..quoting import quote
from .addresses import needs_smtputf8
from .book import PlanBook, Row
from .crossref import Dimensions, DimRow, Tally, Units
from .grades import GradeBand
from .model import STATUS_LIST, Dimension, Item, PlanInfo
from .rules import (
    DIM_RULES,
    DIM_SHEET,
    GRADE_RULES,
    GRADE_SHEET,
    INFO_FIELDS,
    INFO_RULES,
    INFO_SHEET,
    ITEM_RULES,
    ITEM_SHEET,
    LIST_NAME_LIMIT,
    LIST_NAME_PREFIX,
    LIST_SHEET,
    OPTIONAL,
    SINGLE_LINE_INFO,
    UNIT_RULES,
    UNIT_SHEET,
    XLSX_ESCAPE,
    key,
    schema_message,
)
from .units import Unit, UnitDirectory, split_names

# ---------------------------------------------------------------- 計畫


def read_info(book: PlanBook) -> tuple[PlanInfo | None, dict[str, Any] | None]:
    """The 計畫 sheet (欄位｜內容 rows): the model, None when a required field is missing
    or wrong; and every field that could be read (by attribute; None when the sheet
    itself cannot be read), so that the checks needing only those still run."""
    if INFO_SHEET in book.missing:
        return None, None
    if book.header(INFO_SHEET)[:2] != ["欄位", "內容"]:
        book.fault("工作表「計畫」第 1 列須為「欄位｜內容」。", INFO_SHEET, 0, 0, code="missing-column")
        return None, None
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
            book.check_text(value, INFO_SHEET, found[label][0], 1, label,
                            single_line=label in SINGLE_LINE_INFO,
                            identifying=label in SINGLE_LINE_INFO, raw=found[label][1])
    if "電子郵件" in found and values.get("contact_email"):
        check_address_charset(book, values["contact_email"], INFO_SHEET, found["電子郵件"][0], 1)
    if any(required and attr not in values for attr, required in INFO_FIELDS.values()):
        return None, values
    return PlanInfo(**values), values


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


def read_dimensions(book: PlanBook) -> Dimensions:
    """The 構面 sheet: its complete rows, and every row as far as it could be read."""
    dims = Dimensions(unsure=DIM_SHEET in book.missing
                      or not {"代碼", "名稱"} <= set(book.header(DIM_SHEET)))
    for row in book.table(DIM_SHEET, DIM_RULES, partial=True):
        d = DimRow(row.index, row["代碼"] if row.ok("代碼") else "",
                   row["名稱"] if row.ok("名稱") else "", row["配分"] if row.ok("配分") else None)
        dims.unsure = dims.unsure or not (d.code and d.name)
        for field, value in (("代碼", d.code), ("名稱", d.name)):
            twins = [o for o in dims.rows if value and key(value) in (o.code, key(o.name))]
            if twins:
                book.fault(f"構面{field}「{value}」重複。", DIM_SHEET, row.index, row.cols[field],
                           value=value, code="duplicate", field=field)
                dims.ambiguous |= {d.index, *(o.index for o in twins)}
        dims.rows.append(d)
        if d.complete:
            assert d.points is not None
            dims.model.append(Dimension(d.code, d.name, d.points))
    if not dims.model and not book.has_faults(DIM_SHEET):
        book.fault("工作表「構面」沒有任何構面。", DIM_SHEET, code="missing-value")
    return dims


# ---------------------------------------------------------------- 單位


def read_units(book: PlanBook) -> Units:
    """The 單位 sheet: its complete rows, and every unit whose 名稱 could be read."""
    # Without its 名稱, 群組 or 別名 column, a 主辦單位 may name what the sheet cannot say.
    units = Units(unsure=UNIT_SHEET in book.missing
                  or not {"名稱", "群組", "別名"} <= set(book.header(UNIT_SHEET)))
    blankless: dict[str, str] = {}  # each unit by its name without blanks
    for row in book.table(UNIT_SHEET, UNIT_RULES, partial=True):
        _check_unit_cells(book, row)
        if not row.ok("名稱"):
            units.unsure = True  # 主辦單位 may name this unit
            continue
        name = row["名稱"]
        earlier = blankless.setdefault(squeeze(name), name)
        if earlier != name or name in units.rows:
            _second_unit(book, row, earlier, units.rows[earlier])
            continue
        unit = Unit(name=name, category=row.values.get("類別", ""),
                    groups=tuple(split_names(row.values.get("群組", ""))),
                    aliases=tuple(split_names(row.values.get("別名", ""))),
                    email=row.values.get("電子郵件", ""))
        units.named.append(unit)
        units.rows[name] = row.index
        if not row.bad:
            units.model.append(unit)
    _check_names_are_not_units(book, units.named, units.rows)
    if not units.named and not book.has_faults(UNIT_SHEET):
        book.fault("工作表「單位」沒有任何單位。", UNIT_SHEET, code="missing-value")
    return units


def _second_unit(book: PlanBook, row: Row, earlier: str, earlier_row: int) -> None:
    """A row naming the unit an earlier row named: the same after normalising, or but
    for blanks, which 主辦單位 drops (a PDF copy puts them anywhere), so that 北區
    服務站 there would be the unit 北區服務站."""
    name = row["名稱"]
    if earlier == name:
        message = f"單位「{quote(name)}」重複。"
    else:
        message = (f"單位「{quote(name)}」與「{quote(earlier)}」（儲存格 {a1(earlier_row, row.cols['名稱'])}）"
                   "只差在空白：「主辦單位」比對時不計空白，兩者會視為同一單位；請修改其中一個單位名稱。")
    book.fault(message, UNIT_SHEET, row.index, row.cols["名稱"], value=name, code="duplicate",
               field="名稱")


def _check_unit_cells(book: PlanBook, row: Row) -> None:
    # (Line breaks and control characters in 名稱, 群組 and 別名: PlanBook.check_text.)
    escape = XLSX_ESCAPE.search(row["名稱"]) if row.ok("名稱") else None
    if escape:
        book.fault(f"名稱「{quote(row['名稱'])}」含有「{escape.group()}」：Excel 以「_x」加四位十六進位數字再加「_」"
                   "的寫法代表其他字元，填報表記下的單位名稱會被改寫，回傳時無法辨識是哪個單位；請修改名稱。",
                   UNIT_SHEET, row.index, row.cols["名稱"], value=row["名稱"], code="xlsx-escape",
                   field="名稱")
    if row.ok("電子郵件"):
        check_address_charset(book, row["電子郵件"], UNIT_SHEET, row.index, row.cols["電子郵件"])


def _check_names_are_not_units(book: PlanBook, units: list[Unit], rows: dict[str, int]) -> None:
    """An alias or group spelled like a unit would make 主辦單位 ambiguous."""
    names = {squeeze(u.name) for u in units}  # as 主辦單位 matches them
    for u in units:
        for field, values in (("別名", u.aliases), ("群組", u.groups)):
            for value in values:
                if value in names:
                    book.fault(f"{field}「{value}」與單位名稱相同。", UNIT_SHEET, rows[u.name],
                               book.header_col(UNIT_SHEET, field), value=value, code="duplicate",
                               field=field)


def check_address_charset(book: PlanBook, address: str, sheet: str, row: int, col: int) -> None:
    """A non-ASCII local part is valid, but only SMTPUTF8 servers deliver it."""
    if address and needs_smtputf8(address):
        book.fault(f"電子郵件「{address}」@ 前的帳號含有中文或其他非英數字元，只有支援 SMTPUTF8 的"
                   "郵件伺服器能寄送；建議改用英數帳號（網域可為中文）。", sheet, row, col,
                   code="needs-smtputf8", severity=WARNING, value=address, field="電子郵件")


# ---------------------------------------------------------------- 項目


def read_items(book: PlanBook, dims: Dimensions, units: Units) -> tuple[list[Item], Tally]:
    """The complete items, and every typed item's points by 構面 (for check_points).
    Each cell of a row is checked whatever is wrong with the others."""
    items: list[Item] = []
    tally = Tally(blind=not {"構面", "配分"} <= set(book.header(ITEM_SHEET)))
    seen: set[str] = set()
    directory = units.directory()
    for row in book.table(ITEM_SHEET, ITEM_RULES, partial=True):
        fresh = _fresh_id(book, row, seen)
        dim = _dimension_of(book, row, dims)
        leads = _leads_of(book, row, directory, units) if row.ok("主辦單位") else []
        tally.add(row, dim, leads)
        if fresh and dim is not None and dim.complete and leads and not row.bad:
            items.append(Item(id=row["編號"], dimension=dim.code, strategy=row["執行策略"],
                              method=row["執行方法"], lead_text=row["主辦單位"], practice=row["具體作法"],
                              target=row["目標值"], measure=row["計量單位"], points=row["配分"],
                              leads=tuple(leads)))
    return items, tally


def _fresh_id(book: PlanBook, row: Row, seen: set[str]) -> bool:
    """Whether the row's 編號 is readable and not taken by an earlier row."""
    if not row.ok("編號"):
        return False
    if row["編號"] in seen:
        book.fault(f"編號「{row['編號']}」重複。", ITEM_SHEET, row.index, row.cols["編號"],
                   value=row["編號"], code="duplicate", field="編號")
        return False
    seen.add(row["編號"])
    return True


def _dimension_of(book: PlanBook, row: Row, dims: Dimensions) -> DimRow | None:
    if not row.ok("構面"):
        return None
    dim = dims.find(row["構面"])
    # With no usable 構面 sheet, or a row of it whose 代碼 or 名稱 is unreadable, that
    # sheet's fault says what to fix: the 構面 named here may be that row.
    if dim is None and dims.knows_every_name():
        book.fault(f"構面「{row['構面']}」不在工作表「構面」的代碼或名稱中。", ITEM_SHEET, row.index,
                   row.cols["構面"], value=row["構面"], code="unknown-dimension", field="構面")
    return dim


def _leads_of(book: PlanBook, row: Row, directory: UnitDirectory, units: Units) -> list[str]:
    """The units 主辦單位 names, expanded; empty when any of it is not a unit."""
    leads, unknown = directory.expand(row["主辦單位"])
    if unknown and not units.knows_every_name():
        return []  # the 單位 sheet's own fault says what to fix: it may be that unit
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
    typed = book.table(GRADE_SHEET, GRADE_RULES, partial=True)
    rows = [row for row in typed if not row.bad]
    for row, prev in zip(rows[1:], rows):
        if row["最低分"] >= prev["最低分"]:
            book.fault(f"等第須由高到低排列：「{row['等第']}」的最低分 {row['最低分']} 應小於上一列"
                       f"「{prev['等第']}」的 {prev['最低分']}。", GRADE_SHEET, row.index,
                       row.cols["最低分"], value=row["最低分"], code="grade-order", field="最低分")
    if not rows and not book.has_faults(GRADE_SHEET):
        book.fault("工作表「等第」沒有任何等第。", GRADE_SHEET, code="missing-value")
    elif rows and rows[-1] is typed[-1] and rows[-1]["最低分"] > 0:
        # (When the last row typed is wrong, the lowest band is not known.)
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
            book.check_text(name, LIST_SHEET, 0, c, name, identifying=True, raw=head)
            book.check_name_length(name, LIST_SHEET, 0, c, "清單名稱", LIST_NAME_LIMIT,
                                   f"清單名稱會成為填報表中的名稱「{LIST_NAME_PREFIX}{{清單名稱}}」，Excel 的名稱"
                                   f"最多 {LIST_NAME_LIMIT + len(LIST_NAME_PREFIX)} 個字，因此清單名稱")
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
        book.check_text(v, LIST_SHEET, r, c, name, identifying=True)
        if norm_text(v) in keys:
            book.fault(f"清單「{name}」的值「{v}」重複。", LIST_SHEET, r, c, value=v,
                       code="duplicate", field=name)
            continue
        values.append(v)
        keys.add(norm_text(v))
    if not values:
        book.fault(f"清單「{name}」沒有任何值。", LIST_SHEET, 1, c, code="missing-value", field=name)
    return values
