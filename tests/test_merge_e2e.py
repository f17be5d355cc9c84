"""End to end on a second, non-109 plan: template → filled by hand → merge → master."""
import json
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import openpyxl
import pytest
from click.testing import CliRunner
from python_calamine import CalamineWorkbook
from returns import fill, set_saved

from xltool.cli import cli
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

# What each unit types, as {unit: {編號: {欄名: 值}}}; 丙組 sends nothing.
FILLED = {
    "甲組": {"A01": {"執行狀態": "完成", "實際值": 5, "執行績效與成果": "新增 5 項", "自評分數": 18},
             "B01": {"執行狀態": "完成", "執行績效與成果": "全面線上簽核", "自評分數": 15.5},
             "B02": {"執行狀態": "完成", "執行績效與成果": "提案 2 件", "自評分數": 19}},
    "乙組": {"A01": {"執行狀態": "進行中", "執行績效與成果": "新增 3 項\n另 2 項規劃中", "自評分數": 18.5},
             "B01": {"執行狀態": "免填", "執行績效與成果": "本組無公文業務"},
             "B02": {"執行狀態": "完成", "執行績效與成果": "提案 1 件", "自評分數": 10}},
    "資訊中心": {"A03": {"執行狀態": "完成", "實際值": 12, "執行績效與成果": "開放 12 個",
                     "自評分數": 17},
             "B02": {"執行狀態": "免填", "執行績效與成果": "承辦單位"}},
    "北區服務站": {"A02": {"執行狀態": "完成", "實際值": 8, "執行績效與成果": "平均 8 分鐘",
                      "自評分數": 20.25},
              "B02": {"執行狀態": "完成", "執行績效與成果": "https://example.org 提案", "自評分數": 12.345}},
    "南區服務站": {"A02": {"執行狀態": "完成", "執行績效與成果": "=1+1 平均 9 分鐘", "自評分數": 19},
              "B02": {"執行狀態": "未開始" if False else "進行中", "執行績效與成果": "構想中",
                      "自評分數": 0}},
}


def independent_scores(plan):
    """Scores computed here from FILLED, without xltool's scoring code."""
    def rnd(x):
        return float(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))

    items = {}
    for item in plan.items:
        counted = []
        for unit in item.leads:
            row = FILLED.get(unit, {}).get(item.id)
            if row and row.get("執行狀態") == "免填" and "自評分數" not in row:
                continue
            counted.append(Decimal(str(row.get("自評分數", 0))) if row else Decimal(0))
        items[item.id] = rnd(sum(counted) / len(counted)) if counted else 0.0
    dims = {d.name: rnd(sum(Decimal(str(items[i.id])) for i in plan.items
                            if i.dimension == d.code)) for d in plan.dimensions}
    return items, dims


@pytest.fixture
def merged(second_plan_path, tmp_path):
    plan = load_plan(second_plan_path)
    tpl = tmp_path / "templates"
    write_templates(plan, tpl, generated=datetime(2024, 1, 2))
    inbox = tmp_path / "returns"
    inbox.mkdir()
    for n, (unit, rows) in enumerate(FILLED.items()):
        name = template_filename(plan, unit, "xlsx")
        out = fill(tpl / name, inbox / name, rows,
                   {"填表人": f"{unit}王", "聯絡電話": "03-1234567", "填報日期": date(2024, 1, 10 + n)})
        set_saved(out, datetime(2024, 1, 10 + n, 9, 0))
    master, report = tmp_path / "master.xlsx", tmp_path / "report.json"
    res = CliRunner().invoke(cli, ["merge", str(second_plan_path), str(inbox), "-o", str(master),
                                   "--report", str(report)])
    return plan, res, master, report, inbox


def test_scores_equal_an_independent_computation(merged):
    plan, res, master, report, _ = merged
    assert res.exit_code == 1, res.output  # 丙組 sent nothing
    items, dims = independent_scores(plan)
    assert items["A02"] == 19.63  # 19.625: Excel's ROUND, not banker's rounding
    data = json.loads(report.read_text(encoding="utf-8"))
    assert {i["id"]: i["self_score"] for i in data["items"]} == items
    assert {d["name"]: d["score"] for d in data["dimensions"]} == dims
    total = float(sum(Decimal(str(v)) for v in dims.values()))
    assert data["total"] == total
    assert data["grade"] == plan.grade_for(total) == "普通"
    assert data["plan"]["review_month"] == "113.01"

    wb = openpyxl.load_workbook(master, data_only=True)  # cached values
    t2 = wb["附表2"]
    header = [t2.cell(6, c).value for c in range(4, 6)]
    assert header == ["一、便民服務(60.5 分)", "二、數位創新(39.5 分)"]
    assert t2.cell(5, 4).value == "考核項目成績（100 分）"
    assert [t2.cell(7, c).value for c in range(4, 9)] == [
        dims["便民服務"], dims["數位創新"], total, "普通", "113.01"]


def test_master_carries_every_unit_row_and_text_as_strings(merged):
    plan, res, master, _, _ = merged
    wb = CalamineWorkbook.from_path(str(master))
    detail = wb.get_sheet_by_name("明細").to_python()
    head = detail[0]
    rows = [dict(zip(head, r)) for r in detail[1:]]
    assert len(rows) == sum(len(plan.items_for(u.name)) for u in plan.units)
    south = next(r for r in rows if r["單位"] == "南區服務站" and r["編號"] == "A02")
    assert south["執行績效與成果"] == "=1+1 平均 9 分鐘"
    missing = [r for r in rows if r["單位"] == "丙組"]
    assert missing and all(r["檢核"] == "未繳" for r in missing)
    summary = wb.get_sheet_by_name("總表").to_python()
    a01 = next(r for r in summary if "擴充線上申辦項目" in str(r[2]))
    assert a01[5] == "【甲組】新增 5 項\n【乙組】新增 3 項\n另 2 項規劃中"
    assert a01[6] == "2/3" and a01[7] == "丙組"
    status = wb.get_sheet_by_name("繳交狀態").to_python()
    assert status[1][:2] == ["丙組", "未繳"]  # missing units on top
    assert {r[0]: r[1] for r in status[1:]}["甲組"] == "已繳"
    # Text that looks like a formula or a link stays text: no <f>, no hyperlink.
    import zipfile
    with zipfile.ZipFile(master) as zf:
        for name in zf.namelist():
            if name.startswith("xl/worksheets/sheet"):
                xml = zf.read(name).decode("utf-8")
                assert "1+1" not in "".join(xml.split("<f>")[1:]), name
                assert "<hyperlink" not in xml


def test_not_applicable_and_missing_units_in_the_score_sheet(merged):
    plan, res, master, _, _ = merged
    ws = openpyxl.load_workbook(master, data_only=True)["評分"]
    head = [c.value for c in ws[4]]
    row = {ws.cell(r, 1).value: r for r in range(5, 10)}
    b01 = {h: ws.cell(row["B01"], c + 1).value for c, h in enumerate(head)}
    assert b01["甲組"] == 15.5 and b01["乙組"] == "免填" and b01["丙組"] == 0
    assert b01["資訊中心"] is None  # not a lead unit
    assert b01["自評"] == 7.75 and b01["採計分數"] == 7.75 and b01["複評"] is None


def test_status_command_lists_every_unit_without_writing(merged, tmp_path):
    plan, _, _, _, inbox = merged
    before = sorted(p.name for p in tmp_path.rglob("*"))
    res = CliRunner().invoke(cli, ["status", str(plan.source), str(inbox)])
    assert res.exit_code == 1
    lines = res.output.splitlines()
    assert "丙組" in lines[1] and "未繳" in lines[1]
    assert any("甲組" in line and "已繳" in line for line in lines)
    assert sorted(p.name for p in tmp_path.rglob("*")) == before


def test_merge_twice_is_byte_identical(merged, tmp_path):
    plan, _, master, report, inbox = merged
    again, again_report = tmp_path / "again" / "master.xlsx", tmp_path / "again" / "r.json"
    CliRunner().invoke(cli, ["merge", str(plan.source), str(inbox), "-o", str(again),
                             "--report", str(again_report)])
    assert again.read_bytes() == master.read_bytes()
    assert again_report.read_bytes() == report.read_bytes()
