"""Write the roll-up workbook (.xlsx): 附表2 with one row per branch, 統計, 來源, 檢核結果.

Like the master: XlsxWriter with strings never turned into formulas or links,
標楷體, A4 landscape fitted to the page width with the header rows repeated;
總分, 等第 and every statistic are live formulas carrying the values computed
in Python as their cache, so the file reads right before any program
recalculates it.
"""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

from ... import textfit
from ...cells import a1, col_letter, formula_string, local_text
from ...files import atomic_path
from ...xlsx_text import LiteralWorksheet
from ..documents.content import bands_text
from ..layout import ISSUE_SHEET, dimension_header
from ..sheets import issues as issue_sheet
from ..sheets.context import ONE_LINE, Context, formats
from ..writer import DEFAULT_FONT
from .table import MISSING, REFUSED, Rollup

TABLE_SHEET, STATS_SHEET, SOURCE_SHEET = "附表2", "統計", "來源"
HEADER_ROW = 4  # 0-based: the upper of 附表2's two header rows


def write_rollup_xlsx(rollup: Rollup, target: Path) -> None:
    """Write ``rollup`` to ``target`` atomically."""
    from ...xlsx_scratch import ScratchWorkbook

    with atomic_path(Path(target)) as tmp:
        wb = ScratchWorkbook(str(tmp), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "default_format_properties": dict(DEFAULT_FONT)})
        wb.set_properties({"title": rollup.title, "author": rollup.agency})
        ctx = Context(wb, cast(Any, SimpleNamespace(issues=rollup.issues)), f=formats(wb))
        ctx.f["percent"] = wb.add_format({"font_name": "標楷體", "border": 1, "align": "center",
                                          "num_format": "0.0%", "valign": "top"})
        ctx.ws = {name: wb.add_worksheet(name, LiteralWorksheet)
                  for name in (TABLE_SHEET, STATS_SHEET, SOURCE_SHEET, ISSUE_SHEET)}
        for ws in ctx.ws.values():
            ws.set_default_row(ONE_LINE)
        n_dims = len(rollup.scheme.dimensions) if rollup.scheme else 0
        _table(ctx, rollup, n_dims)
        _stats(ctx, rollup, n_dims)
        _sources(ctx, rollup)
        issue_sheet.write(ctx)
        ctx.ws[TABLE_SHEET].activate()
        wb.close()


def _first_row() -> int:
    return HEADER_ROW + 2


def _table(ctx: Context, rollup: Rollup, n: int) -> None:
    """附表2 in the seed's layout: 實施考核機關 | 編號 | 受考核單位名稱 | each 構面 | 總分 | 等第 | 考核年月."""
    f, ws = ctx.f, ctx.ws[TABLE_SHEET]
    widths = [18, 6, 18, *[13] * n, 9, 8, 9]
    ctx.title(ws, 0, rollup.title)
    ctx.note(ws, 1, "受考核單位：" + "、".join(r.name for r in rollup.rows), widths)
    ctx.note(ws, 2, bands_text(rollup.bands), widths)
    hr = HEADER_ROW
    dims = rollup.scheme.dimensions if rollup.scheme else ()
    for c, name in enumerate(["實施考核機關", "編號", "受考核單位名稱"]):
        ws.merge_range(hr, c, hr + 1, c, name, f["header"])
    title = f"考核項目成績（{sum(p for _, p in dims):g} 分）"
    if n > 1:
        ws.merge_range(hr, 3, hr, 2 + n, title, f["header"])
    elif n:
        ws.write_string(hr, 3, title, f["header"])
    for k, name in enumerate(["總分", "等第", "考核年月"]):
        ws.merge_range(hr, 3 + n + k, hr + 1, 3 + n + k, name, f["header"])
    names = [dimension_header(i + 1, name, points) for i, (name, points) in enumerate(dims)]
    ws.set_row(hr + 1, max(36, textfit.row_height([(t, 13) for t in names], bold=True)))
    for i, name in enumerate(names):
        ws.write_string(hr + 1, 3 + i, name, f["header"])
    for k, row in enumerate(rollup.rows):
        r = _first_row() + k
        ws.set_row(r, max(ONE_LINE, textfit.row_height([(row.agency, 18), (row.name, 18)])))
        ws.write_string(r, 0, row.agency, f["wrap"])
        ws.write_number(r, 1, row.number, f["num"])
        ws.write_string(r, 2, row.name, f["wrap"])
        if row.branch is None:
            for c in range(3, 3 + n + 1):
                ws.write_blank(r, c, None, f["missing"])
            ws.write_string(r, 4 + n, row.note or MISSING, f["missing"])
            ws.write_blank(r, 5 + n, None, f["missing"])
            continue
        for i, value in enumerate(row.scores):
            ws.write_number(r, 3 + i, value, f["num"])
        ws.write_formula(r, 3 + n, f"=ROUND(SUM({a1(r, 3)}:{a1(r, 2 + n)}),2)", f["score"], row.total)
        ws.write_formula(r, 4 + n, _grade_formula(rollup, a1(r, 3 + n)), f["score"], row.grade)
        ws.write_string(r, 5 + n, row.review_month, f["num"])
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ws.freeze_panes(_first_row(), 3)
    ctx.print_setup(ws, hr + 1)
    ws.repeat_rows(hr, hr + 1)


def _grade_formula(rollup: Rollup, total_ref: str) -> str:
    formula = '""'
    for band in sorted(rollup.bands, key=lambda b: b.minimum):
        formula = f"IF({total_ref}>={band.minimum:g},{formula_string(band.grade)},{formula})"
    return "=" + formula


def _column(rollup: Rollup, c: int) -> str:
    first, last = _first_row() + 1, _first_row() + max(len(rollup.rows), 1)
    return f"'{TABLE_SHEET}'!${col_letter(c)}${first}:${col_letter(c)}${last}"


def _stats(ctx: Context, rollup: Rollup, n: int) -> None:
    """Per 構面 and the total: mean, highest, lowest; then the grade distribution, and its chart."""
    f, ws = ctx.f, ctx.ws[STATS_SHEET]
    widths = [22, 12, 10, 10, 10]
    ctx.title(ws, 0, f"{rollup.title}　統計")
    ctx.note(ws, 1, f"採計 {len(rollup.counted)} 個單位（共 {len(rollup.rows)} 個）；未繳或不採計的單位不列入統計。",
             widths)
    ctx.header(ws, 3, ["構面", "配分", "平均", "最高", "最低"], widths)
    dims = list(rollup.scheme.dimensions) if rollup.scheme else []
    labels = [dimension_header(i + 1, name, points) for i, (name, points) in enumerate(dims)]
    labels.append("總分")
    points = [p for _, p in dims] + [sum(p for _, p in dims)]
    for k, (label, pts) in enumerate(zip(labels, points)):
        r = 4 + k
        ctx.set_height(ws, r, textfit.row_height([(label, 22)]))
        ws.write_string(r, 0, label, f["wrap"])
        ws.write_number(r, 1, pts, f["num"])
        col = _column(rollup, 3 + k)
        stats = rollup.stats(k)
        cached: list[Any] = list(stats) if stats else ["", "", ""]
        for c, (formula, value) in enumerate(zip(
                (f'=IFERROR(ROUND(AVERAGE({col}),2),"")', f'=IF(COUNT({col})=0,"",MAX({col}))',
                 f'=IF(COUNT({col})=0,"",MIN({col}))'), cached)):
            ws.write_formula(r, 2 + c, formula, f["score"], value)
    _distribution(ctx, rollup, n, 4 + len(labels) + 1)
    for c, width in enumerate(widths):
        ws.set_column(c, c, width)
    ctx.print_setup(ws, 3)


def _distribution(ctx: Context, rollup: Rollup, n: int, top: int) -> None:
    f, ws = ctx.f, ctx.ws[STATS_SHEET]
    ctx.header(ws, top, ["等第", "分數範圍", "單位數", "比例"], [22, 12, 10, 10])
    grades = _column(rollup, 4 + n)
    counted = len(rollup.counted)
    bands = sorted(rollup.bands, key=lambda b: -b.minimum)
    lines = bands_text(bands).split("；")
    entries = [(b.grade, lines[i].split("=", 1)[-1] if i < len(lines) else "", count)
               for i, (b, (_, count)) in enumerate(zip(bands, rollup.distribution()))]
    entries += [(MISSING, "", sum(1 for r in rollup.rows if r.branch is None and r.note != REFUSED)),
                (REFUSED, "", sum(1 for r in rollup.rows if r.note == REFUSED))]
    first = top + 1
    for k, (grade, span, count) in enumerate(entries):
        r = first + k
        ws.write_string(r, 0, grade, f["cell"])
        ws.write_string(r, 1, span, f["num"])
        # Not COUNTIF: it reads * ? ~ in its criterion as wildcards and a leading = < >
        # as an operator, and matches case-insensitively; a grade is matched exactly.
        ws.write_formula(r, 2, f"=SUMPRODUCT(--EXACT({grades},{formula_string(grade)}))", f["num"], count)
        if k < len(bands):
            ws.write_formula(r, 3, f"=IFERROR({a1(r, 2)}/{counted if counted else 0},0)", f["percent"],
                             count / counted if counted else 0)
        else:
            ws.write_blank(r, 3, None, f["cell"])
    if bands:
        chart = ctx.wb.add_chart({"type": "column"})
        chart.add_series({"name": "單位數", "categories": [STATS_SHEET, first, 0, first + len(bands) - 1, 0],
                          "values": [STATS_SHEET, first, 2, first + len(bands) - 1, 2],
                          "data_labels": {"value": True}})
        chart.set_title({"name": "等第分布", "name_font": {"name": "標楷體"}})
        chart.set_x_axis({"num_font": {"name": "標楷體"}})
        chart.set_y_axis({"min": 0, "major_unit": 1, "num_font": {"name": "標楷體"}})
        chart.set_legend({"none": True})
        chart.set_size({"width": 560, "height": 320})
        ws.insert_chart(3, 6, chart)


def _sources(ctx: Context, rollup: Rollup) -> None:
    """Where each row came from: the master's file and when it was saved."""
    ws = ctx.ws[SOURCE_SHEET]
    head = ["編號", "受考核單位名稱", "總表檔案", "存檔時間", "說明"]
    widths = [6, 24, 40, 17, 30]
    ctx.header(ws, 0, head, widths)
    for k, row in enumerate(rollup.rows, start=1):
        b = row.branch
        values = [row.number, row.name, b.name if b else "", local_text(b.saved) if b and b.saved else "",
                  "已驗證：分數依總表的明細與複評重新計算" if b else f"{row.note or MISSING}（見「{ISSUE_SHEET}」）"]
        ctx.set_height(ws, k, textfit.row_height([(str(v), w) for v, w in zip(values, widths)]))
        for c, value in enumerate(values):
            ctx.value(ws, k, c, value, False)
    ws.freeze_panes(1, 0)
    ctx.print_setup(ws, 0)
