"""A formula a unit typed is refused (its cached value is never trusted), and kept as
the unit wrote it: the issue's 填寫內容 is the formula, in the report, in 檢核結果 and
in the correction copy's 待修正事項, whether the file came from Excel's format
(openpyxl), LibreOffice's .ods or a row the unit inserted."""
import json

import openpyxl
from python_calamine import CalamineWorkbook
from returns import GOOD, Kit

from xltool.forms import fields as F
from xltool.master.run import run_merge

R0 = F.FIRST_ITEM_ROW + 1  # the sheet row of a template's first item
RESULT_COL = "K"  # 執行績效與成果
SCORE_COL = "L"  # 自評分數


def typed_formulas(kit, unit):
    """The unit's return, with formulas typed where a person types text and a number."""
    path = kit.ret(unit, {i.id: GOOD for i in kit.plan.items_for(unit)})
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM_SHEET]
    ws[f"{RESULT_COL}{R0}"] = "=1+1"
    ws[f"{SCORE_COL}{R0 + 1}"] = '=SUM(5,"&<>")'
    wb.save(path)
    return path


def test_a_typed_formula_is_kept_as_written(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    typed_formulas(kit, "甲組")
    master, report = tmp_path / "master.xlsx", tmp_path / "r.json"
    run = run_merge(kit.plan, [kit.inbox], master, report=report, feedback_dir=tmp_path / "補正")
    found = {i.cell: i.value for i in run.result.issues if i.code == "formula"}
    assert found == {f"{RESULT_COL}{R0}": "=1+1", f"{SCORE_COL}{R0 + 1}": '=SUM(5,"&<>")'}
    issues = json.loads(report.read_text(encoding="utf-8"))["issues"]
    assert {i["cell"]: i["value"] for i in issues if i["code"] == "formula"} == found
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("檢核結果").to_python()
    head = rows[0]
    shown = {r[head.index("儲存格")]: r[head.index("填寫內容")] for r in rows[1:] if r[head.index("代碼")] == "formula"}
    assert shown == found
    copy = next((tmp_path / "補正").glob("*.xlsx"))
    todo = CalamineWorkbook.from_path(str(copy)).get_sheet_by_name("待修正事項").to_python()
    assert {"=1+1", '=SUM(5,"&<>")'} <= {r[3] for r in todo[4:]}


def test_a_formula_in_an_inserted_row_is_quoted(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret("甲組")
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM_SHEET]
    ws.insert_rows(R0 + 1)
    ws[f"{RESULT_COL}{R0 + 1}"] = "=A1&\"補充\""
    wb.save(path)
    run = run_merge(kit.plan, [kit.inbox], tmp_path / "m.xlsx")
    inserted = next(i for i in run.result.issues if i.code == "row-without-id")
    assert '=A1&"補充"' in inserted.value
