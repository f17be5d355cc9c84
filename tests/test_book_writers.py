"""The format-neutral book: both writers honour every style's number format and every
print setting, read back from the files they wrote (openpyxl for .xlsx, the ODF XML)."""
import itertools
from datetime import date

import openpyxl
import pytest
from odfcheck import NS, page_of, q, validate, xml

from xltool.forms.book import NUMBER_FORMATS, PLAIN_PRINT, STYLES, Book, PrintSetup, Sheet
from xltool.forms.ods_writer import write_ods
from xltool.forms.starter import build_starter
from xltool.forms.xlsx_writer import EXCEL_FORMATS, write_xlsx

SETUPS = [PrintSetup(landscape=land, fit_width=wide, fit_height=tall, footer=foot,
                     repeat_rows=(0, 0) if wide else None)
          for land, wide, tall, foot in itertools.product([True, False], repeat=4)] + [None]
SAMPLE = {"general": 7.5, "text": "109.10", "date": date(2020, 7, 5)}


def book() -> Book:
    sheets = []
    for n, setup in enumerate(SETUPS):
        sheet = Sheet(f"S{n}", print_setup=setup, widths=[12] * len(STYLES))
        for c, (name, spec) in enumerate(STYLES.items()):
            sheet.put(0, c, name, "header")
            sheet.put(1, c, SAMPLE[spec.get("format", "general")], name)
        sheets.append(sheet)
    return Book(sheets=sheets, title="writers")


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("writers")
    b = book()
    write_xlsx(b, folder / "b.xlsx")
    write_ods(b, folder / "b.ods")
    return folder / "b.xlsx", folder / "b.ods"


def test_every_style_names_a_known_format():
    assert {spec.get("format", "general") for spec in STYLES.values()} <= set(NUMBER_FORMATS)
    assert set(EXCEL_FORMATS) == set(NUMBER_FORMATS)


def test_xlsx_number_formats(files):
    ws = openpyxl.load_workbook(files[0])["S0"]
    for c, (name, spec) in enumerate(STYLES.items(), start=1):
        assert ws.cell(2, c).number_format == EXCEL_FORMATS[spec.get("format", "general")], name


def test_ods_number_formats(files):
    content = xml(files[1], "content.xml")
    data = {s.get(q("style:name")): s.tag.split("}")[1]
            for part in (content, xml(files[1], "styles.xml")) for s in part.iter()
            if s.tag in (q("number:date-style"), q("number:text-style"), q("number:number-style"))}
    styles = {s.get(q("style:name")): s for s in content.iter(q("style:style"))}
    expect = {"general": None, "text": "text-style", "date": "date-style"}
    for name, spec in STYLES.items():
        data_style = styles[f"ce_{name}"].get(q("style:data-style-name"))
        assert data.get(data_style) == expect[spec.get("format", "general")], name


def test_xlsx_print_settings(files):
    wb = openpyxl.load_workbook(files[0])
    for n, setup in enumerate(SETUPS):
        ws, p = wb[f"S{n}"], setup or PLAIN_PRINT
        assert ws.page_setup.paperSize in (9, "9")
        assert ws.page_setup.orientation == ("landscape" if p.landscape else "portrait")
        fits = bool(ws.sheet_properties.pageSetUpPr and ws.sheet_properties.pageSetUpPr.fitToPage)
        assert fits == (p.fit_width or p.fit_height)
        if fits:
            # SpreadsheetML leaves out the default of 1
            got = tuple(1 if v is None else int(v)
                        for v in (ws.page_setup.fitToWidth, ws.page_setup.fitToHeight))
            assert got == (1 if p.fit_width else 0, 1 if p.fit_height else 0)
        assert bool(ws.oddFooter.center.text) == p.footer
        assert (ws.print_title_rows == "$1:$1") == bool(p.repeat_rows)


def test_ods_print_settings(files):
    content = xml(files[1], "content.xml")
    tables = {t.get(q("table:name")): t for t in content.iter(q("table:table"))}
    for n, setup in enumerate(SETUPS):
        p = setup or PLAIN_PRINT
        props, master = page_of(files[1], f"S{n}")
        assert props.get(q("style:print-orientation")) == ("landscape" if p.landscape else "portrait")
        size = (props.get(q("fo:page-width")), props.get(q("fo:page-height")))
        assert size == (("29.7cm", "21cm") if p.landscape else ("21cm", "29.7cm"))
        assert (props.get(q("style:scale-to-X")) == "1") == p.fit_width
        assert (props.get(q("style:scale-to-Y")) == "1") == p.fit_height
        assert (master.find("style:footer", NS) is not None) == p.footer
        assert (tables[f"S{n}"].find("table:table-header-rows", NS) is not None) == bool(p.repeat_rows)


def test_both_formats_are_valid(files):
    assert validate([files[1]]) == []


def test_starter_plan_keeps_its_text_cells_as_text_in_ods(tmp_path):
    target = tmp_path / "plan.ods"
    write_ods(build_starter(), target)
    content = xml(target, "content.xml")
    text_styles = {s.get(q("style:name")) for s in content.iter(q("number:text-style"))}
    cell_styles = {s.get(q("style:name")): s.get(q("style:data-style-name"))
                   for s in content.iter(q("style:style"))}
    info = next(t for t in content.iter(q("table:table")) if t.get(q("table:name")) == "計畫")
    rows = list(info.iter(q("table:table-row")))
    labels = {"".join(r.find("table:table-cell", NS).itertext()): r for r in rows}
    cell = labels["考核年月"].findall("table:table-cell", NS)[1]
    assert cell_styles[cell.get(q("table:style-name"))] in text_styles
    assert validate([target]) == []
