"""The plan's texts must be what every template, master and report can hold as they
are: no control characters (tab and line breaks aside, where prose allows them), and
no more than an .xlsx cell holds (32,767 UTF-16 units). `xltool check` refuses such a
plan, naming sheet, cell and character (or length); so does every command that loads
the plan, and nothing is written."""
import json

import pytest
from click.testing import CliRunner
from plans import second_plan, write_plan
from returns import rewrite

from xltool.cli import cli
from xltool.plan import check_plan, load_plan


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def issues_of(tmp_path, p, name="plan.xlsx"):
    _, issues = check_plan(write_plan(tmp_path / name, p))
    return issues


def at(issues, code):
    return {(i.sheet, i.cell): i.message for i in issues if i.code == code}


# ------------------------------------------------------------------ control characters


def test_control_characters_in_prose_are_refused_with_sheet_cell_and_character(tmp_path):
    p = second_plan()
    p["構面"][1][1] = "便民\x1b服務"
    for row in p["項目"][1:]:
        row[1] = {"便民服務": "A"}.get(row[1], row[1])
    p["項目"][3][5] = "開放\x01資料集 12 個"  # A03, 具體作法
    plan = write_plan(tmp_path / "plan.xlsx", p)
    res = run("check", plan)
    assert res.exit_code == 1, res.output
    lines = res.output.splitlines()
    dim = next(line for line in lines if "儲存格 B2" in line)
    assert "工作表「構面」" in dim and "U+001B" in dim and "[錯誤]" in dim
    item = next(line for line in lines if "儲存格 F4" in line)
    assert "工作表「項目」" in item and "U+0001" in item
    assert "\x1b" not in res.output and "\x01" not in res.output
    report = json.loads(run("check", plan, "--json").output)
    found = {(i["sheet"], i["cell"]) for i in report if i["code"] == "control-character"}
    assert found == {("構面", "B2"), ("項目", "F4")}

    # Every command loads the plan through the same loader: nothing is written.
    out = tmp_path / "tpl"
    res = run("template", plan, "-o", out, "--format", "both")
    assert res.exit_code != 0 and "U+001B" in res.output
    assert not out.exists() or not any(out.iterdir())


# (sheet, row, column, cell): every text field of the plan, each sheet's kind of cell.
FIELDS = [
    ("計畫", 4, 1, "B5"),  # 填報期間
    ("計畫", 8, 1, "B9"),  # 承辦人
    ("計畫", 9, 1, "B10"),  # 聯絡電話
    ("構面", 1, 0, "A2"),  # 代碼 (renamed in 項目 too)
    ("單位", 1, 1, "B2"),  # 類別
    ("項目", 1, 2, "C2"),  # 執行策略
    ("項目", 1, 3, "D2"),  # 執行方法
    ("項目", 1, 7, "H2"),  # 計量單位
    ("項目", 1, 0, "A2"),  # 編號
    ("等第", 1, 0, "A2"),  # 等第
    ("選項", 1, 1, "B2"),  # a list value
    ("選項", 0, 1, "B1"),  # a list's name
]


@pytest.mark.parametrize("char", ["\x07", "\x0b", "\x1f", "\x7f", "\x85", "\x9b"])
@pytest.mark.parametrize(("sheet", "r", "c", "cell"), FIELDS)
def test_every_text_field_refuses_c0_and_c1_controls(tmp_path, sheet, r, c, cell, char):
    p = second_plan()
    p[sheet][r][c] = f"前{char}後{p[sheet][r][c]}"
    if (sheet, cell) == ("構面", "A2"):
        for row in p["項目"][1:]:
            row[1] = p["構面"][1][0] if row[1] == "A" else row[1]
    found = at(issues_of(tmp_path, p), "control-character")
    assert (sheet, cell) in found, found
    assert f"U+{ord(char):04X}" in found[(sheet, cell)]


def test_tabs_and_line_breaks_stay_in_prose(tmp_path):
    p = second_plan()
    p["項目"][1][5] = "第一階段：\t新增 3 項\r\n第二階段：\t新增 2 項"
    p["項目"][1][3] = "擴充線上\n申辦項目"
    p["構面"][1][1] = "便民\n服務"
    p["選項"][1][0] = "已\n完成"
    for row in p["項目"][1:]:
        row[1] = {"便民服務": "A"}.get(row[1], row[1])
    plan = write_plan(tmp_path / "plan.xlsx", p)
    res = run("check", plan)
    assert res.exit_code == 0, res.output
    assert load_plan(plan).items[0].practice == "第一階段：\t新增 3 項\n第二階段：\t新增 2 項"


def test_names_refuse_tabs_and_name_the_character(tmp_path):
    p = second_plan()
    p["計畫"][2][1] = "新竹縣政府\t"  # trailing blanks are trimmed: no fault
    p["計畫"][7][1] = "資訊\t中心"  # 承辦單位
    p["單位"][2][0] = "乙\x1b組"
    found = at(issues_of(tmp_path, p), "control-character")
    assert set(found) == {("計畫", "B8"), ("單位", "A3")}, found
    assert "U+0009" in found[("計畫", "B8")] and "U+001B" in found[("單位", "A3")]


def test_a_line_break_in_a_name_is_still_named_as_one(tmp_path):
    p = second_plan()
    p["單位"][4][0] = "資訊\n中心\x07"
    (message,) = at(issues_of(tmp_path, p), "control-character").values()
    assert "換行" in message and "U+0007" in message


# ------------------------------------------------------------------ length


def long_plan(tmp_path, practices: dict[int, str]):
    """The second plan with 項目 rows' 具體作法 replaced, in the file itself (XlsxWriter
    would cut a text past 32,767 characters as it writes it)."""
    p = second_plan()
    for r in practices:
        p["項目"][r][5] = f"PLACEHOLDER{r}"
    path = write_plan(tmp_path / "plan.xlsx", p)

    def change(xml: bytes) -> bytes:
        for r, text in practices.items():
            xml = xml.replace(f"PLACEHOLDER{r}".encode(), text.encode())
        return xml

    rewrite(path, "xl/sharedStrings.xml", change)
    return path


def test_text_longer_than_a_cell_is_refused_counted_in_utf16_units(tmp_path):
    plan = long_plan(tmp_path, {
        1: "𠀀" * 16_384,  # 16,384 characters but 32,768 UTF-16 units: one too many
        2: "作" * 40_000,
        3: "𠀀" * 16_383 + "作",  # exactly 32,767 units: fits
    })
    res = run("check", plan)
    assert res.exit_code == 1, res.output
    report = json.loads(run("check", plan, "--json").output)
    assert sorted((i["sheet"], i["cell"]) for i in report
                  if i["code"] == "too-long") == [("項目", "F2"), ("項目", "F3")]
    lines = res.output.splitlines()
    astral = next(line for line in lines if "儲存格 F2" in line)
    assert "32,768" in astral and "32,767" in astral and "UTF-16" in astral
    plain = next(line for line in lines if "儲存格 F3" in line)
    assert "40,000" in plain and "32,767" in plain
    assert not any("儲存格 F4" in line for line in lines)
    assert len(res.output) < 5_000  # the text itself is not echoed

    out = tmp_path / "tpl"
    res = run("template", plan, "-o", out)
    assert res.exit_code != 0 and "F3" in res.output
    assert not out.exists() or not any(out.iterdir())


def test_text_of_exactly_a_cell_passes(tmp_path):
    plan = long_plan(tmp_path, {1: "作" * 32_767, 2: "😀" * 16_383 + "a"})
    res = run("check", plan)
    assert res.exit_code == 0, res.output


# ------------------------------------------------------------------ names Excel holds to 255


def _renamed_unit(p, old, new):
    for row in p["單位"][1:]:
        row[0] = new if row[0] == old else row[0]
    for row in p["項目"][1:]:
        row[:] = [new if c == old else c for c in row]


@pytest.mark.parametrize("length, refused", [(255, False), (256, True)])
def test_a_unit_name_fits_a_document_property(tmp_path, length, refused):
    """The templates record the unit's and the plan's names as document properties,
    which Excel holds to 255 characters (XlsxWriter refuses more, in English)."""
    p = second_plan()
    name = "資訊中心" + "長" * (length - 4)
    _renamed_unit(p, "資訊中心", name)
    issues = issues_of(tmp_path, p)
    found = [i for i in issues if i.code == "too-long" and i.sheet == "單位"]
    assert bool(found) == refused
    if refused:
        assert "255" in found[0].message and found[0].cell.startswith("A")
    else:
        res = run("template", tmp_path / "plan.xlsx", "-o", tmp_path / "t")
        assert res.exit_code == 0, res.output


def test_a_long_plan_name_is_refused_once_not_as_every_unit_colliding(tmp_path):
    p = second_plan()
    p["計畫"][1][1] = "計" * 300
    issues = issues_of(tmp_path, p)
    info = [i for i in issues if i.sheet == "計畫"]
    assert {i.code for i in info} == {"too-long", "file-name-collision"}
    assert all(i.cell == "B2" for i in info)
    assert "簡稱" in next(i.message for i in info if i.code == "file-name-collision")
    assert not [i for i in issues if i.sheet == "單位"], "the units are not to blame"


def test_a_grade_is_one_line(tmp_path):
    p = second_plan()
    p["等第"][1][0] = "特\n優"
    assert [i.code for i in issues_of(tmp_path, p) if i.sheet == "等第"] == ["control-character"]
