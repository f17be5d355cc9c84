"""The plan changes after the templates went out (a wording fix, points moved, an item
added and one removed): no unit is blamed, nothing is lost, and each unit can be sent
a template pre-filled with what it already returned."""
import json
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_PLAN, ROOT
from plans import second_plan, write_plan
from python_calamine import CalamineWorkbook
from returns import fill, set_saved

from xltool.cli import cli
from xltool.forms import fields as F
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

NEW_PRACTICE = "開放 15 個資料集（含即時資料）"


def revised_second_plan():
    data = second_plan()
    items = {row[0]: row for row in data["項目"][1:]}
    items["A03"][5] = NEW_PRACTICE  # a wording fix
    items["A01"][8], items["A02"][8] = 15.25, 25.25  # 5 points move from A01 to A02
    data["項目"] = [r for r in data["項目"] if r[0] != "B01"]  # B01 leaves the plan …
    data["項目"].append(["B03", "B", "行動服務", "推動行動支付", "各組", "導入行動支付 3 處", 3, "處",
                        19.75])  # … and B03 takes its points
    return data


def values(plan, unit, scores):
    return {i.id: {"執行狀態": "完成", "實際值": 2, "執行績效與成果": f"{unit}辦理{i.id}",
                   "自評分數": scores.get(i.id, 10)} for i in plan.items_for(unit)}


@pytest.fixture
def cycle(tmp_path):
    """Old templates to every unit; 乙組 is sent the revised template, the others are not."""
    old_path = write_plan(tmp_path / "plan_v1.xlsx", second_plan())
    new_path = write_plan(tmp_path / "plan_v2.xlsx", revised_second_plan())
    old, new = load_plan(old_path), load_plan(new_path)
    write_templates(old, tmp_path / "tpl1", generated=datetime(2024, 1, 2))
    write_templates(new, tmp_path / "tpl2", generated=datetime(2024, 1, 9))
    inbox = tmp_path / "returns"
    inbox.mkdir()
    scores = {"甲組": {"A01": 18}, "丙組": {"A01": 12}, "乙組": {"A01": 14}}
    for unit in [u.name for u in new.units]:
        plan, tpl = (new, "tpl2") if unit == "乙組" else (old, "tpl1")
        name = template_filename(plan, unit, "xlsx")
        path = fill(tmp_path / tpl / name, inbox / name, values(plan, unit, scores.get(unit, {})))
        set_saved(path, datetime(2024, 1, 12, 2, 0))
    return old_path, new_path, inbox


def merge(plan_path, inbox, tmp_path, *extra):
    res = CliRunner().invoke(cli, ["merge", str(plan_path), str(inbox), "-o",
                                   str(tmp_path / "master.xlsx"), "--report",
                                   str(tmp_path / "report.json"), *map(str, extra)])
    return res, json.loads((tmp_path / "report.json").read_text(encoding="utf-8"))


def test_no_unit_is_blamed_for_a_revision(cycle, tmp_path):
    _, new_path, inbox = cycle
    res, report = merge(new_path, inbox, tmp_path, "--feedback", tmp_path / "fb")
    errors = [i for i in report["issues"] if i["severity"] == "錯誤"]
    assert errors == [] and res.exit_code == 0, errors
    assert {u["status"] for u in report["units"]} == {"已繳"}
    assert not (tmp_path / "fb").exists() or list((tmp_path / "fb").iterdir()) == []
    blamed = [i for i in report["issues"] if i["unit"] and i["code"] != "superseded"]
    assert blamed == [], blamed


def test_the_changes_sheet_is_complete(cycle, tmp_path):
    _, new_path, inbox = cycle
    _, report = merge(new_path, inbox, tmp_path)
    got = {(c["item"], c["field"], c["old"], c["new"], tuple(c["units"])) for c in report["plan_changes"]}
    assert got == {
        ("A01", "配分", "20.25", "15.25", ("甲組", "丙組")),
        ("A02", "配分", "20.25", "25.25", ("北區服務站", "南區服務站")),
        ("A03", "具體作法", "開放 12 個資料集", NEW_PRACTICE, ("資訊中心",)),
        ("B03", "（新增項目）", "", "導入行動支付 3 處", ("甲組", "丙組")),
        ("B01", "（刪除項目）", "已不在計畫中", "", ("甲組", "丙組")),
    }
    ws = openpyxl.load_workbook(tmp_path / "master.xlsx")["計畫修訂"]
    rows = {(r[1], r[2]) for r in ws.iter_rows(min_row=2, values_only=True)}
    assert {(c[0], c[1]) for c in got} == rows


def test_scores_under_revised_points_follow_the_rule_until_a_review(cycle, tmp_path):
    _, new_path, inbox = cycle
    _, report = merge(new_path, inbox, tmp_path)
    items = {i["id"]: i for i in report["items"]}
    # 甲組 gave 18 of the 20.25 it saw: capped at the new 15.25; 乙組 and 丙組 as given.
    assert items["A01"]["unit_scores"] == {"甲組": 15.25, "乙組": 14, "丙組": 12}
    assert items["A01"]["capped_units"] == {"甲組": 18}
    assert items["A01"]["self_score"] == round((15.25 + 14 + 12) / 3, 2)
    assert any(i["code"] == "revised-points" and "A01" in i["message"] for i in report["issues"])
    assert items["B03"]["unreported_new"] == ["甲組", "丙組"]
    assert items["B03"]["unit_scores"] == {"甲組": 0, "乙組": 10, "丙組": 0}
    assert "B01" not in items
    ws = openpyxl.load_workbook(tmp_path / "master.xlsx")["評分"]
    head = [c.value for c in ws[4]]
    row = next(r for r in range(5, 12) if ws.cell(r, 1).value == "A01")
    cell = ws.cell(row, head.index("甲組") + 1)
    assert cell.value == 15.25 and "18" in cell.comment.text
    detail = openpyxl.load_workbook(tmp_path / "master.xlsx")["明細"]
    kept = [r for r in detail.iter_rows(min_row=2, values_only=True) if r[1] == "B01"]
    assert {r[0] for r in kept} == {"甲組", "丙組"} and all("removed-item" in r[-1] for r in kept)
    assert all(r[6] == 10 for r in kept)  # what the units wrote is kept
    # The secretariat settles A01 with a 複評: the warning goes.
    wb = openpyxl.load_workbook(tmp_path / "master.xlsx")
    wb["評分"].cell(row, head.index("複評") + 1).value = 15
    wb.save(tmp_path / "master.xlsx")
    _, report = merge(new_path, inbox, tmp_path)
    assert not any(i["code"] == "revised-points" for i in report["issues"])
    assert {i["id"]: i for i in report["items"]}["A01"]["adopted"] == 15


def test_an_edit_by_a_unit_is_still_caught(cycle, tmp_path):
    _, new_path, inbox = cycle
    path = inbox / "112_數位轉型推動_丙組.xlsx"
    wb = openpyxl.load_workbook(path)
    wb[F.FORM_SHEET].cell(F.FIRST_ITEM_ROW + 1, 4).value = "我們改寫的執行方法"
    wb.save(path)
    _, report = merge(new_path, inbox, tmp_path)
    edits = [i for i in report["issues"] if i["code"] == "locked-cell-edited" and i["unit"] == "丙組"]
    assert edits and edits[0]["severity"] == "錯誤" and edits[0]["field"] == "執行方法"


def test_prefilled_templates_carry_each_units_values_into_the_new_layout(cycle, tmp_path):
    _, new_path, inbox = cycle
    out = tmp_path / "prefilled"
    res = CliRunner().invoke(cli, ["template", str(new_path), "-o", str(out), "--from-returns",
                                   str(inbox), "--format", "both"])
    assert res.exit_code == 0, res.output
    new = load_plan(new_path)
    for fmt in ("xlsx", "ods"):
        path = out / template_filename(new, "甲組", fmt)
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(F.FORM_SHEET).to_python(
            skip_empty_area=False)
        body = {r[0]: r for r in rows[F.FIRST_ITEM_ROW:] if r and r[0]}
        assert list(body) == ["A01", "B02", "B03"]  # the revised layout: B01 gone, B03 new
        col = {c.name: i for i, c in enumerate(F.COLUMNS)}
        assert body["A01"][col["執行績效與成果"]] == "甲組辦理A01"
        assert body["A01"][col["自評分數"]] == 18  # carried as given; the note asks to rescore
        assert body["B02"][col["執行狀態"]] == "完成" and body["B02"][col["實際值"]] == 2
        assert body["B03"][col["執行績效與成果"]] in ("", None)  # new: for the unit to fill in
    wb = openpyxl.load_workbook(out / template_filename(new, "甲組", "xlsx"))
    form = wb[F.FORM_SHEET]
    notes = {form.cell(r, 1).value: (form.cell(r, 1).comment.text if form.cell(r, 1).comment else "")
             for r in range(F.FIRST_ITEM_ROW + 1, F.FIRST_ITEM_ROW + 4)}
    assert "新增" in notes["B03"] and "配分" in notes["A01"] and notes["B02"] == ""
    guide = " ".join(str(c.value) for row in wb[F.GUIDE_SHEET].iter_rows() for c in row if c.value)
    assert "預填" in guide and "B03" in guide
    for unit in [u.name for u in new.units]:  # every unit got its file
        assert (out / template_filename(new, unit, "xlsx")).exists()


def test_a_unit_without_a_usable_return_gets_a_blank_template(cycle, tmp_path):
    _, new_path, inbox = cycle
    (inbox / "112_數位轉型推動_丙組.xlsx").write_bytes(b"not a workbook")
    out = tmp_path / "prefilled"
    res = CliRunner().invoke(cli, ["template", str(new_path), "-o", str(out), "--from-returns",
                                   str(inbox), "--unit", "丙組"])
    assert res.exit_code == 0 and "丙組" in res.output and "空白" in res.output
    ws = openpyxl.load_workbook(out / "112_數位轉型推動_丙組.xlsx")[F.FORM_SHEET]
    assert all(ws.cell(r, 12).value is None for r in range(F.FIRST_ITEM_ROW + 1, ws.max_row + 1))


def test_check_against_the_old_plan_lists_the_same_changes(cycle, tmp_path):
    old_path, new_path, _ = cycle
    res = CliRunner().invoke(cli, ["check", str(new_path), "--against", str(old_path)])
    assert res.exit_code == 0, res.output
    assert "5 處修訂" in res.output and "（新增項目）" in res.output and "B01" in res.output
    res = CliRunner().invoke(cli, ["check", str(new_path), "--against", str(old_path), "--json"])
    changes = json.loads(res.output)["plan_changes"]
    assert {(c["item"], c["field"]) for c in changes} == {
        ("A01", "配分"), ("A02", "配分"), ("A03", "具體作法"), ("B03", "（新增項目）"),
        ("B01", "（刪除項目）")}


def test_the_worked_example_revised_by_a_follow_up_letter(tmp_path):
    """The 109 plan: a wording fix, 4 points moved from 1-1-1 to 1-1-2, and an item
    replaced; the committed returns were made from the first version."""
    wb = openpyxl.load_workbook(EXAMPLE_PLAN)
    items = wb["項目"]
    rows = {items.cell(r, 1).value: r for r in range(2, items.max_row + 1)}
    items.cell(rows["1-1-1"], 9).value = 5
    items.cell(rows["1-1-2"], 9).value = 13
    items.cell(rows["1-2-1-1"], 6).value = str(items.cell(rows["1-2-1-1"], 6).value) + "（修正）"
    last = rows[max(rows, key=lambda k: rows[k])]
    gone = items.cell(last, 1).value
    items.cell(last, 1).value = "5-9-9"  # the last item is replaced by a new one
    revised = tmp_path / "plan_revised.xlsx"
    wb.save(revised)
    res, report = merge(revised, ROOT / "examples" / "kaohsiung-109" / "returns", tmp_path,
                        "--feedback", tmp_path / "fb")
    assert [i for i in report["issues"] if i["severity"] == "錯誤"] == []
    assert res.exit_code == 0 and not (tmp_path / "fb").exists()
    fields = {(c["item"], c["field"]) for c in report["plan_changes"]}
    assert {("1-1-1", "配分"), ("1-1-2", "配分"), ("1-2-1-1", "具體作法"), ("5-9-9", "（新增項目）"),
            (gone, "（刪除項目）")} <= fields
    capped = {i["id"]: i["capped_units"] for i in report["items"]}["1-1-1"]
    assert capped and all(v > 5 for v in capped.values())
