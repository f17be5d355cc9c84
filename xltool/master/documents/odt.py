"""Render a :class:`~.document_model.Document` as an ODF text document (.odt, odfpy).

A4 portrait, 標楷體 with its fallbacks as one CSS-style font-family list (which
LibreOffice reads as its substitution list), header rows as
``table:table-header-rows`` (repeated on every page), spans as spanned and
covered cells, a page-number footer; declared ODF 1.3 and written with fixed
zip times, so the same content gives the same bytes.
"""
from __future__ import annotations

import re
import zipfile
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

ODF_VERSION = b"1.3"
PARAGRAPH_STYLES = {  # name → (size pt, bold, centred, space above cm)
    "title": (16, True, True, 0.0),
    "subtitle": (13, False, True, 0.1),
    "heading": (13, True, False, 0.3),
    "body": (12, False, False, 0.1),
    "note": (10, False, False, 0.1),
    "cell": (10, False, False, 0.0),
    "cell-center": (10, False, True, 0.0),
    "cell-header": (10, True, True, 0.0),
}


def write_odt(document: Document, target: Path) -> None:
    """Write ``document`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        _document(document).save(str(tmp))
        _finish_package(tmp)


def _document(document: Document):
    from odf.element import Element
    from odf.opendocument import OpenDocumentText

    Element.namespaces.clear()  # odfpy's class-wide namespace list: start afresh
    doc = OpenDocumentText()
    _meta(doc, document)
    styles = _styles(doc)
    for n, block in enumerate(document.blocks):
        if isinstance(block, DocParagraph):
            for p in _paragraphs(block, styles, first=n == 0):
                doc.text.addElement(p)
        else:
            doc.text.addElement(_table(doc, block, styles, n))
    return doc


def _meta(doc, document: Document) -> None:
    from odf import dc

    doc.meta.addElement(dc.Title(text=document.title))
    doc.meta.addElement(dc.Language(text="zh-TW"))
    if document.author:
        doc.meta.addElement(dc.Creator(text=document.author))


def _styles(doc) -> dict[str, object]:
    from odf import style

    family = ", ".join(f"'{f}'" if " " in f else f for f in (FONT, *FONT_FALLBACKS))
    doc.fontfacedecls.addElement(style.FontFace(name=FONT, fontfamily=family, fontfamilygeneric="roman",
                                                fontpitch="variable"))
    default = style.DefaultStyle(family="paragraph")
    default.addElement(style.TextProperties(fontname=FONT, fontnameasian=FONT, fontnamecomplex=FONT,
                                            language="zh", country="TW", languageasian="zh",
                                            countryasian="TW", fontsize="12pt", fontsizeasian="12pt"))
    doc.styles.addElement(default)
    master = _page(doc)
    out: dict[str, object] = {}
    for name, (size, bold, centred, above) in PARAGRAPH_STYLES.items():
        out[name] = _paragraph_style(doc, name, size, bold, centred, above)
    out["first"] = _paragraph_style(doc, "first", *PARAGRAPH_STYLES["title"], master=master)
    out["break-heading"] = _paragraph_style(doc, "break-heading", *PARAGRAPH_STYLES["heading"], page_break=True)
    out["break-body"] = _paragraph_style(doc, "break-body", *PARAGRAPH_STYLES["body"], page_break=True)
    for name, header in (("td", False), ("th", True)):
        cell = style.Style(name=f"x{name}", family="table-cell")
        cell.addElement(style.TableCellProperties(
            border="0.5pt solid #000000", padding="0.08cm", verticalalign="middle" if header else "top",
            backgroundcolor="#D9E1F2" if header else "transparent"))
        doc.automaticstyles.addElement(cell)
        out[name] = cell
    return out


def _page(doc):
    from odf import style, text

    layout = style.PageLayout(name="xA4")
    layout.addElement(style.PageLayoutProperties(
        pagewidth=f"{PAGE_WIDTH_CM}cm", pageheight=f"{PAGE_HEIGHT_CM}cm", printorientation="portrait",
        margintop=f"{MARGIN_CM}cm", marginbottom=f"{MARGIN_CM - 0.5}cm", marginleft=f"{MARGIN_CM}cm",
        marginright=f"{MARGIN_CM}cm"))
    doc.automaticstyles.addElement(layout)
    master = style.MasterPage(name="Standard", pagelayoutname=layout)
    footer = style.Footer()
    para = text.P(text="第 ")
    para.addElement(text.PageNumber(selectpage="current", text="1"))
    para.addText(" 頁，共 ")
    para.addElement(text.PageCount(text="1"))
    para.addText(" 頁")
    footer.addElement(para)
    master.addElement(footer)
    doc.masterstyles.addElement(master)
    return master


def _paragraph_style(doc, name: str, size: float, bold: bool, centred: bool, above: float,
                     master=None, page_break: bool = False):
    from odf import style

    kwargs = {"masterpagename": master} if master is not None else {}
    s = style.Style(name=f"x{name}", family="paragraph", **kwargs)
    paragraph = {"margintop": f"{above}cm", "marginbottom": "0.05cm"}
    if centred:
        paragraph["textalign"] = "center"
    if page_break:
        paragraph["breakbefore"] = "page"
    s.addElement(style.ParagraphProperties(**paragraph))
    weight = "bold" if bold else "normal"
    s.addElement(style.TextProperties(fontsize=f"{size}pt", fontsizeasian=f"{size}pt", fontweight=weight,
                                      fontweightasian=weight))
    doc.automaticstyles.addElement(s)
    return s


def _paragraphs(block: DocParagraph, styles: dict[str, object], first: bool):
    from odf import text

    name = "first" if first else (f"break-{block.style}" if block.page_break and
                                  f"break-{block.style}" in styles else block.style)
    for k, line in enumerate(lines(block.text)):
        p = text.P(stylename=styles[name if k == 0 else block.style])
        add_text(p, line)
        yield p


_SPACES = re.compile(r"( +|\t)")


def add_text(p, line: str) -> None:
    """``line`` into the paragraph ``p`` so that every space and tab reads back: ODF
    readers drop a paragraph's leading spaces and collapse a run of them to one
    (ODF 1.3 part 3, 6.1.2), so a space is written as itself only alone between two
    other characters, and every other run of spaces as ``text:s`` with its count
    (odfpy's teletype writes the first of a run as a space, which a leading run loses)."""
    from odf import text

    parts = [part for part in _SPACES.split(line) if part]
    for n, part in enumerate(parts):
        if part == "\t":
            p.addElement(text.Tab())
        elif part[0] != " ":
            p.addText(part)
        elif part == " " and 0 < n < len(parts) - 1 and parts[n - 1] != "\t" and parts[n + 1] != "\t":
            p.addText(" ")
        else:
            p.addElement(text.S(c=len(part)))


def _table(doc, block: DocTable, styles: dict[str, object], n: int):
    from odf import style, table

    columns = len(block.widths)
    t = table.Table(name=f"表格{n + 1}", stylename=_table_style(doc, n))
    total = sum(block.widths)
    for c, width in enumerate(block.widths):
        s = style.Style(name=f"xt{n}c{c}", family="table-column")
        s.addElement(style.TableColumnProperties(columnwidth=f"{TEXT_WIDTH_CM * width / total:.3f}cm"))
        doc.automaticstyles.addElement(s)
        t.addElement(table.TableColumn(stylename=s))
    head = table.TableHeaderRows()
    for row in _rows(block.header, columns, styles, header=True):
        head.addElement(row)
    t.addElement(head)
    for row in _rows(block.body, columns, styles, header=False):
        t.addElement(row)
    return t


def _table_style(doc, n: int):
    from odf import style

    s = style.Style(name=f"xt{n}", family="table")
    s.addElement(style.TableProperties(width=f"{TEXT_WIDTH_CM}cm", align="margins", margintop="0.1cm",
                                       marginbottom="0.2cm"))
    doc.automaticstyles.addElement(s)
    return s


def _rows(rows, columns: int, styles: dict[str, object], header: bool):
    from odf import table, text

    for placed in grid(rows, columns):
        tr = table.TableRow()
        for slot in placed:
            if slot is None:  # a short row: an empty cell keeps the grid
                tr.addElement(table.TableCell(stylename=styles["td"]))
                continue
            if not slot[1]:
                tr.addElement(table.CoveredTableCell())
                continue
            cell = slot[0]
            spans = {"numbercolumnsspanned": cell.colspan, "numberrowsspanned": cell.rowspan} \
                if cell.colspan > 1 or cell.rowspan > 1 else {}
            td = table.TableCell(stylename=styles["th" if header else "td"], **spans)
            para = "cell-header" if header else ("cell-center" if cell.align == "center" else "cell")
            for line in lines(cell.text):
                p = text.P(stylename=styles[para])
                add_text(p, line)
                td.addElement(p)
            tr.addElement(td)
        yield tr


def _finish_package(path: Path) -> None:
    """Declare ODF 1.3 (odfpy writes 1.2), give the manifest its version, and fix
    every zip entry's time; the mimetype entry stays first and uncompressed."""
    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for info, data in entries:
            if info.filename == "META-INF/manifest.xml":
                data = data.replace(b"<manifest:manifest ", b'<manifest:manifest manifest:version="'
                                    + ODF_VERSION + b'" ', 1)
            elif info.filename.endswith(".xml"):
                data = data.replace(b'office:version="1.2"', b'office:version="' + ODF_VERSION + b'"', 1)
            fixed = zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)
