"""明細 marks the cells in error, and only those: a refused value's cell is marked
although it is empty (what the unit typed is in 檢核結果), the unit's valid entries on
the same row are not, and 檢核 is marked on every row with a problem."""
import openpyxl
import pytest
from returns import Kit

from xltool.forms import fields as F
from xltool.master.run import run_merge
from xltool.master.sheets import xmlrows

BAD_FILL = "F8CBAD"  # context.formats: "bad"


@pytest.fixture
def kit(tmp_path, second_plan_path):
    return Kit(tmp_path, second_plan_path)


def marks(master):
    """(unit, 編號) → {column header: (value, marked)} of 明細's input and 檢核 cells."""
    ws = openpyxl.load_workbook(master)["明細"]
    head = [c.value for c in ws[1]]
    wanted = [c.name for c in F.INPUT_COLUMNS] + ["檢核"]
    out = {}
    for row in ws.iter_rows(min_row=2):
        cells = dict(zip(head, row))
        out[(cells["單位"].value, cells["編號"].value)] = {
            name: (cells[name].value, (cells[name].fill.fgColor.rgb or "").endswith(BAD_FILL))
            for name in wanted}
    return out


@pytest.mark.parametrize("raw_rows", [True, False], ids=["raw-rows", "xlsxwriter-calls"])
def test_only_the_cells_in_error_are_marked(kit, tmp_path, monkeypatch, raw_rows):
    if not raw_rows:
        monkeypatch.setattr(xmlrows, "supported", lambda: False)
    kit.ret("甲組", {"A01": {"執行狀態": "做完了", "執行績效與成果": "新增 5 項", "自評分數": 25},
                    "B01": {"執行績效與成果": None}})
    kit.ret("乙組")
    master = tmp_path / "master.xlsx"
    run_merge(kit.plan, [kit.inbox], master)
    found = marks(master)
    a01, b01 = found[("甲組", "A01")], found[("甲組", "B01")]
    assert a01["執行狀態"] == (None, True)  # refused: empty, and marked
    assert a01["自評分數"] == (None, True)
    assert a01["執行績效與成果"] == ("新增 5 項", False)  # valid: as typed, not marked
    assert a01["檢核"][1] and "不在下拉清單中" in a01["檢核"][0]
    assert b01["執行績效與成果"] == (None, True)  # required and left blank
    assert b01["執行狀態"][1] is False and b01["自評分數"][1] is False
    assert b01["檢核"][1]
    good = [cells for (unit, _), cells in found.items() if unit == "乙組"]
    assert good and not any(marked for cells in good for _, marked in cells.values())
    missing = [cells for (unit, _), cells in found.items() if unit == "丙組"]  # sent nothing
    assert missing and all(cells["檢核"] == ("未繳", True) for cells in missing)
    assert not any(marked for cells in missing for name, (_, marked) in cells.items() if name != "檢核")
