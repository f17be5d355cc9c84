"""Texts written to .xlsx as text, whatever they look like.

XlsxWriter takes a string that starts with ``<r>`` and ends with ``</r>`` for
rich-text XML it made itself (``write_rich_string``) and copies it into the file
unescaped, as a shared string and as an inline one alike. A unit's 成果 of that
shape would become markup: its text lost, the file unreadable, or a live formula
in the master. Every worksheet xltool writes with XlsxWriter is therefore a
:class:`LiteralWorksheet`, which hands such a text over as one rich-text run that
holds the escaped text: the cell reads back exactly as typed (tests/test_xlsx_text.py).
"""
from __future__ import annotations

from xlsxwriter.worksheet import Worksheet

EXCEL_LIMIT = 32_767  # UTF-16 units in one cell


def looks_rich(text: str) -> bool:
    """Whether XlsxWriter would take ``text`` for ready-made rich-text XML."""
    return text.startswith("<r>") and text.endswith("</r>")


def escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def rich_run(text: str) -> str:
    """``text`` as one rich-text run, the form XlsxWriter copies as it is."""
    return f"<r><t>{escape(text)}</t></r>"


def fits_a_cell(text: str) -> bool:
    """Whether an .xlsx cell holds ``text`` whole: Excel counts UTF-16 units, so a
    character beyond the BMP (𠀀, an emoji) takes two."""
    return len(text) <= EXCEL_LIMIT // 2 or len(text.encode("utf-16-le", "surrogatepass")) // 2 <= EXCEL_LIMIT


def cut_to_limit(text: str) -> str:
    """``text`` cut to Excel's limit as XlsxWriter cuts it (whole characters)."""
    if fits_a_cell(text):
        return text
    units = 0
    for index, char in enumerate(text):
        units += 2 if ord(char) > 0xFFFF else 1
        if units > EXCEL_LIMIT:
            return text[:index]
    return text


class LiteralWorksheet(Worksheet):
    """An XlsxWriter worksheet on which every string is a literal text."""

    def _write_string(self, row, col, string, cell_format=None):
        if not looks_rich(string):
            return super()._write_string(row, col, string, cell_format)
        text = cut_to_limit(string)
        if not looks_rich(text):  # cut: no longer mistaken for markup
            super()._write_string(row, col, text, cell_format)
            return -2
        # The run's markup is not the cell's text: Excel's limit is the text's, and
        # XlsxWriter, which counts the markup too, must not cut inside it.
        limit, self.xls_strmax = self.xls_strmax, 1 << 30
        try:
            code = super()._write_string(row, col, rich_run(text), cell_format)
        finally:
            self.xls_strmax = limit
        return code if text == string else -2
