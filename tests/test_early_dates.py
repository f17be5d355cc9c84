"""A number under a date format that is no day since 1900 (a negative one): LibreOffice
writes one into a .xlsx when an ROC date is typed into a date cell (116/01/05 is the
year 116 to it), and the reader gave a time of day, 00:00:00, for it: the date was
lost, quoted as 00:00:00, and the correction copy wrote that text over it. The number
the file holds is read instead: a date is read as the ROC date typed, a number as the
number. Each test reads back the files really written."""
from __future__ import annotations

import re
import zipfile
from datetime import date, datetime
from pathlib import Path

import openpyxl
from lo_run import type_in_calc
from returns import Kit
from test_blank_returns import checks, merged, sheet, status_rows

from xltool.cells import a1, early_serial_to_date, parse_date
from xltool.forms import fields as F
from xltool.master.feedback import write_feedback

UNIT = "甲組"  # second_plan
DATE_CELL = a1(F.FORM_ROW, F.FORM_LABEL_COLS[2] + 1)  # 填報日期's input


def _typed_in_libreoffice(kit: Kit, tmp_path: Path, text: str) -> Path:
    """甲組's filled return with ``text`` typed into 填報日期 in LibreOffice, saved as .xlsx."""
    filled = kit.ret(UNIT, name="filled.xlsx")
    out = kit.inbox / kit.template(UNIT).name
    (result,) = type_in_calc([{"path": str(filled), "type": [[DATE_CELL, text]], "read": [DATE_CELL],
                               "output": str(out), "filter": "Calc MS Excel 2007 XML"}], tmp_path)
    filled.unlink()
    return out


def _stored(path: Path, ref: str) -> str:
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet2.xml").decode("utf-8")
    return re.search(rf'<c r="{ref}"[^>]*>(.*?)</c>', xml).group(1)


def test_an_roc_date_typed_in_libreoffice_into_a_xlsx_is_read_as_typed(tmp_path, soffice, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    path = _typed_in_libreoffice(kit, tmp_path, "116/01/05")
    assert _stored(path, DATE_CELL) == "<v>-651588</v>"  # the year 116, as LibreOffice counts
    _, master = merged(kit, tmp_path)
    (status,) = status_rows(master, UNIT)
    assert status["填報日期"] == datetime(2027, 1, 5)  # ROC 116/01/05
    assert not [r for r in sheet(master, "檢核結果") if r["儲存格"] == DATE_CELL]


def test_the_correction_copy_keeps_the_date_not_00_00_00(tmp_path, soffice, second_plan_path):
    """A return with an error gets a correction copy: its 填報日期 is the date typed."""
    kit = Kit(tmp_path, second_plan_path)
    filled = kit.ret(UNIT, {"A01": {"自評分數": 999}}, name="filled.xlsx")
    out = kit.inbox / kit.template(UNIT).name
    type_in_calc([{"path": str(filled), "type": [[DATE_CELL, "116/01/05"]], "read": [DATE_CELL],
                   "output": str(out), "filter": "Calc MS Excel 2007 XML"}], tmp_path)
    filled.unlink()
    result, master = merged(kit, tmp_path)
    assert checks(master, "out-of-range")
    feedback = write_feedback(result, tmp_path / "補正")
    (copy,) = [p for p in feedback.written if p.suffix == ".xlsx"]
    value = openpyxl.load_workbook(copy)[F.FORM_SHEET][DATE_CELL].value
    assert value == datetime(2027, 1, 5), value


def test_a_negative_number_under_a_date_format_is_that_number(tmp_path, second_plan_path):
    """實際值 -5 that a date format shows as a date: the number -5 (below 0: an error
    quoting it), not 0 taken from the time of day a reader made of it."""
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret(UNIT)
    ref = a1(F.FIRST_ITEM_ROW, [c.name for c in F.COLUMNS].index("實際值"))
    wb = openpyxl.load_workbook(path)
    cell = wb[F.FORM_SHEET][ref]
    cell.value, cell.number_format = -5, "yyyy/m/d"
    wb.save(path)
    _, master = merged(kit, tmp_path)
    (told,) = [r for r in sheet(master, "檢核結果") if r["儲存格"] == ref]
    assert told["代碼"] == "out-of-range" and told["填寫內容"] == "-5", told


def test_libreoffice_counts_early_days_as_read():
    """Numbers LibreOffice 7.4 wrote into a .xlsx for dates typed into a 填報日期 cell,
    and the date each was typed as (ROC years under 1000): Julian days before 1582-10-15
    as it shows them, counted in the proleptic Gregorian calendar from 1899-12-30."""
    for number, typed in ((-651588, date(2027, 1, 5)),    # 116/01/05
                          (-651776, date(2026, 7, 1)),    # 115/07/01
                          (-474751, date(2511, 3, 1)),    # 600/03/01
                          (-115853, date(1582, 10, 20))):  # 1582/10/20, after the switch
        assert parse_date(early_serial_to_date(number)) == typed
