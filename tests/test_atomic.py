"""Atomic writes: a merge killed or interrupted mid-write leaves the previous master intact."""
import os
import shutil
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT

EXAMPLE = ROOT / "examples" / "kaohsiung-109"

CRASHER = textwrap.dedent("""
    import os, signal, sys, zipfile
    how = sys.argv[1]
    calls = {"n": 0}

    def crashing(original):
        def method(self, *args, **kwargs):
            if ".~xltool-" in str(self.filename):
                calls["n"] += 1
                if calls["n"] == 8:  # some parts of the master are in the temp file
                    if how == "kill":
                        os.kill(os.getpid(), signal.SIGKILL)  # a power cut
                    if how == "term":
                        os.kill(os.getpid(), signal.SIGTERM)  # kill, or a closed terminal
                        return original(self, *args, **kwargs)  # stopped at the next step
                    raise KeyboardInterrupt  # Ctrl-C
            return original(self, *args, **kwargs)
        return method

    zipfile.ZipFile.write = crashing(zipfile.ZipFile.write)
    zipfile.ZipFile.writestr = crashing(zipfile.ZipFile.writestr)
    from xltool.cli import main
    main(sys.argv[2:])
""")


def merge_args(inbox, out):
    return ["merge", str(EXAMPLE / "plan.xlsx"), str(inbox), "-o", str(out / "master.xlsx"),
            "--report", str(out / "report.json")]


@pytest.fixture
def previous(tmp_path):
    inbox = tmp_path / "in"
    shutil.copytree(EXAMPLE / "returns", inbox)
    out = tmp_path / "out"
    subprocess.run([sys.executable, "-m", "xltool", *merge_args(inbox, out)], check=True,
                   capture_output=True)
    return inbox, out, (out / "master.xlsx").read_bytes(), (out / "report.json").read_bytes()


@pytest.mark.skipif(os.name == "nt", reason="SIGKILL is POSIX")
def test_killed_mid_write(previous):
    inbox, out, master, report = previous
    proc = subprocess.run([sys.executable, "-c", CRASHER, "kill", *merge_args(inbox, out)],
                          capture_output=True, text=True)
    assert proc.returncode == -signal.SIGKILL
    assert (out / "master.xlsx").read_bytes() == master
    assert (out / "report.json").read_bytes() == report


@pytest.mark.parametrize("how", ["interrupt", pytest.param("term", marks=pytest.mark.skipif(
    os.name == "nt", reason="SIGTERM is POSIX"))])
def test_interrupted_mid_write(previous, how, tmp_path):
    inbox, out, master, report = previous
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    proc = subprocess.run([sys.executable, "-c", CRASHER, how, *merge_args(inbox, out)],
                          capture_output=True, text=True, env={**os.environ, "TMPDIR": str(scratch)})
    assert proc.returncode == 130, proc.stderr
    assert "已中斷" in proc.stderr and "Traceback" not in proc.stderr
    assert (out / "master.xlsx").read_bytes() == master
    assert (out / "report.json").read_bytes() == report
    assert not [p for p in out.iterdir() if p.name.startswith(".~xltool-")]
    assert list(scratch.iterdir()) == []  # the workers' and XlsxWriter's temporary files too


def test_output_that_is_an_input_is_refused(previous):
    inbox, out, master, _ = previous
    proc = subprocess.run([sys.executable, "-m", "xltool", "merge", str(EXAMPLE / "plan.xlsx"),
                           str(inbox), "-o", str(inbox / "master.xlsx")],
                          capture_output=True, text=True)
    assert proc.returncode == 2 and "回傳檔" in proc.stderr
    assert not (inbox / "master.xlsx").exists()


@pytest.mark.skipif(os.name == "nt", reason="POSIX file modes")
def test_outputs_have_the_mode_the_umask_gives(tmp_path):
    """Files are written through temporary files (mode 0600); what lands must be readable
    by colleagues, as a plain save would be: 0644 under umask 022, 0640 under 027."""
    for umask, want in ((0o022, 0o644), (0o027, 0o640)):
        out = tmp_path / f"u{umask:o}"
        inbox = out / "in"
        shutil.copytree(EXAMPLE / "returns", inbox)
        from returns import fill
        first = inbox / "109_提升服務效能_第一課.xlsx"
        fill(first, first, {"1-1-1": {"自評分數": 99}})  # an error: a correction copy is made
        script = (f"import os, sys; os.umask({umask}); from xltool.cli import main; "
                  "main(sys.argv[1:])")
        runs = [["init", out / "new-plan.ods"],
                ["template", EXAMPLE / "plan.xlsx", "-o", out / "tpl", "--unit", "第一課",
                 "--format", "both"],
                ["merge", EXAMPLE / "plan.xlsx", inbox, "-o", out / "m.xlsx", "--report",
                 out / "r.json", "--feedback", out / "fb"],
                ["merge", EXAMPLE / "plan.xlsx", inbox, "-o", out / "m.xlsx"]]  # a backup too
        for args in runs:
            subprocess.run([sys.executable, "-c", script, *map(str, args)], capture_output=True,
                           timeout=300)
        written = [p for p in out.rglob("*") if p.is_file() and inbox not in p.parents]
        assert len(written) >= 7, written
        for path in written:
            assert path.stat().st_mode & 0o777 == want, (path, oct(path.stat().st_mode))


def test_a_replace_windows_refuses_for_a_moment_is_tried_again(tmp_path, monkeypatch):
    """A virus scanner holding the new file a moment: the replace succeeds on a later
    try (Windows only; elsewhere the refusal is at once a message)."""
    import os

    import xltool.files as files

    calls = []
    real = os.replace

    def refused_twice(src, dst):
        calls.append(dst)
        if len(calls) <= 2:
            raise PermissionError(13, "Access is denied")
        return real(src, dst)
    monkeypatch.setattr(files.os, "replace", refused_twice)
    monkeypatch.setattr(files, "RETRY_REFUSED_REPLACE", True)  # as on Windows
    monkeypatch.setattr(files.time, "sleep", lambda s: None)
    target = tmp_path / "out.txt"
    with files.atomic_path(target) as tmp:
        tmp.write_text("寫好了", encoding="utf-8")
    assert target.read_text(encoding="utf-8") == "寫好了" and len(calls) == 3


def test_a_replace_refused_for_good_is_a_message(tmp_path, monkeypatch):
    import os

    import pytest

    import xltool.files as files
    from xltool.errors import XltoolError

    def refused(src, dst):
        raise PermissionError(13, "Access is denied")
    monkeypatch.setattr(files.os, "replace", refused)
    monkeypatch.setattr(files, "RETRY_REFUSED_REPLACE", True)  # as on Windows
    monkeypatch.setattr(files.time, "sleep", lambda s: None)
    with pytest.raises(XltoolError, match="無法寫入"), files.atomic_path(tmp_path / "out.txt") as tmp:
        tmp.write_text("x", encoding="utf-8")
    assert not any(p.name.startswith(".~xltool-") for p in os.scandir(tmp_path))


def test_a_link_to_a_missing_folder_makes_no_folders(tmp_path):
    """Written through a link, but to where it points only if that folder is there: a
    dangling link does not make folders elsewhere."""
    import pytest

    from xltool.errors import XltoolError
    from xltool.files import atomic_path

    link = tmp_path / "out.odt"
    link.symlink_to(tmp_path / "nowhere" / "deeper" / "x.odt")
    with pytest.raises(XltoolError, match="連結指向的資料夾不存在"), atomic_path(link) as tmp:
        tmp.write_text("x", encoding="utf-8")
    assert not (tmp_path / "nowhere").exists() and link.is_symlink()
