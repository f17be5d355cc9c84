"""This afternoon's changes attacked (helper-J): a remark under the form, sheets a unit
added, the correction copy's name of the file sent. Each test reads back what the code
really wrote or returned."""
from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import openpyxl
import pytest
from test_blank_returns import LAST, checks, filled, merged

from xltool.cells import a1
from xltool.forms import fields as F


def _col(name: str) -> int:
    return [c.name for c in F.COLUMNS].index(name)


def typed_below(path: Path, row: int, col: int, value) -> Path:
    """``path`` with ``value`` typed (as its own type) at the 0-based (row, col) of 填報表."""
    wb = openpyxl.load_workbook(path)
    wb[F.FORM_SHEET].cell(row + 1, col + 1).value = value
    wb.save(path)
    return path


def _below(kit, unit: str, gap: int = 1) -> int:
    return F.FIRST_ITEM_ROW + len(kit.plan.items_for(unit)) - 1 + gap


# -- 1. a lone value under the form ------------------------------------------------

def test_another_units_id_typed_alone_under_the_form_is_still_a_foreign_row(tmp_path, second_plan_path):
    """A 編號 of the plan typed alone below the last item is an item row added, not a
    remark: it stays foreign-row (an error), as it was before remarks were told."""
    from returns import Kit

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    other = next(i.id for i in kit.plan.items if i.id not in {j.id for j in kit.plan.items_for("乙組")})
    typed_below(path, _below(kit, "乙組", 2), 0, other)
    result, master = merged(kit, tmp_path)
    assert checks(master, "foreign-row")
    assert not checks(master, "text-outside-form")
    assert result.status_of("乙組").status == "有誤"


@pytest.mark.parametrize("value", [5, 12.5, True])
def test_a_lone_number_under_the_form_in_an_input_column_is_not_a_remark(tmp_path, second_plan_path, value):
    """A number typed in the 實際值 column of a row under the form is data without an
    item (row-without-id), not a remark quoted as a warning."""
    from returns import Kit

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    typed_below(path, _below(kit, "乙組"), _col("實際值"), value)
    result, master = merged(kit, tmp_path)
    assert checks(master, "row-without-id")
    assert not checks(master, "text-outside-form")


def test_a_lone_text_between_item_rows_is_still_a_row_without_id(tmp_path, second_plan_path):
    from returns import Kit

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "甲組")
    assert len(kit.plan.items_for("甲組")) >= 2
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM_SHEET]
    ws.insert_rows(F.FIRST_ITEM_ROW + 2)
    ws.cell(F.FIRST_ITEM_ROW + 2, LAST + 1).value = "插入的說明"
    wb.save(path)
    result, master = merged(kit, tmp_path)
    assert checks(master, "row-without-id") and not checks(master, "text-outside-form")


def test_a_remark_under_the_form_is_told_where_it_is(tmp_path, second_plan_path):
    from returns import Kit

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    row = _below(kit, "乙組", 3)
    typed_below(path, row, 0, "填表人請假中，由代理人填寫")
    result, master = merged(kit, tmp_path)
    (told,) = checks(master, "text-outside-form")
    assert told["儲存格"] == a1(row, 0)
    assert result.status_of("乙組").status == "已繳"


# -- 2. sheets a unit added ----------------------------------------------------------

def test_two_hundred_added_sheets_are_told_in_a_bounded_number_of_issues(tmp_path, second_plan_path):
    from returns import Kit

    from xltool.intake import read_returns

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    wb = openpyxl.load_workbook(path)
    for n in range(200):
        wb.create_sheet(f"附件{n}")
    wb.save(path)
    (ret,) = read_returns(kit.plan, [path])
    added = [i for i in ret.issues if i.code == "sheet-added"]
    assert 1 <= len(added) <= 11
    told = "".join(i.message for i in added)
    assert "附件0" in told and "200" in told  # the count of all, and the first by name


def test_an_added_sheet_with_a_long_name_is_told_once(tmp_path, second_plan_path):
    from returns import Kit

    from xltool.intake import read_returns

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("成果照片" * 7 + "xyz")  # 31 characters, Excel's longest
    wb.save(path)
    (ret,) = read_returns(kit.plan, [path])
    (added,) = [i for i in ret.issues if i.code == "sheet-added"]
    assert added.sheet == "成果照片" * 7 + "xyz"


# -- 4. the correction copy names the file sent ----------------------------------------

def _as_sent(record: dict, zone=None, name: str = "乙組_20240110.xlsx") -> str:
    from xltool.master.feedback import as_sent

    result = SimpleNamespace(received=SimpleNamespace(returns={name: record}),
                             plan=SimpleNamespace(zone=zone))
    return as_sent(result, SimpleNamespace(name=name))  # type: ignore[arg-type]


def test_a_hostile_attachment_name_is_shown_visible_and_bounded():
    shown = _as_sent({"attachment": "成果\x01\x1b<r>" + "長" * 300 + ".xlsx",
                      "date": "2024-01-10T09:00:00+08:00"})
    assert "\x01" not in shown and "\x1b" not in shown
    assert len(shown) < 200
    assert "<r>" in shown  # a cell shows it as typed: it is text, not markup


@pytest.mark.parametrize("date", ["", "不是日期", "2024-01-10T09:00:00", "9999-12-31T23:59:59-12:00",
                                  "0001-01-01T00:00:00+14:00", 20240110])
def test_any_date_in_the_collect_log_gives_a_name_never_a_traceback(date):
    from datetime import timedelta, timezone

    for zone in (None, timezone(timedelta(hours=8))):
        shown = _as_sent({"attachment": "成果.xlsx", "date": date}, zone)
        assert "「成果.xlsx」" in shown and "乙組_20240110.xlsx" in shown


def test_a_record_without_attachment_names_the_stored_file():
    assert _as_sent({"date": "2024-01-10T09:00:00+08:00"}) == "「乙組_20240110.xlsx」"


@pytest.mark.parametrize("rename", ["填報表 (2)", "乙組填報"])
def test_a_renamed_form_is_said_once_not_also_as_an_added_sheet(tmp_path, second_plan_path, rename):
    from returns import Kit

    from xltool.intake import read_returns

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    wb = openpyxl.load_workbook(path)
    wb[F.FORM_SHEET].title = rename
    wb.save(path)
    (ret,) = read_returns(kit.plan, [path])
    told = [i for i in ret.issues if rename in (i.sheet or "") or rename in i.message]
    assert len(told) <= 1


def test_a_correction_copys_own_sheet_is_not_an_added_sheet(tmp_path, second_plan_path):
    from returns import Kit

    from xltool.forms.todo import TODO_SHEET
    from xltool.intake import read_returns

    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    wb = openpyxl.load_workbook(path)
    wb.create_sheet(TODO_SHEET)
    wb.save(path)
    (ret,) = read_returns(kit.plan, [path])
    assert not [i for i in ret.issues if i.code == "sheet-added"]


# -- 3. LibreOffice's kept save time ------------------------------------------------

@pytest.mark.parametrize("generated", ["", "不是時間", "2024-01-02T01:00:00", "2024-01-02T09:00:00+08:00",
                                       "9999-12-31T23:59:59-12:00"])
def test_libreoffice_saving_with_changes_gets_its_local_time_correction(generated):
    """LibreOffice stamps local time labelled Z; only its untouched template keeps
    xltool's own true UTC stamp. Whatever ``generated`` holds, a later save is corrected."""
    from datetime import datetime, timedelta, timezone

    from xltool.forms.identity import saved_instant

    taipei = timezone(timedelta(hours=8))
    stamped = datetime(2024, 1, 5, 22, 6, tzinfo=timezone.utc)  # 14:06 UTC, as LO writes it
    at = saved_instant(stamped, "LibreOffice/7.6", ".xlsx", taipei, generated)
    assert at == datetime(2024, 1, 5, 14, 6, tzinfo=timezone.utc)


def test_libreoffice_keeping_the_stamp_in_another_zone_is_kept():
    from datetime import datetime, timezone

    from xltool.forms.identity import saved_instant

    kept = datetime(2024, 1, 2, 1, 0, tzinfo=timezone.utc)
    for generated in ("2024-01-02T01:00:00+00:00", "2024-01-02T09:00:00+08:00", "2024-01-02T01:00:00.400000Z"):
        assert saved_instant(kept, "LibreOffice/7.6", ".xlsx", None, generated) == kept


def test_libreoffice_converting_a_file_keeps_its_true_utc_time():
    """``soffice --convert-to`` of a file openpyxl saved keeps openpyxl's true UTC time
    (found by a trial under TZ=Asia/Taipei): read as local it would come 8 hours before
    the template was made. A time that is before the template either way stays local."""
    from datetime import datetime, timedelta, timezone

    from xltool.forms.identity import saved_instant

    taipei = timezone(timedelta(hours=8))
    generated = "2026-12-03T11:20:00+00:00"  # the template, 19:20 in Taipei
    kept = datetime(2026, 12, 3, 11, 35, 36, tzinfo=timezone.utc)  # filled in at 19:35 Taipei
    assert saved_instant(kept, "LibreOffice/7.6", ".xlsx", taipei, generated) == kept
    stamped = datetime(2026, 12, 3, 19, 35, tzinfo=timezone.utc)  # LibreOffice's own save at 19:35
    assert saved_instant(stamped, "LibreOffice/7.6", ".xlsx", taipei, generated) == \
        datetime(2026, 12, 3, 11, 35, tzinfo=timezone.utc)
    early = datetime(2026, 12, 3, 9, 0, tzinfo=timezone.utc)  # before the template read either way
    assert saved_instant(early, "LibreOffice/7.6", ".xlsx", taipei, generated) == \
        datetime(2026, 12, 3, 1, 0, tzinfo=timezone.utc)
    assert saved_instant(kept, "Microsoft Excel", ".xlsx", taipei, generated) == kept


def test_a_full_width_space_in_a_units_name_stays_in_its_footer():
    from xltool.forms.book import Book, footer_label

    assert footer_label(Book(sheets=[], footer_label="資訊　中心")) == "資訊　中心"
    assert footer_label(Book(sheets=[], footer_label="資訊\n中心")) == "資訊 中心"
