"""End to end through the command line: init, check, template."""
import os
import re
import shutil
import subprocess
import sys

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from python_calamine import CalamineWorkbook

from xltool.cli import cli
from xltool.plan import SHEETS


def test_init_writes_a_starter_plan_with_instructions_and_lists(tmp_path):
    runner = CliRunner()
    target = tmp_path / "plan.xlsx"
    res = runner.invoke(cli, ["init", str(target)])
    assert res.exit_code == 0, res.output
    wb = openpyxl.load_workbook(target)
    assert wb.sheetnames == list(SHEETS)
    assert [c.value for c in wb["項目"][1]] == [
        "編號", "構面", "執行策略", "執行方法", "主辦單位", "具體作法", "目標值", "計量單位", "配分"]
    assert [c.value for c in wb["單位"][1]] == ["名稱", "類別", "群組", "別名", "電子郵件"]
    assert [wb["選項"].cell(r, 1).value for r in range(1, 6)] == [
        "執行狀態", "已完成", "執行中", "未執行", "不適用"]
    info = wb["計畫"]
    labels = {info.cell(r, 1).value: r for r in range(2, info.max_row + 1)}
    assert info.cell(labels["考核年月"], 2).number_format == "@"
    assert info.cell(labels["繳交期限"], 2).is_date or \
        info.cell(labels["繳交期限"], 2).number_format == "yyyy/mm/dd"
    dvs = {str(d.sqref).split(":")[0]: d for d in wb["項目"].data_validations.dataValidation}
    assert dvs["E2"].type == "list" and dvs["E2"].formula1 == "單位名稱"
    assert dvs["E2"].errorStyle == "information"  # groups and lists of units stay allowed
    assert dvs["B2"].formula1 == "構面名稱"
    assert all(d.prompt for d in dvs.values())
    # A blank plan is not a valid plan yet: check says what to fill in.
    check = runner.invoke(cli, ["check", str(target)])
    assert check.exit_code == 1 and "計畫名稱" in check.output and "B2" in check.output
    again = runner.invoke(cli, ["init", str(target)])
    assert again.exit_code == 2 and "--force" in again.output


def test_init_ods(tmp_path):
    res = CliRunner().invoke(cli, ["init", str(tmp_path / "plan.ods")])
    assert res.exit_code == 0, res.output
    wb = CalamineWorkbook.from_path(str(tmp_path / "plan.ods"))
    assert wb.sheet_names == list(SHEETS)


def test_template_end_to_end_both_formats(example_plan, tmp_path):
    res = CliRunner().invoke(cli, ["template", str(example_plan), "-o", str(tmp_path),
                                   "--format", "both"])
    assert res.exit_code == 0, res.output
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 24
    assert "109_提升服務效能_第一課.xlsx" in names and "109_提升服務效能_政風室.ods" in names


def test_template_with_a_broken_plan_exits_2_and_lists_faults(tmp_path):
    from plans import second_plan, write_plan

    p = second_plan()
    p["項目"][1][4] = "總務科"
    res = CliRunner().invoke(cli, ["template", str(write_plan(tmp_path / "b.xlsx", p)),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 2
    assert "總務科" in res.output and "E2" in res.output
    assert not (tmp_path / "out").exists()


def test_unreadable_plan_is_a_message_not_a_traceback(tmp_path):
    bad = tmp_path / "plan.xlsx"
    bad.write_bytes(b"%PDF-1.4 not a workbook")
    res = CliRunner().invoke(cli, ["check", str(bad)])
    assert res.exit_code == 1
    assert "plan.xlsx" in res.output and "Traceback" not in res.output


def test_every_command_is_documented_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in cli.commands:
        assert re.search(rf"xltool {name}\b", readme), f"README does not show `xltool {name}`"


def test_click_speaks_traditional_chinese_too(tmp_path):
    runner = CliRunner()
    assert "用法：" in runner.invoke(cli, ["--help"]).output
    missing = runner.invoke(cli, ["merge"])
    assert missing.exit_code == 2 and "缺少參數" in missing.output
    bad = runner.invoke(cli, ["template", str(tmp_path / "none.xlsx"), "-o", str(tmp_path)])
    assert bad.exit_code == 2 and "不存在" in bad.output


def _exit_code(argv) -> int:
    from xltool.cli import main

    with pytest.raises(SystemExit) as stop:
        main([str(a) for a in argv])
    return stop.value.code


def test_a_bug_in_xltool_exits_3_and_asks_to_report_it(example_plan, monkeypatch, capsys):
    import xltool.plan

    def broken(path):
        raise RuntimeError("boom")

    monkeypatch.delenv("XLTOOL_DEBUG", raising=False)
    monkeypatch.setattr(xltool.plan, "check_plan", broken)
    assert _exit_code(["check", example_plan]) == 3
    err = capsys.readouterr().err
    assert "internal-error" in err and "回報開發者" in err and "RuntimeError: boom" in err
    assert "Traceback" not in err


def test_exit_codes_for_bad_arguments_and_a_bad_plan(tmp_path, capsys):
    assert _exit_code(["merge"]) == 2  # missing arguments
    assert _exit_code(["check", tmp_path / "nothing.xlsx"]) == 2  # no such file
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"not a workbook")
    assert _exit_code(["template", bad, "-o", tmp_path / "t"]) == 2  # unusable plan
    assert "Traceback" not in capsys.readouterr().err


@pytest.mark.skipif(sys.platform == "win32", reason="the patch reaches workers by fork")
def test_a_bug_while_reading_one_return_lets_the_merge_finish_and_exits_3(
        example_plan, tmp_path, monkeypatch, capsys):
    # The batch goes on (the master is written, the other units merged); the exit
    # code and the message say the fault is xltool's, not the unit's.
    import shutil

    import xltool.intake.read as intake_read

    returns = tmp_path / "returns"
    shutil.copytree(ROOT / "examples" / "kaohsiung-109" / "returns", returns)
    victim = sorted(returns.iterdir())[0]
    real = intake_read._read

    def sometimes_broken(rd):
        if rd.path.name == victim.name:
            raise KeyError("bug")
        return real(rd)

    monkeypatch.setattr(intake_read, "_read", sometimes_broken)
    master = tmp_path / "master.xlsx"
    assert _exit_code(["merge", example_plan, returns, "-o", master]) == 3
    out = capsys.readouterr().out
    assert "內部錯誤" in out and victim.name in out
    wb = openpyxl.load_workbook(master)
    issues = [[c.value for c in row] for row in wb["檢核結果"].iter_rows(min_row=2)]
    assert any("內部錯誤" in " ".join(str(v) for v in row) for row in issues)


def test_a_character_the_console_cannot_show_does_not_stop_the_command(tmp_path):
    """Output redirected to a file on a Traditional Chinese Windows is cp950: an emoji
    in a return's name is shown as its code, and the command goes on."""
    example = ROOT / "examples" / "kaohsiung-109"
    returns = tmp_path / "returns"
    shutil.copytree(example / "returns", returns)
    first = sorted(returns.glob("*.xlsx"))[0]
    first.rename(first.with_name(first.stem + "😀.xlsx"))
    proc = subprocess.run([sys.executable, "-m", "xltool", "status", str(example / "plan.xlsx"), str(returns)],
                          capture_output=True, env={**os.environ, "PYTHONIOENCODING": "cp950"})
    out = proc.stdout.decode("cp950")
    assert proc.returncode in (0, 1), proc.stderr.decode("cp950", "replace")
    assert f"{first.stem}\\U0001f600.xlsx" in out
    assert out.count("已繳") >= 12
