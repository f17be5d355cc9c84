"""What a reviewer typed into 評分 is never altered or lost by a re-merge, whatever
it is: a 複評 out of range is carried exactly as typed (never rounded into range),
a 複評 or 複評說明 of an item the plan no longer has stays in the master, an
unreadable newer .ods beside the master does not hide the master's reviews, a
review typed into a copy of 評分 is said, the report lists the reviews that could
not be adopted, and the master's own formulas count only valid reviews."""
import json
import shutil
import subprocess
from decimal import Decimal

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from plans import second_plan, write_plan
from test_formula_literals import assert_libreoffice_agrees
from test_review_kept import REVIEWED, assert_kept, backups, cell_of, first_master, issues, merge, report, total
from test_review_notes import type_in

from xltool.cli import cli


def merge_with(plan, kit, master):
    return CliRunner().invoke(cli, ["merge", str(plan), str(kit.inbox), "-o", str(master),
                                    "--report", str(master.parent / "report.json")])


def without_a03(tmp_path):
    """The plan revised: A03 removed (its 構面's points lowered to match)."""
    data = second_plan()
    data["項目"] = [row for row in data["項目"] if row[0] != "A03"]
    data["構面"][1][2] = 40.5
    return write_plan(tmp_path / "plan-revised.xlsx", data)


def row_of(path, item, start=5):
    """評分's row of ``item`` (the first from ``start``) by header: {header: cell}."""
    ws = openpyxl.load_workbook(path)["評分"]
    head = {c.column: c.value for c in ws[4] if c.value}
    for r in range(start, ws.max_row + 1):
        if ws.cell(r, 1).value == item:
            return {h: ws.cell(r, c) for c, h in head.items()}
    return None


def item_review(master, item):
    return next(i for i in report(master)["items"] if i["id"] == item)["review"]


# ---------------------------------------------------------------- 1: kept exactly as typed

def test_an_out_of_range_review_is_carried_exactly_never_rounded_into_range(tmp_path):
    kit, master = first_master(tmp_path)
    base = total(master)
    # A01 and A02 are worth 20.25: rounded to 6 places 20.2500001 would be 20.25 (in range)
    # and -0.0000001 would be -0 (read back as 0): the next merge would adopt them.
    typed = {("A01", "複評"): 20.2500001, ("A02", "複評"): -0.0000001, ("B01", "複評"): "２５０ "}
    type_in(master, typed)
    for _ in range(3):  # and again: never adopted, never changed
        res = merge(kit, master)
        assert res.exit_code == 1, res.output
        assert cell_of(master, "A01", "複評").value == 20.2500001
        assert cell_of(master, "A02", "複評").value == -0.0000001
        assert cell_of(master, "B01", "複評").value == "２５０ "  # as typed, not normalised
        assert (item_review(master, "A01"), item_review(master, "A02"), item_review(master, "B01")) == (
            None, None, None)
        assert total(master) == base
        said = {i["cell"]: i for i in issues(master, "review-out-of-range")}
        assert said["L5"]["value"] == "20.2500001" and "「20.2500001」" in said["L5"]["message"]
        assert said["L6"]["value"] == "-0.0000001" and said["L8"]["value"] == "２５０ "


def test_the_exact_decimal_of_a_carried_review_is_shown(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, {("B01", "複評"): 20.123456789})  # B01 is worth 19.75
    assert merge(kit, master).exit_code == 1
    b01 = cell_of(master, "B01", "複評")
    assert b01.value == 20.123456789 and Decimal(repr(b01.value)) == Decimal("20.123456789")
    assert "20.123456789" in b01.comment.text


# ---------------------------------------------------------------- 2: items removed from the plan

@pytest.mark.parametrize("review", ["待確認", 15])
def test_reviews_of_a_removed_item_stay_in_the_master(tmp_path, review):
    kit, master = first_master(tmp_path)
    note = "請補件後再議，" * 10  # longer than any quote of it
    type_in(master, {**REVIEWED, ("A03", "複評"): review, ("A03", "複評說明"): note})
    revised = without_a03(tmp_path)
    base = None
    for _ in range(2):  # and again: still kept, still said
        res = merge_with(revised, kit, master)
        assert res.exit_code in (0, 1), res.output
        assert_kept(master)
        kept = row_of(master, "A03")
        assert kept is not None, "A03's review was dropped"
        assert kept["複評"].value == review and kept["複評說明"].value == note
        [said] = issues(master, "orphan-review")
        assert said["cell"] == kept["複評"].coordinate and said["level"] == "warning"
        assert str(review) in said["message"] and "已不在計畫中" in said["message"]
        assert kept["複評"].coordinate in said["message"]
        base = base if base is not None else total(master)
        assert total(master) == base  # not counted
        assert "A03" not in {i["id"] for i in report(master)["items"]}
        assert "1 個已不在計畫中的項目，其複評與複評說明照原樣保留" in res.output


def test_a_note_of_a_removed_item_alone_stays_in_the_master(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, {("A03", "複評說明"): "第二次會議決議刪除"})
    res = merge_with(without_a03(tmp_path), kit, master)
    assert res.exit_code == 0, res.output
    kept = row_of(master, "A03")
    assert kept["複評說明"].value == "第二次會議決議刪除" and kept["複評"].value is None
    [said] = issues(master, "orphan-review")
    assert "第二次會議決議刪除" in said["message"] and said["cell"] == kept["複評說明"].coordinate
    assert "複評說明 0 筆" in res.output or "沒有複評或複評說明" in res.output  # not counted as kept in the plan
    assert "1 個已不在計畫中的項目" in res.output


def test_a_removed_item_back_in_the_plan_gets_its_review_back(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, {("A03", "複評"): 15, ("A03", "複評說明"): "保留"})
    assert merge_with(without_a03(tmp_path), kit, master).exit_code in (0, 1)
    res = merge(kit, master)  # the plan as it was: A03 is back
    assert res.exit_code == 0, res.output
    assert (cell_of(master, "A03", "複評").value, cell_of(master, "A03", "複評說明").value) == (15, "保留")
    assert item_review(master, "A03") == 15
    assert row_of(master, "A03", start=10) is None  # no longer listed as removed


# ---------------------------------------------------------------- 3: an unreadable newer .ods

@pytest.mark.parametrize("spoil", [b"not a spreadsheet at all", b"PK\x03\x04broken zip"])
def test_an_unreadable_newer_ods_does_not_hide_the_masters_reviews(tmp_path, spoil):
    kit, master = first_master(tmp_path)
    type_in(master, REVIEWED)
    ods = master.with_suffix(".ods")
    ods.write_bytes(spoil)  # saved after the master
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    assert_kept(master)
    assert ods.read_bytes() == spoil  # left as it was
    [said] = issues(master, "review-copy-unreadable")
    assert said["file"] == "總表.ods" and said["level"] == "warning"
    assert "總表.ods" in said["message"] and "總表.xlsx" in said["message"]
    assert not issues(master, "review-unreadable") and not issues(master, "review-other-file")
    assert "複評 2 筆、複評說明 1 筆已保留" in res.output


def test_an_unreadable_ods_without_its_master_is_still_an_error(tmp_path):
    kit, master = first_master(tmp_path)
    master.unlink()
    master.with_suffix(".ods").write_bytes(b"not a spreadsheet at all")
    res = merge(kit, master)
    assert res.exit_code == 1, res.output
    [lost] = issues(master, "review-unreadable")
    assert lost["file"] == "總表.ods" and lost["level"] == "error"
    assert not issues(master, "review-copy-unreadable")


# ---------------------------------------------------------------- 4: a copied 評分

@pytest.mark.parametrize("copy_name", ["評分 (2)", "評分_2"])
def test_reviews_typed_in_a_copy_of_the_review_sheet_are_said(tmp_path, copy_name):
    kit, master = first_master(tmp_path)
    type_in(master, {("A01", "複評"): 15})
    wb = openpyxl.load_workbook(master)
    copy = wb.copy_worksheet(wb["評分"])
    copy.title = copy_name
    copy["L5"], copy["L9"], copy["M9"] = 16, 12, "秘書室意見"  # A01 changed, B02 added
    wb.save(master)
    res = merge(kit, master)
    assert res.exit_code == 1, res.output
    assert cell_of(master, "A01", "複評").value == 15  # 評分 is the one read
    [said] = issues(master, "review-sheet-copy")
    assert said["sheet"] == copy_name and said["level"] == "error"
    message = said["message"]
    assert copy_name in message and "「評分」" in message
    assert "A01" in message and "「16」" in message and "B02" in message and "「12」" in message
    assert "秘書室意見" in message
    [backup] = backups(master)
    assert backup.name in message
    assert openpyxl.load_workbook(backup)[copy_name]["L9"].value == 12


def test_an_unchanged_copy_of_the_review_sheet_is_not_an_error(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, {("A01", "複評"): 15})
    wb = openpyxl.load_workbook(master)
    wb.copy_worksheet(wb["評分"]).title = "評分 (2)"
    wb.save(master)
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    assert not issues(master, "review-sheet-copy")


# ---------------------------------------------------------------- 5: the JSON report

def test_the_report_lists_the_reviews_that_cannot_be_adopted(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, {("A01", "複評"): 25.5, ("B02", "複評"): "待議", ("A03", "複評"): 7})
    assert merge_with(without_a03(tmp_path), kit, master).exit_code == 1
    listed = {r["item"]: r for r in report(master)["unusable_reviews"]}
    assert set(listed) == {"A01", "B02", "A03"}
    assert listed["A01"]["code"] == "review-out-of-range" and listed["A01"]["value"] == 25.5
    assert listed["A01"]["cell"] == "L5" and listed["A01"]["expected"] == "0～20.25"
    assert listed["B02"]["code"] == "type-error" and listed["B02"]["value"] == "待議"
    assert listed["A03"]["code"] == "orphan-review" and listed["A03"]["value"] == 7
    assert listed["A03"]["cell"] == row_of(master, "A03")["複評"].coordinate
    assert all(r["read_from"] for r in listed.values())


def test_the_report_lists_none_when_every_review_is_adopted(tmp_path):
    kit, master = first_master(tmp_path)
    assert report(master)["unusable_reviews"] == []


# ---------------------------------------------------------------- 6: formulas count valid reviews only

def lo_type(master, typed, read, profile):
    python = shutil.which("python3", path="/usr/bin") or "python3"
    jobs = profile.parent / "jobs.json"
    jobs.write_text(json.dumps([{"path": str(master), "sheet": "評分", "type": [[cell, text]], "read": read}
                                for cell, text in typed], ensure_ascii=False), encoding="utf-8")
    out = subprocess.run([python, str(ROOT / "tests" / "lo_cells.py"), str(jobs), str(profile)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


@pytest.mark.libreoffice
def test_libreoffice_counts_only_a_valid_review_in_the_totals(tmp_path, soffice):
    kit, master = first_master(tmp_path)
    ws = openpyxl.load_workbook(master)["評分"]
    total_row = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 3).value == "總分")
    subtotal = f"N{total_row - 2}"  # 便民服務's, where A01 counts
    cells = [f"N{total_row}", subtotal, "N5"]
    base = total(master)
    typed = [("L5", "999"), ("L5", "-5"), ("L5", "20.26"), ("L5", "待確認"), ("L5", "15")]
    results = lo_type(master, typed, cells, tmp_path / "lo-profile")
    shown = [{c: float(r["shown"][c]) for c in cells} for r in results]
    for (_, text), got in zip(typed[:-1], shown[:-1]):
        assert got[f"N{total_row}"] == pytest.approx(base), text  # not counted
        assert got["N5"] == pytest.approx(10), text
    assert shown[-1]["N5"] == 15 and shown[-1][f"N{total_row}"] == pytest.approx(base + 5)


@pytest.mark.libreoffice
def test_a_carried_unusable_review_leaves_libreoffice_agreeing_with_the_cache(tmp_path, soffice):
    kit, master = first_master(tmp_path)
    type_in(master, {("A01", "複評"): 25, ("A02", "複評"): -1, ("B02", "複評"): 12})
    assert merge(kit, master).exit_code == 1
    assert cell_of(master, "A01", "複評").value == 25  # a number, carried as one
    assert_libreoffice_agrees(master, tmp_path / "lo-profile")
