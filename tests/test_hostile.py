"""Hostile and broken returns: each corpus case alone, then the whole corpus at once."""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import corpus
import pytest
from python_calamine import CalamineWorkbook

from xltool.files import display_name
from xltool.master.merge import merge
from xltool.plan import load_plan

CASES = {c.name: c for c in corpus.cases()}
resource = pytest.importorskip("resource") if os.name != "nt" else None


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("corpus") / "bad"
    corpus.build(folder)
    return folder


@pytest.fixture(scope="session")
def plan():
    return load_plan(corpus.EXAMPLE / "plan.xlsx")


@pytest.mark.parametrize("name", list(CASES))
def test_each_case_alone(built, plan, name):
    case = CASES[name]
    path = built / name
    result = merge(plan, [path])
    mine = [i for i in result.issues if i.file == display_name(path)]
    if case.code:
        assert case.code in {i.code for i in mine}, [(i.code, i.message) for i in mine]
    else:  # clean on its own; only beside the good return is it a duplicate
        assert not [i for i in mine if i.is_error], [(i.code, i.message) for i in mine]
    assert all(i.message for i in mine)
    users = [s.unit for s in result.units if s.ret and s.ret.path == path]
    if case.skipped:
        assert users == []
        assert any(i.is_error for i in mine)
    else:
        assert users == [case.unit]


@pytest.mark.parametrize("name", [c.name for c in corpus.attack_cases()
                                  if c.code in ("formula", "missing-value")])
def test_no_cached_formula_value_is_ever_taken(built, plan, name):
    """Wherever the gate and a reader might have disagreed, the first item's 自評分數 that
    holds =1+1 with a cached 9 is never counted as 9."""
    case = CASES[name]
    result = merge(plan, [built / name])
    ret = result.status_of(case.unit).ret
    first = plan.items_for(case.unit)[0].id
    assert ret.rows[first].values.get("自評分數") != 9, [i.code for i in ret.issues]


def test_password_message_tells_what_to_do(built, plan):
    result = merge(plan, [built / "109_提升服務效能_第一課_加密.xlsx"])
    assert any("請移除密碼後重新存檔" in i.message for i in result.issues)


def test_formulas_in_input_cells_are_never_trusted(built, plan):
    result = merge(plan, [built / "109_提升服務效能_第一課_公式.xlsx"])
    row = result.status_of("第一課").ret.rows["1-1-1"]
    assert row.values["自評分數"] is None  # not the forged cached 9
    assert row.values["執行績效與成果"] is None
    assert {i.cell for i in result.issues if i.code == "formula"} == {"K6", "L6"}


def test_xxe_never_reads_the_local_file(built, plan, tmp_path):
    master, report = tmp_path / "m.xlsx", tmp_path / "r.json"
    from click.testing import CliRunner

    from xltool.cli import cli

    CliRunner().invoke(cli, ["merge", str(corpus.EXAMPLE / "plan.xlsx"),
                             str(built / "109_提升服務效能_第一課_xxe.xlsx"), "-o", str(master),
                             "--report", str(report)])
    assert "TOP-SECRET" not in report.read_text(encoding="utf-8")
    with zipfile.ZipFile(master) as zf:
        assert not any(b"TOP-SECRET" in zf.read(n) for n in zf.namelist())


def test_text_that_looks_like_code_stays_text(built, plan):
    result = merge(plan, [built / "109_提升服務效能_主計室_注入.xlsx"])
    rows = result.status_of("主計室").ret.rows
    texts = [rows[i].values["執行績效與成果"] for i in list(rows)[:6]]
    assert texts[0] == '=HYPERLINK("http://attacker.example")'
    assert texts[1:4] == ["+886 專線", "-1 件", "@SUM(A1)"]
    assert texts[4:] == ["\t以 Tab 開頭", "以 CR 開頭"]  # text still: an indent kept, a line end before it gone


def test_long_text_and_control_characters(built, plan):
    result = merge(plan, [built / "109_提升服務效能_政風室_超長.xlsx"])
    rows = result.status_of("政風室").ret.rows
    first, second = list(rows.values())[:2]
    assert first.values["執行績效與成果"] is None and "too-long" in first.flags
    assert second.values["執行績效與成果"] == "含控制字元與跳脫"


def test_feedback_names_are_safe(built, plan, tmp_path):
    from xltool.master.feedback import write_feedback

    odd = [n for n in CASES if n.startswith("..")]
    if not odd:
        pytest.skip("Windows cannot hold the odd file name")
    result = merge(plan, [built / odd[0]])
    feedback = write_feedback(result, tmp_path / "fb")
    written = feedback.written
    assert feedback.problems == []
    assert len(written) == 1
    assert written[0].parent == tmp_path / "fb"
    assert not re.search(r'[<>:"\\|?*]', written[0].name)


PEAK = ("import resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(p.stdout + p.stderr)\n"
        "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
        "sys.exit(p.returncode)\n")


def _run_cli_measuring_memory(args):
    """Run xltool in a child process; return (exit code, output, its peak RSS in MB).

    A small wrapper process starts xltool and reports the peak of its own children
    only, so nothing this test process ran before (LibreOffice, say) is counted."""
    if resource is None:
        proc = subprocess.run([sys.executable, "-m", "xltool", *map(str, args)],
                              capture_output=True, text=True, timeout=600)
        return proc.returncode, proc.stdout + proc.stderr, 0
    proc = subprocess.run([sys.executable, "-c", PEAK, sys.executable, "-m", "xltool",
                           *map(str, args)], capture_output=True, text=True, timeout=600)
    out, _, peak = proc.stdout.rpartition("PEAK ")
    return proc.returncode, out + proc.stderr, int(peak) / 1024


@pytest.mark.skipif(os.name == "nt", reason="peak memory is measured with the resource module")
def test_zip_bomb_is_refused_before_inflating_within_200_mb(built, tmp_path):
    for name in ("109_提升服務效能_第一課_bomb.xlsx", "109_提升服務效能_第一課_bomb2.xlsx"):
        assert (built / name).stat().st_size < 5 * 1024 * 1024  # tiny on disk
        code, out, peak = _run_cli_measuring_memory(
            ["merge", corpus.EXAMPLE / "plan.xlsx", built / name, "-o", tmp_path / "m.xlsx"])
        assert code == 1 and "Traceback" not in out
        assert peak < 200, f"peak {peak:.0f} MB"


def test_whole_corpus_with_the_example_returns(built, tmp_path):
    inbox = tmp_path / "inbox"
    shutil.copytree(corpus.RETURNS, inbox)
    for f in built.iterdir():
        shutil.copy(f, inbox / f.name)
    before = {f.name: f.read_bytes() for f in inbox.iterdir()}
    runs = []
    for n in (1, 2):
        out = tmp_path / f"run{n}"
        code, text, peak = _run_cli_measuring_memory(
            ["merge", corpus.EXAMPLE / "plan.xlsx", inbox, "-o", out / "master.xlsx",
             "--report", out / "report.json", "--feedback", out / "feedback"])
        assert code == 1, text
        assert "Traceback" not in text
        if resource:
            assert peak < 300, f"peak {peak:.0f} MB"
        runs.append(out)
    assert {f.name: f.read_bytes() for f in inbox.iterdir()} == before  # returns untouched

    master = runs[0] / "master.xlsx"
    book = CalamineWorkbook.from_path(str(master))
    figures = book.get_sheet_by_name("附表2").to_python()[6][3:]
    assert figures == [180, 275, 185, 180, 90, 910, "優", "109.07"]  # every good unit complete
    status = {r[0]: r[1] for r in book.get_sheet_by_name("繳交狀態").to_python()[1:]}
    assert "未繳" not in status.values()
    report = json.loads((runs[0] / "report.json").read_text(encoding="utf-8"))
    files_with_issues = {i["file"] for i in report["issues"]}
    for name in CASES:
        assert display_name(Path(name)) in files_with_issues, name
    with zipfile.ZipFile(master) as zf:
        for name in zf.namelist():
            if not name.startswith("xl/worksheets/"):
                continue
            xml = zf.read(name).decode("utf-8")
            formulas = re.findall(r"<f>(.*?)</f>", xml)
            assert not any("HYPERLINK" in f or "1+1" in f or "SUM(A1)" in f for f in formulas)
            assert "<hyperlink" not in xml
    assert (runs[0] / "master.xlsx").read_bytes() == (runs[1] / "master.xlsx").read_bytes()
    assert (runs[0] / "report.json").read_bytes() == (runs[1] / "report.json").read_bytes()


def _cli(*args):
    from click.testing import CliRunner

    from xltool.cli import cli

    return CliRunner().invoke(cli, [str(a) for a in args])


def test_control_characters_never_reach_the_terminal(built, tmp_path):
    res = _cli("merge", corpus.EXAMPLE / "plan.xlsx", built / "109_提升服務效能_第六課_控制字元.xlsx",
               "-o", tmp_path / "m.xlsx")
    assert res.exit_code == 1, res.output
    assert "\x1b" not in res.output and "\r" not in res.output
    assert "\\x1b[2J" in res.output


def test_long_values_are_quoted_short_and_the_report_stays_small(built, tmp_path):
    report = tmp_path / "r.json"
    res = _cli("merge", corpus.EXAMPLE / "plan.xlsx", built / "109_提升服務效能_第五課_長編號.xlsx",
               "-o", tmp_path / "m.xlsx", "--report", report)
    assert res.exit_code == 1, res.output
    assert report.stat().st_size < 200_000
    issues = json.loads(report.read_text(encoding="utf-8"))["issues"]
    assert all(len(i["message"]) < 400 and len(i["value"]) <= 201 for i in issues)


def test_outputs_never_overwrite_the_plan_or_an_input(tmp_path):
    plan = tmp_path / "plan.xlsx"
    shutil.copy(corpus.EXAMPLE / "plan.xlsx", plan)
    before = plan.read_bytes()
    res = _cli("merge", plan, corpus.RETURNS, "-o", plan)
    assert res.exit_code == 2 and "計畫檔" in res.output
    one = corpus.RETURNS / "109_提升服務效能_第一課.xlsx"
    res = _cli("merge", plan, one, "-o", tmp_path / "m.xlsx", "--report", one)
    assert res.exit_code == 2 and "回傳檔" in res.output
    assert plan.read_bytes() == before


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root writes to read-only folders")
def test_unwritable_output_folder_is_a_clear_error(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    res = _cli("merge", corpus.EXAMPLE / "plan.xlsx", corpus.RETURNS, "-o", locked / "m.xlsx")
    assert res.exit_code == 2 and "無法寫入" in res.output


def test_an_output_path_that_cannot_be_written_is_a_clear_error(tmp_path):
    """As root nothing is read-only; a path under a file cannot be written by anyone."""
    blocker = tmp_path / "a-file"
    blocker.write_text("x", encoding="utf-8")
    res = _cli("merge", corpus.EXAMPLE / "plan.xlsx", corpus.RETURNS, "-o", blocker / "m.xlsx")
    assert res.exit_code == 2, res.output
    assert "無法寫入" in res.output and "Traceback" not in res.output


def test_correction_copies_of_returns_with_very_long_names(tmp_path):
    inbox = tmp_path / "in"
    inbox.mkdir()
    name = "109_提升服務效能_主計室_" + "很長的檔名" * 14 + "長長.xlsx"  # 254 bytes of UTF-8
    assert 240 < len(name.encode("utf-8")) <= 255
    from returns import fill
    shutil.copy(corpus.RETURNS / "109_提升服務效能_主計室.xlsx", inbox / name)
    fill(inbox / name, inbox / name, {"1-1-3-1": {"自評分數": 999}})
    res = _cli("merge", corpus.EXAMPLE / "plan.xlsx", inbox, "-o", tmp_path / "m.xlsx",
               "--feedback", tmp_path / "fb")
    assert res.exit_code == 1, res.output
    (copy,) = (tmp_path / "fb").iterdir()
    assert len(copy.name.encode("utf-8")) <= 200 and copy.name.endswith("….xlsx")


def test_check_survives_a_plan_that_crashes_the_reader(tmp_path):
    import fuzzing

    plan = fuzzing.rebuild(fuzzing.find("xls-panic"), tmp_path / "plan.xls")
    res = _cli("check", plan)
    assert res.exit_code == 1, res.output
    assert "plan.xls" in res.output and "Traceback" not in res.output
