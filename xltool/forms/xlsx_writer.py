"""Render a :class:`~xltool.book.Book` as an .xlsx file with XlsxWriter."""
from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path

from ..cells import a1, abs_ref, date_to_serial, utc_naive
from ..errors import XltoolError
from ..files import atomic_path
from ..xlsx_text import LiteralWorksheet
from .book import FONT, PAPER_A4, PLAIN_PRINT, STYLES, Book, footer_label

# The workbook's default font sets the width unit of every column (its digit's
# width). Calibri, XlsxWriter's default, is missing where LibreOffice runs on Linux
# without Carlito and gets a wider stand-in (DejaVu Sans), so columns there come out a
# quarter wider and the sheet prints smaller. Arial has a metric twin that LibreOffice ships (Liberation Sans):
# columns measure the same in Excel and in LibreOffice. Every cell names its own font.
DEFAULT_FONT = {"font_name": "Arial", "font_size": 11}


def _workbook_class():
    import xlsxwriter

    class ProtectedWorkbook(xlsxwriter.Workbook):
        """XlsxWriter has no workbook-structure protection; add the one element."""

        lock_structure = False

        def _write_book_views(self):  # runs right where the schema wants the element
            if self.lock_structure:
                self._xml_empty_tag("workbookProtection", [("lockStructure", "1")])
            super()._write_book_views()

    return ProtectedWorkbook


def write_xlsx(book: Book, target: Path) -> None:
    """Write ``book`` to ``target`` atomically. Any XlsxWriter warning is an error:
    XlsxWriter only warns when it drops a validation it cannot write."""
    with atomic_path(target) as tmp, warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            _write(book, tmp)
        except Warning as exc:
            raise XltoolError(f"寫入「{Path(target).name}」時發生問題：{exc}") from exc


def _write(book: Book, path: Path) -> None:
    # in_memory: a template is small, and XlsxWriter's temporary file per part cost
    # more than writing the template itself.
    wb = _workbook_class()(str(path), {"strings_to_formulas": False, "strings_to_urls": False,
                                       "strings_to_numbers": False, "in_memory": True,
                                       "default_format_properties": dict(DEFAULT_FONT)})
    wb.lock_structure = book.protect_structure
    props: dict[str, str | datetime] = {"title": book.title, "author": book.author}
    if book.created:
        props["created"] = utc_naive(book.created)
    wb.set_properties(props)
    for key, value in book.custom.items():
        wb.set_custom_property(key, value)
    formats = {name: wb.add_format(_format(spec)) for name, spec in STYLES.items()}
    for sheet in book.sheets:
        ws = wb.add_worksheet(sheet.name, LiteralWorksheet)
        for c, width in enumerate(sheet.widths):
            ws.set_column(c, c, width)
        for r, height in sheet.heights.items():
            ws.set_row(r, height)
        for r1, c1, r2, c2 in sheet.merges:  # the first cell's value is written below
            ws.merge_range(r1, c1, r2, c2, "", formats[sheet.cells.get((r1, c1), (None, "text"))[1]])
        for (r, c), (value, style) in sorted(sheet.cells.items()):
            fmt = formats[style]
            if value is None:
                ws.write_blank(r, c, None, fmt)
            elif isinstance(value, str):
                ws.write_string(r, c, value, fmt)
            else:
                ws.write(r, c, value, fmt)
        for (r, c), note in sorted(sheet.notes.items()):
            ws.write_comment(r, c, note, {"x_scale": 2, "y_scale": 1.5, "font_name": FONT})
        for v in sheet.validations:
            opts = _validation(v)
            if ws.data_validation(*v.first, *v.last, opts) != 0:
                raise XltoolError(f"無法在工作表「{sheet.name}」{a1(*v.first)} 建立資料驗證。")
        if sheet.freeze:
            ws.freeze_panes(*sheet.freeze)
        _print_setup(ws, sheet.print_setup or PLAIN_PRINT, footer_label(book))
        if sheet.protect:
            ws.protect("", {"format_columns": True, "format_rows": True,
                            "select_locked_cells": True, "select_unlocked_cells": True})
        if sheet.state == "hidden":
            ws.hide()
        elif sheet.state == "veryhidden":
            ws.very_hidden()
        if sheet.name == book.active:
            ws.activate()
    for name, (sheet_name, r1, c1, r2, c2) in book.names.items():
        wb.define_name(name, f"='{sheet_name}'!{abs_ref(r1, c1)}:{abs_ref(r2, c2)}")
    wb.close()


# "date": [$-404] is zh-TW, whose e is the ROC year: zh-TW Excel's own 民國 format
# (built-in number format 27 is [$-404]e/m/d), which LibreOffice reads as its ROC
# calendar. A .xlsx holds no dates before 1900, so it needs no second section (the .ods
# has one, see book.py and ods_writer._data_styles).
EXCEL_FORMATS = {"general": "General", "text": "@", "date": "[$-404]e/mm/dd"}


def _print_setup(ws, p, label: str = "") -> None:
    ws.set_paper(PAPER_A4)
    if p.landscape:
        ws.set_landscape()
    else:
        ws.set_portrait()
    if p.fit_width or p.fit_height:
        ws.fit_to_pages(1 if p.fit_width else 0, 1 if p.fit_height else 0)
    if p.repeat_rows:
        ws.repeat_rows(*p.repeat_rows)
    if p.footer:
        # & starts Excel's footer codes: a literal one is written twice.
        left = f"&L{label.replace('&', '&&')}" if label else ""
        ws.set_footer(f"{left}&C第 &P 頁，共 &N 頁")
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)


def _format(spec: dict) -> dict:
    fmt = {"font_name": FONT, "font_size": spec.get("size", 11), "valign": "top",
           "locked": spec.get("locked", True)}
    if spec.get("bold"):
        fmt["bold"] = True
    if spec.get("wrap"):
        fmt["text_wrap"] = True
    if spec.get("border"):
        fmt["border"] = 1
    if spec.get("bg"):
        fmt["bg_color"] = spec["bg"]
    if spec.get("align"):
        fmt["align"] = spec["align"]
    if spec.get("format", "general") != "general":
        fmt["num_format"] = EXCEL_FORMATS[spec["format"]]
    return fmt


def _validation(v) -> dict:
    opts = {"input_title": v.title[:32], "input_message": v.prompt[:255],
            "error_title": v.title[:32], "error_message": v.error[:255],
            "error_type": v.error_type, "ignore_blank": True}
    if v.kind == "list":
        opts.update(validate="list", source=f"={v.source}")
    elif v.kind == "date":  # a date in range, or text (see book.Validation)
        cell, lo, hi = a1(*v.first), date_to_serial(v.minimum), date_to_serial(v.maximum)
        opts.update(validate="custom",
                    value=f"=OR(ISTEXT({cell}),AND(ISNUMBER({cell}),{cell}>={lo},{cell}<={hi}))")
    elif v.kind in ("decimal", "length"):
        opts["validate"] = v.kind
        if v.minimum is not None and v.maximum is not None:
            opts.update(criteria="between", minimum=v.minimum, maximum=v.maximum)
        elif v.minimum is not None:
            opts.update(criteria=">=", value=v.minimum)
        else:
            opts.update(criteria="<=", value=v.maximum)
    else:
        raise ValueError(v.kind)
    return opts
