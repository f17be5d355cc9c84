"""Errors as data: every problem xltool finds becomes one :class:`Issue`.

Codes are stable slugs (``unknown-unit``, ``not-in-list`` …) so that reports
can be filtered and diffed; messages are Traditional Chinese for the user.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

ERROR = "錯誤"
WARNING = "警告"


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    severity: str = ERROR
    file: str = ""
    sheet: str = ""
    cell: str = ""
    unit: str = ""
    field: str = ""
    value: str = ""
    expected: str = ""

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    def location(self) -> str:
        """Where the problem is, in spreadsheet terms: 檔案 › 工作表!儲存格."""
        parts = [p for p in (self.file, self.sheet and f"工作表「{self.sheet}」",
                             self.cell and f"儲存格 {self.cell}") if p]
        return "，".join(parts)

    def to_dict(self) -> dict:
        return asdict(self)


class XltoolError(Exception):
    """A failure that stops a command. ``str()`` is a zh-TW message for the user."""


class PlanError(XltoolError):
    """The plan workbook has faults; ``issues`` lists every one of them."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        n = sum(1 for i in issues if i.is_error)
        super().__init__(f"計畫檔有 {n} 個錯誤，請先以 xltool check 檢查並修正。")

