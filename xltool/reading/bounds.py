"""What a reader may build from one file, and the refusals when a file wants more.

The gate measures every sheet that will be read before any parser sees it: how
far its valued cells reach (a parser allocates the whole rectangle up to the
farthest one) and how much text those cells hold once shared strings and
repeats are expanded. A file over a bound is refused, naming the sheet and the
cell that went too far.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..cells import col_letter


@dataclass(frozen=True)
class Bounds:
    rows: int = 20_000  # rows a read sheet may reach
    cols: int = 256  # columns a read sheet may reach
    cells: int = 2_000_000  # rows × columns of a read sheet
    text: int = 16_000_000  # characters the read cells hold together, after expansion
    records: int = 4_000_000  # cells, rows and records walked in one file


class TooLarge(Exception):
    """A sheet reaches too far or holds too much; ``where`` names the sheet part or
    name, ``cell`` the first cell past the bound (A1), ``what`` which bound."""

    def __init__(self, where: str, cell: str, what: str):
        super().__init__(f"{where} {cell} {what}")
        self.where, self.cell, self.what = where, cell, what


class Corrupt(Exception):
    """The structure is not what the format requires."""


# Formula cells of a sheet: (row, col), 0-based → the formula as written (at most
# FORMULA_SHOWN characters; "" where the file keeps no text for it, as a shared
# formula's other cells or a binary .xls). Never evaluated: only shown to people.
Formulas = dict[tuple[int, int], str]
FORMULA_SHOWN = 200


def formula_text(text: str | None) -> str:
    """A formula as people read it: with its leading =, cut to FORMULA_SHOWN."""
    text = (text or "").strip()
    if text.startswith("of:"):  # ODF's namespace prefix (of:=SUM(...))
        text = text[3:]
    if not text:
        return ""
    text = text if text.startswith("=") else "=" + text
    return text if len(text) <= FORMULA_SHOWN else text[:FORMULA_SHOWN] + "…"


class Ambiguous(Corrupt):
    """Parts a reader may find otherwise than the gate (members that differ only in
    case or slashes): refused, since which one a reader takes is its own choice."""


class Encrypted(Exception):
    """The file is protected with a password."""


def cell_name(row: int, col: int) -> str:
    return f"{col_letter(col)}{row + 1}"


class Extent:
    """The rectangle from A1 to the farthest valued cell of one sheet, and its text."""

    __slots__ = ("bounds", "where", "max_row", "max_col", "text")

    def __init__(self, bounds: Bounds, where: str, text_so_far: int = 0):
        self.bounds = bounds
        self.where = where
        self.max_row = self.max_col = -1
        self.text = text_so_far

    def reach(self, row_end: int, col_end: int, first_row: int, first_col: int) -> None:
        """Cells up to (row_end, col_end) hold values; refuse past the bounds."""
        b = self.bounds
        if row_end >= b.rows or col_end >= b.cols:
            raise TooLarge(self.where, cell_name(min(max(first_row, 0), 10**9),
                                                 min(max(first_col, 0), 10**9)), "extent")
        if row_end > self.max_row:
            self.max_row = row_end
        if col_end > self.max_col:
            self.max_col = col_end
        if (self.max_row + 1) * (self.max_col + 1) > b.cells:
            raise TooLarge(self.where, cell_name(first_row, first_col), "extent")

    def add_text(self, chars: int, row: int, col: int) -> None:
        self.text += chars
        if self.text > self.bounds.text:
            raise TooLarge(self.where, cell_name(row, col), "text")
