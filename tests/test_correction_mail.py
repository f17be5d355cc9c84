"""The correction mail and the correction copy it attaches say the same: the mail lists
exactly the entries of the copy's 待修正事項 sheet, each in its words (an inserted row,
a formula, a blank, a value out of range alike); and, as a reminder does, it warns
(deadline-passed) when the deadline it states has passed, and takes --deadline."""
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from returns import Kit, set_saved
from test_mail_drafts import checked

from xltool.cells import roc_date
from xltool.cli import cli
from xltool.forms import fields as F
from xltool.mail.reminders import prepare_corrections

TEXT = "補充：本組另辦理櫃臺人員教育訓練 2 場。"
COL = {c.name: i + 1 for i, c in enumerate(F.COLUMNS)}  # 1-based, for openpyxl


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


@pytest.fixture
def copy_of(tmp_path, second_plan_path):
    """甲組's return: a score over the points (A01), a formula in B01's result, B02's
    result blank, and a row inserted under A01 with text in it; merged with --feedback."""
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret("甲組", {"A01": {"自評分數": 99}, "B02": {"執行績效與成果": None}})
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM_SHEET]
    ws.cell(F.FIRST_ITEM_ROW + 2, COL["執行績效與成果"]).value = "=1+1"  # B01: a real formula
    ws.insert_rows(F.FIRST_ITEM_ROW + 2)
    ws.cell(F.FIRST_ITEM_ROW + 2, COL["執行績效與成果"]).value = TEXT
    wb.save(path)
    for unit in ("乙組", "丙組", "資訊中心", "北區服務站", "南區服務站"):
        kit.ret(unit)
    kit.feedback = tmp_path / "補正"
    res = run("merge", kit.plan.source, kit.inbox, "-o", tmp_path / "總表.xlsx", "--feedback", kit.feedback)
    assert res.exit_code == 1, res.output
    return kit


def todo_of(path):
    sheet = openpyxl.load_workbook(path)["待修正事項"]
    names = [c.value for c in sheet[4]]
    return [dict(zip(names, (c.value for c in r))) for r in sheet.iter_rows(min_row=5)
            if r[0].value is not None]


def body_of(outbox):
    (eml,) = outbox.glob("*_補正.eml")
    msg = checked(eml.read_bytes())
    return msg, msg.get_body(("plain",)).get_content()


def test_the_mail_lists_exactly_the_entries_of_the_copy_in_its_words(copy_of, tmp_path):
    (copy,) = copy_of.feedback.iterdir()
    todo = todo_of(copy)
    assert len(todo) == 4
    out = tmp_path / "寄件匣"
    res = run("send", copy_of.plan.source, "--corrections", copy_of.feedback, "-o", out,
              "--deadline", roc_date(date.today() + timedelta(days=7)))
    assert res.exit_code == 0, res.output
    _, body = body_of(out)
    lines = [line for line in body.splitlines() if re.match(r"\d+\. ", line)]
    assert len(lines) == len(todo) and f"尚有下列 {len(todo)} 處需要修正" in body
    for n, (line, entry) in enumerate(zip(lines, todo), start=1):
        severity, _, message = entry["問題與修正方式"].partition(" ")
        assert line.startswith(f"{n}. {severity} "), line
        assert message in line, line
        sheet, _, cell = entry["儲存格"].rpartition("!")
        assert f"工作表「{sheet.removeprefix('原檔 ')}」儲存格 {cell}" in line, line
        if entry["欄位"]:
            assert f"（{entry['欄位']}）" in line
        if entry["填寫內容"]:
            assert f"目前填寫：{entry['填寫內容']}" in line
        if entry["應填內容"]:
            assert f"應為：{entry['應填內容']}" in line
    formula = next(line for line in lines if "B01" in line)
    assert "是公式而非數值" in formula and "未填" not in formula
    inserted = next(line for line in lines if TEXT in line)
    assert "本檔未保留此列" in inserted and "原檔" in inserted


def test_a_correction_warns_when_its_deadline_has_passed(copy_of, tmp_path):
    plan = copy_of.plan
    assert plan.info.deadline < date.today()
    batch = prepare_corrections(plan, copy_of.feedback)
    assert [i.code for i in batch.issues] == ["deadline-passed"]

    out = tmp_path / "寄件匣"
    res = run("send", plan.source, "--corrections", copy_of.feedback, "-o", out)
    assert res.exit_code == 0, res.output
    old = roc_date(plan.info.deadline)
    assert f"[警告] 計畫檔的繳交期限 {old} 已過" in res.output and "--deadline" in res.output
    msg, body = body_of(out)
    assert old in str(msg["Subject"]) and f"於 {old} 前" in body  # as the warning says

    # A past --deadline is warned about too; a coming one is not, and the mail states it.
    res = run("send", plan.source, "--corrections", copy_of.feedback, "-o", out, "--resend",
              "--deadline", roc_date(date.today() - timedelta(days=1)))
    assert res.exit_code == 0 and "--deadline 的日期" in res.output and "已過" in res.output
    new = roc_date(date.today() + timedelta(days=7))
    res = run("send", plan.source, "--corrections", copy_of.feedback, "-o", out, "--resend",
              "--deadline", new)
    assert res.exit_code == 0 and "已過" not in res.output, res.output
    msg, body = body_of(out)
    assert new in str(msg["Subject"]) and f"於 {new} 前" in body


def test_a_copy_saved_again_is_not_mailed_back(copy_of, tmp_path):
    """The unit's fixed copy, saved into 補正 by the secretariat, is not its correction
    mail: only the copy xltool wrote, untouched since, goes out."""
    (copy,) = copy_of.feedback.iterdir()
    edited = copy.with_name(copy.stem + "(單位修正).xlsx")
    wb = openpyxl.load_workbook(copy)
    wb[F.FORM_SHEET].cell(F.FIRST_ITEM_ROW + 1, COL["自評分數"]).value = 18
    wb.save(edited)  # saved by another program: its save time is its own
    set_saved(edited, datetime(2024, 1, 12, 2, 0))  # (not by chance the copy's own second)
    out = tmp_path / "寄件匣"
    res = run("send", copy_of.plan.source, "--corrections", copy_of.feedback, "-o", out)
    assert res.exit_code in (0, 1), res.output
    assert edited.name in res.output and "未寄出" in res.output
    (eml,) = out.glob("*_補正.eml")
    attached = [p.get_filename() for p in checked(eml.read_bytes()).iter_attachments()]
    assert attached == [copy.name]


def test_each_fix_is_a_sentence_before_what_was_typed():
    """A problem said without its 。 (a date's) does not run into 目前填寫."""
    from types import SimpleNamespace

    from xltool.mail.reminders import fix_lines

    copy = SimpleNamespace(path=Path("甲組_待修正.xlsx"), todo=[{
        "儲存格": "填報表!K3", "欄位": "填報日期",
        "問題與修正方式": "[錯誤] 「填報日期」須為日期，例如 116/1/8（民國年）或 2027/1/8",
        "填寫內容": "下週五", "應填內容": ""}])
    (line,) = fix_lines([copy])
    assert "或 2027/1/8。目前填寫：下週五。" in line, line
