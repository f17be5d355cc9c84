"""`xltool check`: every fault of a plan, pinned to its sheet and cell."""
import pytest
from click.testing import CliRunner
from plans import second_plan, write_plan

from xltool.cli import cli
from xltool.errors import PlanError
from xltool.plan import check_plan, load_plan


def faults(tmp_path, sheets):
    _, issues = check_plan(write_plan(tmp_path / "broken.xlsx", sheets))
    return issues


def where(issues):
    return {(i.code, i.sheet, i.cell, i.severity) for i in issues}


def test_second_plan_is_clean_and_modelled(second_plan_path):
    plan = load_plan(second_plan_path)
    assert [d.name for d in plan.dimensions] == ["便民服務", "數位創新"]
    assert plan.total_points == 100
    assert plan.info.review_month == "113.01"
    assert plan.info.year == 112
    assert plan.info.not_applicable == "免填"
    assert [i.points for i in plan.items] == [20.25, 20.25, 20, 19.75, 19.75]
    assert plan.grade_for(95) == "特優" and plan.grade_for(94.99) == "優良"
    assert plan.grade_for(0) == "普通"
    assert plan.lists["執行狀態"] == ["完成", "進行中", "免填"]
    assert plan.lists["佐證類型"] == ["照片", "公文"]
    assert plan.warnings == []


def test_units_are_found_by_name(second_plan_path):
    plan = load_plan(second_plan_path)
    names = [u.name for u in plan.units]
    assert [plan.unit(n).name for n in names] == names
    assert all(plan.unit(n) is u for n, u in zip(names, plan.units))
    assert all(plan.has_unit(n) for n in names)
    assert not plan.has_unit("不在計畫中的單位") and not plan.has_unit("")
    with pytest.raises(KeyError):
        plan.unit("不在計畫中的單位")


def test_unknown_unit_names_sheet_cell_and_text(tmp_path):
    p = second_plan()
    p["項目"][2][4] = "北區服務站、總務科"
    issues = faults(tmp_path, p)
    bad = [i for i in issues if i.code == "unknown-unit"]
    assert len(bad) == 1
    assert (bad[0].sheet, bad[0].cell) == ("項目", "E3")
    assert "總務科" in bad[0].message
    # The item still counts towards its 構面's points, which add up: no second fault.
    assert "points-mismatch" not in {i.code for i in issues}


def test_a_points_fault_is_still_found_beside_a_unit_fault_in_another_dimension(tmp_path):
    p = second_plan()
    p["項目"][2][4] = "總務科"  # A02, 便民服務
    p["項目"][4][8] = 30  # a 數位創新 item: that 構面 no longer adds up
    issues = faults(tmp_path, p)
    assert [i.message.split("」")[0] for i in issues if i.code == "points-mismatch"] == ["構面「數位創新"]


def test_points_that_do_not_add_up(tmp_path):
    p = second_plan()
    p["項目"][1][8] = 21
    issues = faults(tmp_path, p)
    assert ("points-mismatch", "構面", "C2", "錯誤") in where(issues)
    assert "60.5" in next(i.message for i in issues if i.code == "points-mismatch")


def test_duplicate_id_empty_cell_and_grade_order(tmp_path):
    p = second_plan()
    p["項目"][3][0] = "A01"
    p["項目"][4][5] = None
    p["等第"][2][1] = 99
    found = where(faults(tmp_path, p))
    assert ("duplicate", "項目", "A4", "錯誤") in found
    assert ("missing-value", "項目", "F5", "錯誤") in found
    assert ("grade-order", "等第", "B3", "錯誤") in found


def test_unit_without_items_is_a_warning(tmp_path):
    p = second_plan()
    p["單位"].append(["丁組", "業務組", "", "", ""])
    issues = faults(tmp_path, p)
    assert where(issues) == {("unit-without-items", "單位", "A8", "警告")}


def test_review_month_typed_as_number(tmp_path):
    p = second_plan()
    p["計畫"][5][1] = 113.1
    issues = faults(tmp_path, p)
    assert ("type-error", "計畫", "B6", "錯誤") in where(issues)
    assert "109.07" in issues[0].message


def test_missing_sheet_and_missing_column(tmp_path):
    p = second_plan()
    del p["等第"]
    p["構面"][0][2] = "分數"
    found = where(faults(tmp_path, p))
    assert ("missing-sheet", "等第", "", "錯誤") in found
    # The column is missing, so the fault points at the first free header cell.
    assert ("missing-column", "構面", "D1", "錯誤") in found
    assert not [f for f in found if f[0] == "unknown-dimension"]


def test_bad_numbers_and_unknown_dimension(tmp_path):
    p = second_plan()
    p["項目"][1][8] = "二十"
    p["項目"][2][1] = "C"
    p["項目"][3][6] = -1
    found = where(faults(tmp_path, p))
    assert ("type-error", "項目", "I2", "錯誤") in found
    assert ("unknown-dimension", "項目", "B3", "錯誤") in found
    assert ("type-error", "項目", "G4", "錯誤") in found


def test_full_width_numbers_are_accepted(tmp_path):
    p = second_plan()
    p["項目"][3][8] = "２０"
    plan, issues = check_plan(write_plan(tmp_path / "fw.xlsx", p))
    assert not [i for i in issues if i.is_error]
    assert plan.items[2].points == 20


def test_load_plan_raises_with_every_issue(tmp_path):
    p = second_plan()
    p["項目"][1][4] = "不存在"
    p["項目"][2][4] = "也不存在"
    with pytest.raises(PlanError) as exc:
        load_plan(write_plan(tmp_path / "x.xlsx", p))
    assert {i.cell for i in exc.value.issues if i.code == "unknown-unit"} == {"E2", "E3"}


def test_cli_check_exit_codes_and_output(tmp_path, second_plan_path):
    runner = CliRunner()
    ok = runner.invoke(cli, ["check", str(second_plan_path)])
    assert ok.exit_code == 0, ok.output
    assert "計畫檔正確" in ok.output
    p = second_plan()
    p["項目"][1][4] = "總務科"
    bad = runner.invoke(cli, ["check", str(write_plan(tmp_path / "bad.xlsx", p))])
    assert bad.exit_code == 1
    assert "工作表「項目」" in bad.output and "E2" in bad.output and "總務科" in bad.output
