"""Plan texts inside formulas: a grade or 構面 code with a quote, a wildcard or an
operator in it gives the figures xltool cached, once LibreOffice recomputes them,
in the master and in the roll-up alike."""
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

# 優* (a COUNTIF wildcard), 普"通 (ends a string literal unless doubled), =差 (an operator)
GRADES = [["等第", "最低分"], ["優*", 45], ['普"通', 20], ["=差", 0]]
BRANCHES = {"甲分局": 10, "乙分局": 5, "丙分局": 1}  # every 自評 of the branch


def lo_values(book, profile):
    python = shutil.which("python3", path="/usr/bin") or "python3"
    out = subprocess.run([python, str(ROOT / "tests" / "lo_recalc.py"), str(book), str(profile)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def assert_libreoffice_agrees(book, profile):
    computed = lo_values(book, profile)
    cached = openpyxl.load_workbook(book, data_only=True)
    assert computed
    for key, value in computed.items():
        sheet, pos = key.split("!")
        r, c = map(int, pos.split(","))
        mine = cached[sheet].cell(r + 1, c + 1).value
        if isinstance(value, str) or isinstance(mine, str):
            assert value == (mine or ""), (book.name, key)
        else:
            assert value == pytest.approx(float(mine or 0)), (book.name, key)


@pytest.fixture
def masters(tmp_path):
    found = []
    for agency, score in BRANCHES.items():
        plan = second_plan()
        plan["計畫"][2][1] = agency
        plan["等第"] = GRADES
        folder = tmp_path / agency
        folder.mkdir()
        path = write_plan(folder / "plan.xlsx", plan)
        kit = Kit(folder, path)
        for unit in kit.plan.units:
            items = kit.plan.items_for(unit.name)
            if items:
                kit.ret(unit.name, {i.id: {"自評分數": score} for i in items})
        master = tmp_path / f"{agency}.xlsx"
        res = CliRunner().invoke(cli, ["merge", str(path), str(kit.inbox), "-o", str(master)])
        assert res.exit_code in (0, 1), res.output
        found.append(master)
    return found


def test_grade_texts_in_formulas_are_literals(masters, soffice, tmp_path):
    rollup = tmp_path / "附表2.xlsx"
    res = CliRunner().invoke(cli, ["rollup", *map(str, masters), "-o", str(rollup)])
    assert res.exit_code in (0, 1), res.output
    grades = {openpyxl.load_workbook(m, data_only=True)["附表2"]["G7"].value for m in masters}
    assert grades == {"優*", '普"通', "=差"}, "each branch in a band of its own"
    stats = openpyxl.load_workbook(rollup, data_only=True)["統計"]
    counts = {row[0].value: row[2].value for row in stats.iter_rows() if row[0].value in grades}
    assert counts == {g: 1 for g in grades}
    for book in [*masters, rollup]:
        assert_libreoffice_agrees(book, tmp_path / "profile")
