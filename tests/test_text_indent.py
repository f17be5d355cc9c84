"""A unit's text keeps the indent its first line opens with: Chinese prose opens each
paragraph with two full-width spaces, and the merge trimmed the first one's while the
others kept theirs. Blank lines before the text and blanks after it still go (nothing
shows them), and blanks alone are still no text. Read back from the master written."""
from __future__ import annotations

import openpyxl
from returns import Kit
from test_blank_returns import checks, merged, sheet

UNIT = "甲組"  # second_plan
RESULT = "執行績效與成果"


def _details(master, item):
    (row,) = [r for r in sheet(master, "明細") if r["單位"] == UNIT and r["編號"] == item]
    return row


def test_the_first_lines_indent_is_kept_in_the_details_and_the_summary(tmp_path, second_plan_path):
    typed = "\n　　本局辦理說明會 3 場。\n　　參加人數 120 人。　 \n"
    kit = Kit(tmp_path, second_plan_path)
    kit.ret(UNIT, {"A01": {RESULT: typed}})
    _, master = merged(kit, tmp_path)
    kept = "　　本局辦理說明會 3 場。\n　　參加人數 120 人。"
    assert _details(master, "A01")[RESULT] == kept
    summary = openpyxl.load_workbook(master)["總表"]
    assert any(f"【{UNIT}】{kept}" in str(c.value) for row in summary.iter_rows() for c in row)
    assert not checks(master, "missing-value")


def test_blanks_alone_are_still_no_text(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    kit.ret(UNIT, {"A01": {RESULT: "　　 \n "}})
    _, master = merged(kit, tmp_path)
    (missing,) = checks(master, "missing-value")
    assert missing["欄位"] == RESULT and missing["嚴重度"] == "錯誤"


def test_zero_width_marks_alone_are_no_text(tmp_path, second_plan_path):
    """A 成果 of zero-width spaces shows nothing: it is not filled in."""
    kit = Kit(tmp_path, second_plan_path)
    kit.ret(UNIT, {"A01": {RESULT: "\u200b\u200b\ufeff"}})
    _, master = merged(kit, tmp_path)
    (missing,) = checks(master, "missing-value")
    assert missing["欄位"] == RESULT
