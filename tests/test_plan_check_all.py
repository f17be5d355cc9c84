"""`xltool check` lists every fault at once: a fault in one cell neither hides the
faults of the rest of its row and of the sheets that refer to it, nor causes
follow-on faults about rows that are fine."""
from click.testing import CliRunner
from plans import second_plan, write_plan

from xltool.cli import cli
from xltool.plan import check_plan

# second_plan(): 構面 A 便民服務 60.5 (row 2), B 數位創新 39.5 (row 3); 項目 rows 2–6 are
# A01 A 20.25, A02 便民服務 20.25, A03 A 20, B01 B 19.75, B02 數位創新 19.75.
ITEM, POINTS, LEAD, DIM = 0, 8, 4, 1


def faults(tmp_path, sheets):
    _, issues = check_plan(write_plan(tmp_path / "broken.xlsx", sheets))
    return issues


def found(issues):
    return sorted((i.code, i.sheet, i.cell) for i in issues)


def test_an_item_with_an_unknown_unit_still_counts_towards_its_dimension(tmp_path):
    p = second_plan()
    p["項目"][2][LEAD] = "總務科"  # A02, 便民服務
    p["項目"][1][POINTS] = 21  # A01, 便民服務: 21 + 20.25 + 20 = 61.25
    issues = faults(tmp_path, p)
    assert found(issues) == [("points-mismatch", "構面", "C2"), ("unknown-unit", "項目", "E3")]
    mismatch = next(i for i in issues if i.code == "points-mismatch")
    assert mismatch.message == "構面「便民服務」配分 60.5，但其項目配分合計 61.25。"


def test_a_dimension_with_bad_points_still_has_its_items(tmp_path):
    p = second_plan()
    p["構面"][2][2] = "三十九點五"  # 數位創新
    p["項目"][1][POINTS] = "二十分"  # A01: 便民服務's sum cannot be known either
    issues = faults(tmp_path, p)
    assert found(issues) == [("type-error", "構面", "C3"), ("type-error", "項目", "I2")]
    assert [i.message for i in issues] == ["配分：須為數字。", "配分：須為數字。"]


def test_a_duplicate_id_still_counts_as_typed(tmp_path):
    p = second_plan()
    p["項目"][5][ITEM] = "B01"  # B02 repeats B01's 編號; its points still count
    assert found(faults(tmp_path, p)) == [("duplicate", "項目", "A6")]
    p["項目"][5][POINTS] = 20.75  # now the sheet shows 19.75 + 20.75 = 40.5 for 數位創新
    issues = faults(tmp_path, p)
    assert found(issues) == [("duplicate", "項目", "A6"), ("points-mismatch", "構面", "C3")]
    mismatch = next(i for i in issues if i.code == "points-mismatch")
    assert mismatch.message == "構面「數位創新」配分 39.5，但其項目配分合計 40.5。"


def test_a_duplicate_row_is_still_checked(tmp_path):
    p = second_plan()
    p["項目"][5][ITEM] = "B01"
    p["項目"][5][LEAD] = "總務科"
    p["項目"][5][DIM] = "Z"
    assert found(faults(tmp_path, p)) == [("duplicate", "項目", "A6"),
                                          ("unknown-dimension", "項目", "B6"),
                                          ("unknown-unit", "項目", "E6")]


def test_every_cell_of_a_row_is_checked_whatever_else_is_wrong_in_it(tmp_path):
    p = second_plan()
    p["項目"][1][2] = None  # A01 執行策略 blank
    p["項目"][1][LEAD] = "總務科"
    p["項目"][1][DIM] = "Z"
    issues = faults(tmp_path, p)
    assert found(issues) == [("missing-value", "項目", "C2"), ("unknown-dimension", "項目", "B2"),
                             ("unknown-unit", "項目", "E2")]


def test_an_item_with_an_unknown_dimension_is_not_a_points_fault_too(tmp_path):
    p = second_plan()
    p["項目"][4][DIM] = "Z"  # B01: 數位創新 falls short by exactly its 19.75
    assert found(faults(tmp_path, p)) == [("unknown-dimension", "項目", "B5")]


def test_a_points_fault_beside_an_unknown_dimension_names_what_is_not_counted(tmp_path):
    p = second_plan()
    p["項目"][4][DIM] = "Z"  # B01
    p["項目"][5][POINTS] = 20  # B02: 數位創新 is 39.75 as typed, 20 without B01
    issues = faults(tmp_path, p)
    assert found(issues) == [("points-mismatch", "構面", "C3"), ("unknown-dimension", "項目", "B5")]
    mismatch = next(i for i in issues if i.code == "points-mismatch")
    assert mismatch.message == ("構面「數位創新」配分 39.5，但其項目配分合計 20"
                                "（未計入構面無法對應的項目 B01）。")


def test_a_surplus_is_reported_whatever_items_are_not_counted(tmp_path):
    p = second_plan()
    p["項目"][4][DIM] = "Z"  # B01
    p["項目"][5][POINTS] = 40  # B02 alone is more than 數位創新's 39.5
    assert ("points-mismatch", "構面", "C3") in found(faults(tmp_path, p))


def test_a_unit_with_a_bad_address_is_still_a_unit(tmp_path):
    p = second_plan()
    p["單位"][1][4] = "a@@hsinchu.example"  # 甲組, named by A01's range 甲組至丙組
    assert found(faults(tmp_path, p)) == [("type-error", "單位", "E2")]


def test_a_unit_without_a_name_makes_no_unknown_unit_faults(tmp_path):
    p = second_plan()
    p["單位"][3][0] = None  # 丙組: A01 names it; the blank 名稱 is the fault to fix
    assert found(faults(tmp_path, p)) == [("missing-value", "單位", "A4")]


def test_a_dimension_without_a_code_makes_no_unknown_dimension_faults(tmp_path):
    p = second_plan()
    p["構面"][1][0] = None  # A: A01 and A03 name it by 代碼
    assert found(faults(tmp_path, p)) == [("missing-value", "構面", "A2")]


def test_a_duplicate_dimension_makes_no_points_faults(tmp_path):
    p = second_plan()
    p["構面"][2][0] = "A"  # 數位創新's 代碼 repeats 便民服務's: which 構面 do A01–A03 mean?
    # B01 names 代碼 B, which is no longer in the sheet (a fault of its own).
    assert found(faults(tmp_path, p)) == [("duplicate", "構面", "A3"),
                                          ("unknown-dimension", "項目", "B5")]


def test_a_missing_points_column_hides_no_other_fault_and_adds_none(tmp_path):
    p = second_plan()
    p["項目"][0][POINTS] = "分數"
    p["項目"][1][LEAD] = "總務科"
    assert found(faults(tmp_path, p)) == [("missing-column", "項目", "J1"),
                                          ("unknown-unit", "項目", "E2")]


def test_a_missing_unit_sheet_makes_no_unknown_unit_faults(tmp_path):
    p = second_plan()
    del p["單位"]
    assert found(faults(tmp_path, p)) == [("missing-sheet", "單位", "")]


def test_a_wrong_lowest_grade_is_not_also_a_grade_gap(tmp_path):
    p = second_plan()
    p["等第"][3][1] = "零"
    assert found(faults(tmp_path, p)) == [("type-error", "等第", "B4")]


def test_cli_lists_the_unit_fault_and_the_points_fault_at_once(tmp_path):
    p = second_plan()
    p["項目"][2][LEAD] = "總務科"
    p["項目"][1][POINTS] = 21
    result = CliRunner().invoke(cli, ["check", str(write_plan(tmp_path / "plan.xlsx", p))])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert ("[錯誤] plan.xlsx，工作表「項目」，儲存格 E3："
            "主辦單位「總務科」不是工作表「單位」中的單位、群組或別名。") in lines
    assert "[錯誤] plan.xlsx，工作表「構面」，儲存格 C2：構面「便民服務」配分 60.5，但其項目配分合計 61.25。" in lines
    assert "共 2 個錯誤、0 個警告。" in lines


def test_a_missing_dimension_points_column_leaves_no_unit_without_items(tmp_path):
    p = second_plan()
    p["構面"][0][2] = "分數"  # no 構面 is complete, but every item still names its units
    assert found(faults(tmp_path, p)) == [("missing-column", "構面", "D1")]


def test_a_missing_group_column_makes_no_unknown_unit_faults(tmp_path):
    p = second_plan()
    p["單位"][0][2] = "分組"  # B01 names the group 各組
    assert found(faults(tmp_path, p)) == [("missing-column", "單位", "F1")]


def test_an_unreadable_item_header_makes_no_points_faults(tmp_path):
    p = second_plan()
    p["項目"][0] = ["?"] * len(p["項目"][0])
    issues = faults(tmp_path, p)
    assert {i.code for i in issues} == {"missing-column"}
    assert len(issues) == 9
