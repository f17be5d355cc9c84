"""A master that is open elsewhere is not replaced: not while LibreOffice or Excel has
it open (their later save would put the old master back over the new one), and not
while another xltool is writing it. The refusal comes before any work, in zh-TW, and
leaves the master as it was."""
import subprocess
import sys

import pytest
from conftest import ROOT
from lo_run import HERE, uno_python

from xltool.file_locks import lock_path, one_writer

EXAMPLE = ROOT / "examples" / "kaohsiung-109"


def merge(out):
    return subprocess.run([sys.executable, "-m", "xltool", "merge", EXAMPLE / "plan.xlsx",
                           EXAMPLE / "returns", "-o", out], capture_output=True, text=True,
                          encoding="utf-8")


@pytest.fixture
def master(tmp_path):
    out = tmp_path / "out" / "總表.xlsx"
    assert merge(out).returncode == 0
    return out


def names(folder):
    return sorted(p.name for p in folder.iterdir())


def assert_refused(proc, out, before, *words):
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    for word in ("總表.xlsx", *words):
        assert word in proc.stderr, proc.stderr
    assert out.read_bytes() == before  # not replaced, and no backup made of it


def test_open_in_libreoffice(master):
    """A real LibreOffice holding the master open for editing."""
    before, listed = master.read_bytes(), names(master.parent)
    holder = subprocess.Popen([uno_python(), str(HERE / "lo_hold.py"), str(master),
                               str(master.parent.parent / "profile")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, cwd=HERE)
    try:
        assert holder.stdout.readline().strip() == "open"
        proc = merge(master)
    finally:
        holder.communicate("\n", timeout=120)
    assert_refused(proc, master, before, "LibreOffice", "請先存檔並關閉", ".~lock.總表.xlsx#")
    assert names(master.parent) == listed  # LibreOffice's lock file is gone with it
    assert merge(master).returncode == 0  # closed: the merge goes ahead


@pytest.mark.parametrize("lock, program, user", [
    (".~lock.總表.xlsx#", "LibreOffice", ",王小明,pc-01,02.12.2026 10:00,file:///home/wang/.config;"),
    ("~$總表.xlsx", "Excel", None),
])
def test_left_lock_files_are_named(master, lock, program, user):
    """A lock file left by a crash looks like an open file: the message names the file
    to remove, and once it is gone the merge goes ahead."""
    before = master.read_bytes()
    if user is None:  # Excel: a length byte, the user name in the ANSI code page, padding
        raw = "陳大同".encode("cp950")
        (master.parent / lock).write_bytes(bytes([len(raw)]) + raw + b" " * (53 - len(raw)))
        user = "陳大同"
    else:
        (master.parent / lock).write_text(user, encoding="utf-8")
        user = "王小明"
    assert_refused(merge(master), master, before, program, user, lock)
    (master.parent / lock).unlink()
    proc = merge(master)
    assert proc.returncode == 0, proc.stderr
    assert any("備份" in n for n in names(master.parent))  # the master was replaced


def test_the_lock_files_folder_is_named_whole_for_a_master_named_without_one(master):
    """`-o 總表.xlsx` in the master's folder: the folder to look in is named as a
    path the user can find, not "."."""
    (master.parent / ".~lock.總表.xlsx#").write_text(",王小明,pc-01,;", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "xltool", "merge", EXAMPLE / "plan.xlsx",
                           EXAMPLE / "returns", "-o", master.name], capture_output=True, text=True,
                          encoding="utf-8", cwd=master.parent)
    assert proc.returncode == 2, proc.stderr
    assert f"同一資料夾「{master.parent}」" in proc.stderr, proc.stderr
    assert "「.」" not in proc.stderr


def test_two_merges_at_once(master):
    before = master.read_bytes()
    with one_writer(master):
        assert lock_path(master).exists()
        assert_refused(merge(master), master, before, "另一個 xltool 正在寫入")
    assert not lock_path(master).exists()
    proc = merge(master)
    assert proc.returncode == 0, proc.stderr
    assert not lock_path(master).exists()
    assert [n for n in names(master.parent) if n.startswith(".")] == []


def test_lock_released_when_the_holder_dies(master, tmp_path):
    """The system lets go of the lock with the process: a crash leaves nothing that
    stops the next merge (the file left behind is taken over)."""
    script = ("import sys, os; from xltool.file_locks import one_writer\n"
              "from pathlib import Path\n"
              "with one_writer(Path(sys.argv[1])):\n    os._exit(9)\n")
    assert subprocess.run([sys.executable, "-c", script, str(master)]).returncode == 9
    assert lock_path(master).exists()
    proc = merge(master)
    assert proc.returncode == 0, proc.stderr
    assert not lock_path(master).exists()



def test_a_lock_file_windows_will_not_even_look_at_is_a_message(tmp_path, monkeypatch):
    """On Windows a lock file whose removal is pending refuses opening and even a look
    (PermissionError from stat): a zh-TW refusal, not a traceback."""
    import os
    from pathlib import Path

    import xltool.file_locks as file_locks
    from xltool.errors import XltoolError

    target = tmp_path / "總表.xlsx"
    lock = lock_path(target)
    real_is_file, real_open = Path.is_file, os.open

    def is_file(self):
        if self.name == lock.name:
            raise PermissionError(13, "Access is denied")
        return real_is_file(self)

    def refuse(path, *args, **kwargs):
        if Path(path).name == lock.name:
            raise PermissionError(13, "Access is denied")
        return real_open(path, *args, **kwargs)
    monkeypatch.setattr(Path, "is_file", is_file)
    monkeypatch.setattr(file_locks.os, "open", refuse)
    with pytest.raises(XltoolError, match="總表.xlsx"), one_writer(target):
        pass
