"""The roll-up as a text document (.odt, .docx, .html), through the 執行成果's writers:
附表2 with one row per branch, then the per-構面 statistics and the grade
distribution, and the branches that were not counted."""
from __future__ import annotations

from ...cells import fmt_number
from ..documents.content import bands_text
from ..documents.model import DocCell, DocParagraph, DocTable, Document
from ..layout import dimension_header
from .table import MISSING, Rollup


def rollup_document(rollup: Rollup) -> Document:
    doc = Document(title=rollup.title, author=rollup.agency)
    doc.blocks.append(DocParagraph("【附表 2】", "heading"))
    doc.blocks.append(DocParagraph(rollup.title, "subtitle"))
    doc.blocks.append(DocParagraph("受考核單位：" + "、".join(r.name for r in rollup.rows)))
    doc.blocks.append(DocParagraph(bands_text(rollup.bands)))
    doc.blocks.append(_table2(rollup))
    doc.blocks += _statistics(rollup)
    left_out = [r for r in rollup.rows if r.branch is None]
    if left_out:
        doc.blocks.append(DocParagraph("未採計：" + "、".join(f"{r.name}（{r.note or MISSING}）" for r in left_out),
                                       "note"))
    return doc


def _c(text: str, **kw) -> DocCell:
    return DocCell(text, align="center", **kw)


def _table2(rollup: Rollup) -> DocTable:
    dims = rollup.scheme.dimensions if rollup.scheme else ()
    n = len(dims)
    header = [
        [_c("實施考核機關", rowspan=2), _c("編號", rowspan=2), _c("受考核單位名稱", rowspan=2),
         _c(f"考核項目成績（{fmt_number(sum(p for _, p in dims))} 分）", colspan=max(n, 1)),
         _c("總分", rowspan=2), _c("等第", rowspan=2), _c("考核年月", rowspan=2)],
        [_c(dimension_header(i, name, points)) for i, (name, points) in enumerate(dims, 1)],
    ]
    body = []
    for row in rollup.rows:
        if row.branch is None:
            figures = [""] * n + ["", row.note or MISSING, ""]
        else:
            figures = [fmt_number(s) for s in row.scores] + [fmt_number(row.total), row.grade, row.review_month]
        body.append([_c(row.agency), _c(str(row.number)), _c(row.name), *[_c(t) for t in figures]])
    widths = [1.9, 1.0, 1.9, *[1.8] * n, 1.3, 1.1, 1.6]
    return DocTable(rollup.title, widths, header, body)


def _statistics(rollup: Rollup) -> list:
    dims = list(rollup.scheme.dimensions) if rollup.scheme else []
    labels = [dimension_header(i, name, points) for i, (name, points) in enumerate(dims, 1)] + ["總分"]
    points = [p for _, p in dims] + [sum(p for _, p in dims)]
    body = []
    for k, (label, pts) in enumerate(zip(labels, points)):
        stats = rollup.stats(k)
        figures = [fmt_number(v) for v in stats] if stats else ["", "", ""]
        body.append([DocCell(label), _c(fmt_number(pts)), *[_c(t) for t in figures]])
    table = DocTable("各構面成績統計", [4.0, 1.2, 1.4, 1.4, 1.4],
                     [[_c(h) for h in ("構面", "配分", "平均", "最高", "最低")]], body)
    counted = len(rollup.counted)
    dist = [[_c(grade), _c(str(count)), _c(f"{100 * count / counted:.1f}%" if counted else "")]
            for grade, count in rollup.distribution()]
    missing = sum(1 for r in rollup.rows if r.branch is None)
    if missing:
        dist.append([_c("未採計"), _c(str(missing)), _c("")])
    grades = DocTable("等第分布", [2.0, 1.5, 1.5], [[_c(h) for h in ("等第", "單位數", "比例")]], dist)
    return [DocParagraph("各構面成績統計", "heading"),
            DocParagraph(f"採計 {counted} 個單位（共 {len(rollup.rows)} 個）；未繳或不採計的單位不列入統計。", "note"),
            table, DocParagraph("等第分布", "heading"), grades]
