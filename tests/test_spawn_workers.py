"""Workers started the Windows way (``spawn``: a fresh interpreter that re-imports what it
needs, with nothing inherited from the parent's memory), run here on Linux with
XLTOOL_START_METHOD=spawn; and the file names xltool builds, held to Windows' rules."""
import json
import os
import pickle
import re
import subprocess
import sys
import types
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from plans import SECOND_PLAN_LEADS, second_plan, write_plan
from returns import fill, set_saved

import xltool.reading.isolation as isolation
from xltool.cli import cli
from xltool.files import safe_filename, short_filename
from xltool.forms.template import template_filename, write_templates
from xltool.mail.evidence import evidence_name
from xltool.plan import load_plan
from xltool.plan.filenames import unit_stem
from xltool.reading.isolation import Failure, Limits, Pool

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
VENV = Path(sys.executable).parent

MARK = "as imported"  # set otherwise by the tests in this process, never in a spawned worker


def behave(_context, payload):
    kind, value = payload
    if kind == "ok":
        return value
    if kind == "mark":
        return MARK
    if kind == "in-worker":
        return isolation.IN_WORKER
    if kind == "exit":
        os._exit(value)
    if kind == "segfault":
        import ctypes

        ctypes.string_at(0)
    if kind == "sleep":
        import time

        time.sleep(value)
    return None


@pytest.fixture
def spawn(monkeypatch):
    monkeypatch.setenv("XLTOOL_START_METHOD", "spawn")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")


# ------------------------------------------------------------------ the start method


def test_linux_forks_unless_told_to_spawn(monkeypatch):
    monkeypatch.delenv("XLTOOL_START_METHOD", raising=False)
    assert isolation.start_method() == ("fork" if sys.platform.startswith("linux") else "spawn")
    monkeypatch.setenv("XLTOOL_START_METHOD", "Spawn")
    assert isolation.start_method() == "spawn"
    monkeypatch.setenv("XLTOOL_START_METHOD", "thread")  # not a start method: the default
    assert isolation.start_method() in ("fork", "spawn")


def test_a_spawned_worker_inherits_nothing_from_the_parents_memory(spawn, monkeypatch):
    monkeypatch.setattr(sys.modules[__name__], "MARK", "set in the parent")
    with Pool(behave, None, isolate=True) as pool:
        assert list(pool.map([("mark", 0), ("in-worker", 0)])) == ["as imported", True]
    monkeypatch.setenv("XLTOOL_START_METHOD", "fork")  # the contrast: a fork sees the parent
    with Pool(behave, None, isolate=True) as pool:
        assert pool.call(("mark", 0)) == "set in the parent"


def test_under_spawn_a_crash_or_a_hang_costs_only_its_file(spawn):
    payloads = [("ok", 1), ("exit", 3), ("ok", 2), ("segfault", 0), ("ok", 3), ("sleep", 600), ("ok", 4)]
    with Pool(behave, None, workers=2, limits=Limits(wall_seconds=3), isolate=True) as pool:
        answers = list(pool.map(payloads))
    assert [a for a in answers if not isinstance(a, Failure)] == [1, 2, 3, 4]
    assert answers[1].kind == answers[3].kind == "crash"
    assert answers[5] == Failure("timeout", "3")


def test_what_a_worker_is_given_survives_pickling():
    plan = load_plan(EXAMPLE / "plan.xlsx")
    again = pickle.loads(pickle.dumps(plan))
    assert again.plan_id == plan.plan_id and again.units == plan.units and again.items == plan.items


# ------------------------------------------------------------------ whole commands


def _cells(path: Path) -> dict:
    wb = openpyxl.load_workbook(path)
    return {ws.title: [[(c.value, c.number_format) for c in row] for row in ws.iter_rows()]
            for ws in wb.worksheets}


def _cli(command: list[str], method: str, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "XLTOOL_START_METHOD": method, "SOURCE_DATE_EPOCH": "1600000000"}
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_example_merges_the_same_under_spawn_through_the_console_script(tmp_path):
    plan, returns = EXAMPLE / "plan.xlsx", EXAMPLE / "returns"
    out = {}
    for method in ("fork", "spawn"):
        master, report = tmp_path / method / "總表.xlsx", tmp_path / method / "報告.json"
        done = _cli([str(VENV / "xltool"), "merge", str(plan), str(returns), "-o", str(master),
                     "--report", str(report)], method, tmp_path)
        assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
        status = _cli([str(VENV / "xltool"), "status", str(plan), str(returns)], method, tmp_path)
        assert status.returncode == 0, status.stderr
        out[method] = master, json.loads(report.read_text(encoding="utf-8")), status.stdout
    (fork_master, fork_report, fork_status), (spawn_master, spawn_report, spawn_status) = out.values()
    assert spawn_master.read_bytes() == fork_master.read_bytes()
    assert _cells(spawn_master) == _cells(fork_master)
    assert spawn_report == fork_report and spawn_report["total"] == 910
    assert spawn_status == fork_status and "第一課" in spawn_status


def test_python_dash_m_xltool_reads_under_spawn(tmp_path):
    done = _cli([str(VENV / "python"), "-m", "xltool", "status", str(EXAMPLE / "plan.xlsx"),
                 str(EXAMPLE / "returns")], "spawn", tmp_path)
    assert done.returncode == 0 and "Traceback" not in done.stderr, done.stderr
    assert "第一課" in done.stdout


COPIES = 5  # per unit: 30 returns, so the merge reads them with several workers


def test_second_plan_with_many_returns_merges_the_same_under_spawn(tmp_path, monkeypatch):
    plan_path = write_plan(tmp_path / "plan2.xlsx", second_plan())
    plan = load_plan(plan_path)
    write_templates(plan, tmp_path / "templates", generated=datetime(2024, 1, 2))
    inbox = tmp_path / "returns"
    inbox.mkdir()
    for u, (unit, items) in enumerate(SECOND_PLAN_LEADS.items()):
        name = template_filename(plan, unit, "xlsx")
        for k in range(COPIES):
            rows = {i: {"執行狀態": "完成", "執行績效與成果": f"{unit} 第 {k} 版", "自評分數": 5 + k + u}
                    for i in items}
            out = fill(tmp_path / "templates" / name, inbox / name.replace(".xlsx", f"-{k}.xlsx"), rows,
                       {"填表人": f"{unit}王", "聯絡電話": "03-1234567", "填報日期": date(2024, 1, 10)})
            set_saved(out, datetime(2024, 1, 10 + k, 9, u))
    assert len(list(inbox.iterdir())) >= isolation_parallel_from()
    monkeypatch.setenv("XLTOOL_WORKERS", "3")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1600000000")
    found = {}
    for method in ("fork", "spawn"):
        monkeypatch.setenv("XLTOOL_START_METHOD", method)
        master, report = tmp_path / f"{method}.xlsx", tmp_path / f"{method}.json"
        res = CliRunner().invoke(cli, ["merge", str(plan_path), str(inbox), "-o", str(master),
                                       "--report", str(report)])
        assert res.exit_code in (0, 1), res.output
        status = CliRunner().invoke(cli, ["status", str(plan_path), str(inbox)])
        found[method] = (master.read_bytes(), _cells(master), json.loads(report.read_text(encoding="utf-8")),
                         status.output)
    assert found["spawn"] == found["fork"]
    units = {u["unit"]: u for u in found["spawn"][2]["units"]}
    assert units["甲組"]["file"].endswith(f"-{COPIES - 1}.xlsx")  # the newest of five won


def isolation_parallel_from() -> int:
    from xltool.intake.read import PARALLEL_FROM

    return PARALLEL_FROM


# ------------------------------------------------------------------ Windows' job object


def test_the_job_object_calls_declare_their_handle_sized_signatures(monkeypatch):
    """Without argtypes and restype ctypes passes and returns a C int (32 bits) where
    Windows has a 64-bit HANDLE: each call must be declared before it is made."""
    import ctypes

    calls = []

    class Function:
        def __init__(self, name):
            self.name, self.argtypes, self.restype = name, None, ctypes.c_int

        def __call__(self, *args):
            assert self.argtypes is not None and len(self.argtypes) == len(args), self.name
            assert self.restype is not ctypes.c_int, self.name
            calls.append(self.name)
            return 7

    class Kernel32:
        def __init__(self, *_args, **_kwargs):
            self.functions = {}

        def __getattr__(self, name):
            return self.__dict__["functions"].setdefault(name, Function(name))

    monkeypatch.setattr(sys, "platform", "win32")
    monkeypatch.setattr(ctypes, "WinDLL", Kernel32, raising=False)
    assert isolation._limit_windows_process(1234, Limits()) == 7
    isolation._close_handle(7)
    assert calls == ["CreateJobObjectW", "SetInformationJobObject", "OpenProcess",
                     "AssignProcessToJobObject", "CloseHandle", "CloseHandle"]


def test_a_workers_file_that_cannot_be_removed_does_not_stop_the_batch(monkeypatch):
    """Windows removes no file still open (a worker slow to let go of its stderr file)."""
    unlink = os.unlink

    def held(path, *args, **kwargs):
        if os.path.basename(str(path)).startswith("stderr-"):
            raise PermissionError(13, "The process cannot access the file", str(path))
        return unlink(path, *args, **kwargs)

    import shutil

    with Pool(behave, None, isolate=True) as pool:
        assert pool.call(("ok", 5)) == 5
        folder = Path(pool._tmp.name)
        monkeypatch.setattr(os, "unlink", held)
    monkeypatch.undo()
    assert folder.is_dir()  # left behind, as on Windows; the batch went on
    shutil.rmtree(folder)


# ------------------------------------------------------------------ file names

_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)")


def windows_valid(name: str) -> bool:
    """As Windows' naming rules (learn.microsoft.com, "Naming files, paths, and namespaces")
    take a name: no reserved character, no trailing dot or space, no device name (also
    followed by an extension: NUL.txt is NUL), at most 255 UTF-16 units."""
    return (not re.search(r'[<>:"/\\|?*\x00-\x1f]', name) and name == name.rstrip(" .")
            and not _DEVICE.fullmatch(name.split(".")[0].rstrip(" "))
            and len(name.encode("utf-16-le")) // 2 <= 255 and name not in ("", ".", ".."))


UNITS = ["CON", "con", "第一課.", "a:b", "x?y", "甲" * 200, "NUL ", "COM1.txt", "AUX .xlsx", "lpt¹"]


@pytest.mark.parametrize("unit", UNITS)
def test_every_name_built_from_a_unit_is_valid_on_windows(unit, second_plan_path):
    plan = load_plan(second_plan_path)
    names = [template_filename(plan, unit, "xlsx"), template_filename(plan, unit, "ods"),
             unit_stem(unit), unit_stem(unit) + "_催繳.eml", evidence_name(unit),
             evidence_name(unit + ".pdf"), short_filename(unit)]
    from xltool.master.feedback import _names

    ret = types.SimpleNamespace(name=f"{unit}.xlsx", unit=unit)
    copies = _names(plan, ret, "xlsx")
    names += [next(copies), next(copies), next(copies)]
    assert [n for n in names if not windows_valid(n)] == []


@pytest.mark.parametrize("name", ["CON", "CON.xlsx", "nul .ods", "com1.tar.gz", "AUX", "lpt9.xls",
                                  "conin$", "Prn.x"])
def test_a_device_name_is_never_a_file_name(name):
    """safe_filename names an attachment while it is examined (mail/examine.py): NUL.xlsx
    there would lose the file, CON.xlsx would be the console, where reading waits."""
    assert windows_valid(safe_filename(name)) and safe_filename(name).lstrip("_") == name.rstrip(" .")
    assert safe_filename("CONTACT.xlsx") == "CONTACT.xlsx" and safe_filename("Console") == "Console"


def test_an_attachment_named_like_a_device_is_examined_under_another_name(tmp_path, monkeypatch):
    """The name an attachment is first written under, in the examination's scratch folder."""
    from email.message import EmailMessage

    plan = load_plan(EXAMPLE / "plan.xlsx")
    source = next(EXAMPLE.joinpath("returns").glob("*_第一課.*"))
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = plan.unit("第一課").email, "x@example.org", "回傳"
    msg["Message-ID"], msg["Date"] = "<con@example.org>", "Wed, 01 Jul 2020 10:12:00 +0800"
    msg.set_content("請查收")
    msg.add_attachment(source.read_bytes(), maintype="application", subtype="octet-stream",
                       filename="CON.xlsx")
    eml = tmp_path / "eml"
    eml.mkdir()
    (eml / "1.eml").write_bytes(msg.as_bytes())
    written = []
    write_bytes = Path.write_bytes

    def recording(self, data):
        written.append(self.name)
        return write_bytes(self, data)

    monkeypatch.setenv("XLTOOL_ISOLATION", "off")  # in this process, where the recording is
    monkeypatch.setattr(Path, "write_bytes", recording)
    res = CliRunner().invoke(cli, ["collect", str(eml), "--plan", str(EXAMPLE / "plan.xlsx"),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code == 0, res.output
    assert written and all(windows_valid(n) for n in written), written
    assert [p.name for p in (tmp_path / "out").glob("第一課_*.xlsx")]
