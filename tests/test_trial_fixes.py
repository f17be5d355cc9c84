"""Five findings of a new secretariat's trial, held: `xltool check` lists the faults
of the other sheets beside a broken 計畫 sheet; a correction copy's 待修正事項 prints
at full size (its introduction wrapped across the table, the table within A4's
width), in .xlsx and .ods; a reminder names the blank file as the unit mailed it;
`collect` shows times as every other screen does (ROC); the merge report gives
every time in one shape (to the second, with its offset)."""
from __future__ import annotations

import json
import re
import shutil
from datetime import datetime, timedelta, timezone
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, formataddr
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_PLAN
from odfcheck import q, validate, xml
from plans import second_plan, write_plan
from returns import GOOD, Kit, filled_book, rewrite

from xltool.cli import cli
from xltool.forms.ods_writer import write_ods
from xltool.forms.template import template_filename
from xltool.forms.todo import TODO_COLUMNS, TODO_SHEET
from xltool.plan import check_plan

TAIPEI = timezone(timedelta(hours=8))
ARRIVED = datetime(2024, 1, 10, 9, 0, tzinfo=TAIPEI)  # 113/01/10 09:00 where the units are
ARRIVED_SHOWN = "113/01/10 09:00"


def run(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def found(issues):
    return sorted((i.code, i.sheet, i.cell) for i in issues)


# ------------------------------------------------------------------ 1. check lists everything


def _info_row(sheets: dict, label: str) -> list:
    return next(r for r in sheets["計畫"] if r[0] == label)


def test_a_broken_plan_sheet_does_not_hide_the_points_and_leads_of_the_others(tmp_path):
    p = second_plan()
    _info_row(p, "年度")[1] = 112.1  # a number, not a whole year: 計畫!B4
    _info_row(p, "繳交期限")[1] = "下週五"  # 計畫!B7
    p["項目"][4][8] = 20.75  # B01: 數位創新 now sums 40.5, not 39.5
    p["單位"].append(["西區服務站", "服務站", "", "", ""])  # in no group: leads nothing
    issues = check_plan(write_plan(tmp_path / "plan.xlsx", p))[1]
    assert found(issues) == [("points-mismatch", "構面", "C3"), ("type-error", "計畫", "B4"),
                             ("type-error", "計畫", "B7"), ("unit-without-items", "單位", "A8")]
    res = run("check", tmp_path / "plan.xlsx")
    assert res.exit_code != 0
    for said in ("構面「數位創新」配分 39.5，但其項目配分合計 40.5。", "單位「西區服務站」沒有主辦任何項目",
                 "年度", "繳交期限"):
        assert said in res.output, res.output


def test_a_broken_plan_sheet_still_lets_the_not_applicable_word_be_checked(tmp_path):
    p = second_plan()
    _info_row(p, "年度")[1] = "一一二"
    _info_row(p, "不適用選項")[1] = "不用填"  # not in the 執行狀態 list
    issues = check_plan(write_plan(tmp_path / "plan.xlsx", p))[1]
    assert ("not-in-list", "計畫", "") in found(issues) and ("type-error", "計畫", "B4") in found(issues)


def test_a_plan_sheet_that_cannot_be_read_at_all_adds_no_follow_on_faults(tmp_path):
    p = second_plan()
    p["計畫"][0] = ["項目", "值"]  # not 欄位｜內容: no field can be read
    p["項目"][4][8] = 20.75
    issues = check_plan(write_plan(tmp_path / "plan.xlsx", p))[1]
    assert found(issues) == [("missing-column", "計畫", "A1"), ("points-mismatch", "構面", "C3")]


def test_the_example_plan_with_its_year_and_an_item_broken_lists_both(tmp_path):
    wb = openpyxl.load_workbook(EXAMPLE_PLAN)
    info = wb["計畫"]
    row = next(r for r in range(1, info.max_row + 1) if info.cell(r, 1).value == "年度")
    info.cell(row, 2).value = 109.1
    items = wb["項目"]
    dimension = items["B4"].value
    items["I4"].value = items["I4"].value + 1
    wb.save(tmp_path / "plan.xlsx")
    issues = check_plan(tmp_path / "plan.xlsx")[1]
    assert ("type-error", "計畫", f"B{row}") in found(issues)
    (mismatch,) = [i for i in issues if i.code == "points-mismatch"]
    assert f"構面「{dimension}」" in mismatch.message and mismatch.sheet == "構面"


# ------------------------------------------------------------------ a round by mail

TEMPLATES_GENERATED = datetime(2024, 1, 2)


def _plan_data() -> dict:
    data = second_plan()
    data["計畫"].append(["時區", "+08:00"])
    return data


def _mail(msg_id: str, unit: str, sender: str, attachments: list[tuple[str, bytes]],
          date_header: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["Received"] = f"from relay.hsinchu.example by mx.example.gov.tw; {format_datetime(ARRIVED)}"
    msg["From"] = formataddr((unit, sender))
    msg["To"] = "it@hsinchu.example"
    msg["Subject"] = f"Re: {unit} 填報表"
    msg["Date"] = date_header or format_datetime(ARRIVED)
    msg["Message-ID"] = msg_id
    msg.set_content("請查收。")
    for name, data in attachments:
        msg.add_attachment(data, maintype="application", subtype="octet-stream", filename=name)
    return msg.as_bytes()


def _fractional_save_time(path: Path) -> None:
    """The dc:date LibreOffice writes: local time with fractions of a second, no zone."""
    rewrite(path, "meta.xml", lambda x: re.sub(rb"<dc:date>[^<]*</dc:date>",
                                               b"<dc:date>2024-01-10T08:30:35.189024000</dc:date>", x))


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    """The second plan (時區 +08:00) mailed out; the units' replies collected: 甲組 an .xlsx
    with an error and a photo, 乙組 an .ods with an error (saved by LibreOffice, its save
    time in fractions of a second; its Date header marked -0000), 資訊中心 its blank
    template; 丙組 and the 服務站 nothing."""
    root = tmp_path_factory.mktemp("trial")
    kit = Kit(root, write_plan(root / "plan.xlsx", _plan_data()))
    plan = kit.plan
    xlsx_error = kit.ret("甲組", {"A01": {"自評分數": 99}}, name="work.xlsx").read_bytes()
    values = {i.id: {**GOOD} for i in plan.items_for("乙組")}
    values["A01"]["自評分數"] = 99
    ods = root / "乙組.ods"
    write_ods(filled_book(plan, "乙組", values, TEMPLATES_GENERATED), ods)
    _fractional_save_time(ods)
    kit.sent = {unit: template_filename(plan, unit, fmt) for unit, fmt in
                (("甲組", "xlsx"), ("乙組", "ods"), ("資訊中心", "xlsx"))}
    mails = root / "收件匣"
    mails.mkdir()
    (mails / "1.eml").write_bytes(_mail("<1@hsinchu.example>", "甲組", "a@hsinchu.example",
                                        [(kit.sent["甲組"], xlsx_error), ("活動照片.jpg", b"\xff\xd8\xff\xe0 jpeg")]))
    (mails / "2.eml").write_bytes(_mail("<2@hsinchu.example>", "乙組", "b@hsinchu.example",
                                        [(kit.sent["乙組"], ods.read_bytes())],
                                        date_header="Wed, 10 Jan 2024 00:59:00 -0000"))
    (mails / "3.eml").write_bytes(_mail("<3@hsinchu.example>", "資訊中心", "it@hsinchu.example",
                                        [(kit.sent["資訊中心"], kit.template("資訊中心").read_bytes())]))
    kit.returns = root / "回收"
    kit.collected = run("collect", mails, "--plan", plan.source, "-o", kit.returns)
    assert kit.collected.exception is None or isinstance(kit.collected.exception, SystemExit), \
        kit.collected.output
    kit.stored = {json.loads(line)["unit"]: json.loads(line)["file"] for line in
                  (kit.returns / ".xltool-collect.jsonl").read_text(encoding="utf-8").splitlines()
                  if json.loads(line).get("kind") != "evidence"}
    assert sorted(kit.stored) == ["乙組", "甲組", "資訊中心"]
    kit.feedback = root / "補正"
    kit.report = root / "report.json"
    merged = run("merge", plan.source, kit.returns, "-o", root / "總表.xlsx", "--feedback", kit.feedback,
                 "--report", kit.report)
    assert merged.exit_code == 1, merged.output  # 甲組 and 乙組 have errors
    kit.copies = {p.suffix: p for p in kit.feedback.iterdir()}
    assert sorted(kit.copies) == [".ods", ".xlsx"]
    return kit


# ------------------------------------------------------------------ 2. the to-do sheet prints full size

# A4 landscape less the copy's margins (0.4 in each side): what one page holds across.
PRINTABLE_CM = 29.7 - 2 * 0.4 * 2.54
XLSX_CM_PER_CHAR = 0.2151  # a column width unit, as LibreOffice lays it out (ods_writer.CM_PER_CHAR)


def test_the_xlsx_to_do_sheet_wraps_its_introduction_across_a_table_a4_holds(cycle):
    ws = openpyxl.load_workbook(cycle.copies[".xlsx"])[TODO_SHEET]
    assert "A2:F2" in {str(r) for r in ws.merged_cells.ranges}
    assert len(TODO_COLUMNS) == 6  # A to F
    intro = ws["A2"]
    assert intro.value.startswith("本檔依") and intro.alignment.wrap_text
    assert f"「{cycle.sent['甲組']}」" in intro.value
    assert ws.row_dimensions[2].height >= 30  # two lines at least: the row shows them
    widths = [ws.column_dimensions[c].width for c in "ABCDEF"]
    # XlsxWriter stores each width plus its padding (5 px of 7 per character).
    assert (sum(widths)) * XLSX_CM_PER_CHAR <= PRINTABLE_CM, widths
    assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.orientation == "landscape"


def _column_cm(width: str) -> float:
    assert width.endswith("cm"), width
    return float(width[:-2])


def test_the_ods_to_do_sheet_wraps_its_introduction_across_a_table_a4_holds(cycle):
    path = cycle.copies[".ods"]
    assert validate([path]) == []
    content = xml(path, "content.xml")
    styles = {s.get(q("style:name")): s for s in content.iter(q("style:style"))}
    table = next(t for t in content.iter(q("table:table")) if t.get(q("table:name")) == TODO_SHEET)
    rows = list(table.iter(q("table:table-row")))
    intro_row = rows[1]
    first, *rest = [c for c in intro_row if c.tag in (q("table:table-cell"), q("table:covered-table-cell"))]
    assert "".join(first.itertext()).startswith("本檔依")
    assert first.get(q("table:number-columns-spanned")) == str(len(TODO_COLUMNS))
    assert [c.tag for c in rest[:len(TODO_COLUMNS) - 1]] == [q("table:covered-table-cell")] * (len(TODO_COLUMNS) - 1)
    cell_props = styles[first.get(q("table:style-name"))].find("style:table-cell-properties", {
        "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0"})
    assert cell_props.get(q("fo:wrap-option")) == "wrap"
    row_props = styles[intro_row.get(q("table:style-name"))][0]
    assert float(row_props.get(q("style:row-height"))[:-2]) >= 30
    columns = [styles[c.get(q("table:style-name"))][0].get(q("style:column-width"))
               for c in table.iter(q("table:table-column"))]
    assert sum(_column_cm(w) for w in columns[:len(TODO_COLUMNS)]) <= PRINTABLE_CM, columns


@pytest.mark.libreoffice
@pytest.mark.parametrize("suffix", [".xlsx", ".ods"])
def test_the_to_do_sheet_prints_at_full_size(cycle, suffix, soffice, tmp_path):
    """Measured on the PDF LibreOffice prints: type of 11 pt printed at 90 % or more."""
    from lo_pdf import pages, to_pdf

    src = tmp_path / f"copy{suffix}"
    shutil.copy(cycle.copies[suffix], src)
    (page, *_) = [p for p in pages(to_pdf(soffice, src, tmp_path / "pdf")) if "待修正事項" in p.texts]
    assert page.width > page.height
    assert set(TODO_COLUMNS) <= set(page.texts)
    assert page.min_cjk_points() >= 0.9 * 11, page.min_cjk_points()


# ------------------------------------------------------------------ 3. the reminder names the file as sent


def test_the_reminder_names_the_blank_file_as_the_unit_mailed_it(cycle, tmp_path):
    out = tmp_path / "寄件匣"
    res = run("send", cycle.plan.source, "--remind", cycle.returns, "-o", out)
    assert res.exception is None or isinstance(res.exception, SystemExit), res.output
    path = next(out.glob("資訊中心*.eml"))
    body = BytesParser(policy=policy.default).parsebytes(path.read_bytes()).get_body(("plain",)).get_content()
    sent, stored = cycle.sent["資訊中心"], cycle.stored["資訊中心"]
    assert sent != stored
    assert (f"收到的貴單位回傳「{sent}」（{ARRIVED_SHOWN} 收到，收件後存為「{stored}」）沒有填寫任何內容"
            in body), body


def test_a_blank_file_no_collect_log_names_is_named_as_it_is():
    from xltool.mail.reminders import sent_as

    assert sent_as("資訊中心.xlsx", None) == "「資訊中心.xlsx」"
    assert sent_as("資訊中心.xlsx", {"attachment": "資訊中心.xlsx", "date": "x"}) == "「資訊中心.xlsx」"
    shown = sent_as("a.xlsx", {"attachment": "成果\x07" + "長" * 200 + ".xlsx", "date": "not a time"})
    assert shown.startswith("「成果") and shown.endswith("」（收件後存為「a.xlsx」）")
    assert "\x07" not in shown and len(shown) < 120


# ------------------------------------------------------------------ 4. collect shows ROC times


def test_collect_shows_when_each_file_came_as_every_screen_does(cycle):
    out = cycle.collected.output
    lines = [ln for ln in out.splitlines() if ln.startswith("  ") and "（" in ln]
    assert any(ln.startswith("  甲組：") for ln in lines) and any("佐證資料（甲組）" in ln for ln in lines), out
    for line in lines:
        assert line.endswith(f"，{ARRIVED_SHOWN}）"), line
    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", out), out


# ------------------------------------------------------------------ 5. one time shape in the report

ISO_SECONDS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d\d:\d\d")
TIME_FIELDS = {"saved", "sent", "received", "date"}


def _times(value, path=""):
    if isinstance(value, dict):
        for k, v in value.items():
            if k in TIME_FIELDS and isinstance(v, str):
                yield f"{path}.{k}", v
            else:
                yield from _times(v, f"{path}.{k}")
    elif isinstance(value, list):
        for n, v in enumerate(value):
            yield from _times(v, f"{path}[{n}]")


def test_every_time_in_the_report_is_to_the_second_with_its_offset(cycle):
    report = json.loads(cycle.report.read_text(encoding="utf-8"))
    times = dict(_times({k: report[k] for k in ("units", "files", "unassigned_evidence")}))
    assert {p.rsplit(".", 1)[1] for p in times} == TIME_FIELDS, times  # each kind is there
    bad = {p: t for p, t in times.items() if not ISO_SECONDS.fullmatch(t)}
    assert not bad, bad
    unit = next(u for u in report["units"] if u["unit"] == "乙組")
    assert unit["saved"] == "2024-01-10T08:30:35+08:00"  # LibreOffice's fractions dropped
    record = next(f for f in report["files"] if f["unit"] == "乙組")
    assert record["saved"] == unit["saved"]
    assert record["sender"]["sent"] == "2024-01-10T00:59:00+00:00"  # -0000: UTC
    assert record["sender"]["received"] == "2024-01-10T09:00:00+08:00"


def test_a_time_the_report_cannot_read_is_kept_as_it_is():
    from xltool.master.report import report_time

    assert report_time("2024-01-10T08:30:35.5+08:00") == "2024-01-10T08:30:35+08:00"
    assert report_time("2024-01-10T08:30:35") == "2024-01-10T08:30:35+00:00"
    assert report_time("昨天") == "昨天" and report_time(None) is None and report_time("") == ""
    assert report_time(datetime(2024, 1, 10, 0, 30, 35, 189024, tzinfo=timezone.utc), TAIPEI) \
        == "2024-01-10T08:30:35+08:00"


def test_readme_says_the_shape_of_the_reports_times():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("### 報告檔格式", 1)[1].split("問題代碼一覽", 1)[0]
    assert "精確到秒" in section and "2020-07-08T14:00:00+08:00" in section
