"""Every help screen and every click error in Traditional Chinese, with
full-width punctuation and columns aligned by display width."""
import re

import pytest
from click.testing import CliRunner

from xltool.cli import cli
from xltool.display import text_width

COMMANDS = ["", *sorted(cli.commands)]
# Words that are names, not English prose: commands, options, formats, products, protocols.
NAMES = re.compile(r"XLTOOL_[A-Z_]+|xltool|--?[a-z][a-z0-9-]*|"
                   r"\.?(xlsx|xlsm|xls|ods|eml|json|pdf|docx|doc|odt|html)\b|plan\.xlsx|"
                   r"IMAP|SMTP(UTF8)?|STARTTLS|SSL|TLS|JSON|PDF|LibreOffice|Outlook|Thunderbird|"
                   r"mbox|Maildir|UTC|INBOX|A4|both|init|check|template|send|"
                   r"collect|status|merge|print|report|rollup|[A-Z]:", re.I)


def _help(command: str) -> str:
    res = CliRunner().invoke(cli, [*([command] if command else []), "--help"], prog_name="xltool")
    assert res.exit_code == 0, res.output
    return res.output


@pytest.mark.parametrize("command", COMMANDS)
def test_help_is_free_of_english(command):
    text = _help(command)
    left = re.findall(r"[A-Za-z]{2,}", NAMES.sub(" ", text))
    assert not left, f"English in `xltool {command} --help`: {left}\n{text}"
    for english in ("[required]", "[default", "Usage:", "Options:", "[OPTIONS]", "NAME", "TEXT",
                    "HOST", "%Y"):
        assert english not in text
    assert text.startswith(f"用法：xltool {command}".rstrip())
    assert "選項：" in text


@pytest.mark.parametrize("command", COMMANDS)
def test_help_columns_line_up_under_chinese(command):
    # The help text of every option starts in one column, counted in display width.
    rows = [line for line in _help(command).split("選項：")[1].splitlines() if line.startswith("  -")]
    starts = set()
    for line in rows:
        spec = re.match(r"  (\S.*?)\s{2,}\S", line)
        assert spec, line
        starts.add(text_width(line[:spec.end() - 1]))
    assert len(starts) == 1, rows


def test_required_and_default_markers_are_chinese():
    text = _help("template")
    assert "（必填）" in text and "（預設：xlsx）" in text


@pytest.mark.parametrize("args, words", [
    (["merge"], ["缺少參數「計畫檔」。"]),
    (["template", "plan.xlsx"], ["「計畫檔」的值不正確", "不存在。"]),
    (["bogus"], ["沒有「bogus」這個指令。"]),
    (["check", "--bogus"], ["沒有「--bogus」這個選項。"]),
])
def test_click_errors_are_chinese_with_full_width_punctuation(args, words, tmp_path):
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 2
    err = res.output.splitlines()[-1]
    assert err.startswith("錯誤："), err
    for word in words:
        assert word in err
    assert not err.endswith(".") and "'" not in err


def test_a_missing_option_names_both_spellings(example_plan, tmp_path):
    res = CliRunner().invoke(cli, ["template", str(example_plan)])
    assert res.output.splitlines()[-1] == "錯誤：缺少選項「-o」／「--output」。"


def test_a_bad_choice_lists_the_choices(example_plan, tmp_path):
    res = CliRunner().invoke(cli, ["template", str(example_plan), "-o", str(tmp_path), "--format", "docx"])
    assert "「docx」不是可用的值（「xlsx」、「ods」、「both」）。" in res.output
