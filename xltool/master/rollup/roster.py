"""The roster (名冊): which branches the 局 expects, in its order, and optionally its bands.

A small workbook (.xlsx or .ods), read like any other file from elsewhere
(gate, then an isolated worker):

- sheet 名冊 (or, without one, the first sheet): a column 受考核單位名稱 in its
  first row, one branch a row. A name matches a master's 機關名稱 exactly, or
  as its ending when only one master ends so (高雄分局 for
  經濟部標準檢驗局高雄分局);
- sheet 等第 (optional): 等第 | 最低分, from the highest band down, as in a plan
  file. Without it the masters' own bands are used, and they must agree.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ...cells import a1, header_name, norm_text
from ...errors import WARNING, Issue, XltoolError
from ...files import display_name
from ...plan import GradeBand
from ...reading.workbook import Rejected, read_workbook

ROSTER_SHEET, GRADE_SHEET, NAME_COLUMN = "名冊", "等第", "受考核單位名稱"


@dataclass
class Roster:
    names: list[str]
    bands: list[GradeBand] | None = None  # None: the masters' own
    issues: list[Issue] = field(default_factory=list)  # warnings; errors raise RosterError
    source: str = ""  # the roster's file name, as messages show it


class RosterError(XltoolError):
    """The roster cannot be used; ``issues`` say where."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        super().__init__(f"名冊有 {len(issues)} 個錯誤，請修正後重新執行。")


def read_roster(path: Path) -> Roster:
    """The roster at ``path``. Raises :class:`RosterError` (or names what is wrong)."""
    name = display_name(Path(path))
    try:
        wb = read_workbook(Path(path), max_rows=20_000, max_cols=50)
    except Rejected as exc:
        raise RosterError([Issue("roster-invalid", f"無法讀取名冊：{exc.issue.message}", file=name)]) from None
    if not wb.sheets:
        raise RosterError([Issue("roster-invalid", f"名冊「{name}」沒有工作表。", file=name)])
    sheet = wb.sheets.get(ROSTER_SHEET) or next(iter(wb.sheets.values()))
    head = [header_name(v) for v in (sheet.rows[0] if sheet.rows else [])]
    if NAME_COLUMN not in head:
        raise RosterError([Issue("roster-invalid", f"名冊工作表「{sheet.name}」第 1 列沒有「{NAME_COLUMN}」欄。",
                                 file=name, sheet=sheet.name, cell="A1", field=NAME_COLUMN)])
    col = head.index(NAME_COLUMN)
    roster = Roster([], source=name)
    for r in range(1, len(sheet.rows)):
        unit = norm_text(sheet.cell(r, col))
        if not unit:
            continue
        if unit in roster.names:
            roster.issues.append(Issue("roster-invalid", f"名冊中「{unit}」重複，只列一次。", WARNING, file=name,
                                       sheet=sheet.name, cell=a1(r, col), field=NAME_COLUMN, value=unit))
            continue
        roster.names.append(unit)
    if not roster.names:
        raise RosterError([Issue("roster-invalid", f"名冊工作表「{sheet.name}」沒有任何受考核單位。", file=name,
                                 sheet=sheet.name, field=NAME_COLUMN)])
    if GRADE_SHEET in wb.sheets and sheet.name != GRADE_SHEET:
        roster.bands = _bands(wb.sheets, name)
    return roster


def _bands(sheets: dict, name: str) -> list[GradeBand]:
    """The 等第 sheet, checked as a plan's 等第 sheet is."""
    from ...plan.book import PlanBook
    from ...plan.sheets import read_grades

    book = PlanBook(Path(name), {GRADE_SHEET: sheets[GRADE_SHEET]})
    bands = read_grades(book)
    faults = [i for i in book.issues if i.sheet == GRADE_SHEET and i.is_error]
    if faults:
        raise RosterError([Issue("roster-invalid", f"名冊：{i.message}", file=name, sheet=i.sheet, cell=i.cell,
                                 field=i.field, value=i.value) for i in faults])
    return bands
