"""The 執行成果 document and the plan document, in the plan document's layout.

Per 構面 a heading with its points and the table 執行策略 | 執行方法 | 主辦單位 |
具體作法 | 執行績效與成果 (填報期間); a 執行策略 shared by consecutive items is one
merged cell, and so is a shared 執行方法, while the later items of a numbered
list under a 執行方法 heading show only their own line (as plan documents set
them out; `xltool init --from` reads them back the same way). Then 附表2: the
bands line, and 實施考核機關 | 編號 | 受考核單位名稱 | each 構面 | 總分 | 等第 |
考核年月. The plan document is the same without results and scores.
"""
from __future__ import annotations

import re
from pathlib import Path

from ...cells import fmt_number
from ...plan import Item, Plan
from ..layout import cn_number, dimension_header
from .model import DocCell, DocParagraph, DocTable, Document
from .outcome import ItemOutcome, Outcome

ITEM_WIDTHS = [2.4, 3.6, 1.8, 4.6, 4.6]
SUB_ITEM = re.compile(r"^\s*[(（]\s*[0-9０-９]+\s*[)）]")
AGENCY_KIND = re.compile(r"(分局|局|府|部|署|處|會|院|所|館|校|中心|公司)$")


def outcome_document(outcome: Outcome) -> Document:
    """The 執行成果: the plan's tables with every lead unit's text, and 附表2 scored."""
    plan = outcome.plan
    texts = {r.item.id: result_text(r) for r in outcome.items}
    doc = Document(title=f"{plan.info.name} 執行成果", author=plan.info.contact_unit or plan.info.agency)
    doc.blocks.append(DocParagraph(plan.info.name, "title"))
    doc.blocks.append(DocParagraph(f"執行績效與成果（{plan.info.period}）", "subtitle"))
    if outcome.missing:
        doc.blocks.append(DocParagraph(f"未繳單位：{'、'.join(outcome.missing)}", "note"))
    doc.blocks += dimension_tables(plan, texts)
    scores = [fmt_number(s) for _, s in outcome.dimensions] + [fmt_number(outcome.total), outcome.grade]
    doc.blocks += table2(plan, scores)
    return doc


def plan_document(plan: Plan, preface: list[tuple[str, list[str]]] | None = None) -> Document:
    """The plan document (no results): title, the given sections (such as 計畫依據 and
    計畫目標, as (heading, paragraphs)), 實施對象, the 構面 tables and an empty 附表2."""
    doc = Document(title=plan.info.name, author=plan.info.contact_unit or plan.info.agency)
    doc.blocks.append(DocParagraph(plan.info.name, "title"))
    sections = list(preface or [])
    kind = AGENCY_KIND.search(plan.info.agency)
    sections.append(("實施對象", [f"{'本' + kind.group(1) if kind else ''}"
                                  f"{'、'.join(u.name for u in plan.units)}。"]))
    numerals = "壹貳參肆伍陸柒捌玖拾"
    for n, (heading, paragraphs) in enumerate(sections):
        doc.blocks.append(DocParagraph(f"{numerals[n % 10]}、{heading}", "heading"))
        doc.blocks += [DocParagraph(p) for p in paragraphs]
    doc.blocks.append(DocParagraph(f"{numerals[len(sections) % 10]}、執行策略及方法", "heading"))
    doc.blocks += dimension_tables(plan, None)
    doc.blocks += table2(plan, None)
    return doc


def result_text(result: ItemOutcome) -> str:
    """One item's 執行績效與成果: each lead's text, 【單位】 first where there are
    several leads; 未繳 for a unit that did not return."""
    several = len(result.texts) > 1
    parts = []
    for t in result.texts:
        text = "未繳" if t.missing else (t.text or f"（{t.status or '未填'}）")
        parts.append(f"【{t.unit}】{text}" if several else text)
    return "\n".join(parts)


def dimension_tables(plan: Plan, results: dict[str, str] | None) -> list:
    blocks: list = []
    for n, dim in enumerate(plan.dimensions, start=1):
        heading = f"構面{cn_number(n)}：{dim.name}({fmt_number(dim.points)} 分)"
        blocks.append(DocParagraph(heading, "heading"))
        items = [i for i in plan.items if i.dimension == dim.code]
        header = [DocCell(h, align="center") for h in
                  ("執行策略", "執行方法", "主辦單位", "具體作法", f"執行績效與成果\n（{plan.info.period}）")]
        blocks.append(DocTable(heading, list(ITEM_WIDTHS), [header], _item_rows(items, results)))
    return blocks


def _item_rows(items: list[Item], results: dict[str, str] | None) -> list[list[DocCell]]:
    rows: list[list[DocCell]] = [[] for _ in items]
    for start, end in _runs(items, lambda i: i.strategy):
        rows[start].append(DocCell(items[start].strategy, rowspan=end - start))
        for m_start, m_end in _runs(items[start:end], lambda i: i.method):
            first = start + m_start
            rows[first].append(DocCell(items[first].method, rowspan=m_end - m_start))
        _shorten_lists(items, rows, start, end)
    for n, item in enumerate(items):
        rows[n] += [DocCell(item.lead_text), DocCell(item.practice),
                    DocCell(results.get(item.id, "") if results is not None else "")]
    return rows


def _runs(items: list, key) -> list[tuple[int, int]]:
    """(start, end) of each run of consecutive items with the same key."""
    out: list[tuple[int, int]] = []
    for n, item in enumerate(items):
        if out and key(items[out[-1][0]]) == key(item):
            out[-1] = (out[-1][0], n + 1)
        else:
            out.append((n, n + 1))
    return out


def _shorten_lists(items: list[Item], rows: list[list[DocCell]], start: int, end: int) -> None:
    """Within one 執行策略: an item whose 執行方法 is the previous one's heading plus
    its own numbered line shows only that line."""
    head = None
    for n in range(start, end):
        cell = rows[n][-1] if rows[n] and len(rows[n]) >= (2 if n == start else 1) else None
        if cell is None:
            continue  # covered by a merged 執行方法 above
        method = items[n].method
        if head is not None and method.startswith(head + "\n") and SUB_ITEM.match(method[len(head) + 1:]):
            rows[n][-1] = DocCell(method[len(head) + 1:], rowspan=cell.rowspan)
            continue
        lines = method.split("\n")
        head = next(("\n".join(lines[:k]) for k in range(1, len(lines)) if SUB_ITEM.match(lines[k])), None)


def bands_line(plan: Plan) -> str:
    """優=900 分以上；甲=899-800 分；…；丁=599 分以下, from the plan's 等第."""
    return bands_text(plan.grades)


def bands_text(grades) -> str:
    """The bands line of any grade bands (:class:`~xltool.plan.GradeBand`)."""
    bands = sorted(grades, key=lambda b: -b.minimum)
    out = []
    for i, b in enumerate(bands):
        upper = fmt_number(bands[i - 1].minimum - 1) if i else ""
        if i == 0:
            out.append(f"{b.grade}={fmt_number(b.minimum)} 分以上")
        elif i == len(bands) - 1 and b.minimum <= 0:
            out.append(f"{b.grade}={upper} 分以下")
        else:
            out.append(f"{b.grade}={upper}-{fmt_number(b.minimum)} 分")
    return "；".join(out)


def table2(plan: Plan, scores: list[str] | None) -> list:
    """附表2 (自行考核結果統計表); ``scores``: each 構面's, the total and the grade."""
    name = re.sub(r"(執行|實施)?計畫$", "", plan.info.name.strip())
    title = f"{name}自行考核結果統計表"
    n = len(plan.dimensions)
    header = [
        [DocCell("實施考核機關", rowspan=2, align="center"), DocCell("編號", rowspan=2, align="center"),
         DocCell("受考核單位名稱", rowspan=2, align="center"),
         DocCell(f"考核項目成績（{fmt_number(plan.total_points)} 分）", colspan=n, align="center"),
         DocCell("總分", rowspan=2, align="center"), DocCell("等第", rowspan=2, align="center"),
         DocCell("考核年月", rowspan=2, align="center")],
        [DocCell(dimension_header(i, d.name, d.points), align="center") for i, d in enumerate(plan.dimensions, 1)],
    ]
    figures = scores if scores is not None else [""] * (n + 2)
    body = [[DocCell(plan.info.agency, align="center"), DocCell("1", align="center"),
             DocCell(plan.info.agency, align="center"), *[DocCell(s, align="center") for s in figures],
             DocCell(plan.info.review_month, align="center")]]
    # Relative widths (cm on a 17 cm line for five 構面): the names wrap, the figures may
    # not (a total of 241.33 at 10 pt with Word's cell margins needs 1.6 cm), nor 考核年月.
    widths = [1.6, 1.1, 1.6, *[1.8] * n, 1.7, 1.3, 1.9]
    return [DocParagraph("【附表 2】", "heading", page_break=True), DocParagraph(title, "subtitle"),
            DocParagraph(f"受考核單位：{plan.info.agency}"), DocParagraph(bands_line(plan)),
            DocTable(title, widths, header, body)]


DOCUMENT_SUFFIXES = (".odt", ".docx", ".html")


def check_targets(targets: list, inputs: tuple = ()) -> None:
    """Every output named by a document format's extension, none of them an input,
    and none open in an office program (which would refuse it, or save its old copy
    over it afterwards)."""
    from ...errors import XltoolError
    from ...files import real_path

    for target in targets:
        if Path(target).suffix.lower() not in DOCUMENT_SUFFIXES:
            raise XltoolError(f"輸出檔須為 .odt、.docx 或 .html：{Path(target).name}")
        if any(real_path(Path(target)) == real_path(Path(given)) for given in inputs):
            raise XltoolError(f"輸出檔「{target}」就是輸入的計畫檔或總表，寫入會覆蓋它；請改用其他檔名。")
    from ...file_locks import check_not_open

    for target in targets:
        check_not_open(Path(target))


def write_document(document: Document, target, keep: bool = True) -> Path | None:
    """Write ``document`` in the format ``target``'s extension names. Returns where a
    different file that was at ``target`` has been kept (:func:`~xltool.master.writer.write_keeping`; with
    ``keep`` False it is simply replaced)."""
    from ...files import atomic_path
    from ..writer import write_keeping
    from .docx import write_docx
    from .html import write_html
    from .odt import write_odt

    check_targets([target])
    writer = {".odt": write_odt, ".docx": write_docx}.get(Path(target).suffix.lower(), write_html)
    if not keep:
        with atomic_path(Path(target)) as tmp:
            writer(document, tmp)
        return None
    return write_keeping(Path(target), lambda path: writer(document, path))


def write_plan_document(plan: Plan, target, preface: list[tuple[str, list[str]]] | None = None) -> None:
    """The plan document (without results) as .odt, .docx or .html: what the
    examples ship as 計畫.docx and 計畫.odt, and what `xltool init --from` reads."""
    write_document(plan_document(plan, preface), target, keep=False)
