"""`xltool rollup` attacked: a sheet of a master renamed, a different file at an
output path, and an output open in Word (whose lock file of a long name is not
Excel's). The masters themselves (edited in LibreOffice, sorted, saved as .ods,
tampered, 100 of them) are covered in test_rollup*.py and held here too."""
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from plans import second_plan, write_plan
from returns import Kit, rewrite

from xltool.cli import cli
from xltool.file_locks import word_lock


@pytest.fixture(scope="module")
def master(tmp_path_factory) -> Path:
    from xltool.master.run import run_merge

    root = tmp_path_factory.mktemp("branch")
    kit = Kit(root, write_plan(root / "plan.xlsx", second_plan()))
    for unit in kit.plan.units:
        kit.ret(unit.name)
    out = root / "竹北所.xlsx"
    run_merge(kit.plan, [kit.inbox], out)
    return out


def rollup(*args):
    return CliRunner().invoke(cli, ["rollup", *map(str, args)])


def test_a_renamed_sheet_is_named_where_it_is_missing(master, tmp_path):
    """It was said to be in 總表識別, and called 「不是 xltool merge 產生的總表」, of a
    master whose identity is whole."""
    renamed = tmp_path / "renamed.xlsx"
    shutil.copyfile(master, renamed)
    rewrite(renamed, "xl/workbook.xml", lambda xml: xml.replace('name="明細"'.encode(), 'name="明細表"'.encode()))
    res = rollup(renamed, master, "-o", tmp_path / "out.xlsx")
    assert "renamed.xlsx，工作表「明細」：" in res.output and "找不到工作表「明細」（可能被改名或刪除" in res.output, \
        res.output
    assert "已產生彙整的附表2" in res.output and res.exit_code == 1  # the other master still rolls up


def test_a_different_file_at_the_output_path_is_kept(master, tmp_path):
    mine = tmp_path / "附表2.xlsx"
    mine.write_bytes(b"PK someone's own workbook")
    res = rollup(master, "-o", mine)
    assert res.exit_code == 0, res.output
    backups = list(tmp_path.glob("附表2-備份-*.xlsx"))
    assert len(backups) == 1 and backups[0].read_bytes() == b"PK someone's own workbook"
    assert backups[0].name in res.output
    res = rollup(master, "-o", mine)  # written again: only the time written differs, nothing kept
    assert res.exit_code == 0 and "已另存為" not in res.output
    assert list(tmp_path.glob("附表2-備份-*.xlsx")) == backups


def test_an_output_open_in_word_is_refused_before_the_masters_are_read(master, tmp_path):
    out = tmp_path / "附表2-彙整-第一季.docx"
    word_lock(out).write_bytes(b"\x04user")
    res = rollup(master, "-o", out)
    assert res.exit_code == 2 and "正在 Word 中開啟" in res.output and not out.exists(), res.output
    assert "驗證總表" not in res.output
