"""填報日期 shows its date the ROC way (115/07/01) in the .xlsx and the .ods, and takes a
date typed either way: 115/07/01, 115-07-01, 115年7月1日 or 2026/7/1.

Excel keeps ROC typing as text (it has no year 115), which the cell's validation lets
through and the merge reads as the date it says. LibreOffice reads 115/07/01 in a
zh-TW date cell as the year 115: the .ods shows it as 0115/07/01 and lets it through,
and the merge reads a year under 1000 as an ROC year. A .xlsx cannot carry it (the
readers take a date before 1900 for a time of day), so there the validation refuses
it and its message says to type '115/07/01 or the Gregorian date.
"""
from datetime import date, datetime

import openpyxl
import pytest
from lo_pdf import pages, to_pdf
from lo_run import type_in_calc
from odfcheck import NS, q, xml
from returns import fill

from xltool.cells import a1
from xltool.forms import fields as F
from xltool.forms.ods_writer import write_ods
from xltool.forms.template import build_template, template_filename, write_templates
from xltool.forms.xlsx_writer import EXCEL_FORMATS, write_xlsx
from xltool.master.merge import merge
from xltool.plan import load_plan

UNIT = "甲組"
DATE_CELL = a1(F.FORM_ROW, F.FORM_LABEL_COLS[2] + 1)  # K3, right of the label 填報日期
JULY_1 = date(2026, 7, 1)
ROC_TYPING = ["115/07/01", "115-07-01", "115年7月1日"]
GREGORIAN_TYPING = ["2026/7/1", "2026-07-01"]
NOT_DATES = ["5", "20260701"]  # to Calc the day 1900-01-04, and a day 55,000 years on


@pytest.fixture(scope="module")
def plan(tmp_path_factory):
    from plans import second_plan, write_plan

    return load_plan(write_plan(tmp_path_factory.mktemp("plan") / "plan.xlsx", second_plan()))


def merged_date(plan, folder):
    """The 填報日期 the merge took from the one return in ``folder``, and its issues."""
    ret = merge(plan, [folder]).status_of(UNIT).ret
    return ret.header.get("填報日期"), [i for i in ret.issues if i.field == "填報日期"]


def test_the_cell_formats_say_roc(plan, tmp_path):
    paths = {w.path.suffix: w.path for w in write_templates(
        plan, tmp_path, units=[UNIT], formats=("xlsx", "ods"), generated=datetime(2024, 1, 2))}
    cell = openpyxl.load_workbook(paths[".xlsx"])[F.FORM_SHEET][DATE_CELL]
    assert cell.number_format == EXCEL_FORMATS["date"] == "[$-404]e/mm/dd"
    styles = xml(paths[".ods"], "styles.xml")
    data = {s.get(q("style:name")): s for s in styles.iter(q("number:date-style"))}
    roc = data["xlDate"]
    assert (roc.get(q("number:language")), roc.get(q("number:country"))) == ("zh", "TW")
    assert [p.get(q("number:calendar")) for p in roc if p.tag != q("style:map")
            and p.tag != q("number:text")] == ["ROC", "ROC", "ROC"]
    (mapped,) = roc.findall("style:map", NS)
    assert mapped.get(q("style:condition")) == "value()<4384"  # before ROC year 1: Gregorian
    assert data[mapped.get(q("style:apply-style-name"))].find("number:year", NS) \
        .get(q("number:style")) == "long"


@pytest.fixture(scope="module")
def shown(soffice, plan, tmp_path_factory):
    """A return dated 2026-07-01, written as .xlsx and .ods: what LibreOffice shows and prints."""
    tmp = tmp_path_factory.mktemp("shown")
    book = build_template(plan, UNIT, datetime(2024, 1, 2))
    book.sheet(F.FORM_SHEET).put(F.FORM_ROW, F.FORM_LABEL_COLS[2] + 1, JULY_1, "input_date")
    jobs, printed = [], {}
    for fmt, write in (("xlsx", write_xlsx), ("ods", write_ods)):
        write(book, tmp / f"dated.{fmt}")
        jobs.append({"path": str(tmp / f"dated.{fmt}"), "read": [DATE_CELL]})
        printed[fmt] = [w for page in pages(to_pdf(soffice, tmp / f"dated.{fmt}", tmp / fmt))
                        for w in page.texts]
    return dict(zip(("xlsx", "ods"), type_in_calc(jobs, tmp))), printed


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_libreoffice_shows_and_prints_the_roc_date(shown, fmt):
    cells, printed = shown
    assert cells[fmt]["shown"][DATE_CELL] == "115/07/01"
    assert cells[fmt]["values"][DATE_CELL] == 46204  # still the date 2026-07-01
    assert "115/07/01" in printed[fmt] and "2026/07/01" not in printed[fmt]


@pytest.fixture(scope="module")
def typed(soffice, plan, tmp_path_factory):
    """Each way of typing the date into each format's template in Calc, saved in that format."""
    tmp = tmp_path_factory.mktemp("typed")
    write_templates(plan, tmp / "templates", units=[UNIT], formats=("xlsx", "ods"),
                    generated=datetime(2024, 1, 2))
    jobs, keys = [], []
    for fmt, filter_name in (("xlsx", "Calc MS Excel 2007 XML"), ("ods", "calc8")):
        for n, text in enumerate(ROC_TYPING + GREGORIAN_TYPING + NOT_DATES):
            folder = tmp / f"{fmt}{n}"
            folder.mkdir()
            jobs.append({"path": str(tmp / "templates" / template_filename(plan, UNIT, fmt)),
                         "type": [[DATE_CELL, text]], "filter": filter_name,
                         "output": str(folder / template_filename(plan, UNIT, fmt))})
            keys.append(((fmt, text), folder))
    return {key: (result, folder) for (key, folder), result in zip(keys, type_in_calc(jobs, tmp))}


@pytest.mark.libreoffice
@pytest.mark.parametrize("text", ROC_TYPING + GREGORIAN_TYPING)
def test_a_date_typed_in_calc_into_the_ods_merges_as_that_date(typed, plan, text):
    result, folder = typed[("ods", text)]
    assert result["invalid"] == []  # the cell's validation lets it through
    assert result["shown"][DATE_CELL] == ("0115/07/01" if text in ROC_TYPING else "115/07/01")
    assert merged_date(plan, folder) == (JULY_1, [])


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
@pytest.mark.parametrize("text", NOT_DATES)
def test_a_number_that_is_no_filing_date_is_refused_in_calc(typed, fmt, text):
    result, _ = typed[(fmt, text)]
    assert result["invalid"] == [DATE_CELL]


@pytest.mark.libreoffice
@pytest.mark.parametrize("text", GREGORIAN_TYPING)
def test_a_gregorian_date_typed_in_calc_into_the_xlsx_merges(typed, plan, text):
    result, folder = typed[("xlsx", text)]
    assert result["invalid"] == [] and result["shown"][DATE_CELL] == "115/07/01"
    assert merged_date(plan, folder) == (JULY_1, [])


@pytest.mark.libreoffice
@pytest.mark.parametrize("text", ROC_TYPING)
def test_roc_typing_in_calc_into_the_xlsx_is_refused_with_the_way_out(typed, plan, text):
    result, folder = typed[("xlsx", text)]
    assert result["invalid"] == [DATE_CELL]  # Calc stops it, with the message below
    # Kept all the same (pasted, which the validity check does not stop), the year 115 is
    # in the .xlsx as a negative number, which the merge reads as the ROC date typed.
    assert merged_date(plan, folder) == (JULY_1, [])


def test_the_xlsx_message_says_how_to_type_an_roc_date(plan, tmp_path):
    (w,) = write_templates(plan, tmp_path, units=[UNIT], generated=datetime(2024, 1, 2))
    dv = next(d for d in openpyxl.load_workbook(w.path)[F.FORM_SHEET].data_validations.dataValidation
              if str(d.sqref) == DATE_CELL)
    assert "'113/01/15" in dv.error and "LibreOffice" in dv.error  # the plan's 繳交期限


@pytest.mark.parametrize("typed_value", ["115/07/01", "115-07-01", "115年7月1日", "115/7/1",
                                         "2026-07-01", "2026/7/1", datetime(2026, 7, 1)])
def test_a_return_with_the_date_typed_in_excel_merges_with_that_date(plan, tmp_path, typed_value):
    """Excel keeps ROC typing as text, and a Gregorian date as a date."""
    write_templates(plan, tmp_path / "templates", units=[UNIT], generated=datetime(2024, 1, 2))
    (tmp_path / "in").mkdir()
    name = template_filename(plan, UNIT, "xlsx")
    fill(tmp_path / "templates" / name, tmp_path / "in" / name, {}, {"填報日期": typed_value})
    assert merged_date(plan, tmp_path / "in") == (JULY_1, [])


def test_an_ods_holding_libreoffices_year_115_merges_as_the_roc_date(plan, tmp_path):
    """What LibreOffice saves for 115/07/01: the Julian 0115-07-01 it shows, which ODF
    stores in the proleptic Gregorian calendar as 0115-06-30."""
    book = build_template(plan, UNIT, datetime(2024, 1, 2))
    book.sheet(F.FORM_SHEET).put(F.FORM_ROW, F.FORM_LABEL_COLS[2] + 1, date(115, 6, 30),
                                 "input_date")
    (tmp_path / "in").mkdir()
    write_ods(book, tmp_path / "in" / template_filename(plan, UNIT, "ods"))
    assert merged_date(plan, tmp_path / "in") == (JULY_1, [])


@pytest.mark.libreoffice
def test_the_plan_starter_shows_its_deadline_the_roc_way(soffice, example_plan, tmp_path):
    """The starter's date cell (繳交期限) has the same format: the example plan, built
    from the starter, shows 2020-07-10 as 109/07/10 and is still read as that date."""
    ws = openpyxl.load_workbook(example_plan)["計畫"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "繳交期限")
    assert row[1].number_format == EXCEL_FORMATS["date"]
    assert load_plan(example_plan).info.deadline == date(2020, 7, 10)
    (result,) = type_in_calc([{"path": str(example_plan), "sheet": "計畫",
                               "read": [row[1].coordinate]}], tmp_path)
    assert result["shown"][row[1].coordinate] == "109/07/10"


def test_a_date_that_is_none_is_a_warning_with_the_plans_example(plan, tmp_path):
    write_templates(plan, tmp_path / "templates", units=[UNIT], generated=datetime(2024, 1, 2))
    (tmp_path / "in").mkdir()
    name = template_filename(plan, UNIT, "xlsx")
    fill(tmp_path / "templates" / name, tmp_path / "in" / name, {}, {"填報日期": "七月初"})
    value, (issue,) = merged_date(plan, tmp_path / "in")
    assert value == "七月初"  # kept as typed, for the record
    assert (issue.code, issue.severity) == ("type-error", "警告")
    assert issue.message == "「填報日期」須為日期，例如 113/1/15（民國年）或 2024/1/15"


def test_a_date_before_1900_in_a_xlsx_is_read_as_the_roc_date_typed(plan, tmp_path):
    """What LibreOffice stores when 113/01/05 is typed into the .xlsx's date cell (the
    year 113: a negative serial, which the readers give as a time of day): the number
    the file holds is read, as the date LibreOffice shows, the ROC year typed."""
    (written,) = write_templates(plan, tmp_path / "tpl", units=[UNIT], formats=("xlsx",))
    folder = tmp_path / "in"
    folder.mkdir()
    target = folder / written.path.name
    wb = openpyxl.load_workbook(written.path)
    wb[F.FORM_SHEET][DATE_CELL].value = -652683  # 113/01/05 to LibreOffice
    wb.save(target)
    assert merged_date(plan, folder) == (date(2024, 1, 5), [])


def test_a_date_that_cannot_be_read_says_how_to_type_the_roc_date(plan):
    """Where a reader's time of day could not be put back (no number in the file), the
    message gives the plan's own date as the example, and ends as a sentence."""
    from datetime import time

    from xltool.intake.rules import date_message

    col = next(f for f in F.FORM_FIELDS if f.kind == "date")
    message = date_message(col, time(0, 0), plan.info.deadline)
    deadline = plan.info.deadline
    assert f"'{deadline.year - 1911}/{deadline.month:02d}/{deadline.day:02d}" in message
    assert "1900" in message and "西元日期" in message and message.endswith("。")
