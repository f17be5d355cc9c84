"""The correction loop closes: a unit sent back its fixed correction copy is 已繳 with no
errors, the errors of the file it replaced no longer count, and the feedback folder
always equals the current to-do list."""
import shutil
from datetime import datetime

import openpyxl
from click.testing import CliRunner
from returns import Kit, set_saved

from xltool.cli import cli
from xltool.forms import fields as F


def merge(kit, tmp_path, *extra):
    return CliRunner().invoke(cli, ["merge", str(kit.plan.source), str(kit.inbox), "-o",
                                    str(tmp_path / "master.xlsx"), "--report",
                                    str(tmp_path / "report.json"), *map(str, extra)])


def test_a_fixed_correction_copy_closes_the_loop(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    for unit in [u.name for u in kit.plan.units]:
        first = kit.ret(unit, {"A01": {"自評分數": 99}} if unit == "甲組" else None)
        set_saved(first, datetime(2024, 1, 10, 1, 0))
    feedback = tmp_path / "補正"
    res = merge(kit, tmp_path, "--feedback", feedback)
    assert res.exit_code == 1, res.output
    (copy,) = feedback.iterdir()
    assert "甲組" in copy.name and copy.name.endswith("_待修正.xlsx")

    # The unit corrects the red cell in the copy and mails it back.
    wb = openpyxl.load_workbook(copy)
    ws = wb[F.FORM_SHEET]
    ws.cell(F.FIRST_ITEM_ROW + 1, 12).value = 18
    fixed = kit.inbox / copy.name
    wb.save(fixed)
    set_saved(fixed, datetime(2024, 1, 12, 2, 0))

    res = merge(kit, tmp_path, "--feedback", feedback)
    assert res.exit_code == 0, res.output
    assert "已移除不再需要的退件補正檔" in res.output
    assert list(feedback.iterdir()) == []
    import json
    report = json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))
    unit = next(u for u in report["units"] if u["unit"] == "甲組")
    assert unit["status"] == "已繳" and unit["file"] == fixed.name and unit["errors"] == 0
    assert unit["superseded"] == ["112_數位轉型推動_甲組.xlsx"]
    assert not [i for i in report["issues"] if i["severity"] == "錯誤"]
    status = openpyxl.load_workbook(tmp_path / "master.xlsx")["繳交狀態"]
    labels = {(r[0].value, r[2].value): r[1].value for r in status.iter_rows(min_row=2)}
    assert labels[("甲組", fixed.name)] == "已繳"
    assert labels[("甲組", "112_數位轉型推動_甲組.xlsx")] == "已取代（未採用）"


def test_a_new_error_rewrites_the_copy_and_other_files_are_left_alone(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    for unit in [u.name for u in kit.plan.units]:
        kit.ret(unit, {"A01": {"自評分數": 99}} if unit in ("甲組", "乙組") else None)
    feedback = tmp_path / "補正"
    feedback.mkdir()
    (feedback / "說明.txt").write_text("秘書室的備忘", encoding="utf-8")
    shutil.copy(kit.template("丙組"), feedback / "別人的檔案.xlsx")  # not a correction copy
    assert merge(kit, tmp_path, "--feedback", feedback).exit_code == 1
    copies = sorted(p.name for p in feedback.iterdir() if "待修正" in p.name)
    assert len(copies) == 2
    kit.ret("乙組")  # 乙組 fixes its return by hand; 甲組 still has its error
    assert merge(kit, tmp_path, "--feedback", feedback).exit_code == 1
    left = sorted(p.name for p in feedback.iterdir())
    assert [n for n in left if "待修正" in n] == [n for n in copies if "甲組" in n]
    assert "說明.txt" in left and "別人的檔案.xlsx" in left


def test_the_to_do_sheet_lists_only_what_the_unit_must_fix_and_names_the_deadline(
        tmp_path, second_plan_path):
    from xltool.cells import roc_prose_date

    kit = Kit(tmp_path, second_plan_path)
    kit.ret("甲組", {"A01": {"自評分數": 99, "實際值": "１２"}})  # an error, and a corrected value
    feedback = tmp_path / "補正"
    res = merge(kit, tmp_path, "--feedback", feedback)
    assert res.exit_code == 1, res.output
    report = (tmp_path / "report.json").read_text(encoding="utf-8")
    assert '"normalized"' in report  # the full-width digits were corrected, and said so
    (copy,) = feedback.iterdir()
    todo = openpyxl.load_workbook(copy)["待修正事項"]
    rows = [[c.value for c in r] for r in todo.iter_rows(min_row=5) if r[0].value is not None]
    assert len(rows) == 1 and rows[0][2] == "自評分數" and "[錯誤]" in rows[0][4]
    intro = todo.cell(2, 1).value
    info = kit.plan.info
    assert f"繳交期限：{roc_prose_date(info.deadline)}" in intro
    assert info.contact_unit and f"回傳{info.contact_unit}" in intro
    assert "期限內" not in intro
