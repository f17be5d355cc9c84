"""A number cell under a percentage format: 95% typed into 實際值 (計量單位 %) is the
number 0.95, and 90% typed into 自評分數 is 0.9 points. The number the cell holds is
taken, as Excel and LibreOffice hold it, but never without saying what the unit sees
and how to type what it meant; .xlsx and .ods alike. Read back from the master."""
from __future__ import annotations

import shutil
from pathlib import Path

import openpyxl
import pytest
from conftest import convert
from returns import Kit
from test_blank_returns import checks, merged

from xltool.cells import a1
from xltool.forms import fields as F

UNIT = "甲組"  # second_plan: A01 first


def _ref(name: str) -> str:
    return a1(F.FIRST_ITEM_ROW, [c.name for c in F.COLUMNS].index(name))


def _percent_return(kit: Kit, values: dict[str, float], fmt: str, request) -> Path:
    path = kit.ret(UNIT)
    wb = openpyxl.load_workbook(path)
    for name, value in values.items():
        cell = wb[F.FORM_SHEET][_ref(name)]
        cell.value, cell.number_format = value, "0%"
    wb.save(path)
    if fmt == "xlsx":
        return path
    ods = convert(request.getfixturevalue("soffice"), path, "ods", path.parent.parent / "converted")
    path.unlink()
    return Path(shutil.move(ods, kit.inbox / ods.name))


@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_percentage_in_a_number_cell_is_said_with_what_to_type(tmp_path, second_plan_path, fmt, request):
    kit = Kit(tmp_path, second_plan_path)
    _percent_return(kit, {"實際值": 0.95, "自評分數": 0.9}, fmt, request)
    result, master = merged(kit, tmp_path)
    told = {r["欄位"]: r for r in checks(master, "number-shown-as-percent")}
    assert set(told) == {"實際值", "自評分數"}, told
    actual = told["實際值"]
    assert (actual["嚴重度"], actual["儲存格"], actual["填寫內容"]) == ("警告", _ref("實際值"), "95%")
    assert "0.95" in actual["說明"] and "請直接輸入 95" in actual["說明"]
    assert told["自評分數"]["填寫內容"] == "90%"
    row = result.status_of(UNIT).ret.rows["A01"]
    assert row.values["實際值"] == 0.95 and row.values["自評分數"] == 0.9  # the numbers held


def test_a_plain_number_is_not_a_percentage(tmp_path, second_plan_path):
    """Another cell's percentage format (a style in the book) does not make this one's."""
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret(UNIT)
    wb = openpyxl.load_workbook(path)
    wb[F.FORM_SHEET]["Z40"].number_format = "0%"  # a style with a percentage, on no input
    wb.save(path)
    _, master = merged(kit, tmp_path)
    assert not checks(master, "number-shown-as-percent")


def test_which_styles_show_a_percentage():
    from xltool.reading.xlsx_scan import percent_styles

    styles = (b'<styleSheet><numFmts><numFmt numFmtId="164" formatCode="0.0%"/>'
              b'<numFmt numFmtId="165" formatCode="&quot;%&quot;0"/><numFmt numFmtId="166" formatCode="0\\%"/>'
              b'</numFmts><cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="10"/>'
              b'<xf numFmtId="165"/><xf numFmtId="166"/></cellXfs></styleSheet>')
    assert percent_styles(styles) == {1, 2}  # a quoted or escaped % shows a % sign, not a percentage
    assert percent_styles(b'<styleSheet><cellXfs><xf numFmtId="0"/></cellXfs></styleSheet>') == frozenset()
    assert percent_styles(b'<numFmt numFmtId="9"/>' + b"<cellXfs>" * 100_000) == frozenset()  # never closed
