"""When a unit sent several files, the one used and what is said about the others is
true: a tie of save time is a warning naming both files and the rule that chose, an
identical copy is a duplicate, a time that cannot be trusted (a clock 2 h fast, no
time at all, LibreOffice's local time read on a UTC server) is named as the reason,
and a blank template saved after the filled return loses to it. The master's
繳交狀態 and 檢核結果 are read back cell by cell, and `status` prints the reasons."""
import json
import os
import shutil
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from returns import Kit, rewrite, set_producer, set_saved

from xltool.cli import cli

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="TZ is POSIX")
ZONES = ["Asia/Taipei", "UTC"]
NOW = datetime.now(timezone.utc).replace(microsecond=0, tzinfo=None)  # naive UTC, as set_saved writes
LIBREOFFICE = "LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2"


def ret(kit, unit, name, score, text):
    ids = [i.id for i in kit.plan.items_for(unit)]
    return kit.ret(unit, {i: {"自評分數": score, "執行績效與成果": f"{text} {i}"} for i in ids}, name=name)


def merge(plan_path: Path, inbox: Path, tmp_path: Path, tz: str):
    """`xltool merge` under ``tz``: its output, the report's units and issues, the master."""
    master, report = tmp_path / f"總表_{tz.replace('/', '_')}.xlsx", tmp_path / f"r_{tz.replace('/', '_')}.json"
    proc = subprocess.run([sys.executable, "-m", "xltool", "merge", str(plan_path), str(inbox), "-o",
                           str(master), "--report", str(report)], env={**os.environ, "TZ": tz},
                          capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    data = json.loads(report.read_text(encoding="utf-8"))
    return proc.stdout, {u["unit"]: u for u in data["units"]}, master


def status(plan_path: Path, inbox: Path, tz: str) -> str:
    proc = subprocess.run([sys.executable, "-m", "xltool", "status", str(plan_path), str(inbox)],
                          env={**os.environ, "TZ": tz}, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stdout


def sheet(master: Path, name: str) -> list[dict]:
    """A sheet of the master as written, one dict per row by its header."""
    rows = list(openpyxl.load_workbook(master)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def status_rows(master: Path, unit: str) -> dict[str, dict]:
    return {r["檔案"]: r for r in sheet(master, "繳交狀態") if r["單位"] == unit}


def checks(master: Path, code: str) -> list[dict]:
    return [r for r in sheet(master, "檢核結果") if r["代碼"] == code]


@pytest.mark.parametrize("tz", ZONES)
def test_same_save_time_different_content_is_a_warning_naming_both_and_the_rule(
        tmp_path, second_plan_path, tz):
    kit = Kit(tmp_path, second_plan_path)
    first = ret(kit, "乙組", "乙組.xlsx", 4, "原始")
    fixed = ret(kit, "乙組", "乙組(修正).xlsx", 8, "修正")
    for path in (first, fixed):
        set_saved(path, datetime(2024, 1, 10, 5, 15, 54))  # one second, 13:15:54 in Taipei
    out, units, master = merge(second_plan_path, kit.inbox, tmp_path, tz)
    assert units["乙組"]["file"] == fixed.name and units["乙組"]["superseded"] == [first.name]
    (row,) = checks(master, "same-save-time")
    assert (row["嚴重度"], row["檔案"], row["單位"]) == ("警告", first.name, "乙組")
    message = row["說明"]
    assert "存檔時間相同" in message and "內容不同" in message and "檔名較長" in message
    assert f"「{first.name}」" in message and f"「{fixed.name}」" in message
    assert "存檔時間較晚" not in message
    assert not checks(master, "superseded")  # nothing claims a later save time
    shown = status_rows(master, "乙組")
    assert shown[first.name]["狀態"] == "已取代（未採用）" and shown[first.name]["說明"] == message
    assert shown[fixed.name]["存檔時間"] == shown[first.name]["存檔時間"]
    assert "已取代" in shown[fixed.name]["說明"]  # the row used points at the doubt
    assert message in out.replace("\n", "")


def test_a_tie_goes_to_the_file_the_collect_log_received_later(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    later = ret(kit, "乙組", "乙組_20240110T1400.xlsx", 8, "後寄")
    earlier = ret(kit, "乙組", "乙組_20240110T1300_更正.xlsx", 4, "先寄")  # the longer name
    for path in (later, earlier):
        set_saved(path, datetime(2024, 1, 10, 4, 0))
    with (kit.inbox / ".xltool-collect.jsonl").open("w", encoding="utf-8") as log:
        for path, sent in ((earlier, "2024-01-10T13:00:00+08:00"), (later, "2024-01-10T14:00:00+08:00")):
            log.write(json.dumps({"file": path.name, "unit": "乙組", "sender": "b@example.gov.tw",
                                  "date": sent, "message_id": f"<{sent}>"}, ensure_ascii=False) + "\n")
    out, units, master = merge(second_plan_path, kit.inbox, tmp_path, "Asia/Taipei")
    assert units["乙組"]["file"] == later.name
    (row,) = checks(master, "same-save-time")
    assert row["檔案"] == earlier.name and "依收件紀錄" in row["說明"] and "113/01/10 14:00" in row["說明"]


def test_a_tie_goes_to_the_file_with_fewer_problems_before_the_name(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    fine = ret(kit, "丙組", "丙組.xlsx", 5, "辦理")
    wrong = ret(kit, "丙組", "丙組_更正.xlsx", 999, "辦理")  # over the points: errors
    for path in (fine, wrong):
        set_saved(path, datetime(2024, 1, 10, 4, 0))
    _, units, master = merge(second_plan_path, kit.inbox, tmp_path, "UTC")
    assert units["丙組"]["file"] == fine.name
    (row,) = checks(master, "same-save-time")
    assert row["檔案"] == wrong.name and "問題較少" in row["說明"]
    assert not [r for r in checks(master, "out-of-range") if r["檔案"] == wrong.name]  # superseded


def test_the_streamed_master_settles_a_tie_as_the_scoring_does(tmp_path, second_plan_path):
    """The stream chooses with the collect log too: nothing to write again."""
    from xltool.master.merge import merge as do_merge
    from xltool.master.streaming import StreamedMaster
    from xltool.master.writer import write_master

    kit = Kit(tmp_path, second_plan_path)
    later = ret(kit, "甲組", "甲組_a.xlsx", 8, "後寄")
    earlier = ret(kit, "甲組", "甲組_b_更正.xlsx", 4, "先寄")  # by name alone, this one
    for path in (later, earlier):
        set_saved(path, datetime(2024, 1, 10, 4, 0))
    with (kit.inbox / ".xltool-collect.jsonl").open("w", encoding="utf-8") as log:
        for path, sent in ((earlier, "2024-01-10T13:00:00+08:00"), (later, "2024-01-10T14:00:00+08:00")):
            log.write(json.dumps({"file": path.name, "unit": "甲組", "date": sent}) + "\n")
    sequential = tmp_path / "sequential.xlsx"
    write_master(do_merge(kit.plan, [kit.inbox], workers=1), sequential)
    with StreamedMaster(kit.plan, tmp_path / "streamed.xlsx") as master:
        result = do_merge(kit.plan, [kit.inbox], master=master)
        master.commit(result)
    assert result.status_of("甲組").ret.path == later
    assert not master.rewritten
    assert (tmp_path / "streamed.xlsx").read_bytes() == sequential.read_bytes()


@pytest.mark.parametrize("tz", ZONES)
def test_an_identical_copy_is_a_duplicate(tmp_path, second_plan_path, tz):
    kit = Kit(tmp_path, second_plan_path)
    original = ret(kit, "丙組", "丙組.xlsx", 7, "辦理")
    set_saved(original, datetime(2024, 1, 10, 5, 0))
    copy = kit.inbox / "丙組 - 複製.xlsx"
    shutil.copy(original, copy)
    out, units, master = merge(second_plan_path, kit.inbox, tmp_path, tz)
    assert units["丙組"]["file"] == original.name and units["丙組"]["superseded"] == [copy.name]
    (row,) = checks(master, "duplicate-return")
    assert row["嚴重度"] == "說明" and row["檔案"] == copy.name and "內容完全相同" in row["說明"]
    assert not checks(master, "superseded") and not checks(master, "same-save-time")
    assert "內容完全相同" in status_rows(master, "丙組")[copy.name]["說明"]


@pytest.mark.parametrize("tz", ZONES)
def test_a_correction_from_a_fast_clock_loses_and_says_why(tmp_path, second_plan_path, tz):
    kit = Kit(tmp_path, second_plan_path)
    old = ret(kit, "甲組", "甲組.xlsx", 5, "第一版")
    set_saved(old, NOW - timedelta(hours=5))
    fast = ret(kit, "甲組", "甲組_更正.xlsx", 9, "更正版")
    set_saved(fast, NOW + timedelta(hours=2))  # saved on a PC whose clock is 2 h fast
    out, units, master = merge(second_plan_path, kit.inbox, tmp_path, tz)
    assert units["甲組"]["file"] == old.name  # the documented rule: an untrusted time loses
    (why,) = checks(master, "superseded-untimed")
    assert (why["嚴重度"], why["檔案"]) == ("警告", fast.name)
    assert "不可信" in why["說明"] and "晚於現在" in why["說明"] and "存檔時間較晚" not in why["說明"]
    (warning,) = checks(master, "implausible-time")  # the superseded file's own warning is kept
    assert warning["檔案"] == fast.name
    row = status_rows(master, "甲組")[fast.name]
    assert row["說明"] == why["說明"] and row["存檔時間"].endswith("（不可信）") and row["警告數"] == 1
    assert why["說明"] in out.replace("\n", "")
    shown = status(second_plan_path, kit.inbox, tz)
    assert "晚於現在" in shown and f"[警告] {fast.name}：「{fast.name}」" in shown


def test_a_file_that_records_no_save_time_loses_and_says_so(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    old = ret(kit, "南區服務站", "南區服務站_舊.xlsx", 4, "舊")
    set_saved(old, datetime(2024, 1, 10, 5, 0))
    new = ret(kit, "南區服務站", "南區服務站_新.xlsx", 9, "新")
    rewrite(new, "docProps/core.xml",
            lambda x: __import__("re").sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", x))
    _, units, master = merge(second_plan_path, kit.inbox, tmp_path, "Asia/Taipei")
    assert units["南區服務站"]["file"] == old.name
    (why,) = checks(master, "superseded-untimed")
    assert why["檔案"] == new.name and "沒有記錄存檔時間" in why["說明"]
    row = status_rows(master, "南區服務站")[new.name]
    assert row["說明"] == why["說明"] and row["存檔時間"] == "（未記錄）"


def _libreoffice_correction(kit):
    """甲組's first return (Excel, a true UTC stamp, an hour ago), then a correction saved
    in LibreOffice in Taipei a minute ago: LibreOffice 7.4 stamps local time as if UTC."""
    first = ret(kit, "甲組", "甲組.xlsx", 5, "第一版")
    set_saved(first, NOW - timedelta(hours=1))
    fixed = ret(kit, "甲組", "甲組_更正.xlsx", 9, "第二版")
    set_saved(fixed, NOW + timedelta(hours=8) - timedelta(minutes=1))  # Taipei's wall clock, "Z"
    set_producer(fixed, LIBREOFFICE)
    return first, fixed


def test_a_libreoffice_time_on_a_utc_server_hints_at_the_plans_time_zone(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    first, fixed = _libreoffice_correction(kit)
    out, units, master = merge(second_plan_path, kit.inbox, tmp_path, "UTC")
    assert units["甲組"]["file"] == first.name
    (warning,) = checks(master, "implausible-time")
    assert "「時區」" in warning["說明"] and "+08:00" in warning["說明"] and "UTC+00:00" in warning["說明"]
    (why,) = checks(master, "superseded-untimed")
    assert "時區" in why["說明"] and status_rows(master, "甲組")[fixed.name]["說明"] == why["說明"]
    # In Taipei the same files are read right: the correction wins, and no hint.
    _, units, master = merge(second_plan_path, kit.inbox, tmp_path, "Asia/Taipei")
    assert units["甲組"]["file"] == fixed.name and not checks(master, "implausible-time")


def test_no_time_zone_hint_with_the_plans_time_zone_or_for_an_excel_time(tmp_path):
    """With the plan's 時區 a UTC server reads LibreOffice's time right; and Excel writes a
    true UTC time, so a wrong one is the clock, not the 時區: no hint then."""
    from plans import second_plan, write_plan

    data = second_plan()
    data["計畫"].append(["時區", "+08:00"])
    plan_path = write_plan(tmp_path / "plan_tz.xlsx", data)
    kit = Kit(tmp_path, plan_path)
    _, fixed = _libreoffice_correction(kit)
    fast = ret(kit, "乙組", "乙組.xlsx", 9, "x")
    set_saved(fast, NOW + timedelta(hours=8))  # Excel on a PC 8 h fast
    _, units, master = merge(plan_path, kit.inbox, tmp_path, "UTC")
    assert units["甲組"]["file"] == fixed.name
    (warning,) = checks(master, "implausible-time")
    assert warning["檔案"] == fast.name and "時區" not in warning["說明"]
    assert status_rows(master, "乙組")[fast.name]["存檔時間"].endswith("（不可信）")


@pytest.mark.parametrize("tz", ZONES)
def test_a_blank_template_saved_after_the_filled_return_loses_and_is_pointed_out(tmp_path, second_plan_path, tz):
    """A blank file never beats a filled one, whatever the times (helper-C): the filled
    return is used, the blank one listed as such, and no doubt is raised about it."""
    kit = Kit(tmp_path, second_plan_path)
    filled = ret(kit, "北區服務站", "北區服務站.xlsx", 8, "北區")
    set_saved(filled, datetime(2024, 1, 10, 4, 0))
    blank = kit.inbox / "北區服務站_空白.xlsx"
    shutil.copy(kit.template("北區服務站"), blank)
    set_saved(blank, datetime(2024, 1, 10, 7, 0))
    _, units, master = merge(second_plan_path, kit.inbox, tmp_path, tz)
    assert units["北區服務站"]["file"] == filled.name and units["北區服務站"]["superseded"] == [blank.name]
    (row,) = checks(master, "blank-superseded")
    assert (row["嚴重度"], row["檔案"]) == ("說明", blank.name)
    assert "沒有填寫任何內容" in row["說明"] and f"已採用有填寫的「{filled.name}」" in row["說明"]
    assert "不論存檔時間早晚" in row["說明"]
    shown = status_rows(master, "北區服務站")
    assert shown[blank.name]["狀態"] == "空白（未填寫）" and shown[blank.name]["說明"] == row["說明"]
    assert shown[filled.name]["說明"] in (None, "")  # no doubt on the file used
    assert not checks(master, "same-save-time")


def test_status_prints_why_each_file_is_superseded(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    old = ret(kit, "甲組", "甲組.xlsx", 5, "舊")
    set_saved(old, datetime(2024, 1, 10, 4, 0))
    new = ret(kit, "甲組", "甲組_修正.xlsx", 9, "新")
    set_saved(new, datetime(2024, 1, 10, 6, 0))
    out = CliRunner().invoke(cli, ["status", str(second_plan_path), str(kit.inbox)]).output
    line = next(ln for ln in out.splitlines() if ln.startswith("[說明] 甲組.xlsx："))
    assert f"已由存檔時間較晚的「{new.name}」" in line
    assert out.index("已取代") < out.index(line)  # under the table
    _, _, master = merge(second_plan_path, kit.inbox, tmp_path, "Asia/Taipei")
    explained = status_rows(master, "甲組")[old.name]["說明"]
    assert explained == checks(master, "superseded")[0]["說明"] and "存檔時間較晚" in explained


def test_a_unit_that_sent_back_only_a_blank_template_has_not_returned(tmp_path, second_plan_path):
    """A blank template back (an acknowledgement, a mistaken attachment) is no return: the
    unit is 未繳 and is reminded, not sent a list of every empty cell to correct."""
    kit = Kit(tmp_path, second_plan_path)
    for unit in kit.plan.units:
        if kit.plan.items_for(unit.name) and unit.name != "資訊中心":
            ret(kit, unit.name, None, 8, unit.name)
    blank = kit.inbox / "資訊中心_收到.xlsx"
    shutil.copy(kit.template("資訊中心"), blank)
    _, units, master = merge(second_plan_path, kit.inbox, tmp_path, "Asia/Taipei")
    assert units["資訊中心"]["status"] == "未繳" and units["資訊中心"].get("file") in (None, "")
    (missing,) = [r for r in checks(master, "missing-return") if r["單位"] == "資訊中心"]
    assert f"「{blank.name}」沒有填寫任何內容" in missing["說明"]
    (why,) = checks(master, "blank-return")
    assert why["檔案"] == blank.name and why["說明"] in status_rows(master, "資訊中心")[blank.name]["說明"]
    assert not [r for r in sheet(master, "檢核結果") if r["檔案"] == blank.name and r["嚴重度"] == "錯誤"]
    out = CliRunner().invoke(cli, ["send", str(second_plan_path), "--remind", str(kit.inbox),
                                   "-o", str(tmp_path / "寄件匣")])
    assert out.exit_code in (0, 1), out.output
    assert "未繳 1 個單位：資訊中心" in out.output
    assert [p.name for p in (tmp_path / "寄件匣").glob("*.eml")] and all(
        "資訊中心" in p.name for p in (tmp_path / "寄件匣").glob("*.eml"))


@pytest.mark.parametrize("typed", [{"自評分數": 999}, {"自評分數": "十分"}])
def test_a_return_whose_only_entry_is_refused_is_not_blank(tmp_path, second_plan_path, typed):
    """A value the checks refuse is not kept in the rows, but it was typed: the unit is
    told of it (有誤), not taken for one that sent nothing (from helper-29)."""
    kit = Kit(tmp_path, second_plan_path)
    ids = [i.id for i in kit.plan.items_for("資訊中心")]
    path = kit.inbox / "資訊中心.xlsx"
    shutil.copy(kit.template("資訊中心"), path)
    from returns import fill

    fill(kit.template("資訊中心"), path, {ids[0]: typed})
    _, units, master = merge(second_plan_path, kit.inbox, tmp_path, "Asia/Taipei")
    assert units["資訊中心"]["status"] == "有誤"
    assert not checks(master, "blank-return")
