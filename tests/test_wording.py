"""The plan's wording is the agency's signed text: full-width punctuation and digits
reach every template, the master, the correction copies and the mail unchanged."""
import email
from datetime import datetime
from email import policy

import openpyxl
from click.testing import CliRunner
from plans import second_plan, write_plan
from python_calamine import CalamineWorkbook
from returns import fill

from xltool.cli import cli
from xltool.forms import fields as F
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

NAME = "新竹縣政府１１２年度數位轉型推動計畫（第一期）"
PRACTICE = "申辦案件於７日內辦結，並追蹤（含首長信箱）；目標９５％！"
METHOD = "擴充線上申辦項目，秘書室，主計室協助"
LEADS = "甲組，乙組、丙組"


def plan_path(tmp_path):
    data = second_plan()
    data["計畫"][1][1] = NAME
    row = data["項目"][1]
    row[3], row[4], row[5] = METHOD, LEADS, PRACTICE
    return write_plan(tmp_path / "plan.xlsx", data)


def test_full_width_wording_is_kept_everywhere(tmp_path):
    path = plan_path(tmp_path)
    plan = load_plan(path)
    item = plan.items[0]
    assert (plan.info.name, item.method, item.lead_text, item.practice) == (NAME, METHOD, LEADS,
                                                                            PRACTICE)
    assert item.leads == ("甲組", "乙組", "丙組")  # matched after normalising, shown as typed
    written = write_templates(plan, tmp_path / "tpl", units=["甲組"], formats=("xlsx", "ods"),
                              generated=datetime(2024, 1, 2))
    for w in written:
        rows = CalamineWorkbook.from_path(str(w.path)).get_sheet_by_name(F.FORM_SHEET).to_python()
        first = rows[F.FIRST_ITEM_ROW]
        assert first[3] == METHOD and first[4] == PRACTICE, w.path.suffix
        assert NAME in rows[F.TITLE_ROW][0]

    xlsx = tmp_path / "tpl" / template_filename(plan, "甲組", "xlsx")
    inbox = tmp_path / "in"
    inbox.mkdir()
    fill(xlsx, inbox / xlsx.name, {"A01": {"執行狀態": "完成", "執行績效與成果": "已辦理，計５場。",
                                            "自評分數": 99}})  # over the points: a correction
    res = CliRunner().invoke(cli, ["merge", str(path), str(inbox), "-o", str(tmp_path / "m.xlsx"),
                                   "--feedback", str(tmp_path / "fb")])
    assert res.exit_code == 1, res.output
    summary = openpyxl.load_workbook(tmp_path / "m.xlsx")["總表"]
    texts = {c.value for row in summary.iter_rows() for c in row if isinstance(c.value, str)}
    assert {METHOD, PRACTICE, LEADS} <= texts
    assert any("已辦理，計５場。" in t for t in texts)
    (copy,) = (tmp_path / "fb").iterdir()
    form = openpyxl.load_workbook(copy)[F.FORM_SHEET]
    assert form.cell(F.FIRST_ITEM_ROW + 1, 4).value == METHOD
    assert form.cell(F.FIRST_ITEM_ROW + 1, 5).value == PRACTICE

    res = CliRunner().invoke(cli, ["send", str(path), str(tmp_path / "tpl"), "-o",
                                   str(tmp_path / "out")])
    draft = next((tmp_path / "out").glob("*.eml"))
    message = email.message_from_bytes(draft.read_bytes(), policy=policy.default)
    assert "１１２" in str(message["Subject"]) or "數位轉型" in str(message["Subject"])
    assert NAME in message.get_body(("plain",)).get_content()
