"""Each unit's files have a name of their own: template names are made safe and short
(like the correction copies'), and `xltool check` refuses units whose file names would
be one file on Windows (unsafe characters become _, case does not count, long names
are cut), naming both units and their cells."""
from dataclasses import replace
from datetime import datetime

import pytest
from click.testing import CliRunner
from plans import second_plan, write_plan
from returns import GOOD, fill

from xltool.cli import cli
from xltool.errors import XltoolError
from xltool.files import MAX_NAME_BYTES
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def renamed(tmp_path, names: dict[str, str]):
    """The second plan with units renamed (主辦單位 following by group or name)."""
    p = second_plan()
    for row in p["單位"][1:]:
        row[0] = names.get(row[0], row[0])
    for row in p["項目"][1:]:
        row[1] = {"便民服務": "A", "數位創新": "B"}.get(row[1], row[1])
        row[4] = {"甲組至丙組": "各組", "北、南區服務站": "、".join(
            names.get(n, n) for n in ("北區服務站", "南區服務站"))}.get(row[4], row[4])
    return write_plan(tmp_path / "plan.xlsx", p)


def collision_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if "檔名相同" in line]


def test_units_whose_names_differ_only_in_unsafe_characters_are_refused(tmp_path):
    plan = renamed(tmp_path, {"甲組": "甲/組", "乙組": "甲:組"})
    res = run("check", plan)
    assert res.exit_code == 1, res.output
    (line,) = collision_lines(res.output)
    assert "工作表「單位」" in line and "儲存格 A3" in line  # the later unit's cell
    assert "「甲:組」" in line and "「甲/組」" in line and "A2" in line  # and the earlier one's
    assert "112_數位轉型推動_甲_組.xlsx" in line
    out = tmp_path / "tpl"
    res = run("template", plan, "-o", out)
    assert res.exit_code != 0 and "已產生" not in res.output
    assert not out.exists() or not any(out.iterdir())


@pytest.mark.parametrize(("first", "second"), [
    ("Team甲", "TEAM甲"),  # Windows does not tell case apart
    ("南區服務站" + "長" * 200 + "一", "南區服務站" + "長" * 200 + "二"),  # alike until cut
])
def test_names_that_windows_or_the_cut_makes_one_are_refused(tmp_path, first, second):
    plan = renamed(tmp_path, {"北區服務站": first, "南區服務站": second})
    res = run("check", plan)
    assert res.exit_code == 1, res.output
    (line,) = collision_lines(res.output)
    assert "儲存格 A7" in line and "A6" in line


def test_names_alike_as_file_names_of_their_own_are_refused(tmp_path):
    # The templates differ (112_…_CON, 112_…__CON), but the mail drafts, the collected
    # returns and the 佐證資料 folders are named from the unit alone: CON is a device.
    plan = renamed(tmp_path, {"北區服務站": "CON", "南區服務站": "_CON"})
    res = run("check", plan)
    assert res.exit_code == 1, res.output
    (line,) = collision_lines(res.output)
    assert "「_CON」" in line and "「CON」" in line and "郵件草稿" in line and "A7" in line


def test_a_long_unit_name_gets_a_short_template_name_and_copy(tmp_path):
    long = "南區服務站" + "長" * 195  # 200 characters, 600 bytes
    plan_path = renamed(tmp_path, {"南區服務站": long})
    assert run("check", plan_path).exit_code == 0
    out = tmp_path / "tpl"
    res = run("template", plan_path, "-o", out, "--format", "both")
    assert res.exit_code == 0, res.output
    plan = load_plan(plan_path)
    names = sorted(f.name for f in out.iterdir())
    assert len(names) == 12 and "已產生 12 個填報表" in res.output
    mine = [n for n in names if "長長" in n]
    assert mine == sorted([template_filename(plan, long, "ods"), template_filename(plan, long, "xlsx")])
    assert all(len(n.encode()) <= MAX_NAME_BYTES for n in names)
    assert mine[0].startswith("112_數位轉型推動_南區服務站長") and mine[0].endswith("….ods")

    # Returned with a fault: recognised as that unit, and its correction copy still
    # says it is one (the suffix fits after the shortened name).
    inbox = tmp_path / "in"
    inbox.mkdir()
    xlsx = out / template_filename(plan, long, "xlsx")
    ids = [i.id for i in plan.items_for(long)]
    fill(xlsx, inbox / xlsx.name, {i: dict(GOOD, 自評分數=99) for i in ids})
    res = run("merge", plan_path, inbox, "-o", tmp_path / "m.xlsx", "--feedback", tmp_path / "fb")
    assert res.exit_code == 1, res.output
    (copy,) = (tmp_path / "fb").iterdir()
    assert copy.name == xlsx.stem + "_待修正.xlsx"


def test_write_templates_refuses_units_sharing_a_file_name(second_plan_path, tmp_path):
    plan = load_plan(second_plan_path)  # a plan changed in code, past the checks
    names = {"甲組": "甲/組", "乙組": "甲:組"}
    plan = replace(plan, units=[replace(u, name=names.get(u.name, u.name)) for u in plan.units],
                   items=[replace(i, leads=tuple(names.get(n, n) for n in i.leads))
                          for i in plan.items])
    with pytest.raises(XltoolError, match="甲_組"):
        write_templates(plan, tmp_path / "tpl", generated=datetime(2024, 1, 2))
    assert not (tmp_path / "tpl").exists() or not any((tmp_path / "tpl").iterdir())


def test_two_units_returns_of_one_name_get_a_correction_copy_each(tmp_path, second_plan_path):
    """Returns named alike in two folders (回傳.xlsx from 甲組 and from 乙組): each unit's
    correction copy is written, none over the other's."""
    from returns import Kit

    from xltool.forms.identity import KEYS

    kit = Kit(tmp_path, second_plan_path)
    for unit, folder in (("甲組", "a"), ("乙組", "b")):
        (kit.inbox / folder).mkdir()
        ids = [i.id for i in kit.plan.items_for(unit)]
        kit.ret(unit, {ids[0]: {"自評分數": "很好"}}, name=f"{folder}/回傳.xlsx")
    res = run("merge", second_plan_path, kit.inbox, "-o", tmp_path / "總表.xlsx", "--feedback",
              tmp_path / "補正")
    assert res.exit_code == 1, res.output
    import openpyxl

    copies = sorted((tmp_path / "補正").iterdir())
    units = {openpyxl.load_workbook(p).custom_doc_props[KEYS["unit"]].value for p in copies}
    assert len(copies) == 2 and units == {"甲組", "乙組"}, [p.name for p in copies]


def test_mail_drafts_are_named_by_the_same_rule(tmp_path):
    """A draft's name is the unit's, made safe the same way: short enough for any file
    system, and never a Windows device name (CON.eml is the console there)."""
    long = "資訊中心" + "長" * 196
    plan_path = renamed(tmp_path, {"資訊中心": long, "甲組": "CON"})
    assert run("check", plan_path).exit_code == 0
    assert run("template", plan_path, "-o", tmp_path / "tpl").exit_code == 0
    res = run("send", plan_path, tmp_path / "tpl", "-o", tmp_path / "寄件匣")
    assert res.exit_code in (0, 1), res.output
    names = sorted(p.name for p in (tmp_path / "寄件匣").glob("*.eml"))
    assert "_CON.eml" in names and "CON.eml" not in names
    (mine,) = [n for n in names if n.startswith("資訊中心長")]
    assert len(mine.encode()) <= MAX_NAME_BYTES and mine.endswith("….eml")
