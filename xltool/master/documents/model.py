"""A format-neutral description of a text document: paragraphs and tables, which
:mod:`.document_odt`, :mod:`.document_docx` and :mod:`.document_html` render.

The 執行成果 document and the plan document are described once
(:mod:`.outcome_document`); each writer renders the same blocks on A4, with the
tables' header rows repeated on every page and 標楷體 with CJK fallbacks.
Tables are described as HTML does: a cell spanning rows or columns is given
once, and the places it covers are left out of the rows below and beside it.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ...quoting import NOT_TEXT, xml_lines

FONT = "標楷體"  # the official document font
# What to use where 標楷體 is missing: its Windows and macOS names, then the
# CJK fonts LibreOffice finds on Linux (fonts-noto-cjk).
FONT_FALLBACKS = ("DFKai-SB", "BiauKai", "TW-Kai", "Noto Serif CJK TC", "Noto Sans CJK TC")
PAGE_WIDTH_CM, PAGE_HEIGHT_CM, MARGIN_CM = 21.0, 29.7, 2.0  # A4, portrait
TEXT_WIDTH_CM = PAGE_WIDTH_CM - 2 * MARGIN_CM


@dataclass(frozen=True)
class DocCell:
    text: str
    colspan: int = 1
    rowspan: int = 1
    align: str = "left"  # "left" | "center"


@dataclass
class DocTable:
    caption: str  # what the table is (HTML's <caption>; a name elsewhere)
    widths: list[float]  # relative column widths
    header: list[list[DocCell]]  # header rows: repeated on every page
    body: list[list[DocCell]] = field(default_factory=list)


@dataclass(frozen=True)
class DocParagraph:
    text: str
    style: str = "body"  # "title" | "subtitle" | "heading" | "body" | "note"
    page_break: bool = False  # starts a new page


DocBlock = DocParagraph | DocTable


@dataclass
class Document:
    title: str
    author: str = ""
    blocks: list[DocBlock] = field(default_factory=list)


def grid(rows: list[list[DocCell]], columns: int) -> list[list[tuple[DocCell, bool] | None]]:
    """The rows laid on the grid: (cell, first place) where a cell is, with False
    for the places a span covers; None where nothing is (a short row)."""
    out: list[list[tuple[DocCell, bool] | None]] = [[None] * columns for _ in rows]
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while c < columns and out[r][c] is not None:
                c += 1
            if c >= columns:
                break
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    if r + dr < len(rows) and c + dc < columns:
                        out[r + dr][c + dc] = (cell, dr == 0 and dc == 0)
            c += cell.colspan
    return out


def lines(text: str) -> list[str]:
    """A cell's or paragraph's text as paragraphs: one per line, without what no XML
    document can hold (a master from an older plan may carry a control character),
    nor C1 controls and DEL, which odfpy writes as U+FFFD and no text xltool keeps
    may hold (:data:`~xltool.quoting.NOT_TEXT`): every format shows the same text."""
    return [NOT_TEXT.sub("", line) for line in xml_lines(text)]
