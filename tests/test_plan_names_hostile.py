"""Names in the plan that would later break templates or recognition: the plan check
refuses each, naming sheet, cell and what is wrong, before any template is written.

Names are held to what Excel holds as Excel counts (UTF-16 units); a name may not hold
a character that shows as nothing (two names would look alike, or one like another);
a unit's name may not hold a text Excel takes for an escape; two units may not differ
only in blanks (主辦單位 is matched without them)."""
import openpyxl
import pytest
from plans import second_plan, write_plan
from returns import rewrite
from test_plan_text_limits import at, issues_of, run

from xltool.plan import check_plan


def renamed_unit(p, old, new):
    for row in p["單位"][1:]:
        row[0] = new if row[0] == old else row[0]
    for row in p["項目"][1:]:
        row[:] = [new if c == old else c for c in row]


def refused_before_any_template(tmp_path, plan, *words):
    """`xltool template` refuses the plan in zh-TW, with ``words`` in the message,
    and writes nothing."""
    out = tmp_path / "tpl"
    res = run("template", plan, "-o", out, "--format", "both")
    assert res.exit_code != 0, res.output
    assert all(w in res.output for w in words), res.output
    assert "Excel's limit" not in res.output and "Traceback" not in res.output
    assert not out.exists() or not any(out.iterdir())


# ------------------------------------------------------------------ 255, as Excel counts


@pytest.mark.parametrize("sheet, r, c, cell", [("單位", 4, 0, "A5"), ("計畫", 1, 1, "B2")])
def test_a_name_of_256_utf16_units_is_refused_though_it_has_128_characters(tmp_path, sheet, r, c, cell):
    p = second_plan()
    name = "𠀀" * 128  # 128 characters, 256 UTF-16 units: XlsxWriter refused it in English
    if sheet == "單位":
        renamed_unit(p, "資訊中心", name)
    else:
        p[sheet][r][c] = name
        p["計畫"].append(["簡稱", "數位轉型"])
    plan = write_plan(tmp_path / "plan.xlsx", p)
    _, issues = check_plan(plan)
    found = at(issues, "too-long")
    assert list(found) == [(sheet, cell)], found
    assert "256" in found[(sheet, cell)] and "UTF-16" in found[(sheet, cell)] and "255" in found[(sheet, cell)]
    refused_before_any_template(tmp_path, plan, cell, "255")


def test_a_name_of_exactly_255_utf16_units_makes_templates(tmp_path):
    p = second_plan()
    name = "𠀀" * 127 + "站"
    renamed_unit(p, "資訊中心", name)
    plan = write_plan(tmp_path / "plan.xlsx", p)
    assert not [i for i in check_plan(plan)[1] if i.is_error]
    res = run("template", plan, "-o", tmp_path / "tpl", "--format", "both")
    assert res.exit_code == 0, res.output
    (xlsx,) = (tmp_path / "tpl").glob("*𠀀*.xlsx")
    assert openpyxl.load_workbook(xlsx).properties.title.endswith(name)


@pytest.mark.parametrize("length, refused", [(252, False), (253, True)])
def test_a_list_name_leaves_room_for_its_defined_name(tmp_path, length, refused):
    """A list's name becomes the defined name 選項_名稱 in every template, which Excel
    holds to 255: XlsxWriter refused a longer one, in English, after the check passed."""
    p = second_plan()
    p["選項"][0][1] = "佐" * length
    plan = write_plan(tmp_path / "plan.xlsx", p)
    found = at(check_plan(plan)[1], "too-long")
    if refused:
        assert list(found) == [("選項", "B1")], found
        assert "選項_" in found[("選項", "B1")] and "252" in found[("選項", "B1")]
        refused_before_any_template(tmp_path, plan, "B1")
    else:
        assert not found
        res = run("template", plan, "-o", tmp_path / "tpl", "--format", "both")
        assert res.exit_code == 0, res.output
        (xlsx, *_) = sorted((tmp_path / "tpl").glob("*.xlsx"))
        assert f"選項_{'佐' * length}" in openpyxl.load_workbook(xlsx).defined_names


# ------------------------------------------------------------------ what XML cannot hold


@pytest.mark.parametrize("char", ["\ufffe", "\uffff"])
def test_a_noncharacter_in_a_unit_name_is_refused_and_shown(tmp_path, char):
    """A return cannot keep U+FFFE (the intake drops it): the unit would not be its own.
    (Refused since quoting.NOT_TEXT; what is new is that the message shows it.)"""
    p = second_plan()
    renamed_unit(p, "資訊中心", "資訊PLACE中心")
    plan = write_plan(tmp_path / "plan.xlsx", p)
    ref = f"&#x{ord(char):04X};".encode()  # as another program may store it
    rewrite(plan, "xl/sharedStrings.xml", lambda xml: xml.replace(b"PLACE", ref))
    res = run("check", plan)
    assert res.exit_code == 1, res.output
    line = next(line for line in res.output.splitlines() if "儲存格 A5" in line)
    assert "工作表「單位」" in line and f"U+{ord(char):04X}" in line
    assert char not in res.output and f"\\u{ord(char):04x}" in line


# ------------------------------------------------------------------ characters that show as nothing

INVISIBLE = ["\u200b", "\u200d", "\u200f", "\u202e", "\u2060", "\u2064", "\ufeff", "\u00ad",
             "\u2066", "\ufe0f", "\u3164", "\U000e0041"]


def _put(p, sheet, r, c, text):
    p[sheet][r][c] = text


# (sheet, row, column, cell, value with {} where the character goes)
NAME_CELLS = [
    ("單位", 4, 0, "A5", "資訊{}中心"),  # the unit 資訊中心 (項目 still names it plainly)
    ("單位", 4, 3, "D5", "資訊{}室"),  # an alias
    ("單位", 1, 2, "C2", "全體、各{}組"),  # a group
    ("計畫", 2, 1, "B3", "新竹{}縣政府"),  # 機關名稱
    ("項目", 3, 4, "E4", "資訊{}室"),  # 主辦單位
    ("項目", 1, 0, "A2", "A{}01"),  # 編號
    ("構面", 1, 1, "B2", "便民{}服務"),
    ("等第", 1, 0, "A2", "特{}優"),
    ("選項", 0, 1, "B1", "佐證{}類型"),  # a list's name
    ("選項", 1, 0, "A2", "完{}成"),  # a list value
]


@pytest.mark.parametrize("char", INVISIBLE, ids=lambda ch: f"U+{ord(ch):04X}")
def test_an_invisible_character_in_a_unit_name_is_refused_with_its_position(tmp_path, char):
    p = second_plan()
    p["單位"][4][0] = f"資訊{char}中心"  # matching drops it: it was silently the unit 資訊中心
    plan = write_plan(tmp_path / "plan.xlsx", p)
    res = run("check", plan)
    assert res.exit_code == 1, res.output
    line = next(line for line in res.output.splitlines() if "儲存格 A5" in line)
    assert "工作表「單位」" in line and f"第 3 個字元是看不見的控制字元 U+{ord(char):04X}" in line
    assert char not in res.output  # shown as an escape


@pytest.mark.parametrize(("sheet", "r", "c", "cell", "value"), NAME_CELLS)
def test_every_name_cell_refuses_invisible_characters(tmp_path, sheet, r, c, cell, value):
    p = second_plan()
    _put(p, sheet, r, c, value.format("\u200b"))
    found = at(issues_of(tmp_path, p), "invisible-character")
    assert list(found) == [(sheet, cell)], found
    assert "U+200B" in found[(sheet, cell)]


def test_a_right_to_left_override_in_the_short_name_writes_no_file(tmp_path):
    """U+202E in a file name shows what follows backwards (the trick that makes
    報表\u202exslx.exe look like 報表exe.xlsx): no template may be named with it."""
    p = second_plan()
    p["計畫"].append(["簡稱", "數位\u202e轉型"])
    plan = write_plan(tmp_path / "plan.xlsx", p)
    found = at(check_plan(plan)[1], "invisible-character")
    assert list(found) == [("計畫", "B13")]
    assert "第 3 個字元是看不見的控制字元 U+202E" in found[("計畫", "B13")]
    refused_before_any_template(tmp_path, plan, "U+202E")


def test_several_invisible_characters_are_each_placed(tmp_path):
    p = second_plan()
    p["單位"][4][0] = "\u200b資訊\u200e中\u202e心\ufeff"
    (message,) = at(issues_of(tmp_path, p), "invisible-character").values()
    assert "第 1 個字元" in message and "第 4 個字元" in message and "第 6 個字元" in message
    assert "（共 4 個）" in message


def test_prose_keeps_invisible_characters_and_templates_hold_them(tmp_path):
    """Free text (具體作法, 執行方法) is kept as typed: a zero-width space there is the
    plan's wording, matched by nothing."""
    p = second_plan()
    p["項目"][1][5] = "新增\u200b線上申辦\u202e 5 項"
    p["項目"][1][3] = "擴充\u00ad線上申辦項目"
    plan = write_plan(tmp_path / "plan.xlsx", p)
    assert not [i for i in check_plan(plan)[1] if i.is_error]
    res = run("template", plan, "-o", tmp_path / "tpl", "--format", "xlsx")
    assert res.exit_code == 0, res.output
    ws = openpyxl.load_workbook(next((tmp_path / "tpl").glob("*甲組.xlsx")))["填報表"]
    texts = {c.value for row in ws.iter_rows() for c in row if isinstance(c.value, str)}
    assert "新增\u200b線上申辦\u202e 5 項" in texts and "擴充\u00ad線上申辦項目" in texts


# ------------------------------------------------------------------ Excel's escapes


def test_a_unit_name_excel_would_take_for_an_escape_is_refused(tmp_path):
    """XlsxWriter stores _x0041_ in a document property as _x005F_x0041_: the unit's own
    return then read as another unit's (rejected as identity-conflict)."""
    p = second_plan()
    renamed_unit(p, "資訊中心", "資訊_x0041_中心")
    plan = write_plan(tmp_path / "plan.xlsx", p)
    found = at(check_plan(plan)[1], "xlsx-escape")
    assert list(found) == [("單位", "A5")] and "_x0041_" in found[("單位", "A5")]
    refused_before_any_template(tmp_path, plan, "A5")


# ------------------------------------------------------------------ look-alikes


def test_units_that_differ_only_in_blanks_are_one_name_to_leads(tmp_path):
    """主辦單位 is matched without blanks: 北區 服務站 there went to the unit 北區服務站."""
    p = second_plan()
    p["單位"].append(["北區 服務站", "服務站", "", "", ""])
    found = at(issues_of(tmp_path, p), "duplicate")
    assert list(found) == [("單位", "A8")], found
    assert "北區服務站" in found[("單位", "A8")] and "A6" in found[("單位", "A8")]
    assert "空白" in found[("單位", "A8")]


def test_a_unit_named_with_a_blank_is_found_by_its_leads(tmp_path):
    p = second_plan()
    renamed_unit(p, "資訊中心", "IT Center")
    p["項目"][3][4] = "IT Center"  # A03 (was its alias 資訊室)
    plan, issues = check_plan(write_plan(tmp_path / "plan.xlsx", p))
    assert not [i for i in issues if i.is_error], issues
    assert [i.id for i in plan.items if "IT Center" in i.leads] == ["A03", "B02"]
    assert not [i for i in issues if i.code == "unit-without-items"]


@pytest.mark.parametrize("first, second", [
    ("Café組", "Cafe\u0301組"),  # NFC and NFD of one name
    ("IT組", "ＩＴ組"),  # half-width and full-width
    ("第1課", "第①課"),  # one after NFKC
    ("研考室", "研考室\u3000"),  # a trailing ideographic space
])
def test_names_that_are_one_after_normalising_are_duplicates(tmp_path, first, second):
    """(Already so: a guard.) A unit typed twice in two forms is one unit, reported."""
    p = second_plan()
    p["單位"].append([first, "", "", "", ""])
    p["單位"].append([second, "", "", "", ""])
    found = at(issues_of(tmp_path, p), "duplicate")
    assert list(found) == [("單位", "A9")], found
