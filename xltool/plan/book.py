"""The plan workbook as the sheet readers see it: its sheets, the faults found
so far, and header-row-1 tables read through the cell rules."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schema import Schema, SchemaError

from ..cells import a1, header_name, norm_text
from ..errors import Issue
from ..quoting import quote
from ..reading.workbook import SheetData
from ..xlsx_text import EXCEL_LIMIT
from .rules import (
    CONTROL,
    CONTROL_IN_PROSE,
    IDENTIFYING,
    LINE_BREAK,
    LIST_CELLS,
    NAME_LIMIT,
    SHEETS,
    SINGLE_LINE,
    invisible_characters,
    schema_message,
)

_NAMED_CHARACTERS = 3  # at most this many distinct control characters are named in a message


@dataclass
class Row:
    """One table row: where it is and its checked values. ``bad`` names the cells that
    failed their rule (or whose column is missing); those have no value."""

    index: int  # 0-based row in the sheet
    values: dict[str, Any]
    cols: dict[str, int]  # column name → 0-based column
    bad: frozenset[str] = frozenset()

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def ok(self, *names: str) -> bool:
        """Whether every one of these cells passed its rule."""
        return not self.bad.intersection(names)


class PlanBook:
    def __init__(self, path: Path, sheets: dict[str, SheetData]):
        self.file = path.name
        # A missing sheet reads as empty, so the other sheets are still checked.
        self.missing = [s for s in SHEETS if s not in sheets]
        self.sheets = {**sheets, **{name: SheetData(name, []) for name in self.missing}}
        self.issues: list[Issue] = []
        for name in self.missing:
            self.fault(f"計畫檔缺少工作表「{name}」。", name, code="missing-sheet")

    def fault(self, message: str, sheet: str, row: int | None = None,
              col: int | None = None, *, code: str, severity: str = "",
              value: Any = None, field: str = "") -> None:
        cell = a1(row, col) if row is not None and col is not None else ""
        self.issues.append(Issue(code=code, severity=severity, message=message, file=self.file,
                                 sheet=sheet, cell=cell, field=field,
                                 value=norm_text(value) if value is not None else ""))

    def has_faults(self, sheet: str, errors_only: bool = False) -> bool:
        return any(i.sheet == sheet and (i.is_error or not errors_only) for i in self.issues)

    def header(self, sheet: str) -> list[str]:
        rows = self.sheets[sheet].rows
        return [header_name(v) for v in (rows[0] if rows else [])]

    def header_col(self, sheet: str, name: str) -> int:
        return self.header(sheet).index(name)

    def table(self, sheet_name: str, rules: dict[str, Any], *, partial: bool = False) -> list[Row]:
        """The rows of a header-row-1 sheet whose every cell passed its rule.
        Blank rows are skipped; every failing cell becomes a fault.

        With ``partial``, every non-blank row is returned, its failing cells (and
        the cells of a missing column) named in :attr:`Row.bad`: a fault in one
        cell must not hide what the rest of the row says from the checks across
        sheets, nor make them report follow-on faults."""
        if sheet_name in self.missing:
            return []
        header = self.header(sheet_name)
        cols = {name: header.index(name) for name in rules if name in header}
        missing = frozenset(name for name in rules if name not in cols)
        for name in rules:
            if name in missing:
                self.fault(f"工作表「{sheet_name}」第 1 列缺少欄位「{name}」。", sheet_name,
                           0, len(header), code="missing-column", field=name)
        if missing and (not partial or not cols):
            return []
        sheet = self.sheets[sheet_name]
        out = []
        for r in range(1, len(sheet.rows)):
            raw = {name: sheet.cell(r, c) for name, c in cols.items()}
            if all(v is None or norm_text(v) == "" for v in raw.values()):
                continue
            values, bad = self._checked(sheet_name, r, cols, raw, rules)
            if partial or not bad:
                out.append(Row(r, values, cols, bad | missing))
        return out

    def _checked(self, sheet_name: str, r: int, cols: dict[str, int], raw: dict[str, Any],
                 rules: dict[str, Any]) -> tuple[dict[str, Any], frozenset[str]]:
        """The values of the cells that pass their rule, and the names of those that fail."""
        values, bad = {}, set()
        for name in cols:
            try:
                values[name] = Schema(rules[name]).validate(raw[name])
            except SchemaError as exc:
                bad.add(name)
                self.fault(f"{name}：{schema_message(exc)}。", sheet_name, r, cols[name],
                           value=raw[name], field=name,
                           code="missing-value" if raw[name] is None else "type-error")
                continue
            self.check_text(values[name], sheet_name, r, cols[name], name,
                            single_line=name in SINGLE_LINE.get(sheet_name, ()),
                            list_cell=name in LIST_CELLS.get(sheet_name, ()),
                            identifying=name in IDENTIFYING.get(sheet_name, ()), raw=raw[name])
        return values, frozenset(bad)

    def check_text(self, value: Any, sheet: str, row: int, col: int, field: str, *,
                   single_line: bool = False, list_cell: bool = False, identifying: bool = False,
                   raw: Any = None) -> None:
        """Faults for a text the templates, master and reports cannot hold as it is: a
        control character (in a name, a line break too; a list cell may put one name a
        line), or more than one .xlsx cell holds; in a name, more than Excel holds of
        one, and (``identifying``) a character that shows as nothing, looked for in the
        cell as typed (``raw``; matching drops such characters from ``value``). The
        value is kept: the cell is still what it says for the checks across sheets."""
        if not isinstance(value, str):
            return
        if identifying:
            self.check_invisible(raw if isinstance(raw, str) else value, sheet, row, col, field)
        if single_line:
            self._check_single_line(value, sheet, row, col, field, list_cell)
            longest = max(value.split("\n"), key=utf16_length) if list_cell else value
            self.check_name_length(longest, sheet, row, col, field, NAME_LIMIT,
                                   "填報表會記下這個名稱，而 Excel 的文件摘要資訊與公式中的文字")
        else:
            self._check_prose(value, sheet, row, col, field)
        units = utf16_length(value)
        if units > EXCEL_LIMIT:
            self.fault(f"{field}的文字有 {_counted(value)}，超過 .xlsx 一格的上限 {EXCEL_LIMIT:,}："
                       "填報表會截斷這段文字；請縮短。", sheet, row, col, code="too-long",
                       value=quote(value), field=field)

    def check_name_length(self, name: str, sheet: str, row: int, col: int, field: str,
                          limit: int, where: str) -> None:
        """A fault for a name longer than ``limit`` as Excel counts (UTF-16 units);
        ``where`` says what holds it to that limit."""
        if utf16_length(name) <= limit:
            return
        self.fault(f"{field}「{quote(name)}」有 {_counted(name)}，超過 {limit} 個字：{where}最多 "
                   f"{limit} 個字；請縮短。", sheet, row, col, code="too-long",
                   value=quote(name), field=field)

    def check_invisible(self, text: str, sheet: str, row: int, col: int, field: str) -> None:
        """A fault for a name holding a character that shows as nothing (a zero-width
        space, a direction mark): two names would look alike, or one like another."""
        found = invisible_characters(text)
        if not found:
            return
        where = "、".join(f"第 {i + 1:,} 個字元是看不見的控制字元 U+{ord(ch):04X}"
                         for i, ch in found[:_NAMED_CHARACTERS])
        more = f"（共 {len(found):,} 個）" if len(found) > _NAMED_CHARACTERS else ""
        self.fault(f"{field}「{quote(text)}」的{where}{more}：名稱中看不見的字元會讓兩個名稱看起來相同，"
                   "或讓名稱顯示成另一個樣子（常見於由網頁或文件複製的文字）；請刪除。", sheet, row, col,
                   code="invisible-character", value=quote(text), field=field)

    def _check_single_line(self, text: str, sheet: str, row: int, col: int, field: str,
                           list_cell: bool) -> None:
        """A name: these go into mail headers, file names and sheet titles."""
        if list_cell:
            text = re.sub(r"[\r\n]+", "、", text)
        if not CONTROL.search(text):
            return
        kinds = ["換行"] if LINE_BREAK.search(text) else []
        others = LINE_BREAK.sub("", text)
        if CONTROL.search(others):
            kinds.append(f"控制字元 {_named(CONTROL, others)}")
        self.fault(f"{field}「{quote(text)}」含有{'與'.join(kinds)}；請改為單行文字，不要有換行或特殊字元。",
                   sheet, row, col, code="control-character", value=quote(text), field=field)

    def _check_prose(self, text: str, sheet: str, row: int, col: int, field: str) -> None:
        """Prose may hold tabs and line breaks, and no other control character."""
        found = CONTROL_IN_PROSE.search(text)
        if not found:
            return
        at = found.start()
        shown = quote(text) if at < 40 else "…" + quote(text[at - 20:])
        names = _named(CONTROL_IN_PROSE, text)
        where = f"{'第一個' if '、' in names or '等' in names else ''}在第 {at + 1:,} 個字"
        self.fault(f"{field}「{shown}」含有控制字元 {names}（{where}；常見於由網頁、PDF 或終端機"
                   "複製的文字）；填報表與報告無法保存這類字元，請刪除。", sheet, row, col,
                   code="control-character", value=quote(text), field=field)


def _named(pattern: re.Pattern[str], text: str) -> str:
    """The distinct characters of ``text`` that ``pattern`` finds, as U+001B、U+0001."""
    chars = list(dict.fromkeys(pattern.findall(text)))
    named = "、".join(f"U+{ord(c):04X}" for c in chars[:_NAMED_CHARACTERS])
    return named + (f" 等 {len(chars)} 種" if len(chars) > _NAMED_CHARACTERS else "")


def _counted(text: str) -> str:
    """How long ``text`` is, as Excel counts it, for a message."""
    units = utf16_length(text)
    if units == len(text):
        return f"{units:,} 個字"
    return f"{len(text):,} 個字，以 UTF-16 計長度為 {units:,}（「𠀀」等擴充區的字與表情符號各算 2）"


def utf16_length(text: str) -> int:
    """The length of ``text`` as Excel counts it: a character beyond the BMP takes two."""
    return len(text.encode("utf-16-le", "surrogatepass")) // 2
