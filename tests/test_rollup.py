"""`xltool rollup MASTER... -o OUTPUT`: the branches' masters into one 附表2.

Three branch plans of one scheme (the second plan's 構面 and points, year and
period) but with their own agencies, units and items are merged; then one master
gets a 複評 typed in LibreOffice Calc, another one typed with openpyxl (which
drops every cached value), and the roll-up's rows are checked against the scores
computed here from what the returns hold. Also: a master of another scheme, a
tampered master, a duplicate branch, a roster with a branch missing, the .odt
valid ODF, and the workbook's formulas, statistics, chart, issues and print setup.
"""
from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_PLAN, ROOT
from odfcheck import validate
from plans import second_plan, write_plan
from python_calamine import CalamineWorkbook
from returns import Kit

from xltool.cli import cli

SCORE = "自評分數"
# Three branches of one scheme: 構面 A 60.5 and B 39.5, 112, 1-12月.
BRANCHES = {
    "新竹縣政府竹北所": {"drop_units": [], "items": None},
    "新竹縣政府竹東所": {"drop_units": ["丙組", "南區服務站"], "items": None},
    "新竹縣政府湖口所": {"drop_units": ["北區服務站"], "items": "no-A03"},
}


def branch_plan(agency: str, spec: dict) -> dict:
    sheets = second_plan()
    info = sheets["計畫"]
    for row in info:
        if row[0] == "計畫名稱":
            row[1] = f"{agency} 112 年度數位轉型推動計畫"
        elif row[0] == "機關名稱":
            row[1] = agency
    sheets["單位"] = [r for r in sheets["單位"] if r[0] not in spec["drop_units"]]
    items = sheets["項目"]
    if "丙組" in spec["drop_units"]:
        items[1][4] = "甲組至乙組"
    if "南區服務站" in spec["drop_units"]:
        items[2][4] = "北區服務站"
    if "北區服務站" in spec["drop_units"]:
        items[2][4] = "南區服務站"
    if spec["items"] == "no-A03":  # one item fewer; its points go to A01
        items[:] = [r for r in items if r[0] != "A03"]
        items[1][8] = 40.25
    return sheets


def scores_for(plan, unit_index: int, item_index: int) -> float:
    """The score a unit gives itself: varied, within the item's points."""
    item = plan.items[item_index]
    return min(item.points, float(3 + (unit_index * 7 + item_index * 3) % 15))


def round2(x: float) -> float:
    return float(Decimal(str(x)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


@pytest.fixture(scope="module")
def branches(tmp_path_factory):
    """Each branch: its plan, the master merged from its returns, and the scores put in."""
    from xltool.master.run import run_merge

    out = {}
    for n, (agency, spec) in enumerate(BRANCHES.items()):
        root = tmp_path_factory.mktemp(f"branch{n}")
        plan_path = write_plan(root / "plan.xlsx", branch_plan(agency, spec))
        kit = Kit(root, plan_path)
        typed: dict[tuple[str, str], float] = {}
        skip = "資訊中心" if n == 0 else None  # one unit of the first branch does not return
        for u, unit in enumerate(kit.plan.units):
            if unit.name == skip:
                continue
            rows = {}
            for item in kit.plan.items_for(unit.name):
                value = scores_for(kit.plan, u, kit.plan.items.index(item))
                typed[(unit.name, item.id)] = value
                rows[item.id] = {SCORE: value}
            kit.ret(unit.name, rows)
        master = root / "master.xlsx"
        run_merge(kit.plan, [kit.inbox], master)
        out[agency] = {"plan": kit.plan, "master": master, "typed": typed}
    return out


def expected_row(branch: dict, reviews: dict[str, float] | None = None) -> list[float]:
    """The branch's 構面 scores and total, computed here from the scores typed into its returns."""
    plan, typed, reviews = branch["plan"], branch["typed"], reviews or {}
    dims = []
    for dim in plan.dimensions:
        total = 0.0
        for item in (i for i in plan.items if i.dimension == dim.code):
            mean = round2(sum(typed.get((u, item.id), 0.0) for u in item.leads) / len(item.leads))
            total += reviews.get(item.id, mean)
        dims.append(round2(total))
    return dims + [round2(sum(dims))]


def grade(total: float) -> str:
    return "特優" if total >= 95 else "優良" if total >= 85 else "普通"


def run(*args) -> object:
    return CliRunner().invoke(cli, ["rollup", *map(str, args)])


def table2_rows(path: Path) -> list[list]:
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("附表2").to_python()
    return [r for r in rows[6:] if r and r[1] not in ("", None)]


def type_review_openpyxl(master: Path, target: Path, reviews: dict[str, float]) -> Path:
    wb = openpyxl.load_workbook(master)
    ws = wb["評分"]
    head = {c.value: c.column for c in ws[4]}
    for r in range(5, ws.max_row + 1):
        if ws.cell(r, 1).value in reviews:
            ws.cell(r, head["複評"]).value = reviews[ws.cell(r, 1).value]
    wb.save(target)
    return target


@pytest.fixture(scope="module")
def reviewed(branches, tmp_path_factory):
    """Branch 1 reviewed in LibreOffice Calc, branch 2 with openpyxl (no cached values)."""
    tmp = tmp_path_factory.mktemp("reviewed")
    names = list(BRANCHES)
    python = shutil.which("python3", path="/usr/bin") or "python3"
    lo = tmp / "竹東-lo.xlsx"
    if shutil.which("soffice"):
        proc = subprocess.run([python, str(ROOT / "tests" / "lo_review.py"), str(branches[names[1]]["master"]),
                               str(lo), str(tmp / "profile"), "A01=1.5"], capture_output=True, text=True, timeout=240)
        assert proc.returncode == 0, proc.stderr
        lo_reviews = {"A01": 1.5}
    else:
        shutil.copyfile(branches[names[1]]["master"], lo)
        lo_reviews = {}
    op = type_review_openpyxl(branches[names[2]]["master"], tmp / "湖口-openpyxl.xlsx", {"B02": 19})
    assert openpyxl.load_workbook(op, data_only=True)["附表2"]["D7"].value is None  # no cached values left
    return {names[0]: (branches[names[0]]["master"], {}), names[1]: (lo, lo_reviews), names[2]: (op, {"B02": 19})}


def test_every_row_matches_an_independent_computation(branches, reviewed, tmp_path):
    if not shutil.which("soffice"):
        pytest.skip("LibreOffice (soffice) is not installed")
    masters = [m for m, _ in reviewed.values()]
    out = tmp_path / "附表2.xlsx"
    res = run(*masters, "-o", out, "-o", tmp_path / "附表2.odt", "--report", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    rows = table2_rows(out)
    assert [r[2] for r in rows] == sorted(BRANCHES)  # by name without a roster
    for r in rows:
        master, reviews = reviewed[r[2]]
        want = expected_row(branches[r[2]], reviews)
        assert [float(v) for v in r[3:6]] == want, r[2]
        assert r[0] == r[2] and r[6] == grade(want[-1]) and r[7] == "113.01"
    assert [r[1] for r in rows] == [1, 2, 3]
    assert reviewed["新竹縣政府竹東所"][1], "the LibreOffice review took effect"
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [row["status"] for row in report["rows"]] == ["counted"] * 3
    assert validate([tmp_path / "附表2.odt"]) == []


def test_the_workbook_has_formulas_statistics_chart_issues_and_prints_on_a4_landscape(branches, tmp_path):
    masters = [b["master"] for b in branches.values()]
    out = tmp_path / "附表2.xlsx"
    res = run(*masters, "-o", out)
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(out)
    assert wb.sheetnames == ["附表2", "統計", "來源", "檢核結果"]
    issues = [[c.value for c in row] for row in wb["檢核結果"].iter_rows(min_row=2)]
    assert issues == [["沒有發現任何錯誤或警告。", *[None] * 10]]  # said, not a bare header
    ws = wb["附表2"]
    assert ws["A1"].value == "新竹縣政府 112 年度數位轉型推動自行考核結果統計表"
    assert [ws.cell(5, c).value for c in (1, 2, 3, 4, 6, 7, 8)] == [
        "實施考核機關", "編號", "受考核單位名稱", "考核項目成績（100 分）", "總分", "等第", "考核年月"]
    assert ws["D6"].value == "一、便民服務(60.5 分)" and ws["E6"].value == "二、數位創新(39.5 分)"
    assert ws["F7"].value == "=ROUND(SUM(D7:E7),2)" and ws["G7"].value.startswith("=IF(F7>=95")
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    assert ws.print_title_rows == "$5:$6"
    rows = table2_rows(out)
    totals = [float(r[5]) for r in rows]
    want = {b: expected_row(branches[b]) for b in BRANCHES}
    assert totals == [want[r[2]][-1] for r in rows]
    stats = CalamineWorkbook.from_path(str(out)).get_sheet_by_name("統計").to_python()
    by_label = {r[0]: r for r in stats if r and r[0]}
    column = [want[b][0] for b in BRANCHES]
    assert [float(v) for v in by_label["一、便民服務(60.5 分)"][2:5]] == [
        round2(sum(column) / 3), max(column), min(column)]
    total_column = [want[b][-1] for b in BRANCHES]
    assert float(by_label["總分"][3]) == max(total_column) and float(by_label["總分"][4]) == min(total_column)
    counts = {g: sum(1 for t in total_column if grade(t) == g) for g in ("特優", "優良", "普通")}
    assert {g: int(by_label[g][2]) for g in counts} == counts
    assert wb["統計"]["C" + str(_row_of(wb["統計"], "特優"))].value.startswith("=SUMPRODUCT(--EXACT(")
    with zipfile.ZipFile(out) as zf:
        assert any(n.startswith("xl/charts/chart") for n in zf.namelist())


def _row_of(ws, label: str) -> int:
    return next(c.row for c in ws["A"] if c.value == label)


def test_a_master_of_another_scheme_is_refused(branches, tmp_path):
    from xltool.master.run import run_merge
    from xltool.plan import load_plan

    other = tmp_path / "高雄.xlsx"
    run_merge(load_plan(EXAMPLE_PLAN), [ROOT / "examples" / "kaohsiung-109" / "returns"], other)
    masters = [b["master"] for b in branches.values()]
    res = run(*masters, other, "-o", tmp_path / "out.xlsx", "--report", tmp_path / "r.json")
    assert res.exit_code == 1
    assert "高雄.xlsx" in res.output and "考核架構" in res.output and "不採計" in res.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [i["code"] for i in report["issues"]] == ["other-scheme"]
    assert len(report["rows"]) == 3


def _edit(master: Path, target: Path, sheet: str, header: str, row_key: str, value, header_row: int) -> Path:
    wb = openpyxl.load_workbook(master)
    ws = wb[sheet]
    head = {c.value: c.column for c in ws[header_row]}
    for r in range(header_row + 1, ws.max_row + 1):
        if row_key in (ws.cell(r, 1).value, ws.cell(r, 2).value):
            ws.cell(r, head[header]).value = value
            break
    wb.save(target)
    return target


def test_a_tampered_master_is_flagged_and_left_out(branches, tmp_path):
    names = list(BRANCHES)
    first = branches[names[0]]["master"]
    score = next(h for h in openpyxl.load_workbook(first)["明細"][1] if str(h.value).startswith(SCORE)).value
    edited = _edit(first, tmp_path / "竹北-改.xlsx", "明細", score, "A01", 60, 1)
    points = _edit(branches[names[1]]["master"], tmp_path / "竹東-配分.xlsx", "評分", "配分", "A01", 30, 4)
    res = run(edited, points, branches[names[2]]["master"], "-o", tmp_path / "out.xlsx",
              "--report", tmp_path / "r.json")
    assert res.exit_code == 1
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    issues = {i["file"]: i for i in report["issues"]}
    assert issues["竹北-改.xlsx"]["code"] == "master-tampered" and "A01" in issues["竹北-改.xlsx"]["message"]
    assert issues["竹東-配分.xlsx"]["code"] == "master-tampered" and "配分" in issues["竹東-配分.xlsx"]["message"]
    assert [r["unit"] for r in report["rows"]] == [names[2]]


def test_an_edited_identity_is_flagged(branches, tmp_path):
    from xltool.master.sheets.identity import IDENTITY_SHEET

    master = branches[list(BRANCHES)[0]]["master"]
    wb = openpyxl.load_workbook(master)
    ws = wb[IDENTITY_SHEET]
    row = next(r for r in ws.iter_rows() if r[0].value == "項目")
    row[3].value = "30"  # the item's points, as if the plan said so
    wb.save(tmp_path / "識別.xlsx")
    res = run(tmp_path / "識別.xlsx", "-o", tmp_path / "out.html")
    assert res.exit_code == 1 and "識別資料" in res.output and "摘要碼" in res.output


def test_a_duplicate_branch_uses_the_later_master(branches, tmp_path):
    name = list(BRANCHES)[0]
    master = branches[name]["master"]
    later = type_review_openpyxl(master, tmp_path / "竹北-複評.xlsx", {"A01": 2})  # openpyxl stamps it now
    res = run(later, master, "-o", tmp_path / "out.xlsx", "--report", tmp_path / "r.json")
    assert res.exit_code == 0, res.output
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [(r["unit"], r["file"]) for r in report["rows"]] == [(name, "竹北-複評.xlsx")]
    assert report["rows"][0]["total"] == expected_row(branches[name], {"A01": 2})[-1]
    dup = [i for i in report["issues"] if i["code"] == "duplicate-branch"]
    assert len(dup) == 1 and dup[0]["file"] == master.name and dup[0]["level"] == "warning"


def test_a_roster_orders_rows_lists_the_missing_and_sets_the_bands(branches, tmp_path):
    import xlsxwriter

    roster = tmp_path / "名冊.xlsx"
    wb = xlsxwriter.Workbook(str(roster))
    ws = wb.add_worksheet("名冊")
    for r, name in enumerate(["受考核單位名稱", "湖口所", "新竹縣政府新埔所", "竹北所", "新竹縣政府竹東所"]):
        ws.write_string(r, 0, name)
    bands = wb.add_worksheet("等第")
    for r, row in enumerate([["等第", "最低分"], ["甲", 60], ["乙", 0]]):
        for c, v in enumerate(row):
            (bands.write_number if isinstance(v, int) else bands.write_string)(r, c, v)
    wb.close()
    masters = [b["master"] for b in branches.values()]
    out = tmp_path / "out.xlsx"
    res = run(*masters, "--roster", roster, "-o", out, "--report", tmp_path / "r.json")
    assert res.exit_code == 1 and "新竹縣政府新埔所" in res.output
    rows = table2_rows(out)
    assert [(r[1], r[2]) for r in rows] == [(1, "湖口所"), (2, "新竹縣政府新埔所"), (3, "竹北所"),
                                             (4, "新竹縣政府竹東所")]
    assert rows[1][6] == "未繳" and rows[1][5] in ("", None)
    want = {b: expected_row(branches[b]) for b in BRANCHES}
    assert rows[0][6] == ("甲" if want["新竹縣政府湖口所"][-1] >= 60 else "乙")
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert [i["code"] for i in report["issues"]] == ["missing-branch"]
    assert report["bands"] == [{"grade": "甲", "minimum": 60}, {"grade": "乙", "minimum": 0}]
    assert report["rows"][1]["status"] == "missing"


def test_a_file_that_is_no_master_is_an_issue_and_the_others_still_roll_up(branches, tmp_path):
    stray = tmp_path / "其他.xlsx"
    write_plan(stray, second_plan())
    res = run(stray, branches[list(BRANCHES)[0]]["master"], "-o", tmp_path / "out.docx")
    assert res.exit_code == 1 and "其他.xlsx" in res.output and "不是 xltool merge 產生的總表" in res.output
    assert (tmp_path / "out.docx").exists()
