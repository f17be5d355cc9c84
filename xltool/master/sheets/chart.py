"""The 構面圖 sheet: each 構面's score against its points, as a chart."""
from __future__ import annotations

from ... import textfit
from ...forms.book import FONT
from ..layout import CHART_SHEET
from .context import Context


def write(ctx: Context) -> None:
    ws = ctx.ws[CHART_SHEET]
    ws.write_string(0, 0, "構面", ctx.f["header"])
    ws.write_string(0, 1, "配分", ctx.f["header"])
    ws.write_string(0, 2, "得分", ctx.f["header"])
    for i, (dim, value) in enumerate(ctx.r.dimensions, start=1):
        ws.set_row(i, textfit.row_height([(dim.name, 12)]))
        ws.write_string(i, 0, dim.name, ctx.f["wrap"])
        ws.write_number(i, 1, dim.points, ctx.f["num"])
        ws.write_formula(i, 2, f"={ctx.score_cells[dim.code]}", ctx.f["num"], value)
    n = len(ctx.r.dimensions)
    chart = ctx.wb.add_chart({"type": "column"})
    for col, name in ((1, "配分"), (2, "得分")):
        chart.add_series({"name": name,
                          "categories": [CHART_SHEET, 1, 0, n, 0],
                          "values": [CHART_SHEET, 1, col, n, col],
                          "data_labels": {"value": True}})
    chart.set_title({"name": "各構面得分與配分", "name_font": {"name": FONT}})
    chart.set_x_axis({"num_font": {"name": FONT}})
    chart.set_legend({"position": "bottom", "font": {"name": FONT}})
    chart.set_size({"width": 760, "height": 400})
    ws.insert_chart(0, 4, chart)
    ws.set_column(0, 0, 12)
    ctx.print_setup(ws, 0)
