"""Values a unit's office program shows otherwise than the number its cell holds
(helper slipD): a number cell that Excel or Calc turned into a date or a time (3/4 typed
becomes 3月4日, 12:00 a time of day), and numbers a hair over a limit. The merge may take
the number, but never without saying what the unit sees; and .xlsx and .ods read alike.
Each test reads back the master really written."""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import convert
from returns import Kit
from test_blank_returns import checks, merged, sheet

from xltool.forms import fields as F

UNIT = "甲組"  # second_plan: A01 (配分 20.25), B01, B02


def _col(name: str) -> int:
    return [c.name for c in F.COLUMNS].index(name) + 1


def formatted(kit: Kit, cells: dict[str, tuple[object, str]], fmt: str, request) -> Path:
    """甲組's filled return with A01's ``cells`` ({欄名: (value, number format)}) set as
    Excel keeps a typed date (a number under a date format), saved by openpyxl; or that
    file saved again by LibreOffice as .ods."""
    path = kit.ret(UNIT)
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM_SHEET]
    for name, (value, number_format) in cells.items():
        cell = ws.cell(F.FIRST_ITEM_ROW + 1, _col(name))
        assert not cell.protection.locked
        cell.value, cell.number_format = value, number_format
    wb.save(path)
    if fmt == "xlsx":
        return path
    soffice = request.getfixturevalue("soffice")
    ods = convert(soffice, path, "ods", path.parent.parent / "converted")
    path.unlink()
    return Path(shutil.move(ods, kit.inbox / ods.name))


def _detail(master: Path, item: str) -> dict:
    (row,) = [r for r in sheet(master, "明細") if r["單位"] == UNIT and r["編號"] == item]
    return row


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_date_typed_into_the_result_value_is_told_not_taken_silently(tmp_path, second_plan_path, fmt,
                                                                       request):
    """「3/4」 typed into 實際值 (three of four) is 2026/3/4 to Excel and Calc: the cell
    holds 46085. Taken as that number, but told where and as the unit sees it."""
    kit = Kit(tmp_path, second_plan_path)
    formatted(kit, {"實際值": (46085, "yyyy/m/d")}, fmt, request)
    result, master = merged(kit, tmp_path)
    (told,) = checks(master, "number-shown-as-date")
    assert (told["嚴重度"], told["儲存格"], told["欄位"]) == ("警告", "J6", "實際值")
    assert told["填寫內容"] == "2026/3/4"
    assert "46085" in told["說明"] and "A01" in told["說明"]
    assert _detail(master, "A01")["實際值"] == 46085
    assert result.status_of(UNIT).status == "已繳"  # a warning: the score stands


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_score_shown_as_a_time_of_day_reads_alike_in_xlsx_and_ods(tmp_path, second_plan_path, fmt,
                                                                    request):
    """0.5 under a time format shows 12:00. Its .xlsx was a type-error (its reader gives a
    time of day) while its .ods gave 0.5 without a word: now both take 0.5 and say so."""
    kit = Kit(tmp_path, second_plan_path)
    formatted(kit, {"自評分數": (0.5, "h:mm")}, fmt, request)
    _, master = merged(kit, tmp_path)
    assert not checks(master, "type-error")
    (told,) = checks(master, "number-shown-as-date")
    assert (told["儲存格"], told["欄位"], told["填寫內容"]) == ("L6", "自評分數", "12:00:00")
    assert _detail(master, "A01")["自評分數"] == 0.5


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_duration_in_the_result_value_is_told(tmp_path, second_plan_path, fmt, request):
    kit = Kit(tmp_path, second_plan_path)
    formatted(kit, {"實際值": (1.5, "[h]:mm:ss")}, fmt, request)
    _, master = merged(kit, tmp_path)
    (told,) = checks(master, "number-shown-as-date")
    assert (told["儲存格"], told["填寫內容"]) == ("J6", "36:00:00")
    assert _detail(master, "A01")["實際值"] == 1.5


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_score_shown_as_a_date_and_out_of_range_says_what_the_unit_sees(tmp_path, second_plan_path,
                                                                         fmt, request):
    kit = Kit(tmp_path, second_plan_path)
    formatted(kit, {"自評分數": (45296, "yyyy/m/d")}, fmt, request)
    _, master = merged(kit, tmp_path)
    (error,) = checks(master, "out-of-range")
    assert error["儲存格"] == "L6" and "2024/1/5" in error["說明"] and "45296" in error["說明"]
    assert not checks(master, "number-shown-as-date")  # one issue for the cell, not two
    assert _detail(master, "A01")["自評分數"] is None


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_score_a_hair_over_the_points_is_quoted_as_the_cell_holds_it(tmp_path, second_plan_path, fmt,
                                                                     request):
    """20.2500000001 against 配分 20.25: quoted as 20.25 it read 「20.25 須為 0 到 20.25」."""
    kit = Kit(tmp_path, second_plan_path)
    formatted(kit, {"自評分數": (20.2500000001, "General"), "實際值": (1e308, "General")}, fmt, request)
    _, master = merged(kit, tmp_path)
    (error,) = checks(master, "out-of-range")
    assert (error["儲存格"], error["填寫內容"], error["應為"]) == ("L6", "20.2500000001", "0～20.25")
    assert _detail(master, "A01")["自評分數"] is None
    assert _detail(master, "A01")["實際值"] == 1e308  # ≥ 0 is all the rule asks


def test_a_number_too_large_for_any_spreadsheet_is_an_error_not_a_crash(tmp_path, second_plan_path):
    """400 nines typed as text read as inf, which the rule passed for 實際值 (≥ 0): the
    master could not be written, and one unit's cell stopped the whole merge."""
    kit = Kit(tmp_path, second_plan_path)
    kit.ret(UNIT, {"A01": {"實際值": "9" * 400}, "B01": {"自評分數": "1" + "0" * 400}})
    result, master = merged(kit, tmp_path)  # writes the master
    errors = {r["儲存格"]: r for r in checks(master, "type-error")}
    assert set(errors) == {"J6", "L7"}
    assert errors["J6"]["填寫內容"].startswith("9999") and errors["J6"]["欄位"] == "實際值"
    assert _detail(master, "A01")["實際值"] is None and _detail(master, "B01")["自評分數"] is None
    assert result.status_of(UNIT).status == "有誤"


def _merged_as_calc_keeps_it(path: Path, ref: str) -> None:
    """Merge ``ref`` in 填報表 as LibreOffice writes a merge whose hidden cells keep their
    content (Calc's 「保留隱藏儲存格的內容」): the covered cells still hold their values."""
    import re

    from returns import rewrite

    wb = openpyxl.load_workbook(path)
    part = f"xl/worksheets/sheet{wb.sheetnames.index(F.FORM_SHEET) + 1}.xml"
    merge = f'<mergeCells count="1"><mergeCell ref="{ref}"/></mergeCells>'.encode()

    def add(xml: bytes) -> bytes:
        assert b"<mergeCells" not in xml
        at = re.search(rb"<sheetProtection[^>]*/>|</sheetData>", xml)
        assert at is not None
        return xml[:at.end()] + merge + xml[at.end():]

    rewrite(path, part, add)


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_value_hidden_under_a_merge_is_not_scored_but_quoted(tmp_path, second_plan_path, fmt, request):
    """A01's and B01's 自評分數 merged into one cell (L6:L7) shows A01's 5 over both rows.
    Excel empties L7; LibreOffice keeps B01's 20 hidden, and it was scored, unseen by the
    unit, under an issue that said only the top-left value is read. Now it reads as
    Excel's: blank (B01's score missing), with the hidden 20 quoted."""
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret(UNIT, {"A01": {"自評分數": 5}, "B01": {"自評分數": 19.5}})
    _merged_as_calc_keeps_it(path, "L6:L7")
    if fmt == "ods":
        ods = convert(request.getfixturevalue("soffice"), path, "ods", tmp_path / "converted")
        path.unlink()
        shutil.move(ods, kit.inbox / ods.name)
    _, master = merged(kit, tmp_path)
    (merge,) = checks(master, "merged-input-cells")
    assert merge["儲存格"] == "L6" and "L7 自評分數：19.5" in merge["說明"]
    assert merge["填寫內容"] == "L7 自評分數：19.5"
    (missing,) = checks(master, "missing-value")
    assert (missing["儲存格"], missing["欄位"]) == ("L7", "自評分數")
    assert _detail(master, "A01")["自評分數"] == 5
    assert _detail(master, "B01")["自評分數"] is None
