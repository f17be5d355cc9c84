"""The plan workbook as the sheet readers see it: its sheets, the faults found
so far, and header-row-1 tables read through the cell rules."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from schema import Schema, SchemaError

from ..cells import a1, header_name, norm_text
from ..errors import Issue
from ..reading.workbook import SheetData
from .rules import SHEETS, schema_message


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
        return values, frozenset(bad)
