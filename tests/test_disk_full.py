"""A disk that fills up while xltool writes: a plain zh-TW message that names the
file, the old file untouched, no temporary file left behind, and no traceback."""
import errno
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap

import pytest
from conftest import ROOT
from xlsxwriter.exceptions import FileCreateError

from xltool.errors import XltoolError
from xltool.files import atomic_path, disk_full

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
# The file-size limit makes every write past it fail with EFBIG, as a full disk fails
# with ENOSPC, at whatever point the writer has reached (Python ignores SIGXFSZ).
LIMITED = textwrap.dedent("""
    import resource, sys
    limit = int(sys.argv[1])
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    from xltool.cli import main
    main(sys.argv[2:])
""")


def run_limited(limit, args, tmp):
    env = {**os.environ, "TMPDIR": str(tmp)}
    return subprocess.run([sys.executable, "-c", LIMITED, str(limit), *map(str, args)],
                          capture_output=True, text=True, env=env)


@pytest.mark.skipif(os.name == "nt", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("limit", [20_000, 60_000])  # in 明細's rows / when the master is zipped
def test_merge_on_a_full_disk(tmp_path, limit):
    inbox, out, scratch = tmp_path / "in", tmp_path / "out", tmp_path / "scratch"
    shutil.copytree(EXAMPLE / "returns", inbox)
    scratch.mkdir()
    args = ["merge", EXAMPLE / "plan.xlsx", inbox, "-o", out / "總表.xlsx"]
    subprocess.run([sys.executable, "-m", "xltool", *args], check=True, capture_output=True)
    before = (out / "總表.xlsx").read_bytes()

    proc = run_limited(limit, args, scratch)

    assert proc.returncode == 2, proc.stderr
    assert "磁碟空間不足" in proc.stderr and "總表.xlsx" in proc.stderr, proc.stderr
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr
    assert (out / "總表.xlsx").read_bytes() == before
    assert sorted(p.name for p in out.iterdir()) == ["總表.xlsx"]  # no temporary file, no backup
    assert list(scratch.iterdir()) == []  # XlsxWriter's own temporary files are gone too


@pytest.mark.skipif(os.name == "nt", reason="RLIMIT_FSIZE is POSIX")
def test_templates_on_a_full_disk(tmp_path):
    proc = run_limited(3_000, ["template", EXAMPLE / "plan.xlsx", "-o", tmp_path / "t"], tmp_path)
    assert proc.returncode == 2, proc.stderr
    assert "磁碟空間不足" in proc.stderr and "Traceback" not in proc.stderr
    assert not [p for p in (tmp_path / "t").rglob("*") if p.name.startswith(".~xltool-")]


def test_atomic_path_turns_a_full_disk_into_a_message(tmp_path):
    target = tmp_path / "a.txt"
    target.write_text("old", encoding="utf-8")
    with pytest.raises(XltoolError, match="磁碟空間不足.*a.txt"), atomic_path(target) as tmp:
        tmp.write_text("half", encoding="utf-8")
        raise FileCreateError(OSError(errno.ENOSPC, "No space left on device"))
    assert target.read_text(encoding="utf-8") == "old"
    assert [p.name for p in tmp_path.iterdir()] == ["a.txt"]


def test_what_counts_as_a_full_disk():
    full = OSError(errno.ENOSPC, "No space left on device")
    assert disk_full(full) is full
    assert disk_full(FileCreateError(full)) is full
    try:
        try:
            raise full
        except OSError:
            raise RuntimeError("wrapped") from None  # the context is still kept
    except RuntimeError as exc:
        assert disk_full(exc) is full
    sqlite_full = sqlite3.OperationalError("database or disk is full")
    sqlite_full.sqlite_errorcode = 13
    assert disk_full(sqlite_full).errno == errno.ENOSPC
    assert disk_full(PermissionError(errno.EACCES, "denied")) is None
    assert disk_full(ValueError("no")) is None
