"""`xltool rollup` against hostile masters: which of a branch's masters wins must be
the right one and said truly, and nothing the secretariat typed may vanish unsaid.

- a master whose clock said 2099 must not win over the one reviewed today;
- two copies of one master (one file given twice, or copied) are not "the later";
- a 複評 typed as text, which the roll-up cannot count, is said with its cell.
"""
from __future__ import annotations

import json
import shutil
from datetime import datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from plans import second_plan, write_plan
from returns import Kit, set_saved

from xltool.cli import cli

AGENCY = "新竹縣政府竹北所"


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    """One branch's master, merged from every unit's return."""
    from xltool.master.run import run_merge

    root = tmp_path_factory.mktemp("branch")
    sheets = second_plan()
    for row in sheets["計畫"]:
        if row[0] == "機關名稱":
            row[1] = AGENCY
    kit = Kit(root, write_plan(root / "plan.xlsx", sheets))
    for unit in kit.plan.units:
        kit.ret(unit.name)
    out = root / "竹北所.xlsx"
    run_merge(kit.plan, [kit.inbox], out)
    return out


def review(master: Path, target: Path, item: str, value) -> Path:
    """A 複評 typed into 評分 (openpyxl: the file's save time becomes now)."""
    wb = openpyxl.load_workbook(master)
    ws = wb["評分"]
    head = {c.value: c.column for c in ws[4]}
    row = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == item)
    ws.cell(row, head["複評"]).value = value
    wb.save(target)
    return target


def rollup(tmp_path, *masters) -> tuple[object, dict]:
    res = CliRunner().invoke(cli, ["rollup", *map(str, masters), "-o", str(tmp_path / "附表2.xlsx"),
                                   "--report", str(tmp_path / "r.json")])
    assert (tmp_path / "附表2.xlsx").exists(), res.output
    return res, json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))


def test_a_master_saved_with_a_clock_in_the_future_does_not_win(master, tmp_path):
    wrong_clock = tmp_path / "竹北所-時鐘錯.xlsx"
    shutil.copyfile(master, wrong_clock)
    set_saved(wrong_clock, datetime(2099, 1, 1))
    reviewed = review(master, tmp_path / "竹北所-複評.xlsx", "A01", 1.5)
    res, report = rollup(tmp_path, reviewed, wrong_clock)
    (row,) = report["rows"]
    assert row["file"] == reviewed.name, res.output
    warned = [i for i in report["issues"] if i["code"] == "implausible-time"]
    assert [i["file"] for i in warned] == [wrong_clock.name]


def test_copies_of_one_master_are_not_called_the_later_one(master, tmp_path):
    copy = tmp_path / "竹北所 - 複製.xlsx"
    shutil.copyfile(master, copy)
    res, report = rollup(tmp_path, master, master)
    assert not [i for i in report["issues"] if i["code"] == "duplicate-branch"], res.output
    res, report = rollup(tmp_path, master, copy)
    (dup,) = [i for i in report["issues"] if i["code"] == "duplicate-branch"]
    assert "較晚" not in dup["message"] and "存檔時間相同" in dup["message"], dup["message"]


def test_two_masters_saved_at_one_instant_with_other_scores_say_so(master, tmp_path):
    reviewed = review(master, tmp_path / "竹北所-複評.xlsx", "A01", 1.5)
    plain = review(master, tmp_path / "竹北所-原.xlsx", "A01", None)
    same = datetime(2024, 2, 1, 3, 0)
    set_saved(reviewed, same)
    set_saved(plain, same)
    res, report = rollup(tmp_path, reviewed, plain)
    (row,) = report["rows"]
    (dup,) = [i for i in report["issues"] if i["code"] == "duplicate-branch"]
    loser = plain.name if row["file"] == reviewed.name else reviewed.name
    assert dup["file"] == loser and "成績不同" in dup["message"] and "存檔時間相同" in dup["message"], dup["message"]


def test_a_review_typed_as_text_is_said_not_silently_dropped(master, tmp_path):
    typed = review(master, tmp_path / "竹北所-文字複評.xlsx", "A01", "十八")
    res, report = rollup(tmp_path, typed)
    (row,) = report["rows"]
    assert row["status"] == "counted"
    said = [i for i in report["issues"] if i["file"] == typed.name and i["sheet"] == "評分"]
    assert said and said[0]["cell"] and "十八" in said[0]["message"], report["issues"]
    assert "十八" in res.output


def test_a_roster_name_that_fits_two_branches_says_so(master, tmp_path):
    import xlsxwriter

    from xltool.master.run import run_merge

    sheets = second_plan()
    for row in sheets["計畫"]:
        if row[0] == "機關名稱":
            row[1] = "苗栗縣政府竹北所"
    kit = Kit(tmp_path, write_plan(tmp_path / "plan.xlsx", sheets))
    for unit in kit.plan.units:
        kit.ret(unit.name)
    other = tmp_path / "苗栗竹北所.xlsx"
    run_merge(kit.plan, [kit.inbox], other)
    roster = tmp_path / "名冊.xlsx"
    wb = xlsxwriter.Workbook(str(roster))
    ws = wb.add_worksheet("名冊")
    ws.write_column(0, 0, ["受考核單位名稱", "竹北所"])
    wb.close()
    res = CliRunner().invoke(cli, ["rollup", str(master), str(other), "--roster", str(roster),
                                   "-o", str(tmp_path / "附表2.xlsx"), "--report", str(tmp_path / "r.json")])
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    (said,) = [i for i in report["issues"] if i["unit"] == "竹北所"]
    assert AGENCY in said["message"] and "苗栗縣政府竹北所" in said["message"], res.output
    assert "沒有可採計的總表" not in said["message"] and said["file"] == roster.name


def test_an_open_output_is_refused_before_anything_is_written(master, tmp_path):
    (tmp_path / ".~lock.附表2.xlsx#").write_text(",林秘書,pc,01.12.2026 09:00,file:///x;", encoding="utf-8")
    res = CliRunner().invoke(cli, ["rollup", str(master), "-o", str(tmp_path / "附表2.odt"),
                                   "-o", str(tmp_path / "附表2.xlsx")])
    assert res.exit_code == 2, res.output
    assert "LibreOffice" in res.output and "林秘書" in res.output and ".~lock.附表2.xlsx#" in res.output
    assert not (tmp_path / "附表2.odt").exists() and not (tmp_path / "附表2.xlsx").exists()


def test_an_output_that_cannot_be_written_does_not_stop_the_others(master, tmp_path):
    (tmp_path / "a-file").write_text("not a folder", encoding="utf-8")
    bad, good = tmp_path / "a-file" / "附表2.xlsx", tmp_path / "附表2.odt"
    res = CliRunner().invoke(cli, ["rollup", str(master), "-o", str(bad), "-o", str(good),
                                   "--report", str(tmp_path / "r.json")])
    assert res.exit_code == 2, res.output
    assert "無法寫入" in res.output and "1 個輸出檔未能寫入（附表2.xlsx）" in res.output
    assert good.exists() and (tmp_path / "r.json").exists()


def test_masters_of_one_name_are_told_apart_by_their_folders(master, tmp_path):
    """Every 分局 sends its 總表.xlsx: a refusal must say which of them."""
    (tmp_path / "北").mkdir()
    (tmp_path / "南").mkdir()
    shutil.copy(master, tmp_path / "北" / "總表.xlsx")
    review(master, tmp_path / "南" / "總表.xlsx", "A01", 999)  # out of range: refused
    res, _ = rollup(tmp_path, tmp_path / "北" / "總表.xlsx", tmp_path / "南" / "總表.xlsx")
    refusals = [line for line in res.output.splitlines() if "不採計" in line and "總表.xlsx" in line]
    assert refusals and all("南/總表.xlsx" in line for line in refusals), res.output
    assert "北/總表.xlsx" not in " ".join(refusals)
