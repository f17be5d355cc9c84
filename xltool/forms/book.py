"""A format-neutral description of a workbook, rendered to .xlsx or .ods.

The template and the starter plan are described once here; ``xlsx_writer``
and ``ods_writer`` turn the same description into each file format. Styles,
number formats and print settings are named by meaning, and a test holds each
writer to every one of them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..display import text_width

FONT = "標楷體"  # the official document font; LibreOffice on Linux substitutes Noto CJK
PAPER_A4 = 9


@dataclass
class Validation:
    """One data-validation rule over a range of cells.

    kind "date" allows a date from ``minimum`` to ``maximum`` or any text: a date
    typed the ROC way (115/07/01, 115年7月1日) stays text in Excel, and the merge
    reads such text as the date it says (``cells.parse_date``). LibreOffice makes
    a date of the year 115 of such typing instead; the .ods allows those dates too,
    as the merge reads a year under 1000 as an ROC year (the .xlsx cannot carry
    dates before 1900, so there the message says how to type it)."""

    first: tuple[int, int]
    last: tuple[int, int]
    kind: str  # "list" | "decimal" | "date" | "length"
    source: str = ""  # a defined name, for lists
    minimum: Any = None
    maximum: Any = None
    title: str = ""
    prompt: str = ""
    error: str = ""
    error_type: str = "stop"  # "stop" | "warning" | "information"


@dataclass(frozen=True)
class PrintSetup:
    """How a sheet prints, by meaning; A4 always. Both writers honour every field."""

    landscape: bool = True
    repeat_rows: tuple[int, int] | None = None
    fit_width: bool = True  # one page wide
    fit_height: bool = False  # also one page tall: for short sheets such as 填報說明
    footer: bool = True  # 第 N 頁，共 M 頁


# A sheet without a PrintSetup prints as the office programs' default would, on A4.
PLAIN_PRINT = PrintSetup(landscape=False, fit_width=False, footer=False)

# Number formats by meaning. "general" shows a number as typed (7, 7.5; never "7.",
# which 0.## shows in Excel), "text" keeps what is typed as text (109.10 stays
# 109.10), "date" shows a date with its ROC year (115/07/01); in the .ods a date
# before ROC year 1 (LibreOffice's reading of 115/07/01, the year 115) shows as
# 0115/07/01 rather than as the 1797th year before the ROC.
NUMBER_FORMATS = ("general", "text", "date")
ROC_FROM_SERIAL = 4384  # 1912-01-01, ROC year 1, as a serial day number (Excel and ODF)


@dataclass
class Sheet:
    name: str
    cells: dict[tuple[int, int], tuple[Any, str]] = field(default_factory=dict)
    widths: list[float] = field(default_factory=list)
    heights: dict[int, float] = field(default_factory=dict)
    validations: list[Validation] = field(default_factory=list)
    state: str = "visible"  # "visible" | "hidden" | "veryhidden"
    protect: bool = False
    freeze: tuple[int, int] | None = None
    print_setup: PrintSetup | None = None
    notes: dict[tuple[int, int], str] = field(default_factory=dict)  # cell comments
    # Merged ranges (first row, first col, last row, last col), inclusive: the first
    # cell holds the value and the style, the others are covered (no value of their own).
    merges: list[tuple[int, int, int, int]] = field(default_factory=list)

    def put(self, row: int, col: int, value: Any, style: str = "text") -> None:
        self.cells[(row, col)] = (value, style)

    @property
    def max_row(self) -> int:
        return max((r for r, _ in self.cells), default=0)

    @property
    def max_col(self) -> int:
        return max((c for _, c in self.cells), default=0)


# Style names used by the writers; each maps to font/fill/lock settings.
STYLES: dict[str, dict] = {
    "title": {"bold": True, "size": 14},
    "text": {},
    "wrap": {"wrap": True},
    "label": {"bold": True, "align": "right"},
    "header": {"bold": True, "wrap": True, "border": True, "bg": "#D9E1F2", "align": "center"},
    "locked": {"wrap": True, "border": True, "bg": "#F2F2F2"},
    "locked_number": {"border": True, "bg": "#F2F2F2", "align": "center"},
    "input": {"wrap": True, "border": True, "locked": False, "bg": "#FFF2CC"},
    "input_number": {"border": True, "locked": False, "bg": "#FFF2CC", "format": "general"},
    "input_date": {"border": True, "locked": False, "bg": "#FFF2CC", "format": "date"},
    "input_text": {"border": True, "locked": False, "bg": "#FFF2CC", "format": "text"},
    "input_bad": {"wrap": True, "border": True, "locked": False, "bg": "#FF9999"},
    # A pre-filled template's items that the plan changed since the unit's last return.
    "revised_input": {"wrap": True, "border": True, "locked": False, "bg": "#FFEB9C"},
    "revised_locked": {"wrap": True, "border": True, "bg": "#FFEB9C"},
}


@dataclass
class Book:
    sheets: list[Sheet]
    names: dict[str, tuple[str, int, int, int, int]] = field(default_factory=dict)
    custom: dict[str, str] = field(default_factory=dict)
    title: str = ""
    author: str = ""
    created: datetime | None = None
    protect_structure: bool = False
    active: str = ""
    # Printed at the left of every page footer, beside 第 N 頁: whose form a loose
    # printed page is (a unit's name; at most FOOTER_LABEL characters are printed).
    footer_label: str = ""

    def sheet(self, name: str) -> Sheet:
        return next(s for s in self.sheets if s.name == name)


FOOTER_LABEL = 40  # Excel holds 255 characters for a whole footer, codes included


def footer_label(book: Book) -> str:
    """The label as printed: one line (its line breaks as spaces; a full-width space is
    the name's own), cut to FOOTER_LABEL characters."""
    label = " ".join(part.strip() for part in book.footer_label.splitlines() if part.strip())
    return label if len(label) <= FOOTER_LABEL else label[:FOOTER_LABEL - 1] + "…"


def row_height(values: list[tuple[str, float]], line_points: float = 15.0) -> float:
    """Height that shows wrapped text: (text, column width) pairs → points."""
    lines = 1
    for text, width in values:
        # CJK counts two units, as in Excel with 標楷體; LibreOffice's Noto CJK is a
        # little narrower, so rows there come out slightly taller than needed.
        usable = max(width - 1, 1)
        n = sum(max(1, -(-text_width(part) // int(usable))) for part in str(text).split("\n"))
        lines = max(lines, n)
    return min(lines * line_points + 4, 409)
