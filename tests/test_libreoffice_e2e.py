"""The whole cycle in real LibreOffice: every unit fills its template in Calc, saves it
as .xlsx or .ods, and the merge carries exactly what was typed."""
import json
import subprocess
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal

import lo_run
import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT

from xltool.cells import a1
from xltool.cli import cli
from xltool.forms import fields as F
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

pytestmark = pytest.mark.libreoffice
EXAMPLE = ROOT / "examples" / "kaohsiung-109"
COLS = {c.name: i for i, c in enumerate(F.COLUMNS)}
LABELS = dict(zip((f.name for f in F.FORM_FIELDS), F.FORM_LABEL_COLS))
PASTER = "第三課"  # pastes an invalid status over the validation
TYPED_DATE = date(2020, 7, 5)


@pytest.fixture(scope="module")
def uno_python(soffice):
    return lo_run.uno_python()


def typed(plan):
    """What each unit types: {unit: {item id: {column: value}}}, plus the header."""
    statuses = [s for s in plan.lists["執行狀態"] if s != plan.info.not_applicable]
    out = {}
    for u, unit in enumerate(plan.units):
        rows = {}
        for n, item in enumerate(plan.items_for(unit.name)):
            if (n + u) % 9 == 4:  # now and then a 不適用 row, with no score
                rows[item.id] = {"執行狀態": plan.info.not_applicable,
                                 "執行績效與成果": f"{unit.name}：本項不適用。"}
                continue
            score = float((Decimal(str(item.points)) * Decimal((n + u) % 5 + 5) / 10)
                          .quantize(Decimal("0.01")))
            rows[item.id] = {
                "執行狀態": statuses[(n + u) % len(statuses)],
                "實際值": n + u + 1,
                "執行績效與成果": f"{unit.name}辦理第 {n + 1} 項：\n(1) 完成「說明會」2 場，"
                                 f"計 {n + 30} 人參加；\n(2) 持續追蹤改善。",
                "自評分數": score,
            }
        out[unit.name] = rows
    return out


def jobs(plan, typed_values, templates, outdir):
    todo = []
    for u, unit in enumerate(plan.units):
        fmt = "ods" if u % 2 else "xlsx"
        cells = [[a1(F.FORM_ROW, LABELS["填表人"] + 1), f"{unit.name}承辦人"],
                 [a1(F.FORM_ROW, LABELS["聯絡電話"] + 1), "07-1234567#21"],
                 [a1(F.FORM_ROW, LABELS["填報日期"] + 1), TYPED_DATE.isoformat()]]
        for n, item in enumerate(plan.items_for(unit.name)):
            r = F.FIRST_ITEM_ROW + n
            for name, value in typed_values[unit.name][item.id].items():
                cells.append([a1(r, COLS[name]), str(value)])
        first = F.FIRST_ITEM_ROW
        todo.append({
            "template": str(templates / template_filename(plan, unit.name, fmt)),
            "output": str(outdir / template_filename(plan, unit.name, fmt)),
            "filter": "calc8" if fmt == "ods" else "Calc MS Excel 2007 XML",
            "type": cells,
            "locked": [a1(first, COLS["具體作法"]), a1(first + 1, COLS["配分"]), "A1",
                       a1(F.HEADER_ROW, COLS["自評分數"])][u % 4],
            "area": [F.FIRST_ITEM_ROW + len(plan.items_for(unit.name)) + 2, len(F.COLUMNS) + 2],
            "paste": [[a1(first, COLS["執行狀態"]), "亂填"]] if unit.name == PASTER else [],
        })
    return todo


@pytest.fixture(scope="module")
def filled(uno_python, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lo-e2e")
    plan = load_plan(EXAMPLE / "plan.xlsx")
    write_templates(plan, tmp / "templates", formats=("xlsx", "ods"),
                    generated=datetime(2020, 6, 20))
    values = typed(plan)
    (tmp / "returns").mkdir()
    spec = tmp / "jobs.json"
    spec.write_text(json.dumps(jobs(plan, values, tmp / "templates", tmp / "returns"),
                               ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([uno_python, str(ROOT / "tests" / "lo_fill.py"), str(spec),
                           str(tmp / "profile")], capture_output=True, text=True, timeout=900,
                          cwd=ROOT / "tests")
    assert proc.returncode == 0, proc.stderr
    results = dict(zip((u.name for u in plan.units), json.loads(proc.stdout)))
    master, report = tmp / "master.xlsx", tmp / "report.json"
    res = CliRunner().invoke(cli, ["merge", str(EXAMPLE / "plan.xlsx"), str(tmp / "returns"),
                                   "-o", str(master), "--report", str(report)])
    return plan, values, results, res, master, json.loads(report.read_text(encoding="utf-8"))


def test_protection_and_validation_hold_in_calc(filled):
    plan, _, results, *_ = filled
    inputs = [i for i, c in enumerate(F.COLUMNS) if c.input]
    for unit, result in results.items():
        assert result["protected"], unit
        assert result["refused"], unit  # typing into a locked cell changed nothing
        n = len(plan.items_for(unit))
        expected = {(F.FIRST_ITEM_ROW + k, c) for k in range(n) for c in inputs}
        expected |= {(F.FORM_ROW, c + 1) for c in F.FORM_LABEL_COLS}
        assert {tuple(x) for x in result["unlocked"]} == expected, unit
        expected = [a1(F.FIRST_ITEM_ROW, COLS["執行狀態"])] if unit == PASTER else []
        assert result["invalid"] == expected, unit  # everything typed passed Calc's validation


def test_both_formats_were_saved(filled):
    plan, *_, report = filled
    files = {u["unit"]: u["file"] for u in report["units"]}
    assert sum(f.endswith(".ods") for f in files.values()) == 6
    assert sum(f.endswith(".xlsx") for f in files.values()) == 6


def test_the_paste_is_flagged_with_its_cell(filled):
    plan, values, results, res, master, report = filled
    assert res.exit_code == 1, res.output
    errors = [i for i in report["issues"] if i["severity"] == "錯誤"]
    assert [(i["code"], i["unit"], i["sheet"], i["cell"], i["value"]) for i in errors] == [
        ("not-in-list", PASTER, "填報表", a1(F.FIRST_ITEM_ROW, COLS["執行狀態"]), "亂填")]


def test_master_carries_exactly_what_was_typed(filled):
    plan, values, results, res, master, report = filled
    ws = openpyxl.load_workbook(master)["明細"]
    head = [c.value for c in ws[1]]
    seen = 0
    for row in ws.iter_rows(min_row=2, values_only=True):
        rec = dict(zip(head, row))
        want = values[rec["單位"]][rec["編號"]]
        for name in ("執行狀態", "實際值", "執行績效與成果", "自評分數"):
            if rec["單位"] == PASTER and name == "執行狀態" and rec["編號"] == \
                    plan.items_for(PASTER)[0].id:
                assert rec[name] is None  # the pasted value is not in the list
                continue
            assert rec[name] == want.get(name), (rec["單位"], rec["編號"], name)
            if name in ("實際值", "自評分數") and name in want:
                assert isinstance(rec[name], (int, float)), "numbers stay numbers"
        seen += 1
    assert seen == sum(len(plan.items_for(u.name)) for u in plan.units)
    status = openpyxl.load_workbook(master)["繳交狀態"]
    head = [c.value for c in status[1]]
    for row in status.iter_rows(min_row=2, values_only=True):
        rec = dict(zip(head, row))
        assert rec["填報日期"] == datetime.combine(TYPED_DATE, datetime.min.time()), "dates stay dates"
        assert rec["填表人"] == f"{rec['單位']}承辦人"
        assert rec["聯絡電話"] == "07-1234567#21"


def test_scores_equal_an_independent_computation(filled):
    plan, values, results, res, master, report = filled
    expected = {}
    for item in plan.items:
        counted = [Decimal(str(values[u][item.id]["自評分數"])) for u in item.leads
                   if "自評分數" in values[u][item.id]]
        mean = sum(counted) / len(counted) if counted else Decimal(0)
        expected[item.id] = float(mean.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))
    assert {i["id"]: i["self_score"] for i in report["items"]} == expected
    for dim in report["dimensions"]:
        code = next(d.code for d in plan.dimensions if d.name == dim["name"])
        total = sum(Decimal(str(expected[i.id])) for i in plan.items if i.dimension == code)
        assert dim["score"] == float(total)
