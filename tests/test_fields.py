"""fields.py is the single source: a column added to the declarations appears in the
template, is read by intake, and lands in the master and the correction copies."""
import openpyxl
import pytest
from returns import Kit

from xltool.forms import fields as F
from xltool.master.feedback import write_feedback
from xltool.master.writer import write_master

NOTE = F.Column("備註", 16, "text", input=True, prompt="可補充說明（選填）。", role="note")


@pytest.fixture
def with_note(monkeypatch):
    monkeypatch.setattr(F, "INPUT_COLUMNS", F.INPUT_COLUMNS + (NOTE,))
    monkeypatch.setattr(F, "COLUMNS", F.PLAN_COLUMNS + F.INPUT_COLUMNS)


def test_a_new_input_column_reaches_every_stage(with_note, tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    ws = openpyxl.load_workbook(kit.template("甲組"))[F.FORM_SHEET]
    header = [c.value for c in ws[F.HEADER_ROW + 1]]
    assert header[-1] == "備註" and len(header) == len(F.COLUMNS)
    note_col = len(F.COLUMNS)
    assert not ws.cell(F.FIRST_ITEM_ROW + 1, note_col).protection.locked

    kit.ret("甲組", {"A01": {"備註": "另附會議紀錄", "自評分數": 99}})
    result = kit.run()
    ret = result.status_of("甲組").ret
    assert ret.rows["A01"].values["備註"] == "另附會議紀錄"
    assert not [i for i in ret.issues if i.code.startswith("structure")]

    master = tmp_path / "m.xlsx"
    write_master(result, master)
    detail = openpyxl.load_workbook(master)["明細"]
    head = [c.value for c in detail[1]]
    assert head[3:3 + len(F.INPUT_COLUMNS)] == [c.name for c in F.INPUT_COLUMNS]
    assert head[-2:] == ["檢核", "檢核代碼"]  # words to read, codes (hidden) for scripts
    row = next(r for r in detail.iter_rows(min_row=2, values_only=True)
               if r[0] == "甲組" and r[1] == "A01")
    assert row[head.index("備註")] == "另附會議紀錄" and "out-of-range" in row[-1]
    assert "out-of-range" not in row[-2] and row[-2]

    feedback = write_feedback(result, tmp_path / "fb")
    (copy,) = feedback.written
    form = openpyxl.load_workbook(copy)[F.FORM_SHEET]
    assert form.cell(F.HEADER_ROW + 1, note_col).value == "備註"
    assert form.cell(F.FIRST_ITEM_ROW + 1, note_col).value == "另附會議紀錄"
