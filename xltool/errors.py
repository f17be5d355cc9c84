"""Errors as data: every problem xltool finds becomes one :class:`Issue`.

Codes are stable slugs (``unknown-unit``, ``not-in-list`` …) from the catalogue
in :mod:`.codes`, so that reports can be filtered and diffed; messages are
Traditional Chinese for the user. A code's level (error, warning, info) comes
from the catalogue unless the place that raises it says otherwise.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass

from .codes import SEVERITY, code

ERROR = SEVERITY["error"]  # 錯誤
WARNING = SEVERITY["warning"]  # 警告
INFO = SEVERITY["info"]  # 說明
LEVELS = {zh: level for level, zh in SEVERITY.items()}


@dataclass(frozen=True)
class Issue:
    code: str
    message: str
    severity: str = ""  # 錯誤／警告／說明; empty: the catalogue's level for the code
    file: str = ""
    sheet: str = ""
    cell: str = ""
    unit: str = ""
    field: str = ""
    value: str = ""
    expected: str = ""

    def __post_init__(self) -> None:
        if not self.severity:
            object.__setattr__(self, "severity", SEVERITY[code(self.code).level])

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR

    @property
    def level(self) -> str:
        """error, warning or info: the severity in ASCII, for scripts."""
        return LEVELS.get(self.severity, "error")

    @property
    def label(self) -> str:
        """What the code means, in words (the catalogue's label)."""
        return code(self.code).label

    def location(self) -> str:
        """Where the problem is, in spreadsheet terms: 檔案 › 工作表!儲存格."""
        parts = [p for p in (self.file, self.sheet and f"工作表「{self.sheet}」",
                             self.cell and f"儲存格 {self.cell}") if p]
        return "，".join(parts)

    def to_dict(self) -> dict:
        return {**asdict(self), "level": self.level}


class XltoolError(Exception):
    """A failure that stops a command. ``str()`` is a zh-TW message for the user."""


class PlanError(XltoolError):
    """The plan workbook has faults; ``issues`` lists every one of them."""

    def __init__(self, issues: list[Issue]):
        self.issues = issues
        n = sum(1 for i in issues if i.is_error)
        super().__init__(f"計畫檔有 {n} 個錯誤，請先以 xltool check 檢查並修正。")

