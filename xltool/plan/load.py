"""Reading the plan workbook: loaded and checked once.

A plan workbook has the sheets 計畫, 構面, 單位, 項目, 等第 and 選項 (see
README). :func:`check_plan` reads it and returns the model together with every
fault found, each pinned to a sheet and cell; :func:`load_plan` is the same
but raises :class:`PlanError` when there are errors. Nothing here knows any
particular plan: names, points, units, groups, lists and grade bands are data.
The cell rules are in :mod:`.rules`, one reader per sheet in :mod:`.sheets`, the
checks across sheets in :mod:`.crossref`.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from ..cells import norm_text
from ..errors import Issue, PlanError
from ..reading.workbook import Rejected, read_workbook
from . import crossref, sheets
from .book import PlanBook
from .model import DEFAULT_NOT_APPLICABLE, STATUS_LIST, Plan
from .rules import INFO_SHEET, SHEETS

__all__ = ["INFO_SHEET", "SHEETS", "check_plan", "load_plan"]


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
    book = PlanBook(path, wb.sheets)
    return _read_plan(book, path), book.issues


def _read_plan(book: PlanBook, path: Path) -> Plan | None:
    # Every sheet is read even when an earlier one is broken, and every check across
    # sheets runs on what could be read: one run lists every fault. A wrong cell on
    # the 計畫 sheet costs only the checks that need it (the 填報表 names need 年度).
    info, fields = sheets.read_info(book)
    dims = sheets.read_dimensions(book)
    units = sheets.read_units(book)
    items, tally = sheets.read_items(book, dims, units)
    grades = sheets.read_grades(book)
    lists = sheets.read_lists(book)
    crossref.check_file_names(book, info, units)
    crossref.check_points(book, dims, tally)
    crossref.check_leads(book, units, tally)
    # Unless typed (and readable), 不適用選項 is the default, which the list must hold too.
    not_applicable = None if fields is None else _not_applicable_as_listed(
        book, fields.get("not_applicable", DEFAULT_NOT_APPLICABLE), lists)
    if info is None or book.missing:
        return None
    if not_applicable is not None and not_applicable != info.not_applicable:
        info = replace(info, not_applicable=not_applicable)
    return Plan(info=info, dimensions=dims.model, units=units.model, items=items, grades=grades,
                lists=lists, source=path)


def _not_applicable_as_listed(book: PlanBook, value: str, lists: dict[str, list[str]]) -> str:
    """不適用選項 as the 執行狀態 list words it (matched after normalising)."""
    statuses = {norm_text(v): v for v in lists.get(STATUS_LIST, [])}
    if not value or not statuses:
        return value
    if norm_text(value) in statuses:
        return statuses[norm_text(value)]
    book.fault(f"「不適用選項」的值「{value}」不在「{STATUS_LIST}」清單中。",
               INFO_SHEET, code="not-in-list")
    return value
