"""The 附表2 sheet: the self-assessment table in the seed's layout."""
from __future__ import annotations

from ... import textfit
from ...cells import a1
from ..documents.content import bands_text
from ..layout import TABLE2_SHEET, dimension_header
from .context import Context
from .scores import grade_formula


def write(ctx: Context) -> None:
    plan, f = ctx.plan, ctx.f
    ws = ctx.ws[TABLE2_SHEET]
    dims = ctx.r.dimensions
    n = len(dims)
    widths = [16, 6, 18, *[14] * n, 9, 9, 9]
    ctx.title(ws, 0, f"{plan.info.name}　自行考核結果統計表")
    ctx.note(ws, 1, f"受考核單位：{plan.info.agency}", widths)
    ctx.note(ws, 2, bands_text(plan.grades), widths)
    hr = 4
    # Two header rows written in row order (the workbook streams rows to disk, so
    # no merge may reach back up); the labels stand in the upper row.
    for c, name in enumerate(["實施考核機關", "編號", "受考核單位名稱"]):
        ws.write_string(hr, c, name, f["header"])
    title = f"考核項目成績（{plan.total_points:g} 分）"
    if n > 1:
        ws.merge_range(hr, 3, hr, 2 + n, title, f["header"])
    else:
        ws.write_string(hr, 3, title, f["header"])
    for k, name in enumerate(["總分", "等第", "考核年月"]):
        ws.write_string(hr, 3 + n + k, name, f["header"])
    # Heights before the rows' cells: the workbook streams each row out as it moves on.
    names = [dimension_header(i + 1, dim.name, dim.points) for i, (dim, _) in enumerate(dims)]
    ws.set_row(hr + 1, max(36, textfit.row_height([(t, 14) for t in names], bold=True)))
    for c in range(3):
        ws.write_blank(hr + 1, c, None, f["header"])
    for i, name in enumerate(names):
        ws.write_string(hr + 1, 3 + i, name, f["header"])
    for k in range(3):
        ws.write_blank(hr + 1, 3 + n + k, None, f["header"])
    r = hr + 2
    ws.set_row(r, max(36, textfit.row_height([(plan.info.agency, 16), (plan.info.agency, 18),
                                              (plan.info.review_month, 9)])))
    ws.write_string(r, 0, plan.info.agency, f["wrap"])
    ws.write_number(r, 1, 1, f["num"])
    ws.write_string(r, 2, plan.info.agency, f["wrap"])
    for i, (dim, value) in enumerate(dims):
        ws.write_formula(r, 3 + i, f"={ctx.score_cells[dim.code]}", f["score"], value)
    ws.write_formula(r, 3 + n, f"=ROUND(SUM({a1(r, 3)}:{a1(r, 2 + n)}),2)", f["score"],
                     ctx.r.total)
    ws.write_formula(r, 4 + n, grade_formula(ctx, a1(r, 3 + n)), f["score"], ctx.r.grade)
    ws.write_string(r, 5 + n, plan.info.review_month, f["num"])
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ctx.print_setup(ws, hr + 1)
