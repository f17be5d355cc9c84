"""實際值 and 自評分數 show a number as typed: 55 and 55.5, never "55." (which the format
0.## shows in Excel). The cells are General in the .xlsx and carry no data style in the
.ods; LibreOffice shows and prints them so, and so does the plan starter's 年度."""
from datetime import datetime

import openpyxl
import pytest
from lo_pdf import pages, to_pdf
from lo_run import type_in_calc
from odfcheck import NS, q, xml
from returns import filled_book

from xltool.cells import a1
from xltool.forms import fields as F
from xltool.forms.ods_writer import write_ods
from xltool.forms.starter import build_starter, write_starter
from xltool.forms.template import template_filename, write_templates
from xltool.forms.xlsx_writer import write_xlsx
from xltool.plan import load_plan

UNIT = "第一課"
COLS = {c.name: i for i, c in enumerate(F.COLUMNS)}
NUMBERS = ("實際值", "自評分數")


@pytest.fixture(scope="module")
def plan(example_plan):
    return load_plan(example_plan)


def test_number_cells_are_general_in_xlsx(plan, tmp_path):
    (w,) = write_templates(plan, tmp_path, units=[UNIT], generated=datetime(2020, 6, 20))
    ws = openpyxl.load_workbook(w.path)[F.FORM_SHEET]
    for name in NUMBERS:
        assert ws.cell(F.FIRST_ITEM_ROW + 1, COLS[name] + 1).number_format == "General", name
    starter = openpyxl.load_workbook(write_starter(tmp_path / "plan.xlsx"))["計畫"]
    year = next(r for r in starter.iter_rows(min_row=2) if r[0].value == "年度")
    assert year[1].number_format == "General"


def test_number_cells_have_no_data_style_in_ods(plan, tmp_path):
    (w,) = write_templates(plan, tmp_path, units=[UNIT], formats=("ods",),
                           generated=datetime(2020, 6, 20))
    content = xml(w.path, "content.xml")
    styles = {s.get(q("style:name")): s for s in content.iter(q("style:style"))}
    form = next(t for t in content.iter(q("table:table")) if t.get(q("table:name")) == F.FORM_SHEET)
    row = form.findall(".//table:table-row", NS)[F.FIRST_ITEM_ROW]
    cells = row.findall("table:table-cell", NS)
    for name in NUMBERS:
        style = styles[cells[COLS[name]].get(q("table:style-name"))]
        assert style.get(q("style:data-style-name")) is None, name  # the default: General


@pytest.fixture(scope="module")
def printed(soffice, plan, tmp_path_factory):
    """A return holding 55 and 55.5 (and 7, 7.25), printed by LibreOffice from each format."""
    tmp = tmp_path_factory.mktemp("numbers")
    first, second = (i.id for i in plan.items_for(UNIT)[:2])
    book = filled_book(plan, UNIT, {first: {"實際值": 55, "自評分數": 7},
                                    second: {"實際值": 55.5, "自評分數": 7.25}},
                       datetime(2020, 6, 20))
    out = {}
    for fmt, write in (("xlsx", write_xlsx), ("ods", write_ods)):
        path = tmp / f"filled.{fmt}"
        write(book, path)
        out[fmt] = pages(to_pdf(soffice, path, tmp / fmt))
    return out


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_libreoffice_prints_55_and_55_5(printed, fmt):
    words = [w for page in printed[fmt][1:] for w in page.texts]  # the 填報表 (填報說明 numbers 1. 2. …)
    for shown in ("55", "55.5", "7", "7.25"):
        assert shown in words, (fmt, shown)
    assert "55." not in words and "7." not in words, "no trailing point"


@pytest.mark.libreoffice
def test_typed_numbers_show_as_typed_in_calc(plan, tmp_path):
    write_templates(plan, tmp_path, units=[UNIT], formats=("xlsx", "ods"),
                    generated=datetime(2020, 6, 20))
    r = F.FIRST_ITEM_ROW
    typing = [[a1(r, COLS["實際值"]), "55"], [a1(r + 1, COLS["實際值"]), "55.5"],
              [a1(r, COLS["自評分數"]), "5"], [a1(r + 1, COLS["自評分數"]), "5.5"]]
    jobs = [{"path": str(tmp_path / template_filename(plan, UNIT, fmt)), "type": typing}
            for fmt in ("xlsx", "ods")]
    for result in type_in_calc(jobs, tmp_path):
        assert list(result["shown"].values()) == ["55", "55.5", "5", "5.5"]
        assert list(result["values"].values()) == [55, 55.5, 5, 5.5]  # numbers, not text
        assert result["invalid"] == []


def test_starter_book_uses_the_general_style_for_numbers():
    info = build_starter().sheet("計畫")
    year = next(r for (r, c), (v, _) in info.cells.items() if c == 0 and v == "年度")
    assert info.cells[(year, 1)][1] == "input_number"
