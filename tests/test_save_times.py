"""The latest return wins by the real instant it was saved, in any time zone.

Excel stores UTC and says so; ODF stores local time without a zone; LibreOffice
saving .xlsx stores local time but labels it UTC. Under TZ=Asia/Taipei (UTC+8)
a merge must still pick the file that was truly saved last, and show people
local times."""
import json
import os
import subprocess
import sys
from datetime import datetime

import pytest
from returns import filled_book, set_producer, set_saved, set_saved_ods

from xltool.forms.ods_writer import write_ods
from xltool.forms.xlsx_writer import write_xlsx
from xltool.plan import load_plan

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="TZ is POSIX")
TAIPEI = {"TZ": "Asia/Taipei"}


def values(score):
    return {item: {"執行狀態": "完成", "執行績效與成果": f"辦理完成（{score} 分版）", "自評分數": score}
            for item in ("A01", "B01", "B02")}


def write(plan, folder, name, score, fmt):
    path = folder / f"112_數位轉型推動_甲組_{name}.{fmt}"
    (write_xlsx if fmt == "xlsx" else write_ods)(filled_book(plan, "甲組", values(score),
                                                             datetime(2024, 1, 2)), path)
    return path


def merge_in_taipei(plan_path, folder, tmp_path):
    report = tmp_path / f"{folder.name}.json"
    proc = subprocess.run([sys.executable, "-m", "xltool", "merge", str(plan_path), str(folder),
                           "-o", str(tmp_path / f"{folder.name}.xlsx"), "--report", str(report)],
                          env={**os.environ, **TAIPEI}, capture_output=True, text=True, timeout=300)
    assert "Traceback" not in proc.stderr, proc.stderr
    units = {u["unit"]: u for u in json.loads(report.read_text(encoding="utf-8"))["units"]}
    return units["甲組"], tmp_path / f"{folder.name}.xlsx"


@pytest.fixture
def plan(second_plan_path):
    return load_plan(second_plan_path)


def test_an_excel_correction_at_15_00_beats_an_ods_saved_at_14_00(plan, second_plan_path, tmp_path):
    folder = tmp_path / "case1"
    folder.mkdir()
    ods = write(plan, folder, "ods", 10, "ods")
    set_saved_ods(ods, datetime(2024, 1, 10, 14, 0))  # 14:00 in Taipei, no zone
    xlsx = write(plan, folder, "excel", 15, "xlsx")
    set_saved(xlsx, datetime(2024, 1, 10, 7, 0))  # 07:00Z = 15:00 in Taipei
    unit, master = merge_in_taipei(second_plan_path, folder, tmp_path)
    assert unit["file"] == xlsx.name and unit["superseded"] == [ods.name]
    assert unit["saved"] == "2024-01-10T15:00:00+08:00"
    from python_calamine import CalamineWorkbook
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("繳交狀態").to_python()
    shown = {r[2]: r[3] for r in rows[1:] if r[0] == "甲組"}
    assert shown[xlsx.name] == "113/01/10 15:00:00" and shown[ods.name] == "113/01/10 14:00:00"


def test_an_ods_saved_at_14_00_beats_an_excel_file_saved_at_13_00(plan, second_plan_path, tmp_path):
    folder = tmp_path / "case2"
    folder.mkdir()
    ods = write(plan, folder, "ods", 10, "ods")
    set_saved_ods(ods, datetime(2024, 1, 10, 14, 0))
    xlsx = write(plan, folder, "excel", 15, "xlsx")
    set_saved(xlsx, datetime(2024, 1, 10, 5, 0))  # 05:00Z = 13:00 in Taipei
    unit, _ = merge_in_taipei(second_plan_path, folder, tmp_path)
    assert unit["file"] == ods.name and unit["superseded"] == [xlsx.name]


def test_libreoffice_xlsx_times_are_local_whatever_their_label(plan, second_plan_path, tmp_path):
    """LibreOffice stamps a 13:30 Taipei save of .xlsx as 13:30Z: that is 13:30 local
    (05:30Z), so an Excel file saved at 14:00 Taipei (06:00Z) is the newer one. Read
    as UTC, the LibreOffice file would seem saved at 21:30 and win."""
    folder = tmp_path / "case3"
    folder.mkdir()
    lo = write(plan, folder, "lo", 10, "xlsx")
    set_saved(lo, datetime(2024, 1, 10, 13, 30))
    set_producer(lo, "LibreOffice/7.4.7.2$Linux_X86_64 LibreOffice_project/40$Build-2")
    excel = write(plan, folder, "excel", 15, "xlsx")
    set_saved(excel, datetime(2024, 1, 10, 6, 0))
    unit, _ = merge_in_taipei(second_plan_path, folder, tmp_path)
    assert unit["file"] == excel.name and unit["superseded"] == [lo.name]
    assert unit["saved"] == "2024-01-10T14:00:00+08:00"


def test_the_plans_time_zone_overrides_the_machines(second_plan_path, tmp_path):
    """A server in UTC merging returns from Taipei: the plan's 時區 +08:00 says how to
    read ODF's zone-less times (14:00 there is 06:00Z, older than Excel's 07:00Z)."""
    from plans import second_plan, write_plan

    data = second_plan()
    data["計畫"].append(["時區", "+08:00"])
    plan_path = write_plan(tmp_path / "plan_tz.xlsx", data)
    plan = load_plan(plan_path)
    assert plan.zone.utcoffset(None).total_seconds() == 8 * 3600
    folder = tmp_path / "case4"
    folder.mkdir()
    ods = write(plan, folder, "ods", 10, "ods")
    set_saved_ods(ods, datetime(2024, 1, 10, 14, 0))
    xlsx = write(plan, folder, "excel", 15, "xlsx")
    set_saved(xlsx, datetime(2024, 1, 10, 7, 0))
    report = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "xltool", "merge", str(plan_path), str(folder),
                           "-o", str(tmp_path / "m.xlsx"), "--report", str(report)],
                          env={**os.environ, "TZ": "UTC"}, capture_output=True, text=True,
                          timeout=300)
    assert "Traceback" not in proc.stderr
    unit = next(u for u in json.loads(report.read_text(encoding="utf-8"))["units"]
                if u["unit"] == "甲組")
    assert unit["file"] == xlsx.name and unit["saved"] == "2024-01-10T15:00:00+08:00"


def test_a_bad_time_zone_is_a_plan_error(tmp_path):
    from plans import second_plan, write_plan

    from xltool.plan import check_plan

    data = second_plan()
    data["計畫"].append(["時區", "台北"])
    _, issues = check_plan(write_plan(tmp_path / "p.xlsx", data))
    assert any(i.field == "時區" and i.is_error for i in issues)


def test_a_time_not_to_trust_is_told_beside_what_it_was_checked_against(plan, second_plan_path, tmp_path):
    """The warning says what the saved time was compared with, so that a clerk sees a
    clock or a time zone that is off: the template's making, or now."""
    folder = tmp_path / "case5"
    folder.mkdir()
    early = write(plan, folder, "early", 10, "xlsx")
    set_saved(early, datetime(2024, 1, 1, 0, 0))  # before the template (2024-01-02, Taipei)
    report = tmp_path / "r.json"
    proc = subprocess.run([sys.executable, "-m", "xltool", "merge", str(second_plan_path), str(folder),
                           "-o", str(tmp_path / "m.xlsx"), "--report", str(report)],
                          env={**os.environ, **TAIPEI}, capture_output=True, text=True, timeout=300)
    issues = [i for i in json.loads(report.read_text(encoding="utf-8"))["issues"]
              if i["code"] == "implausible-time"]
    assert len(issues) == 1, proc.stdout
    assert "存檔時間（113/01/01 08:00）早於填報表產生的時間（113/01/02 00:00）" in issues[0]["message"]
