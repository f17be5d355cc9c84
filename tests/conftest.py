import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE_PLAN = ROOT / "examples" / "kaohsiung-109" / "plan.xlsx"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from plans import second_plan, write_plan  # noqa: E402

# Every ODF package xltool writes during the run is validated at the end against the
# OASIS schemas (pytest_sessionfinish below), in one jing run, by the process that
# runs the session: with pytest-xdist, the controller, from the list that every
# worker appends to (the environment names it before the workers start).
ODF_LOG = "XLTOOL_TEST_ODF_LOG"
_ODF_PROBLEMS = pytest.StashKey[list[str]]()


def _record_odf_writes() -> None:
    import xltool.forms.ods_writer as writer

    original = writer.write_ods

    def recording(book, target):
        original(book, target)
        log = os.environ.get(ODF_LOG)
        if log:
            with open(log, "a", encoding="utf-8") as fh:
                fh.write(f"{Path(target).resolve()}\n")

    writer.write_ods = recording


_record_odf_writes()


def _runs_the_session(config) -> bool:
    return not hasattr(config, "workerinput")  # not an xdist worker


def pytest_configure(config):
    if _runs_the_session(config) and ODF_LOG not in os.environ:
        import tempfile

        handle, name = tempfile.mkstemp(prefix="xltool-odf-", suffix=".txt")
        os.close(handle)
        os.environ[ODF_LOG] = name


def pytest_sessionfinish(session, exitstatus):
    """Validate every ODF package the run wrote (the files are still in pytest's
    temporary folders); a schema error fails the run, and is listed in its summary."""
    if not _runs_the_session(session.config) or not os.environ.get(ODF_LOG):
        return
    log = Path(os.environ.pop(ODF_LOG))
    written = [Path(line) for line in dict.fromkeys(log.read_text(encoding="utf-8").splitlines())]
    log.unlink(missing_ok=True)
    files = [f for f in written if f.exists()]
    if not files:
        return
    from odfcheck import validate

    try:
        problems = validate(files)
    except pytest.skip.Exception as why:  # no jing here (CI requires it: a failure then)
        print(f"\n{why}")
        return
    except pytest.fail.Exception as why:
        problems = [str(why)]
    if problems:
        session.config.stash[_ODF_PROBLEMS] = problems
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
    else:
        print(f"\nODF 1.3: the {len(files)} ODF files this run wrote are valid (jing, OASIS schemas).")


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    problems = config.stash.get(_ODF_PROBLEMS, [])
    if not problems:
        return
    terminalreporter.section("ODF 1.3 validation (jing) of the files the run wrote", red=True)
    for line in problems[:200]:
        terminalreporter.line(line)
    report = pytest.TestReport(
        nodeid="tests/conftest.py::every ODF file written during the run is valid ODF 1.3",
        location=("tests/conftest.py", 0, "ODF validation"), keywords={}, outcome="failed",
        longrepr="\n".join(problems), when="call")
    terminalreporter.stats.setdefault("failed", []).append(report)


@pytest.fixture
def second_plan_path(tmp_path) -> Path:
    return write_plan(tmp_path / "plan2.xlsx", second_plan())


@pytest.fixture(scope="session")
def example_plan() -> Path:
    return EXAMPLE_PLAN


def _soffice():
    return shutil.which("soffice") or shutil.which("libreoffice")


def pytest_report_header(config):
    missing = [name for name, ok in (
        ("LibreOffice (soffice)", _soffice()),
        ("python3-uno", subprocess.run(["/usr/bin/python3", "-c", "import uno"], capture_output=True)
         .returncode == 0 if Path("/usr/bin/python3").exists() else False),
        ("poppler-utils", shutil.which("pdftoppm")),
        ("dovecot-imapd", Path("/usr/sbin/dovecot").exists() or shutil.which("dovecot"))) if not ok]
    if missing:
        return [f"未安裝 {'、'.join(missing)}：需要它們的測試將略過"
                "（CI 的 .ci/run 會以 root 安裝並強制執行）。"]
    return []


@pytest.fixture(scope="session")
def soffice():
    """Path to soffice; skipped without it, except in CI where it must exist."""
    exe = _soffice()
    if not exe:
        if os.environ.get("XLTOOL_REQUIRE_ALL"):
            pytest.fail("LibreOffice is required here (XLTOOL_REQUIRE_ALL=1) but soffice is missing")
        pytest.skip("LibreOffice (soffice) is not installed; run .ci/run as root to install it")
    return exe


def convert(soffice: str, src: Path, fmt: str, out_dir: Path) -> Path:
    """Convert with LibreOffice headless, in a private profile so runs never collide."""
    out_dir.mkdir(parents=True, exist_ok=True)
    profile = out_dir / "lo-profile"
    subprocess.run([soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless",
                    "--convert-to", fmt, "--outdir", str(out_dir), str(src)],
                   check=True, capture_output=True, timeout=180)
    result = out_dir / (src.stem + "." + fmt.split(":")[0])
    assert result.exists(), f"LibreOffice did not write {result}"
    return result


def forked_children(monkeypatch, aside_class) -> list[int]:
    """The pids of the children ``aside_class`` (master/aside.py) starts, noted as they
    start, with no thread but this one running, as in the merge command (work is
    forked only then)."""
    import threading
    import time

    deadline = time.monotonic() + 10
    for thread in threading.enumerate():  # (a server an earlier test stopped may still be ending)
        if thread is not threading.current_thread():
            thread.join(timeout=max(0.0, deadline - time.monotonic()))
    assert threading.active_count() == 1, f"earlier tests left threads running: {threading.enumerate()}"
    pids: list[int] = []
    start = aside_class.start

    def noted(self):
        start(self)
        pids.extend([self.pid] if self.pid else [])
        return self

    monkeypatch.setattr(aside_class, "start", noted)
    return pids
