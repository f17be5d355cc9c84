"""Whole rows of 明細 written as XlsxWriter writes them, without its per-cell path.

明細 has a row per unit and item (60,000 for 1,000 units), and XlsxWriter spends
several calls and a few regular expressions on every cell (``write_string`` →
``_write_cell`` → ``_xml_inline_string``): more than reading every return costs.
In constant-memory mode XlsxWriter streams each finished row to a file as XML;
:class:`RowXml` writes the same XML for a whole row at once (the same inline
strings, escapes, style indexes and row heights) into that stream, and keeps the
worksheet's own record of where it stands (last row, dimensions) as XlsxWriter
would. Nothing else about the sheet changes: its columns, filter, panes and print
settings still go through XlsxWriter.

That is XlsxWriter's own output format, which another version could change. So
before it is used, a probe row of every kind of cell it writes is written both
ways in a scratch workbook and compared byte for byte (:func:`supported`); when
they differ, or the worksheet is not in constant-memory mode, every row goes
through XlsxWriter's calls instead (:class:`Cells`). tests/test_xml_rows.py holds
the two equal over awkward texts and numbers.
"""
from __future__ import annotations

import functools
import math
import re
import tempfile
import zipfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ...cells import col_letter
from ...xlsx_text import EXCEL_LIMIT, LiteralWorksheet, escape, looks_rich

Cell = tuple[Any, "str | None"]  # a value (None: an empty cell) and its format's name (None: none)


class _Blank:
    """An empty cell that still shows its format (XlsxWriter's ``write_blank``): a
    refused value's cell, marked although nothing is in it."""

    def __repr__(self) -> str:
        return "BLANK"


BLANK: Any = _Blank()

# A text that needs more than copying: control characters (XlsxWriter writes them as
# _xHHHH_ and so escapes a literal _xHHHH_), XML's specials, or white space at either
# end (then the text is marked to be kept as typed).
_SPECIAL = re.compile(r"[\x00-\x08\x0b-\x1f&<>\ufffe\uffff]|_x[0-9a-fA-F]{4}_|^\s|\s$")
_ESCAPED_ESCAPE = re.compile("(_x[0-9a-fA-F]{4}_)")
_CONTROL = re.compile(r"([\x00-\x08\x0b-\x1f])")
_LEADING, _TRAILING = re.compile(r"^\s"), re.compile(r"\s$")
_KEEP = ' xml:space="preserve">'


def _text(value: str) -> tuple[str, bool | None]:
    """The text as XlsxWriter writes it inline, and whether it keeps its spaces (None:
    a text that looks like rich-text markup, which goes as one run, see xlsx_text.py)."""
    if _SPECIAL.search(value) is None:
        return value, False
    rich = looks_rich(value)
    value = _ESCAPED_ESCAPE.sub(r"_x005F\1", value)
    value = _CONTROL.sub(lambda m: f"_x{ord(m.group(1)):04X}_", value)
    value = value.replace("\ufffe", "_xFFFE_").replace("\uffff", "_xFFFF_")
    if rich:
        return f"<r><t>{escape(value)}</t></r>", None
    keep = bool(_LEADING.search(value) or _TRAILING.search(value))
    return escape(value), keep


def _tail(value: str, s: str) -> str:
    """A text's cell after its row number, as XlsxWriter writes it (style ``s``)."""
    if _SPECIAL.search(value) is None:
        return f'"{s} t="inlineStr"><is><t>{value}</t></is></c>'
    text, keep = _text(value)
    inner = text if keep is None else f"<t{_KEEP if keep else '>'}{text}</t>"
    return f'"{s} t="inlineStr"><is>{inner}</is></c>'


_TAIL_KEPT_UP_TO, _TAILS_LIMIT = 40, 20_000  # characters; entries


class RowXml:
    """Writes rows of texts and numbers straight into a constant-memory worksheet's
    row stream. ``styles``: format name → XlsxWriter format."""

    def __init__(self, ws, styles: dict[str, Any], columns: int = 1):
        self.ws, self.styles = ws, styles
        # Each format's index is XlsxWriter's to give, when the format is first used,
        # as its own calls would: the styles, and their order, stay what they were.
        self.index: dict[str | None, str] = {}
        self.prefix = [f'<c r="{col_letter(c)}' for c in range(columns)]  # a cell's start
        self._opening: dict[float | None, str] = {}
        # A short text's cell after its row number, by (text, format name): most texts of a
        # sheet repeat on row after row (unit, item, 構面, status, 檢核), and the cell
        # is then one lookup rather than a search for what needs escaping. Emptied
        # when it grows large, so memory stays bounded.
        self._tails: dict[tuple[str, str | None], str] = {}

    def _style(self, name: str | None) -> str:
        """The `` s="N"`` of a format (nothing for a cell without one)."""
        index = self.index.get(name)
        if index is None:
            index = self.index[name] = f' s="{self.styles[name]._get_xf_index()}"' if name else ""
        return index

    def _kept_tail(self, value: str, style: str | None) -> str:
        """A short text's cell after its row number, kept for the rows that repeat it."""
        tails = self._tails
        if len(tails) >= _TAILS_LIMIT:
            tails.clear()
        tail = tails[value, style] = _tail(value, self._style(style))
        return tail

    def _open(self, height: float | None) -> str:
        """What follows ``<row r="N`` for a row of ``height`` points (None: not set)."""
        opening = self._opening.get(height)
        if opening is None:
            ws = self.ws
            pixels = int(height * 4.0 / 3.0 + 0.5) if height is not None else ws.default_row_height
            if pixels != ws.original_row_height or pixels != ws.default_row_height:
                opening = f'" ht="{pixels * 0.75:.16g}" customHeight="1">'
            else:
                opening = '">'
            self._opening[height] = opening
        return opening

    def row(self, r: int, cells: Sequence[Cell], height: float | None = None) -> bool:
        """Row ``r``: (value, format name or None) per column, value None for an empty
        cell (:data:`BLANK` for one that shows its format). False, with nothing
        written, when a value is of a kind only XlsxWriter writes (the row is then
        XlsxWriter's to write). The innermost loop of the master: one string per
        cell, and the usual text needs no escape."""
        ws = self.ws
        if ws.table:  # a row XlsxWriter still holds goes out first (its formats numbered first)
            ws._write_single_row(r)
        if len(cells) > len(self.prefix):
            self.prefix += [f'<c r="{col_letter(c)}' for c in range(len(self.prefix), len(cells))]
        n = str(r + 1)
        parts = []
        first = last = -1
        prefix, index, tails = self.prefix, self.index, self._tails
        if r >= ws.xls_rowmax:
            return False  # past Excel's last row: XlsxWriter's to refuse
        for c, (value, style) in enumerate(cells):
            kind = type(value)
            if kind is str and len(value) <= _TAIL_KEPT_UP_TO:  # the usual cell: one lookup
                tail = tails.get((value, style))
                if tail is None:
                    tail = self._kept_tail(value, style)
                parts.append(f"{prefix[c]}{n}{tail}")
            elif value is None or (value is BLANK and style is None):
                continue  # (as write_blank: a blank without a format is no cell)
            else:
                if kind is str:
                    if len(value) > EXCEL_LIMIT // 2:
                        return False  # XlsxWriter may cut it to Excel's limit
                elif value is not BLANK and kind is not int and (kind is not float or not math.isfinite(value)):
                    return False  # a kind only XlsxWriter writes (or refuses)
                s = index.get(style)
                if s is None:
                    s = self._style(style)
                if value is BLANK:
                    parts.append(f'{prefix[c]}{n}"{s}/>')
                elif kind is not str:
                    parts.append(f'{prefix[c]}{n}"{s}><v>{value:.16G}</v></c>')
                else:
                    parts.append(f"{prefix[c]}{n}{_tail(value, s)}")
            if first < 0:
                first = c
            last = c
        if first < 0:
            return True  # as in XlsxWriter's constant-memory mode: a row without cells is not written
        opening = self._opening.get(height) or self._open(height)
        ws.fh.write(f'<row r="{n}{opening}{"".join(parts)}</row>')
        ws.previous_row = r
        ws._check_dimensions(r, first)  # the sheet's extent, as XlsxWriter keeps it
        ws._check_dimensions(r, last)
        return True


class Cells:
    """The same rows through XlsxWriter's own calls (where :class:`RowXml` cannot be used)."""

    def __init__(self, ws, styles: dict[str, Any], set_height):
        self.ws, self.styles, self.set_height = ws, styles, set_height

    def row(self, r: int, cells: Sequence[Cell], height: float | None = None) -> bool:
        if any(v is not None and v is not BLANK and type(v) not in (str, int, float) for v, _ in cells):
            return False
        if height is not None:
            self.set_height(self.ws, r, height)
        for c, (value, style) in enumerate(cells):
            if value is None:
                continue
            fmt = self.styles[style] if style else None
            if value is BLANK:
                self.ws.write_blank(r, c, None, fmt)
            elif type(value) is str:
                self.ws.write_string(r, c, value, fmt)
            else:
                self.ws.write_number(r, c, value, fmt)
        return True


def rows_for(ws, styles: dict[str, Any], set_height) -> RowXml | Cells:
    """The quickest writer of whole rows that writes what XlsxWriter's calls would."""
    if supported() and getattr(ws, "constant_memory", False):
        return RowXml(ws, styles)
    return Cells(ws, styles, set_height)


PROBE_TEXTS = ("第一課辦理第 1 項", "", "<r>像標記</r>", "<r><t>x</t></r>",
               " 前後空白 ", "a&b<c>d\"e'", "行一\n行二", "\x01\x1f控制",
               "_x0041_ 字面", "\ufffe\uffff", "尾\n", "\t", "😀", "\r\n")
PROBE_NUMBERS = (0, 1, -1, 0.1, 1 / 3, 1e20, 1.5e-9, 123456789012345678, 2.5, -0.0)


@functools.lru_cache(maxsize=1)
def supported() -> bool:
    """Whether the XlsxWriter installed writes rows exactly as :class:`RowXml` does."""
    try:
        with tempfile.TemporaryDirectory() as tmp:
            native, raw = (_probe(Path(tmp) / f"{k}.xlsx", k == "raw") for k in ("native", "raw"))
        return native == raw and b"<row" in native
    except Exception:  # noqa: BLE001 — any doubt: XlsxWriter's own calls
        return False


def probe_rows() -> list[tuple[list[Cell], float | None]]:
    cells: list[Cell] = [(t, "a" if k % 2 else "b") for k, t in enumerate(PROBE_TEXTS)]
    numbers: list[Cell] = [(v, "b") for v in PROBE_NUMBERS]
    plain: list[Cell] = [("未設格式", None), (2, None), (None, None), ("", None),
                                           ("z", "a"), (BLANK, "b"), (BLANK, None), (BLANK, "a")]
    return [(cells, None), (numbers, 35.25), ([(None, "a"), ("x", "a")], 409.0), (cells[:3], 20.5),
            (plain, None)]


def _probe(path: Path, raw: bool) -> bytes:
    from ...xlsx_scratch import ScratchWorkbook  # (its parts gone, however the probe ends)

    wb = ScratchWorkbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                     "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet(None, LiteralWorksheet)
    ws.set_default_row(15.5)
    styles = {"a": wb.add_format({"text_wrap": True}), "b": wb.add_format({"border": 1})}
    ws.write_string(0, 0, "head", styles["a"])
    width = max(len(cells) for cells, _ in probe_rows())
    writer: RowXml | Cells = RowXml(ws, styles, width) if raw else Cells(ws, styles, _plain_height)
    for k, (cells, height) in enumerate(probe_rows(), start=1):
        writer.row(k, cells, height)
    ws.write_string(len(probe_rows()) + 1, 0, "tail", styles["a"])
    wb.close()
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml")


def _plain_height(ws, r: int, height: float) -> None:
    ws.set_row(r, height)
