"""總表 never leaves out a lead unit that returned: a unit that wrote no 成果 for an
item is shown by its 執行狀態 (or 未填) in brackets, as the 成果 documents show it,
and a unit that sent nothing is in 未繳單位."""
import openpyxl
from returns import Kit

from xltool.master.run import run_merge


def test_every_returned_lead_is_in_its_items_row(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    kit.ret("甲組", {"A01": {"執行狀態": "進行中", "執行績效與成果": None},
                    "B01": {"執行狀態": None, "執行績效與成果": None}})
    kit.ret("乙組", {"A01": {"執行績效與成果": "乙組辦理完成"}})
    master = tmp_path / "master.xlsx"
    run_merge(kit.plan, [kit.inbox], master)
    ws = openpyxl.load_workbook(master)["總表"]
    head = [c.value for c in ws[3]]
    result_col, missing_col = head.index(next(h for h in head if h.startswith("執行績效與成果"))), 7
    rows = {r[2].value: r for r in ws.iter_rows(min_row=4) if r[2].value}
    a01 = rows[kit.plan.items[0].method]
    assert a01[result_col].value.split("\n") == ["【甲組】（進行中）", "【乙組】乙組辦理完成"]
    assert a01[missing_col].value == "丙組"
    b01 = next(r for r in rows.values() if "【甲組】（未填）" in (r[result_col].value or ""))
    assert b01[result_col].value.startswith("【甲組】（未填）")
