"""Plan documents built in code for the tests (no committed binaries): .docx with
python-docx and .odt with odfpy, written here independently of xltool's own
document writers, with the variations real plan documents have.

``spec_from_plan`` lays a plan out as plan documents do (the table rows come from
xltool's layout: merged 執行策略, shared 執行方法, numbered lists under a
heading); ``write_docx`` and ``write_odt`` render a spec with:

- the 構面 heading as a paragraph above the table, or as a merged first row
  inside it (``heading_in_table``: the 構面 numbers that get the latter);
- the heading in its variants, one per 構面: 構面一：…(200 分), full-width
  brackets with 200分, 構面 3 and no brackets, a numbered prefix （四）, a
  half-width colon with a space before the bracket;
- header cells broken across lines (主辦單 / 位, 執行績效與成果 / (1-6 月)), as
  separate paragraphs or as a line break;
- vertically merged cells, or (``blank_carry``) the rows below left blank;
- a repeated header row in the middle of a table (as converters leave them);
- (``banner``) a row merged across the table after the header, such as 一、整體服務類;
- empty paragraphs before and after the text of some cells.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from xltool.cells import fmt_number
from xltool.master.documents.content import bands_line, dimension_tables
from xltool.master.documents.model import DocCell
from xltool.master.layout import cn_number
from xltool.plan import Plan


@dataclass
class Spec:
    title: str
    units: str  # the 實施對象 sentence
    header: list[str]
    dimensions: list[tuple[str, list[list[DocCell]]]]  # heading, body rows (HTML-style spans)
    bands: str
    table2: tuple[list[str], list[str]] | None = None  # header, values (with 考核年月)
    preface: list[str] = field(default_factory=list)


def heading_variant(n: int, name: str, points: float) -> str:
    p = fmt_number(points)
    return [f"構面{cn_number(n)}：{name}({p} 分)",
            f"構面{cn_number(n)}：{name}（{p}分）",
            f"構面 {n}：{name} {p}分",
            f"（{cn_number(n)}）構面{cn_number(n)}、{name}（{p} 分）",
            f"構面{cn_number(n)}:{name} ({p} 分)"][(n - 1) % 5]


def spec_from_plan(plan: Plan, points_column: bool = False, prefix: str = "本分局") -> Spec:
    header = ["執行策略", "執行方法", "主辦單\n位", "具體作法", "執行績效與成果\n(" + plan.info.period + ")"]
    if points_column:
        header.append("配分")
    dims = []
    for n, (dim, table) in enumerate(zip(plan.dimensions, [b for b in dimension_tables(plan, None)
                                                             if hasattr(b, "body")]), start=1):
        rows = [list(r) for r in table.body]
        if points_column:
            items = [i for i in plan.items if i.dimension == dim.code]
            for row, item in zip(rows, items):
                row.append(DocCell(fmt_number(item.points)))
        dims.append((heading_variant(n, dim.name, dim.points), rows))
    names = [d.name for d in plan.dimensions]
    table2 = (["實施考核機關", "編號", "受考核單位名稱", *names, "總分", "等第", "考核年月"],
              [plan.info.agency, "1", plan.info.agency, *[""] * len(names), "", "", plan.info.review_month])
    return Spec(plan.info.name, prefix + "、".join(u.name for u in plan.units) + "。", header, dims,
                bands_line(plan), table2)


def _clean_break(placed, wanted: bool) -> int | None:
    """A row from the middle on that no merged cell runs into: where a converter's
    repeated header row can stand."""
    if not wanted:
        return None
    return next((k for k in range(len(placed) // 2, len(placed)) if all(s[1] for s in placed[k])), None)


def _grid(rows: list[list[DocCell]], columns: int):
    """(cell, first place) per grid place, None for places a span covers."""
    out: list[list] = [[None] * columns for _ in rows]
    taken = [[False] * columns for _ in rows]
    for r, row in enumerate(rows):
        c = 0
        for cell in row:
            while taken[r][c]:
                c += 1
            for dr in range(cell.rowspan):
                for dc in range(cell.colspan):
                    taken[r + dr][c + dc] = True
                    out[r + dr][c + dc] = (cell, dr == 0 and dc == 0)
            c += cell.colspan
    return out


# ------------------------------------------------------------------ .docx


def write_docx(spec: Spec, path: Path, heading_in_table: frozenset[int] = frozenset(),
               blank_carry: bool = False, header_as_break: bool = False, banner: str = "") -> Path:
    import docx

    d = docx.Document()
    d.add_paragraph(spec.title)
    d.add_paragraph("109 年 1 月 22 日函訂定")
    for text in spec.preface:
        d.add_paragraph(text)
    d.add_paragraph("參、實施對象")
    d.add_paragraph(spec.units)
    d.add_paragraph("肆、執行策略及方法")
    columns = len(spec.header)
    for n, (heading, body) in enumerate(spec.dimensions, start=1):
        inside = n in heading_in_table
        if not inside:
            d.add_paragraph(heading)
        placed = _grid(body, columns)
        extra = 1 if inside else 0
        repeat_at = _clean_break(placed, n == 2)
        lead_in = 1 if banner and n == 1 else 0  # a merged row across the table, after the header
        total = extra + 1 + lead_in + len(body) + (1 if repeat_at is not None else 0)
        table = d.add_table(rows=total, cols=columns)
        table.style = "Table Grid"
        if inside:
            first = table.cell(0, 0).merge(table.cell(0, columns - 1))
            first.text = heading
        _docx_header(table.rows[extra], spec.header, header_as_break)
        if lead_in:
            table.cell(extra + 1, 0).merge(table.cell(extra + 1, columns - 1)).text = banner
        r = extra + 1 + lead_in
        for k, slots in enumerate(placed):
            if k == repeat_at:
                _docx_header(table.rows[r], spec.header, header_as_break)
                r += 1
            for c, slot in enumerate(slots):
                cell, first_place = slot
                if first_place:
                    if (cell.rowspan > 1 or cell.colspan > 1) and not blank_carry:
                        table.cell(r, c).merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
                    _docx_text(table.cell(r, c), cell.text, padded=(k + c) % 5 == 0)
            r += 1
    d.add_paragraph("【附表 2】")
    d.add_paragraph(spec.bands)
    if spec.table2:
        head, values = spec.table2
        table = d.add_table(rows=2, cols=len(head))
        for c, (h, v) in enumerate(zip(head, values)):
            table.cell(0, c).text = h
            table.cell(1, c).text = v
    d.save(str(path))
    return path


def _docx_header(row, header: list[str], as_break: bool) -> None:
    for cell, text in zip(row.cells, header):
        if as_break:
            cell.text = text  # python-docx writes "\n" as a line break (w:br)
        else:
            _docx_text(cell, text)


def _docx_text(cell, text: str, padded: bool = False) -> None:
    """One paragraph per line; ``padded`` adds the empty paragraphs Word leaves around text."""
    lines = text.split("\n")
    if padded:
        lines = ["", *lines, ""]
    cell.paragraphs[0].text = lines[0]
    for line in lines[1:]:
        cell.add_paragraph(line)


# ------------------------------------------------------------------ .odt


def write_odt(spec: Spec, path: Path, heading_in_table: frozenset[int] = frozenset(),
              blank_carry: bool = False, header_as_break: bool = False) -> Path:
    from odf.element import Element
    from odf.opendocument import OpenDocumentText
    from odf.text import P

    Element.namespaces.clear()
    doc = OpenDocumentText()
    for text in [spec.title, *spec.preface, "參、實施對象", spec.units, "肆、執行策略及方法"]:
        doc.text.addElement(_odt_p(text))
    columns = len(spec.header)
    for n, (heading, body) in enumerate(spec.dimensions, start=1):
        inside = n in heading_in_table
        if not inside:
            doc.text.addElement(_odt_p(heading))
        doc.text.addElement(_odt_table(f"構面{n}", spec.header, body, columns, inside and heading,
                                       blank_carry, header_as_break, repeat=n == 2))
    doc.text.addElement(_odt_p("【附表 2】"))
    doc.text.addElement(_odt_p(spec.bands))
    if spec.table2:
        head, values = spec.table2
        doc.text.addElement(_odt_table("附表2", head, [[DocCell(v) for v in values]], len(head), "",
                                       False, False, repeat=False))
    doc.text.addElement(P())
    doc.save(str(path))
    _declare_13(path)
    return path


def _odt_p(text: str, as_break: bool = False):
    from odf import teletype
    from odf.text import LineBreak, P

    p = P()
    for k, line in enumerate(text.split("\n")):
        if k:
            p.addElement(LineBreak())
        teletype.addTextToElement(p, line)
    return p


def _odt_cell_paragraphs(cell_el, text: str, as_break: bool, padded: bool = False) -> None:
    if as_break:
        cell_el.addElement(_odt_p(text))
        return
    lines = text.split("\n")
    for line in (["", *lines, ""] if padded else lines):
        cell_el.addElement(_odt_p(line))


def _odt_table(name, header, body, columns, heading, blank_carry, header_as_break, repeat):
    from odf.table import CoveredTableCell, Table, TableCell, TableColumn, TableHeaderRows, TableRow

    table = Table(name=name)
    table.addElement(TableColumn(numbercolumnsrepeated=columns))
    head = TableHeaderRows()
    if heading:
        row = TableRow()
        cell = TableCell(numbercolumnsspanned=columns)
        cell.addElement(_odt_p(heading))
        row.addElement(cell)
        for _ in range(columns - 1):
            row.addElement(CoveredTableCell())
        head.addElement(row)

    def header_row():
        row = TableRow()
        for text in header:
            cell = TableCell()
            _odt_cell_paragraphs(cell, text, header_as_break)
            row.addElement(cell)
        return row

    head.addElement(header_row())
    table.addElement(head)
    placed = _grid(body, columns)
    repeat_at = _clean_break(placed, repeat)
    for k, slots in enumerate(placed):
        if k == repeat_at:
            table.addElement(header_row())
        row = TableRow()
        for c, (cell, first) in enumerate(slots):
            if first:
                spans = {} if blank_carry or cell.rowspan == 1 else {"numberrowsspanned": cell.rowspan}
                if cell.colspan > 1:
                    spans["numbercolumnsspanned"] = cell.colspan
                el = TableCell(**spans)
                _odt_cell_paragraphs(el, cell.text, False, padded=(k + c) % 5 == 0)
                row.addElement(el)
            elif blank_carry:
                el = TableCell()
                el.addElement(_odt_p(""))
                row.addElement(el)
            else:
                row.addElement(CoveredTableCell())
        table.addElement(row)
    return table


def _declare_13(path: Path) -> None:
    """odfpy writes ODF 1.2 while its tables here are valid 1.3 too: declare 1.3, as
    xltool's writers do, so the schema check below holds these files to 1.3."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for info, data in entries:
            if info.filename == "META-INF/manifest.xml":
                data = data.replace(b"<manifest:manifest ", b'<manifest:manifest manifest:version="1.3" ', 1)
            elif info.filename.endswith(".xml"):
                data = data.replace(b'office:version="1.2"', b'office:version="1.3"', 1)
            zout.writestr(info, data)
