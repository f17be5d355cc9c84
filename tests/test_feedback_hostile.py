"""`merge --feedback DIR` against a hostile folder and hostile returns.

The feedback folder is the secretariat's: besides the copies xltool writes it may
hold a unit's mailed-back correction saved there by mistake, a copy somebody
opened and saved, or a file of the same name that xltool never wrote. None of them
may be overwritten or removed. Two returns whose names make one copy's name must
still make two copies.
"""
from __future__ import annotations

import hashlib
from datetime import datetime
from pathlib import Path

import openpyxl
from click.testing import CliRunner
from python_calamine import CalamineWorkbook
from returns import Kit, set_saved

from xltool.cli import cli
from xltool.forms import fields as F
from xltool.forms.template import template_filename

BAD = {"A01": {"自評分數": 99}}  # over A01's 20.25 points: an error, so a copy is due


def merge(kit, tmp_path, feedback, *returns):
    return CliRunner().invoke(cli, ["merge", str(kit.plan.source), *map(str, returns or [kit.inbox]),
                                    "-o", str(tmp_path / "master.xlsx"), "--report",
                                    str(tmp_path / "report.json"), "--feedback", str(feedback)])


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def copy_unit(path: Path) -> str:
    """The unit a copy's own identity names (its hidden 填報資料 sheet)."""
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(F.META_SHEET).to_python()
    return next(str(r[1]) for r in rows if r and r[0] == "xltool_unit")


def test_a_copy_edited_after_xltool_wrote_it_is_never_overwritten_nor_removed(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    for unit in kit.plan.units:
        kit.ret(unit.name, BAD if unit.name == "甲組" else None)
    feedback = tmp_path / "補正"
    assert merge(kit, tmp_path, feedback).exit_code == 1
    (copy,) = feedback.iterdir()

    # 甲組 fixes its copy and mails it back; the secretariat saves it into 補正, over the copy.
    wb = openpyxl.load_workbook(copy)
    wb[F.FORM_SHEET].cell(F.FIRST_ITEM_ROW + 1, 12).value = 18
    wb[F.FORM_SHEET].cell(F.FIRST_ITEM_ROW + 1, 11).value = "甲組補正後的成果說明"
    wb.save(copy)
    set_saved(copy, datetime(2024, 1, 12, 2, 0))
    kept = digest(copy)

    res = merge(kit, tmp_path, feedback)  # 甲組's return in the inbox still has its error
    assert res.exit_code == 1, res.output
    assert digest(copy) == kept, "the unit's correction was overwritten"
    assert copy.name in res.output and "未覆蓋" in res.output
    new = [p for p in feedback.iterdir() if p != copy]
    assert len(new) == 1 and new[0].name.endswith("_待修正(2).xlsx") and copy_unit(new[0]) == "甲組"

    kit.ret("甲組")  # 甲組 is clean now: the copy xltool wrote goes, the edited one stays
    res = merge(kit, tmp_path, feedback)
    assert res.exit_code == 0, res.output
    assert list(feedback.iterdir()) == [copy] and digest(copy) == kept
    assert "未刪除" in res.output and copy.name in res.output


def test_a_file_xltool_did_not_write_under_a_copys_name_is_kept(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    kit.ret("甲組", BAD)
    feedback = tmp_path / "補正"
    feedback.mkdir()
    name = Path(template_filename(kit.plan, "甲組", "xlsx")).stem + "_待修正.xlsx"
    stranger = feedback / name
    openpyxl.Workbook().save(stranger)  # the secretariat's own notes, under that name
    kept = digest(stranger)
    res = merge(kit, tmp_path, feedback)
    assert res.exit_code == 1, res.output
    assert digest(stranger) == kept
    (new,) = [p for p in feedback.iterdir() if p != stranger]
    assert copy_unit(new) == "甲組" and name in res.output


def test_two_returns_that_would_make_one_copy_name_make_two_copies(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    other = tmp_path / "另一個資料夾"
    other.mkdir()
    b_name = template_filename(kit.plan, "乙組", "xlsx")
    kit.ret("乙組", BAD)  # 乙組's return, under its own name, in the inbox …
    a_ret = kit.ret("甲組", BAD)  # … and 甲組's, saved under 乙組's file name elsewhere
    a_ret.rename(other / b_name)
    feedback = tmp_path / "補正"
    res = merge(kit, tmp_path, feedback, kit.inbox, other)
    assert res.exit_code == 1, res.output
    copies = sorted(feedback.iterdir())
    assert sorted(copy_unit(p) for p in copies) == ["乙組", "甲組"], [p.name for p in copies]


def test_the_library_never_writes_or_removes_a_return(tmp_path, second_plan_path):
    """Called without the CLI's check, the feedback folder may be the returns folder:
    a unit's mailed-back copy there (untouched: sent back as it was) is an input."""
    from xltool.master.feedback import write_feedback
    from xltool.master.merge import merge as do_merge

    kit = Kit(tmp_path, second_plan_path)
    kit.ret("甲組", BAD)
    first = write_feedback(do_merge(kit.plan, [kit.inbox]), tmp_path / "補正")
    (copy,) = first.written
    back = kit.inbox / copy.name
    back.write_bytes(copy.read_bytes())  # 甲組 sends the copy back unchanged: still wrong
    before = {p.name: digest(p) for p in kit.inbox.iterdir()}
    again = write_feedback(do_merge(kit.plan, [kit.inbox]), kit.inbox)
    assert {p.name: digest(p) for p in kit.inbox.iterdir() if p.name in before} == before
    assert back not in again.written and back not in again.removed


def test_a_copy_is_byte_for_byte_the_same_until_its_own_return_changes(tmp_path, second_plan_path):
    """`send --corrections` mails a copy again when its bytes change: another unit's
    later return must not change them (nor must a re-run)."""
    kit = Kit(tmp_path, second_plan_path)
    set_saved(kit.ret("甲組", BAD), datetime(2024, 1, 10, 1, 0))
    feedback = tmp_path / "補正"
    merge(kit, tmp_path, feedback)
    (copy,) = feedback.iterdir()
    before = digest(copy)
    set_saved(kit.ret("乙組"), datetime(2024, 1, 14, 3, 0))  # a later return, of another unit
    merge(kit, tmp_path, feedback)
    assert list(feedback.iterdir()) == [copy] and digest(copy) == before
