"""What every master sheet writer shares: the workbook, its formats, the merge
result, and where 評分 put the cells the other sheets refer to."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from ...forms.book import FONT, PAPER_A4
from ..merge import MergeResult


@dataclass
class Context:
    wb: Any  # an XlsxWriter Workbook
    r: MergeResult
    ws: dict[str, Any] = field(default_factory=dict)  # sheet name → worksheet
    f: dict[str, Any] = field(default_factory=dict)  # format name → format
    score_cells: dict[str, str] = field(default_factory=dict)  # 構面 code → 評分 subtotal cell
    total_cell: str = ""

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
        for c, (name, width) in enumerate(zip(names, widths)):
            ws.write_string(row, c, name, self.f["header"])
            ws.set_column(c, c, width)

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


def formats(wb) -> dict[str, Any]:
    base = {"font_name": FONT, "font_size": 11, "valign": "top"}

    def fmt(**kw):
        return wb.add_format({**base, **kw})

    return {
        "title": fmt(bold=True, font_size=14),
        "text": fmt(),
        "wrap": fmt(text_wrap=True, border=1),
        "cell": fmt(border=1),
        "num": fmt(border=1, align="center"),
        "date": fmt(border=1, num_format="yyyy/mm/dd"),
        "time": fmt(border=1, num_format="yyyy/mm/dd hh:mm"),
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
