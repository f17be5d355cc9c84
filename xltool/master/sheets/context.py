"""What every master sheet writer shares: the workbook, its formats, the merge
result, where 評分 put the cells the other sheets refer to, and the writing of
rows whose height fits their text."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ... import textfit
from ...forms.book import FONT, PAPER_A4
from ..merge import MergeResult
from .xmlrows import BLANK, Cells, RowXml, rows_for

# Dates as people here read them: the ROC year ([$-404] is zh-TW, whose e is the ROC
# year; LibreOffice reads it as its ROC calendar), 115/07/08.
ROC_DATE = "[$-404]e/mm/dd"
ROC_TIME = "[$-404]e/mm/dd hh:mm"
ONE_LINE = textfit.height_for(1)  # every sheet's default row height
# A column's width for measuring a text that does not wrap (or does not show): one line.
UNMEASURED = 255
CONTINUED = "（續上列）"  # marks a row that carries on the text of the row above


@dataclass
class Context:
    wb: Any  # an XlsxWriter Workbook
    r: MergeResult
    ws: dict[str, Any] = field(default_factory=dict)  # sheet name → worksheet
    f: dict[str, Any] = field(default_factory=dict)  # format name → format
    score_cells: dict[str, str] = field(default_factory=dict)  # 構面 code → 評分 subtotal cell
    total_cell: str = ""
    _heights: dict[int, list[int]] = field(default_factory=dict)  # sheet → rows given a height
    _rows: dict[int, RowXml | Cells] = field(default_factory=dict)  # sheet → its row writer

    @property
    def plan(self):
        return self.r.plan

    def print_setup(self, ws, header_row: int, landscape: bool = True) -> None:
        ws.set_paper(PAPER_A4)
        if landscape:
            ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(header_row)
        ws.set_footer("&C&A　第 &P 頁，共 &N 頁")  # the sheet's name: pages stay sortable
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)

    def header(self, ws, row: int, names: Sequence[str], widths: Sequence[float]) -> None:
        """A header row, as tall as its longest name wraps to."""
        height = textfit.row_height(zip(names, widths), bold=True)
        if height > ONE_LINE:
            ws.set_row(row, height)
        for c, (name, width) in enumerate(zip(names, widths)):
            ws.write_string(row, c, name, self.f["header"])
            ws.set_column(c, c, width)

    def title(self, ws, row: int, text: str) -> None:
        ws.set_row(row, textfit.height_for(1, 14))
        ws.write_string(row, 0, text, self.f["title"])

    def note(self, ws, row: int, text: str, widths: Sequence[float]) -> None:
        """A line of explanation above a table, wrapped across the table's width, so that
        it prints whole however few columns the table has."""
        ws.set_row(row, textfit.row_height([(text, sum(widths))]))
        if len(widths) > 1:
            ws.merge_range(row, 0, row, len(widths) - 1, text, self.f["note"])
        else:
            ws.write_string(row, 0, text, self.f["note"])

    def value(self, ws, r: int, c: int, value, bad: bool, wrap: bool = True) -> None:
        f = self.f
        if value is None:
            return  # nothing to write: a blank cell costs as much as a full one
        elif isinstance(value, bool):
            ws.write_string(r, c, str(value), f["cell"])
        elif isinstance(value, (int, float)):
            ws.write_number(r, c, value, f["num"])
        elif isinstance(value, (date, datetime)):
            ws.write_datetime(r, c, value, f["date"])
        else:
            style = ("bad" if bad else "wrap") if wrap else ("bad_line" if bad else "cell")
            ws.write_string(r, c, str(value), f[style])

    def record(self, ws, r: int, values: Sequence[Any], widths: Sequence[float],
               styles: Sequence[str], carry: dict[int, str] | None = None,
               counts: dict[int, Sequence[int]] | None = None) -> int:
        """Write one record from row ``r``, each text in its style (a wrapping one), each
        row as tall as its text wraps to. A text taller than Excel's tallest row goes
        on in the rows below, which show ``carry`` (column → text) where they would be
        blank. ``counts``: see :func:`textfit.fit_row`. Returns the next free row."""
        return self.write_fitted(ws, r, values, fitted(values, widths, counts), styles, carry)

    def write_fitted(self, ws, r: int, values: Sequence[Any], rows: Fitted,
                     styles: Sequence[str], carry: dict[int, str] | None = None) -> int:
        """:meth:`record` with its rows' layout already worked out (by :func:`fitted`)."""
        out = self.rows(ws)
        for k, (pieces, height) in enumerate(rows):
            cells = _record_cells(values, pieces, styles, carry or {}, k)
            if cells is None or not out.row(r + k, cells, height if height > ONE_LINE else None):
                self._record_row(ws, r, k, values, pieces, styles, carry or {}, height)
        return r + len(rows)

    def _record_row(self, ws, r: int, k: int, values, pieces, styles, carry, height) -> None:
        """Row ``k`` of a record through XlsxWriter's calls (a date, say)."""
        self.set_height(ws, r + k, height)
        for c, (value, piece, style) in enumerate(zip(values, pieces, styles)):
            if k and not piece:
                piece = carry.get(c, "")
            if isinstance(value, str) or k:
                ws.write_string(r + k, c, piece, self.f[style])
            elif value is None:
                ws.write_blank(r + k, c, None, self.f[style])
            else:
                self.value(ws, r, c, value, False)

    def rows(self, ws) -> RowXml | Cells:
        """The writer of whole rows for ``ws`` (see xmlrows.py)."""
        out = self._rows.get(id(ws))
        if out is None:
            out = self._rows[id(ws)] = rows_for(ws, self.f, self.set_height)
        return out

    def set_height(self, ws, r: int, height: float) -> None:
        """Give row ``r`` its height before its cells are written (the workbook streams
        rows out in order). XlsxWriter keeps every height set, even in constant-memory
        mode; those of rows already written out are dropped here, so that a sheet of
        600,000 rows costs no more memory than one of 60. Only for sheets without
        drawings or comments, whose positions are worked out from the heights at the end."""
        if height <= ONE_LINE:
            return
        ws.set_row(r, height)
        pending = self._heights.setdefault(id(ws), [])
        pending.append(r)
        written = getattr(ws, "previous_row", None)  # rows before it are on disk
        rows, sizes = getattr(ws, "row_info", None), getattr(ws, "row_sizes", None)
        if len(pending) < 256 or not getattr(ws, "constant_memory", False) or written is None \
                or not isinstance(rows, dict) or not isinstance(sizes, dict):
            return
        keep = []
        for row in pending:
            if row < written:
                rows.pop(row, None)
                sizes.pop(row, None)
            else:
                keep.append(row)
        pending[:] = keep


Fitted = list[tuple[list[str], float]]  # a record's rows: their texts and heights


def fitted(values: Sequence[Any], widths: Sequence[float],
           counts: dict[int, Sequence[int]] | None = None) -> Fitted:
    """The rows a record takes (see :meth:`Context.record`): pure, so that it can be
    worked out elsewhere (master/aside.py)."""
    return textfit.fit_row([v if isinstance(v, str) else "" for v in values], widths, counts=counts)


def _record_cells(values: Sequence[Any], pieces: Sequence[str], styles: Sequence[str],
                  carry: dict[int, str], k: int) -> list[tuple[Any, str]] | None:
    """Row ``k`` of a record as (value, format) cells, as :meth:`Context.record` writes
    them: texts in pieces, other values whole in the first row, in the format
    :meth:`Context.value` gives them. None for a value only XlsxWriter writes."""
    cells: list[tuple[Any, str]] = []
    for c, (value, piece, style) in enumerate(zip(values, pieces, styles)):
        if k:
            cells.append((piece or carry.get(c, ""), style))
        elif isinstance(value, str):
            cells.append((piece, style))
        elif value is None:  # an empty cell of the table: its border prints
            cells.append((BLANK, style))
        elif type(value) is bool:
            cells.append((str(value), "cell"))
        elif type(value) is int or type(value) is float:
            cells.append((value, "num"))
        else:
            return None
    return cells


def formats(wb) -> dict[str, Any]:
    base = {"font_name": FONT, "font_size": 11, "valign": "top"}

    def fmt(**kw):
        return wb.add_format({**base, **kw})

    return {
        "title": fmt(bold=True, font_size=14),
        "text": fmt(),
        "note": fmt(text_wrap=True),
        "wrap": fmt(text_wrap=True, border=1),
        "cell": fmt(border=1),
        "num": fmt(border=1, align="center"),
        "date": fmt(border=1, num_format=ROC_DATE),
        "time": fmt(border=1, num_format=ROC_TIME),
        "header": fmt(bold=True, text_wrap=True, border=1, bg_color="#D9E1F2",
                      align="center", valign="vcenter"),
        "band": fmt(bold=True, border=1, bg_color="#FCE4D6"),
        "grey": fmt(border=1, bg_color="#EDEDED"),
        "missing": fmt(border=1, bg_color="#F8CBAD", align="center"),
        "invalid": fmt(border=1, bg_color="#FFC7CE", font_color="#9C0006", align="center"),
        "revised": fmt(border=1, bg_color="#FFEB9C", font_color="#9C5700", align="center"),
        "bad": fmt(text_wrap=True, border=1, bg_color="#F8CBAD"),
        "bad_line": fmt(border=1, bg_color="#F8CBAD"),
        "review": fmt(border=1, bg_color="#FFF2CC", locked=False, align="center"),
        "score": fmt(border=1, align="center", bold=True),
        "label": fmt(bold=True, border=1, align="right"),
    }
