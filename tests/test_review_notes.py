"""複評說明: a column beside 複評 on 評分, carried over by a re-merge as the 複評 is,
shown in the report, and asked for (a warning) where a 複評 differs from the 自評
by more than the plan's 複評說明門檻 (default 0: any difference)."""
import json
import shutil
import subprocess

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from plans import second_plan, write_plan
from returns import Kit

from xltool.cli import cli
from xltool.plan import load_plan

NOTE = "依佐證資料，\n場次未達目標，酌減"


def merge(kit, master, *extra):
    return CliRunner().invoke(cli, ["merge", str(kit.plan.source), str(kit.inbox), "-o", str(master),
                                    "--report", str(master.with_suffix(".json")), *map(str, extra)])


def columns(master):
    """評分's columns by header (the header row is the 4th), and its rows by 編號."""
    ws = openpyxl.load_workbook(master)["評分"]
    head = {c.value: c.column for c in ws[4] if c.value}
    rows = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}
    return ws, head, rows


def type_in(master, values: dict[tuple[str, str], object], edit=None):
    """Type into 評分 as a person would in Excel: {(編號, header): value}; then ``edit(ws)``."""
    wb = openpyxl.load_workbook(master)
    ws = wb["評分"]
    head = {c.value: c.column for c in ws[4] if c.value}
    rows = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}
    for (item, header), value in values.items():
        ws.cell(rows[item], head[header]).value = value
    if edit:
        edit(ws)
    wb.save(master)


def kit_for(tmp_path, margin=None):
    data = second_plan()
    if margin is not None:
        data["計畫"].append(["複評說明門檻", margin])
    kit = Kit(tmp_path, write_plan(tmp_path / "plan2.xlsx", data))
    for unit in kit.plan.units:
        kit.ret(unit.name)  # every item's 自評 is 10
    return kit


def note_warnings(master):
    report = json.loads(master.with_suffix(".json").read_text(encoding="utf-8"))
    return {i["cell"]: i for i in report["issues"] if i["code"] == "review-note-missing"}, report


def test_the_note_sits_beside_the_review_and_survives_a_re_merge(tmp_path):
    kit = kit_for(tmp_path)
    master = tmp_path / "總表.xlsx"
    assert merge(kit, master).exit_code == 0
    ws, head, rows = columns(master)
    assert head["複評說明"] == head["複評"] + 1 and head["採計分數"] == head["複評"] + 2
    assert not ws.cell(rows["A01"], head["複評說明"]).protection.locked
    type_in(master, {("A01", "複評"): 8, ("A01", "複評說明"): NOTE, ("A02", "複評"): 12})

    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    ws, head, rows = columns(master)
    assert ws.cell(rows["A01"], head["複評說明"]).value == NOTE
    assert ws.cell(rows["A01"], head["複評"]).value == 8
    # 採計分數 still refers to 複評 and 自評 by their new places.
    assert ws.cell(rows["A02"], head["採計分數"]).value.startswith("=IF(ISNUMBER(")
    warned, report = note_warnings(master)
    items = {i["id"]: i for i in report["items"]}
    assert items["A01"]["review_note"] == NOTE and items["A02"]["review_note"] is None
    assert items["A01"]["adopted"] == 8
    # A02's 複評 12 differs from its 自評 10 and has no note: one warning, at its note's cell.
    cell = openpyxl.utils.get_column_letter(head["複評說明"]) + str(rows["A02"])
    assert list(warned) == [cell], warned
    assert warned[cell]["sheet"] == "評分" and "A02" in warned[cell]["message"]
    assert warned[cell]["file"] == "總表.xlsx"  # which workbook to open, as every other issue says
    assert "[警告]" in res.output and "複評說明" in res.output

    # A third merge: the note is still there; the 複評 equal to its 自評 needs none.
    type_in(master, {("A02", "複評"): 10})
    assert merge(kit, master).exit_code == 0
    ws, head, rows = columns(master)
    assert ws.cell(rows["A01"], head["複評說明"]).value == NOTE
    assert note_warnings(master)[0] == {}


def test_the_plan_says_how_far_a_review_may_differ_without_a_note(tmp_path):
    kit = kit_for(tmp_path, margin=2.5)
    assert kit.plan.info.review_note_margin == 2.5
    master = tmp_path / "總表.xlsx"
    assert merge(kit, master).exit_code == 0
    type_in(master, {("A01", "複評"): 7.5, ("A02", "複評"): 7.4, ("A03", "複評"): 13})
    assert merge(kit, master).exit_code == 0
    warned, _ = note_warnings(master)
    _, head, rows = columns(master)
    letter = openpyxl.utils.get_column_letter(head["複評說明"])
    assert sorted(warned) == sorted(f"{letter}{rows[i]}" for i in ("A02", "A03"))
    assert "2.5" in warned[f"{letter}{rows['A03']}"]["message"]


def test_the_margin_is_checked_where_it_is_typed(tmp_path):
    data = second_plan()
    data["計畫"].append(["複評說明門檻", "兩分"])
    path = write_plan(tmp_path / "plan.xlsx", data)
    res = CliRunner().invoke(cli, ["check", str(path)])
    assert res.exit_code == 1
    assert "複評說明門檻" in res.output and "B13" in res.output and "0 以上的數字" in res.output


def test_the_starter_plan_offers_the_margin(tmp_path):
    target = tmp_path / "plan.xlsx"
    assert CliRunner().invoke(cli, ["init", str(target)]).exit_code == 0
    ws = openpyxl.load_workbook(target)["計畫"]
    labels = {ws.cell(r, 1).value: ws.cell(r, 3).value for r in range(2, ws.max_row + 1)}
    assert "複評說明門檻" in labels and "複評說明" in labels["複評說明門檻"]


@pytest.mark.libreoffice
def test_a_note_typed_in_libreoffice_survives_a_re_merge_and_the_report(tmp_path, soffice):
    kit = kit_for(tmp_path)
    master = tmp_path / "總表.xlsx"
    assert merge(kit, master).exit_code == 0
    python = shutil.which("python3", path="/usr/bin") or "python3"
    saved = tmp_path / "lo.xlsx"
    out = subprocess.run([python, str(ROOT / "tests" / "lo_review.py"), str(master), str(saved),
                          str(tmp_path / "lo-profile"), "B01=12.5", "B01@複評說明=提案經評審會議加分"],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    shutil.move(saved, master)
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    ws, head, rows = columns(master)
    assert ws.cell(rows["B01"], head["複評說明"]).value == "提案經評審會議加分"
    assert ws.cell(rows["B01"], head["複評"]).value == 12.5
    assert note_warnings(master)[0] == {}
    # The 執行成果 document still finds 複評 by its header.
    res = CliRunner().invoke(cli, ["report", str(kit.plan.source), str(master), "-o",
                                   str(tmp_path / "成果.html")])
    assert res.exit_code == 0, res.output
    assert load_plan(kit.plan.source).info.review_note_margin == 0
