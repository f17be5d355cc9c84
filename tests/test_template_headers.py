"""Headers break only where the template breaks them: the name, then （必填） on a line of
its own, each line within its column in Excel and in LibreOffice. Returns from earlier
templates, whose headers read 執行狀態（必填） on one line, keep matching."""
from datetime import datetime

import openpyxl
import pytest
from lo_pdf import pages, to_pdf
from python_calamine import CalamineWorkbook

from xltool.cells import header_name
from xltool.forms import fields as F
from xltool.forms.starter import write_starter
from xltool.forms.template import template_filename, write_templates
from xltool.intake.form import find_header_row
from xltool.plan import load_plan
from xltool.reading.workbook import SheetData

UNIT = "第一課"


def excel_pixels(text: str) -> int:
    """Excel draws 標楷體 11 pt at 15 px a Chinese character, 8 px a half-width one, and a
    pixel more each in bold, which 標楷體 only has by emboldening (headers are bold)."""
    return sum(16 if ch >= "\u2e80" else 9 for ch in text)


def test_each_header_line_fits_its_column_in_excel():
    # A column of width w is 8w + 5 px with the template's Arial default font (xlsx_writer),
    # of which about 4 px are the cell's margins.
    for col in F.COLUMNS:
        for line in col.header.split("\n"):
            assert excel_pixels(line) + 4 <= 8 * col.template_width + 5, (col.name, line)


def test_headers_name_then_note_on_its_own_line():
    assert F.column("status").header == "執行狀態\n（必填）"
    assert F.column("result").header == "執行績效與成果\n（必填）"
    assert F.column("score").header == "自評分數\n（必填）"
    assert F.column("evidence").header == "佐證資料"
    for col in F.COLUMNS:
        assert header_name(col.header) == col.name


@pytest.mark.parametrize("header", [
    [c.header for c in F.COLUMNS],  # this template
    [c.name + c.note for c in F.COLUMNS],  # earlier templates: 執行狀態（必填） on one line
    [c.name + c.note.replace("（", "(").replace("）", ")") for c in F.COLUMNS],  # retyped
])
def test_header_row_is_found_and_named_in_every_form(header):
    sheet = SheetData("填報表", [["標題"], [None], ["填表人"], [None], header])
    assert find_header_row(sheet) == 4
    assert [header_name(h) for h in header] == [c.name for c in F.COLUMNS]


@pytest.fixture(scope="module")
def printed(soffice, example_plan, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("headers")
    plan = load_plan(example_plan)
    write_templates(plan, tmp, units=[UNIT], formats=("xlsx", "ods"),
                    generated=datetime(2020, 6, 20))
    out = {fmt: pages(to_pdf(soffice, tmp / template_filename(plan, UNIT, fmt), tmp / fmt))
           for fmt in ("xlsx", "ods")}
    out["starter"] = pages(to_pdf(soffice, write_starter(tmp / "plan.xlsx"), tmp / "starter"))
    return tmp, plan, out


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_libreoffice_prints_each_header_line_whole(printed, fmt):
    _, _, out = printed
    form = [p for p in out[fmt] if "編號" in p.texts and "佐證資料" in p.texts]
    assert len(form) > 1
    for page in form:
        words = {w.text: w for w in page.words}
        notes = [w for w in page.words if w.text == "（必填）"]
        assert len(notes) == 3, page.number
        for col in F.COLUMNS:
            name = words.get(col.name)
            assert name is not None, (page.number, col.name)  # on one line, not broken
            if col.note:  # the note right under its name, nowhere else
                under = [w for w in notes if w.y0 > name.y1 - 1 and w.x0 < name.x1 and w.x1 > name.x0]
                assert len(under) == 1, (page.number, col.name)
                assert under[0].y0 - name.y0 < 2 * (name.y1 - name.y0), "the very next line"


@pytest.mark.libreoffice
def test_starter_headers_print_whole(printed):
    tmp, _, out = printed
    wb = openpyxl.load_workbook(tmp / "plan.xlsx")
    words = {w for page in out["starter"] for w in page.texts}
    for ws in wb.worksheets:
        for cell in ws[1]:
            if cell.value:
                assert cell.value in words, (ws.title, cell.value)


def test_ods_header_has_the_same_lines(tmp_path, example_plan):
    plan = load_plan(example_plan)
    (written,) = write_templates(plan, tmp_path, units=[UNIT], formats=("ods",),
                                 generated=datetime(2020, 6, 20))
    rows = CalamineWorkbook.from_path(str(written.path)).get_sheet_by_name(F.FORM_SHEET).to_python()
    assert rows[F.HEADER_ROW][:len(F.COLUMNS)] == [c.header for c in F.COLUMNS]
