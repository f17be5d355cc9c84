"""Long runs show progress on a terminal (stderr), and nothing when stderr is not one."""
import pytest
from click.testing import CliRunner
from conftest import ROOT

import xltool.cli
from xltool.cli import cli

RETURNS = ROOT / "examples" / "kaohsiung-109" / "returns"


@pytest.fixture
def terminal(monkeypatch):
    monkeypatch.setattr(xltool.cli, "_is_terminal", lambda: True)


def _run(*args):
    res = CliRunner().invoke(cli, [str(a) for a in args])
    assert res.exit_code in (0, 1), res.output
    return res


def test_merge_template_and_collect_show_progress_on_a_terminal(terminal, example_plan, tmp_path):
    merged = _run("merge", example_plan, RETURNS, "-o", tmp_path / "m.xlsx")
    assert "讀取回傳檔" in merged.stderr and "讀取回傳檔" not in merged.stdout
    made = _run("template", example_plan, "-o", tmp_path / "t")
    assert "產生填報表" in made.stderr and "產生填報表" not in made.stdout
    eml = tmp_path / "eml"
    eml.mkdir()
    for n in range(3):
        (eml / f"{n}.eml").write_bytes(b"From: a@b.example\nSubject: hi\n\nno attachment\n")
    got = _run("collect", eml, "--plan", example_plan, "-o", tmp_path / "in")
    assert "檢查郵件：3" in got.stderr


def test_no_progress_when_stderr_is_not_a_terminal(example_plan, tmp_path):
    merged = _run("merge", example_plan, RETURNS, "-o", tmp_path / "m.xlsx")
    made = _run("template", example_plan, "-o", tmp_path / "t")
    assert "讀取回傳檔" not in merged.stderr and "產生填報表" not in made.stderr


def test_a_few_files_need_no_bar(terminal, second_plan_path, tmp_path):
    made = _run("template", second_plan_path, "-o", tmp_path / "t")  # 6 units
    assert "產生填報表" not in made.stderr
