"""`status` and `merge` say what explains their listing: a returns folder that holds
no spreadsheet (a wrong folder, say) before the units that are then all 未繳, and
why each file that cannot be used cannot be."""
from click.testing import CliRunner
from python_calamine import CalamineWorkbook

from xltool.cli import cli


def test_an_empty_returns_folder_is_said_first(tmp_path, second_plan_path):
    inbox = tmp_path / "回收"
    inbox.mkdir()
    (inbox / "說明.txt").write_text("不是回傳檔", encoding="utf-8")
    status = CliRunner().invoke(cli, ["status", str(second_plan_path), str(inbox)])
    first = status.output.strip().splitlines()[0]
    assert first.startswith("[警告] 「回收」中沒有找到任何試算表檔") and "請確認回收資料夾" in first
    master = tmp_path / "總表.xlsx"
    merged = CliRunner().invoke(cli, ["merge", str(second_plan_path), str(inbox), "-o", str(master)])
    assert merged.exit_code == 1  # every unit is 未繳: errors
    assert merged.output.strip().splitlines()[0] == first
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("檢核結果").to_python()
    assert any(r[1] == "沒有找到任何回傳檔" and "「回收」" in r[-2] for r in rows), rows[:3]


def test_a_folder_with_returns_says_nothing_of_it(tmp_path, second_plan_path):
    from returns import Kit

    kit = Kit(tmp_path, second_plan_path)
    kit.ret("甲組")
    out = CliRunner().invoke(cli, ["status", str(second_plan_path), str(kit.inbox)]).output
    assert "沒有找到任何試算表檔" not in out and "甲組" in out


def test_status_says_why_a_file_cannot_be_used(tmp_path, second_plan_path):
    from returns import Kit

    kit = Kit(tmp_path, second_plan_path)
    kit.ret("甲組")
    (kit.inbox / "改名的文字檔.xlsx").write_text("這不是試算表", encoding="utf-8")
    (kit.inbox / "空檔.xlsx").write_bytes(b"")
    out = CliRunner().invoke(cli, ["status", str(second_plan_path), str(kit.inbox)]).output
    lines = out.splitlines()
    assert any(ln.startswith("[錯誤] 改名的文字檔.xlsx：") and "不是 .xlsx 格式" in ln for ln in lines), out
    assert any(ln.startswith("[錯誤] 空檔.xlsx：") and "空檔案" in ln for ln in lines), out


def test_status_names_each_error_of_a_return_with_errors(tmp_path, second_plan_path):
    """A secretariat phoning a unit whose return 有誤 needs the cells, not a count."""
    from returns import Kit

    kit = Kit(tmp_path, second_plan_path)
    kit.ret("甲組", {"A01": {"自評分數": 999, "執行績效與成果": ""}})
    res = CliRunner().invoke(cli, ["status", str(second_plan_path), str(kit.inbox)])
    lines = [line for line in res.output.splitlines() if line.startswith("[錯誤]") and "甲組" in line]
    assert any("儲存格 L6" in line and "自評分數" in line for line in lines), res.output
    assert any("儲存格 K6" in line and "執行績效與成果" in line for line in lines), res.output
