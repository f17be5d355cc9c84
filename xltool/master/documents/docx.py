"""Render a :class:`~.document_model.Document` as a Word document (.docx, python-docx).

A4 portrait; 標楷體 for Latin and East Asian text alike, with its Windows name
(DFKai-SB) as the font table's alternative; header rows marked to repeat on
every page (``w:tblHeader``) and kept whole; spans as merged cells; a page
number footer. Written with fixed zip times and document properties, so the
same content gives the same bytes.
"""
from __future__ import annotations

import io
import zipfile
from datetime import datetime
from pathlib import Path

from ...files import atomic_path
from .model import (
    FONT,
    FONT_FALLBACKS,
    MARGIN_CM,
    PAGE_HEIGHT_CM,
    PAGE_WIDTH_CM,
    TEXT_WIDTH_CM,
    DocParagraph,
    DocTable,
    Document,
    grid,
    lines,
)

SIZES = {"title": 16, "subtitle": 13, "heading": 13, "body": 12, "note": 10}
FIXED_TIME = datetime(2000, 1, 1)


def write_docx(document: Document, target: Path) -> None:
    """Write ``document`` to ``target`` atomically."""
    import docx

    d = docx.Document()
    _setup(d, document)
    for block in document.blocks:
        if isinstance(block, DocParagraph):
            _paragraph(d, block)
        else:
            _table(d, block)
    buffer = io.BytesIO()
    d.save(buffer)
    with atomic_path(target) as tmp:
        tmp.write_bytes(_finish_package(buffer.getvalue()))


def _setup(d, document: Document) -> None:
    from docx.oxml.ns import qn
    from docx.shared import Cm, Pt

    section = d.sections[0]
    section.page_width, section.page_height = Cm(PAGE_WIDTH_CM), Cm(PAGE_HEIGHT_CM)
    section.left_margin = section.right_margin = section.top_margin = Cm(MARGIN_CM)
    section.bottom_margin = Cm(MARGIN_CM - 0.5)
    defaults = d.styles.element.find(qn("w:docDefaults"))
    for rpr in ([defaults.find(f"{qn('w:rPrDefault')}/{qn('w:rPr')}")] if defaults is not None else []) + \
            [d.styles["Normal"].element.get_or_add_rPr()]:
        if rpr is not None:
            _fonts(rpr)
    normal = d.styles["Normal"]
    normal.font.size = Pt(12)
    normal.paragraph_format.space_after = Pt(0)
    normal.paragraph_format.line_spacing = 1.0
    props = d.core_properties
    props.title, props.author, props.comments = document.title, document.author, ""
    props.created = props.modified = FIXED_TIME
    props.last_modified_by, props.revision = document.author, 1
    package = d.part.package
    for rel_id, rel in list(package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):  # the template's picture of an empty page
            del package.rels[rel_id]
    _footer(section)


def _fonts(rpr) -> None:
    """標楷體 for every script, in place of the template's theme fonts; zh-TW text."""
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    fonts = rpr.find(qn("w:rFonts"))
    if fonts is None:
        fonts = OxmlElement("w:rFonts")
        rpr.insert(0, fonts)
    for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
        fonts.attrib.pop(qn(theme), None)
    for script in ("w:ascii", "w:hAnsi", "w:eastAsia", "w:cs"):
        fonts.set(qn(script), FONT)
    lang = rpr.find(qn("w:lang"))
    if lang is None:
        lang = OxmlElement("w:lang")
        rpr.append(lang)
    lang.set(qn("w:val"), "zh-TW")
    lang.set(qn("w:eastAsia"), "zh-TW")


def _footer(section) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn

    p = section.footer.paragraphs[0]
    p.alignment = WD_ALIGN_PARAGRAPH.CENTER
    p.add_run("第 ")
    for instruction, after in (("PAGE", " 頁，共 "), ("NUMPAGES", " 頁")):
        field = OxmlElement("w:fldSimple")
        field.set(qn("w:instr"), instruction)
        run = OxmlElement("w:r")
        t = OxmlElement("w:t")
        t.text = "1"
        run.append(t)
        field.append(run)
        p._p.append(field)
        p.add_run(after)


def _paragraph(d, block: DocParagraph) -> None:
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Pt

    for k, line in enumerate(lines(block.text)):
        p = d.add_paragraph()
        fmt = p.paragraph_format
        if block.style in ("title", "subtitle"):
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        fmt.space_before = Pt(8 if block.style == "heading" else 2)
        fmt.space_after = Pt(2)
        if k == 0 and block.page_break:
            fmt.page_break_before = True
        if block.style == "heading":
            fmt.keep_with_next = True
        run = p.add_run(line)
        run.font.size = Pt(SIZES.get(block.style, 12))
        run.bold = block.style in ("title", "heading")


def _table(d, block: DocTable) -> None:
    from docx.enum.table import WD_TABLE_ALIGNMENT
    from docx.shared import Cm

    columns = len(block.widths)
    rows = block.header + block.body
    table = d.add_table(rows=len(rows), cols=columns)
    table.style = "Table Grid"
    table.alignment = WD_TABLE_ALIGNMENT.CENTER
    table.autofit = False
    total = sum(block.widths)
    widths = [Cm(TEXT_WIDTH_CM * w / total) for w in block.widths]
    for column, width in zip(table.columns, widths):
        column.width = width
    placed = grid(rows, columns)
    for r, slots in enumerate(placed):
        for c, slot in enumerate(slots):
            if slot is not None and slot[1] and (slot[0].rowspan > 1 or slot[0].colspan > 1):
                cell = slot[0]
                table.cell(r, c).merge(table.cell(r + cell.rowspan - 1, c + cell.colspan - 1))
    for r, (row, slots) in enumerate(zip(table.rows, placed)):
        header = r < len(block.header)
        if header:
            _repeat(row)
        cells = row.cells
        for c, slot in enumerate(slots):
            cells[c].width = widths[c]
            if slot is not None and slot[1]:
                _cell(cells[c], slot[0].text, header, slot[0].align == "center")


def _repeat(row) -> None:
    """A header row: repeated at the top of every page, never split."""
    from docx.oxml import OxmlElement

    tr_pr = row._tr.get_or_add_trPr()
    for name in ("w:cantSplit", "w:tblHeader"):
        tr_pr.append(OxmlElement(name))


def _cell(cell, text: str, header: bool, centred: bool) -> None:
    from docx.enum.table import WD_ALIGN_VERTICAL
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml import OxmlElement
    from docx.oxml.ns import qn
    from docx.shared import Pt

    cell.vertical_alignment = WD_ALIGN_VERTICAL.CENTER if header else WD_ALIGN_VERTICAL.TOP
    if header:
        shade = OxmlElement("w:shd")
        shade.set(qn("w:val"), "clear")
        shade.set(qn("w:color"), "auto")
        shade.set(qn("w:fill"), "D9E1F2")
        cell._tc.get_or_add_tcPr().append(shade)
    for k, line in enumerate(lines(text)):
        p = cell.paragraphs[0] if k == 0 else cell.add_paragraph()
        if header or centred:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        run = p.add_run(line)
        run.font.size = Pt(10)
        run.bold = header


def _finish_package(data: bytes) -> bytes:
    """Fixed zip times; 標楷體 in the font table with its alternative names."""
    entry = (f'<w:font w:name="{FONT}"><w:altName w:val="{FONT_FALLBACKS[0]}"/><w:charset w:val="88"/>'
             '<w:family w:val="modern"/><w:pitch w:val="fixed"/></w:font>')
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            body = zin.read(info.filename)
            if info.filename == "word/fontTable.xml":
                body = body.replace(b"</w:fonts>", entry.encode("utf-8") + b"</w:fonts>", 1)
            fixed = zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0))
            fixed.compress_type = zipfile.ZIP_DEFLATED
            zout.writestr(fixed, body)
    return out.getvalue()
