"""Every check the merge makes on a return, on workbooks built here."""
import os
from datetime import datetime

import openpyxl
import pytest
from plans import second_plan, write_plan
from returns import GOOD, Kit, fill, set_saved  # noqa: F401

from xltool.forms import fields as F
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

R0 = F.FIRST_ITEM_ROW + 1  # the sheet row of a template's first item


@pytest.fixture
def kit(tmp_path, second_plan_path):
    return Kit(tmp_path, second_plan_path)


def codes(result, unit=None):
    return {(i.code, i.cell, i.severity) for i in result.issues if unit is None or i.unit == unit}


def test_values_outside_lists_and_ranges_and_bad_types(kit):
    kit.ret("甲組", {"A01": {"執行狀態": "做完了", "自評分數": 25},
                    "B01": {"實際值": -1, "自評分數": "N/A"}})
    result = kit.run()
    found = codes(result, "甲組")
    assert ("not-in-list", f"I{R0}", "錯誤") in found
    assert ("out-of-range", f"L{R0}", "錯誤") in found
    assert ("out-of-range", f"J{R0 + 1}", "錯誤") in found
    assert ("type-error", f"L{R0 + 1}", "錯誤") in found
    issue = next(i for i in result.issues if i.code == "not-in-list")
    assert (issue.file, issue.sheet, issue.field, issue.value) == (
        "112_數位轉型推動_甲組.xlsx", "填報表", "執行狀態", "做完了")
    assert issue.expected == "完成、進行中、免填"
    assert "A01" in issue.message
    status = result.status_of("甲組")
    assert status.status == "有誤"
    row = status.ret.rows["A01"]
    assert "not-in-list" in row.flags and row.values["執行績效與成果"] == "已完成"
    # An invalid score counts 0 but the row stays in the merge.
    a01 = next(r for r in result.items if r.item.id == "A01")
    assert a01.entries["甲組"].score is None


def test_required_cells_unless_not_applicable(kit):
    kit.ret("乙組", {"A01": {"執行績效與成果": None, "自評分數": None},
                    "B01": {"執行狀態": "免填", "執行績效與成果": None, "自評分數": None},
                    "B02": {"執行狀態": None}})
    found = codes(kit.run(), "乙組")
    assert ("missing-value", f"K{R0}", "錯誤") in found
    assert ("missing-value", f"L{R0}", "錯誤") in found
    assert ("missing-value", f"I{R0 + 2}", "錯誤") in found
    assert not [c for c in found if c[1] in (f"K{R0 + 1}", f"L{R0 + 1}")]


def test_normalisation_is_applied_and_recorded(kit):
    kit.ret("丙組", {"A01": {"自評分數": "１８．５", "實際值": " 7 ", "執行狀態": " 完成 "}})
    result = kit.run()
    row = result.status_of("丙組").ret.rows["A01"]
    assert row.values["自評分數"] == 18.5 and row.values["實際值"] == 7
    assert row.values["執行狀態"] == "完成"
    notes = {i.cell for i in result.issues if i.code == "normalized" and i.unit == "丙組"}
    assert notes == {f"L{R0}", f"J{R0}", f"I{R0}"}
    assert not [i for i in result.issues if i.unit == "丙組" and i.is_error]


def test_edited_locked_cells_and_deleted_added_sorted_rows(kit):
    path = kit.ret("甲組")
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM_SHEET]
    ws.cell(R0, 5).value = "改過的具體作法"
    ws.delete_rows(R0 + 1)  # B01 gone
    ws.cell(R0 + 2, 1).value = "A02"  # another unit's item typed in below
    ws.cell(R0 + 2, 12).value = 5
    wb.save(path)
    path2 = kit.ret("乙組")
    wb = openpyxl.load_workbook(path2)
    ws = wb[F.FORM_SHEET]
    first = [c.value for c in ws[R0]]
    second = [c.value for c in ws[R0 + 1]]
    for c, (a, b) in enumerate(zip(first, second), start=1):  # sort: swap A01 and B01
        ws.cell(R0, c).value, ws.cell(R0 + 1, c).value = b, a
    ws.cell(R0, 12).value = 3  # B01 now in the first row
    wb.save(path2)
    result = kit.run()
    a = codes(result, "甲組")
    assert ("locked-cell-edited", f"E{R0}", "錯誤") in a
    assert ("foreign-row", f"A{R0 + 2}", "錯誤") in a
    assert any("B01" in i.message and "刪除" in i.message for i in result.issues if i.unit == "甲組")
    b = codes(result, "乙組")
    assert ("rows-reordered", f"A{R0}", "警告") in b
    assert result.status_of("乙組").ret.rows["B01"].values["自評分數"] == 3


def test_wrong_plan_and_last_years_template(kit, tmp_path):
    other = second_plan()
    other["計畫"][3][1] = 111
    old_plan = load_plan(write_plan(tmp_path / "old.xlsx", other))
    write_templates(old_plan, tmp_path / "old", units=["甲組"])
    name = template_filename(old_plan, "甲組", "xlsx")
    fill(tmp_path / "old" / name, kit.inbox / name, {})
    result = kit.run()
    issue = next(i for i in result.issues if i.code == "wrong-plan")
    assert issue.file == name and "111" in issue.message
    assert result.status_of("甲組").status == "未繳"


def test_another_units_template_under_this_units_name(kit):
    kit.ret("乙組", name="112_數位轉型推動_甲組.xlsx")
    result = kit.run()
    assert result.status_of("乙組").ret.path.name == "112_數位轉型推動_甲組.xlsx"
    assert result.status_of("甲組").status == "未繳"
    assert any(i.code == "name-mismatch" and "甲組" in i.message for i in result.issues)


def test_metadata_gone_falls_back_to_name_and_content(kit, tmp_path):
    src = kit.ret("資訊中心", {"A03": {"自評分數": 16}})
    os.remove(src)
    wb = openpyxl.load_workbook(kit.template("資訊中心"))
    fresh = openpyxl.Workbook()
    ws = fresh.active
    ws.title = F.FORM_SHEET
    for row in wb[F.FORM_SHEET].iter_rows(values_only=True):
        ws.append(list(row))
    ws.cell(R0, 9).value, ws.cell(R0, 11).value, ws.cell(R0, 12).value = "完成", "貼上的", 16
    fresh.save(kit.inbox / "資訊中心回傳.xlsx")
    result = kit.run()
    ret = result.status_of("資訊中心").ret
    assert ret is not None and ret.rows["A03"].values["自評分數"] == 16
    assert any(i.code == "no-metadata" and i.severity == "警告" for i in result.issues)


def test_two_returns_the_one_saved_last_wins_not_the_newest_mtime(kit):
    early = kit.ret("北區服務站", {"A02": {"自評分數": 1}}, name="北區服務站_第二版.xlsx")
    late = kit.ret("北區服務站", {"A02": {"自評分數": 2}}, name="北區服務站_第一版.xlsx")
    set_saved(early, datetime(2024, 1, 5, 8))
    set_saved(late, datetime(2024, 1, 6, 8))
    os.utime(late, (1_000_000, 1_000_000))  # an email client reset the file time
    result = kit.run()
    status = result.status_of("北區服務站")
    assert status.ret.path == late and status.status == "已繳"
    assert [r.path for r in status.superseded] == [early]
    dup = next(i for i in result.issues if i.code == "superseded")
    assert dup.file == early.name and dup.severity == "說明" and dup.level == "info"


def test_lock_files_and_stray_files_are_reported(kit):
    (kit.inbox / "~$112_數位轉型推動_甲組.xlsx").write_bytes(b"lock")
    (kit.inbox / "說明.txt").write_text("hi", encoding="utf-8")
    found = codes(kit.run())
    assert ("lock-file", "", "說明") in found
    assert ("not-a-return", "", "說明") in found


def test_renamed_and_deleted_form_sheet(kit):
    renamed = kit.ret("南區服務站")
    wb = openpyxl.load_workbook(renamed)
    wb[F.FORM_SHEET].title = "我的表"
    wb.save(renamed)
    deleted = kit.ret("北區服務站")
    wb = openpyxl.load_workbook(deleted)
    del wb[F.FORM_SHEET]
    wb.save(deleted)
    result = kit.run()
    south = result.status_of("南區服務站")
    assert south.ret.rows and south.ret.sheet == "我的表"
    assert any(i.code == "sheet-renamed" and i.unit == "南區服務站" and not i.is_error
               for i in result.issues)
    north = result.status_of("北區服務站")
    assert north.status == "有誤" and not north.ret.rows
    assert next(r for r in result.items if r.item.id == "A02").entries["北區服務站"].score == 0
