"""What a unit writes in a cell note (comment) is not lost unseen: no reader takes a
note into its cell, so the merge says each one, quoted, with its sheet and cell, in
.xlsx and .ods alike. xltool's own notes, in the correction copies it writes, are not
said, also after LibreOffice has saved the copy again."""
from __future__ import annotations

import shutil

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import convert
from openpyxl.comments import Comment
from returns import Kit, rewrite

from xltool.cli import cli
from xltool.forms import fields as F
from xltool.master.merge import merge
from xltool.master.statuses import STATUS_MISSING

UNIT = "甲組"


def with_notes(path, notes: dict[str, tuple[str, str]]):
    """Notes typed on the 填報表 (cell → (author, text)), as Excel keeps them."""
    wb = openpyxl.load_workbook(path)
    for ref, (author, text) in notes.items():
        wb[F.FORM_SHEET][ref].comment = Comment(text, author)
    wb.save(path)
    return path


def said(result, unit=UNIT):
    status = result.status_of(unit)
    return [i for i in status.ret.issues if i.code == "cell-note"] if status.ret else []


def input_cell(col_name: str, row: int = 0) -> str:
    col = next(i for i, c in enumerate(F.COLUMNS) if c.name == col_name)
    return openpyxl.utils.get_column_letter(col + 1) + str(F.FIRST_ITEM_ROW + row + 1)


def test_a_note_in_an_xlsx_return_is_said_with_its_text(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    ref = input_cell("執行績效與成果")
    with_notes(kit.ret(UNIT), {ref: ("王小明", "本項因場地整修延至下半年辦理，\n另以線上課程替代。")})
    (note,) = said(kit.run())
    assert (note.sheet, note.cell, note.level) == (F.FORM_SHEET, ref, "warning")
    assert "本項因場地整修延至下半年辦理" in note.message and "王小明" in note.message
    assert note.value == "本項因場地整修延至下半年辦理，\n另以線上課程替代。"


def test_a_template_with_only_a_note_is_not_blank(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    blank = kit.inbox / kit.template(UNIT).name
    shutil.copy(kit.template(UNIT), blank)
    with_notes(blank, {input_cell("執行狀態"): ("陳", "尚待主管核定，先寄回確認格式")})
    result = kit.run()
    assert result.status_of(UNIT).status != STATUS_MISSING
    assert len(said(result)) == 1


def test_many_notes_are_said_one_by_one_then_counted(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret(UNIT)
    wb = openpyxl.load_workbook(path)
    for n in range(25):
        wb[F.FORM_SHEET].cell(40 + n, 30).comment = Comment(f"第 {n} 則", "林")
    wb.save(path)
    notes = said(kit.run())
    assert len(notes) == 21 and "另有 5 個註解" in notes[-1].message


@pytest.mark.libreoffice
def test_a_note_in_an_ods_return_is_said(tmp_path, second_plan_path, soffice):
    kit = Kit(tmp_path, second_plan_path)
    ref = input_cell("執行績效與成果", 1)
    xlsx = with_notes(kit.ret(UNIT), {ref: ("王小明", "第二季數據待統計室提供")})
    ods = convert(soffice, xlsx, "ods", tmp_path / "ods")
    xlsx.unlink()
    shutil.move(ods, kit.inbox / ods.name)
    (note,) = said(kit.run())
    assert (note.sheet, note.cell) == (F.FORM_SHEET, ref)
    assert "第二季數據待統計室提供" in note.message and note.value == "第二季數據待統計室提供"
    # A note written in Calc itself carries its author (dc:creator) and may run to
    # several paragraphs.
    rewrite(kit.inbox / ods.name, "content.xml", lambda xml: xml.replace(
        "<text:p text:style-name=\"P1\">第二季數據待統計室提供</text:p>".encode(),
        "<dc:creator>王小明</dc:creator><text:p>第二季數據</text:p><text:p>待統計室提供</text:p>".encode()))
    (note,) = said(kit.run())
    assert "王小明" in note.message and note.value == "第二季數據\n待統計室提供"


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_xltools_own_notes_in_a_correction_copy_are_not_said(tmp_path, second_plan_path, soffice, fmt):
    kit = Kit(tmp_path, second_plan_path)
    for unit in kit.plan.units:
        kit.ret(unit.name, {"A01": {"自評分數": 99}} if unit.name == UNIT else None)
    feedback = tmp_path / "補正"
    res = CliRunner().invoke(cli, ["merge", str(kit.plan.source), str(kit.inbox), "-o",
                                   str(tmp_path / "總表.xlsx"), "--feedback", str(feedback)])
    assert res.exit_code == 1, res.output
    (copy,) = feedback.iterdir()
    form = openpyxl.load_workbook(copy)[F.FORM_SHEET]
    assert any(c.comment for row in form.iter_rows() for c in row)  # it has xltool's notes
    # The unit opens the copy in LibreOffice and saves it (as .xlsx, or as .ods).
    saved = convert(soffice, copy, fmt if fmt == "ods" else "xlsx:Calc MS Excel 2007 XML",
                    tmp_path / "saved")
    back = tmp_path / "back"
    back.mkdir()
    shutil.copy(saved, back / saved.name)
    result = merge(kit.plan, [back])
    ret = result.status_of(UNIT).ret
    assert ret is not None and ret.rows, [i.message for i in ret.issues]
    assert said(result) == []
