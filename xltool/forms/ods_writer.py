"""Render a :class:`~xltool.book.Book` as a native OpenDocument spreadsheet (odfpy).

ODF is the Taiwan government's document standard, so the .ods carries the same
lists, input messages, protection and print set-up as the .xlsx, in ODF's own
terms: content validations, cell-protect styles and table:protected.
"""
from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

from ..cells import a1, abs_ref, utc_naive
from ..files import atomic_path
from ..quoting import xml_lines
from .book import FONT, PLAIN_PRINT, ROC_FROM_SERIAL, STYLES, Book, PrintSetup, Sheet, Validation, footer_label

# A column as wide as LibreOffice makes the same width in the .xlsx (whose unit is
# the digit of Arial 11, see xlsx_writer.DEFAULT_FONT, plus XlsxWriter's 5 px of
# padding), so that the two files look and print alike.
CM_PER_CHAR = 0.2151
PADDING_CHARS = 5 / 7
EXCEL_EPOCH = date(1899, 12, 30)


def write_ods(book: Book, target: Path) -> None:
    """Write ``book`` to ``target`` atomically."""
    with atomic_path(target) as tmp:
        _document(book).save(str(tmp))
        _finish_package(tmp)


ODF_VERSION = b"1.3"


def _finish_package(path: Path) -> None:
    """What odfpy cannot be told: declare ODF 1.3 (odfpy writes 1.2 while the
    attributes used here are 1.3's), give the manifest its required version, and
    stamp every zip entry with a fixed time so that output is reproducible. The
    mimetype entry stays first and uncompressed, as ODF requires."""
    import zipfile

    with zipfile.ZipFile(path) as zin:
        entries = [(info, zin.read(info.filename)) for info in zin.infolist()]
    with zipfile.ZipFile(path, "w") as zout:
        for info, data in entries:
            if info.filename.endswith(".xml") and info.filename != "META-INF/manifest.xml":
                data = data.replace(b'office:version="1.2"', b'office:version="' + ODF_VERSION + b'"', 1)
            elif info.filename == "META-INF/manifest.xml":
                data = data.replace(b"<manifest:manifest ", b'<manifest:manifest manifest:version="'
                                    + ODF_VERSION + b'" ', 1)
            fixed = zipfile.ZipInfo(info.filename, (1980, 1, 1, 0, 0, 0))
            fixed.compress_type = info.compress_type
            fixed.external_attr = info.external_attr
            zout.writestr(fixed, data)


def _document(book: Book):
    from odf import config, meta, table
    from odf.element import Element
    from odf.opendocument import OpenDocumentSpreadsheet

    # odfpy keeps the namespaces it has seen in one class-wide dict and declares
    # them all in every later document; start each document afresh so the
    # output depends on this book alone.
    Element.namespaces.clear()
    doc = OpenDocumentSpreadsheet()
    if book.title:
        doc.meta.addElement(_dc_title(book.title))
    if book.created:
        from odf.dc import Date

        # With its zone (Z): office programs write local time without one, which a
        # reader in another zone cannot place.
        stamp = utc_naive(book.created).replace(microsecond=0).isoformat() + "Z"
        doc.meta.addElement(meta.CreationDate(text=stamp))
        doc.meta.addElement(Date(text=stamp))
    for key, value in book.custom.items():
        doc.meta.addElement(meta.UserDefined(name=key, valuetype="string", text=value))

    masters = _page_styles(doc, book)
    data_styles = _data_styles(doc)
    cell_styles = {name: _cell_style(name, spec, data_styles) for name, spec in STYLES.items()}
    for s in cell_styles.values():
        doc.automaticstyles.addElement(s)

    validations = table.ContentValidations()
    validation_names: dict[int, str] = {}
    for sheet in book.sheets:
        for v in sheet.validations:
            name = f"val{len(validation_names) + 1}"
            validation_names[id(v)] = name
            validations.addElement(_validation(name, sheet, v))
    if validation_names:
        doc.spreadsheet.addElement(validations)
    if book.protect_structure:
        doc.spreadsheet.setAttribute("structureprotected", "true")

    for i, sheet in enumerate(book.sheets):
        doc.spreadsheet.addElement(_table(doc, i, sheet, cell_styles, validation_names,
                                          masters[sheet.print_setup or PLAIN_PRINT]))

    if book.names:
        names = table.NamedExpressions()
        for name, (sheet_name, r1, c1, r2, c2) in book.names.items():
            names.addElement(table.NamedRange(
                name=name, basecelladdress=f"${_q(sheet_name)}.{abs_ref(r1, c1)}",
                cellrangeaddress=f"${_q(sheet_name)}.{abs_ref(r1, c1)}:.{abs_ref(r2, c2)}"))
        doc.spreadsheet.addElement(names)

    doc.settings.addElement(_settings(book, config))
    return doc


def _dc_title(title: str):
    from odf.dc import Title

    return Title(text=title)


def _q(sheet_name: str) -> str:
    return "'" + sheet_name.replace("'", "''") + "'" if " " in sheet_name else sheet_name


# The footer's room: Calc prints a master page's footer only where its page layout has
# a footer style, and takes that room from the body, so the bottom margin shrinks by
# as much. Together 1.6 cm, about the .xlsx's 0.6 in bottom margin holding its footer.
FOOTER_MARGIN_BOTTOM = "0.8cm"
FOOTER_HEIGHT = "0.6cm"
FOOTER_SPACING = "0.2cm"


def _page_styles(doc, book: Book) -> dict[PrintSetup, str]:
    """One page layout and master page per distinct print setup: A4 in the setup's
    orientation, scaled to one page wide (and tall) only where asked, with the
    page-number footer only where asked. Repeated rows are table header rows."""
    from odf import style
    from odf.namespaces import STYLENS

    setups = sorted({s.print_setup or PLAIN_PRINT for s in book.sheets},
                    key=lambda p: (p.landscape, p.fit_width, p.fit_height, p.footer))
    names = {}
    for n, p in enumerate(setups):
        key = (p.landscape, p.fit_width, p.fit_height, p.footer)
        if key in names:
            continue
        name = f"xlPage{n + 1}"
        width, height = ("29.7cm", "21cm") if p.landscape else ("21cm", "29.7cm")
        layout = style.PageLayout(name=name + "Layout")
        # Page numbers run on from sheet to sheet, as when the .xlsx is printed whole
        # (Calc would start each page style afresh at 1).
        props = style.PageLayoutProperties(
            pagewidth=width, pageheight=height,
            printorientation="landscape" if p.landscape else "portrait",
            margintop="1.2cm", marginbottom=FOOTER_MARGIN_BOTTOM if p.footer else "1.2cm",
            marginleft="1cm", marginright="1cm", firstpagenumber="continue")
        if p.fit_width:
            props.setAttrNS(STYLENS, "scale-to-X", "1")
        if p.fit_height:
            props.setAttrNS(STYLENS, "scale-to-Y", "1")
        layout.addElement(props)
        if p.footer:
            layout.addElement(_footer_style())
        doc.automaticstyles.addElement(layout)
        master = style.MasterPage(name=name, pagelayoutname=layout)
        # No header, said so: a master page without one is given an empty header (and a
        # hidden first-page one) when LibreOffice 7.4 saves the file, after which it
        # prints pages with no cells on them; a header switched off survives the save.
        master.addElement(style.Header(display="false"))
        if p.footer:
            master.addElement(_page_number_footer(footer_label(book), _footer_text_style(doc)))
        doc.masterstyles.addElement(master)
        names[key] = name
    return {p: names[(p.landscape, p.fit_width, p.fit_height, p.footer)] for p in setups}


def _footer_style():
    from odf import style

    footer = style.FooterStyle()
    footer.addElement(style.HeaderFooterProperties(minheight=FOOTER_HEIGHT,
                                                   margintop=FOOTER_SPACING))
    return footer


FOOTER_TEXT = "xlFooterText"


def _footer_text_style(doc) -> str:
    """The footer's text at 11 pt, as the .xlsx's footer prints in Calc (its default of
    10 pt, scaled with the page, printed the unit's name under 9 pt). Calc takes a
    footer's formatting from text spans, not from paragraph styles."""
    from odf import style

    if not any(s.getAttribute("name") == FOOTER_TEXT for s in doc.automaticstyles.childNodes
               if s.qname[1] == "style"):
        st = style.Style(name=FOOTER_TEXT, family="text")
        st.addElement(style.TextProperties(fontsize="11pt", fontsizeasian="11pt"))
        doc.automaticstyles.addElement(st)
    return FOOTER_TEXT


def _page_number_footer(label: str, span_style: str):
    """第 N 頁，共 M 頁, centred, as the .xlsx's &C footer; ``label`` at the left, as
    its &L; the text in ``span_style``."""
    from odf import style, text

    footer = style.Footer()
    if label:
        left = style.RegionLeft()
        para = text.P()
        para.addElement(text.Span(stylename=span_style, text=label))
        left.addElement(para)
        footer.addElement(left)
    number = text.Span(stylename=span_style, text="第 ")
    number.addElement(text.PageNumber(text="1"))
    number.addText(" 頁，共 ")
    number.addElement(text.PageCount(text="1"))
    number.addText(" 頁")
    para = text.P()
    para.addElement(number)
    region = style.RegionCenter()
    region.addElement(para)
    footer.addElement(region)
    return footer


def _data_styles(doc) -> dict[str, object]:
    """ODF data styles for the book's number formats ("general" needs none).

    "date" is the ROC calendar's year/month/day (115/07/01); a date before ROC year 1
    maps to the Gregorian style (0115/07/01, LibreOffice's reading of 115/07/01).
    Both go in office:styles: odfpy keeps only the automatic styles that a cell
    names, and the Gregorian one is named by the style:map alone."""
    from odf import number, style

    early = number.DateStyle(name="xlDateBeforeROC", volatile="true")
    roc = number.DateStyle(name="xlDate", language="zh", country="TW")
    for st, calendar in ((early, {}), (roc, {"calendar": "ROC"})):
        year = number.Year(**calendar) if calendar else number.Year(style="long")
        for part in (year, number.Text(text="/"), number.Month(style="long", **calendar),
                     number.Text(text="/"), number.Day(style="long", **calendar)):
            st.addElement(part)
    roc.addElement(style.Map(condition=f"value()<{ROC_FROM_SERIAL}", applystylename=early))
    text_style = number.TextStyle(name="xlText")
    text_style.addElement(number.TextContent())
    doc.styles.addElement(early)
    doc.styles.addElement(roc)
    doc.automaticstyles.addElement(text_style)
    return {"date": roc, "text": text_style}


def _cell_style(name: str, spec: dict, data_styles: dict):
    from odf import style

    kwargs = {"name": f"ce_{name}", "family": "table-cell"}
    fmt = spec.get("format", "general")
    if fmt != "general":
        kwargs["datastylename"] = data_styles[fmt]
    st = style.Style(**kwargs)
    cell = {"cellprotect": "protected" if spec.get("locked", True) else "none",
            "verticalalign": "top"}
    if spec.get("wrap"):
        cell["wrapoption"] = "wrap"
    if spec.get("border"):
        cell["border"] = "0.5pt solid #000000"
    if spec.get("bg"):
        cell["backgroundcolor"] = spec["bg"]
    st.addElement(style.TableCellProperties(**cell))
    # line-break strict: Calc breaks Chinese between any two characters, 。，、 starting a
    # line and 「（ ending one, unless the cell's style asks for the forbidden-character
    # rules (kinsoku). The row heights (book.row_height) leave room for the line it may add.
    paragraph = {"linebreak": "strict"}
    if spec.get("align"):
        paragraph["textalign"] = {"center": "center", "right": "end"}.get(spec["align"], "start")
    st.addElement(style.ParagraphProperties(**paragraph))
    textprops = {"fontname": FONT, "fontnameasian": FONT, "fontfamily": FONT,
                 "fontfamilyasian": FONT, "fontsize": f"{spec.get('size', 11)}pt",
                 "fontsizeasian": f"{spec.get('size', 11)}pt"}
    if spec.get("bold"):
        textprops.update(fontweight="bold", fontweightasian="bold")
    st.addElement(style.TextProperties(**textprops))
    return st


def _validation(name: str, sheet: Sheet, v: Validation):
    from odf import table, text

    if v.kind == "list":
        condition = f"of:cell-content-is-in-list({v.source})"
    elif v.kind == "decimal":
        condition = "of:cell-content-is-decimal-number() and " + _bounds(v.minimum, v.maximum)
    elif v.kind == "date":
        condition = _date_condition(a1(*v.first), v.minimum, v.maximum)
    elif v.kind == "length":
        condition = (f"of:cell-content-text-length-is-between({v.minimum or 0},{v.maximum})"
                     if v.maximum is not None else
                     f"of:cell-content-text-length()>={v.minimum}")
    else:
        raise ValueError(v.kind)
    el = table.ContentValidation(name=name, condition=condition, allowemptycell="true",
                                 basecelladdress=f"{_q(sheet.name)}.{a1(*v.first)}")
    if v.kind == "list":
        el.setAttribute("displaylist", "unsorted")
    help_msg = table.HelpMessage(title=v.title, display="true")
    help_msg.addElement(text.P(text=v.prompt))
    el.addElement(help_msg)
    err = table.ErrorMessage(title=v.title, display="true", messagetype=v.error_type
                             if v.error_type != "information" else "information")
    err.addElement(text.P(text=v.error))
    el.addElement(err)
    return el


# LibreOffice makes a date of the year 115 of 115/07/01 (and of 115-07-01, 115年7月1日),
# counting days before 1582 in the Julian calendar. Those of ROC years 100-288 are let
# through; the merge reads them back as ROC years (intake.rules).
_ROC_AS_YEARS = (date(100, 1, 1), date(288, 12, 31))


def _date_condition(cell: str, lo: date, hi: date) -> str:
    """A date in range, or text, or LibreOffice's date of a typed ROC date (book.Validation)."""
    ref = f"[.{cell}]"

    def within(first: date, last: date, slack: int = 0) -> str:
        return (f"AND(ISNUMBER({ref});{ref}>={(first - EXCEL_EPOCH).days - slack};"
                f"{ref}<={(last - EXCEL_EPOCH).days + slack})")

    return (f"of:is-true-formula(OR(ISTEXT({ref});{within(lo, hi)};"
            f"{within(*_ROC_AS_YEARS, slack=3)}))")


def _bounds(lo, hi) -> str:
    if lo is not None and hi is not None:
        return f"cell-content-is-between({lo},{hi})"
    if lo is not None:
        return f"cell-content()>={lo}"
    return f"cell-content()<={hi}"


def _table(doc, index: int, sheet: Sheet, cell_styles: dict, validation_names: dict,
           master: str):
    from odf import style, table, text

    tstyle = style.Style(name=f"ta{index}", family="table", masterpagename=master)
    tstyle.addElement(style.TableProperties(display="false" if sheet.state != "visible"
                                            else "true"))
    doc.automaticstyles.addElement(tstyle)
    t = table.Table(name=sheet.name, stylename=tstyle)
    if sheet.protect:
        t.setAttribute("protected", "true")

    ncols = max(sheet.max_col + 1, len(sheet.widths))
    for c in range(ncols):
        width = sheet.widths[c] if c < len(sheet.widths) else 9
        cs = style.Style(name=f"co{index}_{c}", family="table-column")
        cs.addElement(style.TableColumnProperties(
            columnwidth=f"{(width + PADDING_CHARS) * CM_PER_CHAR:.2f}cm"))
        doc.automaticstyles.addElement(cs)
        t.addElement(table.TableColumn(stylename=cs))

    # Each validated cell points at its validation by name.
    cell_validation: dict[tuple[int, int], str] = {}
    for v in sheet.validations:
        for r in range(v.first[0], v.last[0] + 1):
            for c in range(v.first[1], v.last[1] + 1):
                cell_validation[(r, c)] = validation_names[id(v)]

    spans: dict[tuple[int, int], tuple[int, int]] = {}  # a merge's first cell → (rows, cols)
    covered: set[tuple[int, int]] = set()
    for r1, c1, r2, c2 in sheet.merges:
        spans[(r1, c1)] = (r2 - r1 + 1, c2 - c1 + 1)
        covered |= {(r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)} - {(r1, c1)}

    header_rows = sheet.print_setup.repeat_rows if sheet.print_setup else None
    header_group = None
    for r in range(sheet.max_row + 1):
        row_kwargs = {}
        if r in sheet.heights:
            rs = style.Style(name=f"ro{index}_{r}", family="table-row")
            rs.addElement(style.TableRowProperties(rowheight=f"{sheet.heights[r]:.1f}pt",
                                                   useoptimalrowheight="false"))
            doc.automaticstyles.addElement(rs)
            row_kwargs["stylename"] = rs
        row = table.TableRow(**row_kwargs)
        for c in range(ncols):
            if (r, c) in covered:
                row.addElement(table.CoveredTableCell())
                continue
            cell = _cell(sheet.cells.get((r, c)), cell_styles, cell_validation.get((r, c)),
                         text, table)
            if (r, c) in spans:
                rows_spanned, cols_spanned = spans[(r, c)]
                cell.setAttribute("numberrowsspanned", str(rows_spanned))
                cell.setAttribute("numbercolumnsspanned", str(cols_spanned))
            if (r, c) in sheet.notes:
                cell.insertBefore(_annotation(sheet.notes[(r, c)]), cell.firstChild)
            row.addElement(cell)
        if header_rows and header_rows[0] <= r <= header_rows[1]:
            if header_group is None:
                header_group = table.TableHeaderRows()
                t.addElement(header_group)
            header_group.addElement(row)
        else:
            t.addElement(row)
    return t


def _cell(entry, cell_styles, validation, text, table):
    kwargs = {}
    if validation:
        kwargs["contentvalidationname"] = validation
    if entry is None:
        return table.TableCell(**kwargs)
    value, style_name = entry
    kwargs["stylename"] = cell_styles[style_name]
    if value is None:
        return table.TableCell(**kwargs)
    if isinstance(value, bool):
        cell = table.TableCell(valuetype="boolean", booleanvalue=str(value).lower(), **kwargs)
    elif isinstance(value, (int, float)):
        cell = table.TableCell(valuetype="float", value=value, **kwargs)
    elif isinstance(value, (datetime, date)):
        cell = table.TableCell(valuetype="date", datevalue=value.isoformat(), **kwargs)
    else:
        cell = table.TableCell(valuetype="string", **kwargs)
    for line in xml_lines(value) if not isinstance(value, (date, datetime)) else [value.isoformat()]:
        cell.addElement(_paragraph(line, text))
    return cell




_RUNS = re.compile(r"( +)|(\t)|([^ \t]+)")


def _paragraph(line: str, text):
    """A text:p that means exactly ``line``: ODF collapses runs of white space and drops
    it at a paragraph's ends, so such spaces are written as text:s, tabs as text:tab."""
    para = text.P()
    for m in _RUNS.finditer(line):
        spaces, tab, word = m.groups()
        if word:
            para.addText(word)
        elif tab:
            para.addElement(text.Tab())
        elif len(spaces) == 1 and m.start() > 0 and m.end() < len(line):
            para.addText(" ")
        else:
            para.addElement(text.S(c=len(spaces)))
    return para


def _annotation(note: str):
    from odf.office import Annotation
    from odf.text import P

    ann = Annotation()
    for line in xml_lines(note):
        ann.addElement(P(text=line))
    return ann


def _settings(book: Book, config):
    """View settings: frozen header rows and the active sheet."""
    views = config.ConfigItemSet(name="ooo:view-settings")
    indexed = config.ConfigItemMapIndexed(name="Views")
    entry = config.ConfigItemMapEntry()
    entry.addElement(config.ConfigItem(name="ViewId", type="string", text="view1"))
    tables = config.ConfigItemMapNamed(name="Tables")
    for sheet in book.sheets:
        if not sheet.freeze:
            continue
        row, col = sheet.freeze
        t = config.ConfigItemMapEntry(name=sheet.name)
        for key, typ, value in (("HorizontalSplitMode", "short", 2 if col else 0),
                                ("VerticalSplitMode", "short", 2 if row else 0),
                                ("HorizontalSplitPosition", "int", col),
                                ("VerticalSplitPosition", "int", row),
                                ("ActiveSplitRange", "short", 2),
                                ("PositionLeft", "int", 0), ("PositionRight", "int", col),
                                ("PositionTop", "int", 0), ("PositionBottom", "int", row)):
            t.addElement(config.ConfigItem(name=key, type=typ, text=str(value)))
        tables.addElement(t)
    if tables.childNodes:  # an empty map is invalid ODF
        entry.addElement(tables)
    if book.active:
        entry.addElement(config.ConfigItem(name="ActiveTable", type="string", text=book.active))
    indexed.addElement(entry)
    views.addElement(indexed)
    return views
