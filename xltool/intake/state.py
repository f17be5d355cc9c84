"""The state of reading one return: what is known of it so far, and its issues."""
from __future__ import annotations

from pathlib import Path
from typing import Any

from ..cells import fmt_number, norm_text
from ..codes import SEVERITY
from ..codes import code as code_entry
from ..errors import ERROR, Issue
from ..files import display_name
from ..plan import Plan
from ..reading.bounds import Formulas
from .returns import Made, Return, Row
from .rules import clean_text

MAX_ISSUES_PER_FILE = 300  # a file can be wrong in every cell; the report stays readable


class Reading:
    def __init__(self, plan: Plan, path: Path, keep_raw: bool = False):
        self.plan = plan
        self.keep_raw = keep_raw
        self.ret = Return(path=path)
        self.file = display_name(path)
        self.plan_changed = False  # the plan was edited after this template was made
        self.formulas: Formulas = {}  # formula cells of the form sheet, with their text
        self.meta: dict[str, str] = {}
        self.dropped = self.dropped_errors = 0  # issues past MAX_ISSUES_PER_FILE
        self.date_system = "1900"
        self.locked: dict[str, list[str]] = {}  # item id → its locked cells as found
        self.edits: list[tuple[Row, str, str, str, str]] = []  # locked cells unlike the plan
        self.made = Made()
        self.seen_points: dict[str, Any] = {}  # item → the 配分 its earlier template showed
        self.below_form: list[tuple[int, int]] = []  # lone text under the last item row: a remark
        self.percent: frozenset[tuple[int, int]] = frozenset()  # form cells shown as a percentage

    def issue(self, code: str, message: str, severity: str = "", *, cell: str = "",
              field: str = "", value: Any = None, expected: str = "", sheet: str | None = None):
        if len(self.ret.issues) >= MAX_ISSUES_PER_FILE:
            self.dropped += 1
            self.dropped_errors += (severity or SEVERITY[code_entry(code).level]) == ERROR
            self.ret.unlisted |= {code}
            return
        self.ret.issues.append(Issue(
            code=code, message=message, severity=severity, file=self.file,
            sheet=self.ret.sheet if sheet is None else sheet, cell=cell,
            unit=self.ret.unit or "", field=field,
            value="" if value is None else show_value(value), expected=expected))


def show_value(value: Any) -> str:
    """A value as an issue quotes it in its 填寫內容 field: text, at most 200 characters."""
    text = clean_text(value) if isinstance(value, str) else norm_text(value)
    if isinstance(value, float):
        text = fmt_number(value)
        if len(text) > 20 or not value == value == float(text):
            # 20.2500000001 is not 20.25, nor is 1E+308 three hundred digits: the
            # shortest text that reads back as the very number the cell holds
            text = repr(value).upper()
    return text if len(text) <= 200 else text[:200] + "…"
