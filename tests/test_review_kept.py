"""The secretariat's 複評 and 複評說明 survive a re-merge whatever was done to 評分
that still says where they are (a renamed sheet, a retitled header, a pasted
duplicate row, a copy saved as .ods), and are never lost in silence: a review
that cannot be adopted stays in the new master as typed until it is fixed, and
reviews that cannot be read at all are an error naming the file, the sheet, the
cell and the backup that still holds them. Backups never overwrite one another."""
import json
import os
import shutil
import subprocess

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT, convert
from plans import second_plan, write_plan
from returns import Kit
from test_review_notes import type_in

from xltool.cli import cli

NOTE = "佐證不足，酌減"


def kit_for(tmp_path):
    kit = Kit(tmp_path, write_plan(tmp_path / "plan2.xlsx", second_plan()))
    for unit in kit.plan.units:
        kit.ret(unit.name)  # every item's 自評 is 10
    return kit


def merge(kit, master, *extra):
    return CliRunner().invoke(cli, ["merge", str(kit.plan.source), str(kit.inbox), "-o", str(master),
                                    "--report", str(master.parent / "report.json"), *map(str, extra)])


def first_master(tmp_path):
    kit = kit_for(tmp_path)
    master = tmp_path / "out" / "總表.xlsx"
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    return kit, master


def scores(path, sheet="評分"):
    """評分 read back cell by cell: {編號: {header: value}}, the header row the 4th."""
    ws = openpyxl.load_workbook(path)[sheet]
    head = {c.column: c.value for c in ws[4] if c.value}
    return {ws.cell(r, 1).value: {h: ws.cell(r, c).value for c, h in head.items()}
            for r in range(5, 10)}


def cell_of(path, item, header, sheet="評分"):
    ws = openpyxl.load_workbook(path)[sheet]
    col = next(c.column for c in ws[4] if c.value == header)
    row = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == item)
    return ws.cell(row, col)


REVIEWED = {("A01", "複評"): 15, ("A01", "複評說明"): NOTE, ("B02", "複評"): 12}


def report(master):
    return json.loads((master.parent / "report.json").read_text(encoding="utf-8"))


def issues(master, code):
    return [i for i in report(master)["issues"] if i["code"] == code]


def total(master):
    return report(master)["total"]


def backups(master):
    return sorted(master.parent.glob(f"{master.stem}-備份-*.xlsx"))


def assert_kept(master):
    s = scores(master)
    assert (s["A01"]["複評"], s["A01"]["複評說明"], s["B02"]["複評"]) == (15, NOTE, 12)
    assert s["A02"]["複評"] is None and s["B01"]["複評說明"] is None


# ---------------------------------------------------------------- 4: a renamed 評分

def test_a_renamed_review_sheet_is_found_by_its_header(tmp_path):
    kit, master = first_master(tmp_path)
    base = total(master)
    type_in(master, REVIEWED, edit=lambda ws: setattr(ws, "title", "評分(複評)"))
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    assert_kept(master)
    assert openpyxl.load_workbook(master).sheetnames.count("評分") == 1  # named 評分 again
    assert total(master) == pytest.approx(base + (15 - 10) + (12 - 10))
    renamed = issues(master, "sheet-renamed")
    assert len(renamed) == 1 and "評分(複評)" in renamed[0]["message"] and renamed[0]["sheet"] == "評分(複評)"
    assert "複評 2 筆、複評說明 1 筆已保留" in res.output


def test_reviews_that_cannot_be_found_are_an_error_naming_the_backup(tmp_path):
    kit, master = first_master(tmp_path)

    def spoil(ws):  # no header row left that says 編號 and 複評
        ws.title = "舊評分"
        ws["A4"] = "項次"
    type_in(master, REVIEWED, edit=spoil)
    res = merge(kit, master)
    assert res.exit_code == 1, res.output
    [lost] = issues(master, "review-sheet-missing")
    [backup] = backups(master)
    assert lost["level"] == "error" and lost["file"] == "總表.xlsx" and lost["sheet"] == "評分"
    assert backup.name in lost["message"] and "總表.xlsx" in lost["message"]
    assert scores(backup, "舊評分")["A01"]["複評"] == 15  # the backup still has it
    assert "已保留" not in res.output and "未能讀取" in res.output
    assert scores(master)["A01"]["複評"] is None


def test_a_header_row_without_any_review_column_names_its_cell(tmp_path):
    kit, master = first_master(tmp_path)

    def spoil(ws):  # 複評 and 複評說明 retitled beyond recognition, 採計分數 too
        ws["L4"], ws["M4"], ws["N4"] = "秘書室", "理由", "最後"
    type_in(master, REVIEWED, edit=spoil)
    res = merge(kit, master)
    assert res.exit_code == 1
    [lost] = issues(master, "review-column-missing")
    assert lost["sheet"] == "評分" and lost["cell"] == "L4" and backups(master)[0].name in lost["message"]


# ---------------------------------------------------------------- 5: a retitled 複評

@pytest.mark.parametrize("title", ["複評分數", "秘書室分數"])
def test_a_retitled_review_header_is_read_by_its_place(tmp_path, title):
    kit, master = first_master(tmp_path)
    type_in(master, REVIEWED, edit=lambda ws: ws.__setitem__("L4", title))
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    assert_kept(master)
    assert openpyxl.load_workbook(master)["評分"]["L4"].value == "複評"
    [changed] = issues(master, "review-header-changed")
    assert changed["cell"] == "L4" and title in changed["message"]


def test_a_retitled_note_header_is_read_by_its_place(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, REVIEWED, edit=lambda ws: ws.__setitem__("M4", "理由說明"))
    assert merge(kit, master).exit_code == 0
    assert_kept(master)
    assert [i["cell"] for i in issues(master, "review-header-changed")] == ["M4"]


# ---------------------------------------------------------------- 6: a duplicated row

def test_a_duplicated_item_row_keeps_the_first_and_names_both_cells(tmp_path):
    kit, master = first_master(tmp_path)

    def paste_copy(ws):  # B02's row (9) copied below it, with another 複評
        ws.insert_rows(10)
        for c in range(1, 15):
            ws.cell(10, c).value = ws.cell(9, c).value
        ws["L10"] = 3
    type_in(master, REVIEWED, edit=paste_copy)
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    assert scores(master)["B02"]["複評"] == 12
    [dup] = issues(master, "review-duplicate-row")
    assert "A9" in dup["message"] and "A10" in dup["message"] and dup["cell"] == "A10"
    assert "「3」未採用" in dup["message"]


# ---------------------------------------------------------------- 7: unusable reviews

def test_a_review_that_cannot_be_adopted_stays_as_typed_until_fixed(tmp_path):
    kit, master = first_master(tmp_path)
    base = total(master)
    type_in(master, {("A01", "複評"): 25, ("A01", "複評說明"): "貼上", ("B02", "複評"): "待議"})
    for _ in range(2):  # and again: still there, still said
        res = merge(kit, master)
        assert res.exit_code == 1, res.output
        a01, b02 = cell_of(master, "A01", "複評"), cell_of(master, "B02", "複評")
        # Each as typed: the number a number (not counted: out of range), the text a text.
        assert (a01.coordinate, a01.value, b02.coordinate, b02.value) == ("L5", 25, "L9", "待議")
        assert a01.fill.fgColor.rgb.endswith("FFC7CE") and not a01.protection.locked
        assert a01.comment is not None and "20.25" in a01.comment.text
        assert cell_of(master, "A01", "複評說明").value == "貼上"
        assert total(master) == base  # not counted
        [over] = issues(master, "review-out-of-range")
        [word] = issues(master, "type-error")
        assert over["cell"] == "L5" and "L5" in over["message"] and "紅色" in over["message"]
        assert word["cell"] == "L9" and "待議" in word["message"]
        assert "另有 2 筆無法採計的複評照原樣保留" in res.output
    type_in(master, {("A01", "複評"): 20})
    assert merge(kit, master).exit_code == 0
    assert cell_of(master, "A01", "複評").value == 20 and cell_of(master, "B02", "複評").value == "待議"
    assert total(master) == pytest.approx(base + 10)


# ---------------------------------------------------------------- 8: backups

def test_a_backup_never_overwrites_another(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, {("A01", "複評"): 15})
    stamp = master.stat().st_mtime
    assert merge(kit, master).exit_code == 0
    type_in(master, {("A01", "複評"): 16})
    os.utime(master, (stamp, stamp))  # saved again within the same second
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    second, first = backups(master)  # …-HHMMSS-2.xlsx sorts before …-HHMMSS.xlsx
    assert second.name == first.name.replace(".xlsx", "-2.xlsx") and second.name in res.output
    assert scores(first)["A01"]["複評"] == 15 and scores(second)["A01"]["複評"] == 16
    # The same bytes once more: the backup already made is the backup, not a third copy.
    shutil.copyfile(second, master)
    os.utime(master, (stamp, stamp))
    assert merge(kit, master).exit_code == 0
    assert len(backups(master)) == 2


def test_a_first_merge_makes_no_backup_and_claims_nothing(tmp_path):
    kit = kit_for(tmp_path)
    master = tmp_path / "總表.xlsx"
    res = merge(kit, master)
    assert res.exit_code == 0 and "備份" not in res.output and "保留" not in res.output.replace(
        "複評會保留", "")
    res = merge(kit, master)
    assert "沒有複評或複評說明" in res.output and "已保留" not in res.output


# ---------------------------------------------------------------- 9: a copy saved as .ods

@pytest.mark.libreoffice
def test_reviews_saved_as_ods_beside_the_master_are_read_from_it(tmp_path, soffice):
    kit, master = first_master(tmp_path)
    reviewed = tmp_path / "typed" / "總表.xlsx"
    reviewed.parent.mkdir()
    shutil.copyfile(master, reviewed)
    type_in(reviewed, REVIEWED)
    ods = convert(soffice, reviewed, "ods", tmp_path / "lo")
    shutil.move(ods, master.with_suffix(".ods"))
    earlier = master.with_suffix(".ods").stat().st_mtime - 60
    os.utime(master, (earlier, earlier))  # the .ods was saved after the master
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    assert_kept(master)
    [said] = issues(master, "review-other-file")
    assert said["file"] == "總表.ods" and "總表.xlsx" in said["message"]
    assert "「總表.ods」的複評 2 筆、複評說明 1 筆已保留" in res.output
    # The master is now the newer: the next re-merge reads it, not the .ods.
    type_in(master, {("A01", "複評"): 14})
    assert merge(kit, master).exit_code == 0
    assert scores(master)["A01"]["複評"] == 14 and not issues(master, "review-other-file")


@pytest.mark.libreoffice
def test_an_unusable_review_typed_in_libreoffice_survives_its_round_trip(tmp_path, soffice):
    kit, master = first_master(tmp_path)
    python = shutil.which("python3", path="/usr/bin") or "python3"
    saved = tmp_path / "lo.xlsx"
    out = subprocess.run([python, str(ROOT / "tests" / "lo_review.py"), str(master), str(saved),
                          str(tmp_path / "lo-profile"), "A01=25", "B02=待議", "B02@複評說明=下次會議討論"],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    shutil.move(saved, master)
    assert merge(kit, master).exit_code == 1
    assert cell_of(master, "A01", "複評").value == 25 and cell_of(master, "B02", "複評").value == "待議"
    # Saved by LibreOffice once more (the red text as it shows it), then merged again.
    out = subprocess.run([python, str(ROOT / "tests" / "lo_review.py"), str(master), str(saved),
                          str(tmp_path / "lo-profile"), "B01=9"], capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    shutil.move(saved, master)
    res = merge(kit, master)
    assert res.exit_code == 1
    s = scores(master)
    assert (s["A01"]["複評"], s["B02"]["複評"], s["B02"]["複評說明"], s["B01"]["複評"]) == (
        25, "待議", "下次會議討論", 9)
    assert [i["cell"] for i in issues(master, "review-out-of-range")] == ["L5"]
