"""The master's own files under attack: its lock, the PDF beside it, its backups and
the reviews typed into it.

- The lock is one per file, whatever name the file is given (a link, ``..``); a lock
  file that is a folder or a link is named, never followed; another user's lock left
  by a stopped merge is taken over; a name too long to take the lock's prefix or the
  backup's suffix still merges. Office lock files are read for their user only as far
  as they say one (a LibreOffice-written Excel lock's UTF-16 copy; no junk shown).
- xltool marks the PDFs it writes: a person's own 總表.pdf is never renamed, nor
  overwritten by ``merge --pdf``.
- A backup name taken by a link is never taken for the backup.
- A 複評 typed as a formula, as text, in a date format or in a row without 編號 is
  adopted and said, or carried and said; a master made for another year's plan gives
  none of its reviews to this one.
"""
import os
import shutil
import subprocess

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from plans import second_plan, write_plan
from test_formula_literals import assert_libreoffice_agrees
from test_review_kept import backups, cell_of, first_master, issues, kit_for, merge, report, total
from test_review_notes import type_in

import xltool.file_locks as file_locks
import xltool.master.printing as printing
from xltool.cli import cli
from xltool.file_locks import lock_path, one_writer
from xltool.master.writer import backup_path


def merged(tmp_path, name="總表.xlsx"):
    """A plan, the returns of every unit and the master merged from them."""
    kit = kit_for(tmp_path)
    master = tmp_path / "out" / name
    res = remerge(kit.plan.source, kit.inbox, master)
    assert res.exit_code == 0 and master.exists(), res.output
    return kit.plan.source, kit.inbox, master


def remerge(plan, returns, master, *extra):
    return CliRunner().invoke(cli, ["merge", str(plan), str(returns), "-o", str(master), *extra])


def assert_refused(res, master, before, *words):
    assert res.exit_code == 2 and "Traceback" not in res.output, res.output
    for word in words:
        assert word in res.output, res.output
    assert master.read_bytes() == before


# ---------------------------------------------------------------- the master's lock

def test_a_lock_file_that_is_a_folder_is_named_not_misread_as_the_master(tmp_path):
    plan, returns, master = merged(tmp_path)
    before = master.read_bytes()
    lock_path(master).mkdir()
    res = remerge(plan, returns, master)
    assert_refused(res, master, before, ".~xltool-lock.總表.xlsx", "請刪除該鎖定檔")
    assert "無法寫入" not in res.output  # the master itself is writable
    lock_path(master).rmdir()
    assert remerge(plan, returns, master).exit_code == 0


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_lock_file_that_is_a_link_is_never_followed(tmp_path):
    plan, returns, master = merged(tmp_path)
    before, elsewhere = master.read_bytes(), tmp_path / "elsewhere.txt"
    lock_path(master).symlink_to(elsewhere)  # leads nowhere yet: opening it would make it
    res = remerge(plan, returns, master)
    assert_refused(res, master, before, ".~xltool-lock.總表.xlsx")
    assert not elsewhere.exists()


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_two_names_for_one_master_are_one_lock(tmp_path):
    plan, returns, master = merged(tmp_path)
    before = master.read_bytes()
    link = master.with_name("連結.xlsx")
    link.symlink_to(master.name)
    roundabout = master.parent / ".." / master.parent.name / link.name
    with one_writer(roundabout):
        assert_refused(remerge(plan, returns, master), master, before, "另一個 xltool 正在寫入")
    assert remerge(plan, returns, master).exit_code == 0


def test_another_users_lock_left_behind_is_taken_over(tmp_path, monkeypatch):
    """A merge stopped (killed) leaves its lock file, owned by whoever ran it: another
    user may open it only for reading, which is all a lock needs."""
    master = tmp_path / "總表.xlsx"
    lock = lock_path(master)
    lock.write_bytes(b"")
    real_open = os.open

    def as_another_user(path, flags, *args):
        if os.fspath(path) == os.fspath(lock) and flags & os.O_RDWR:
            raise PermissionError(13, "Permission denied")
        return real_open(path, flags, *args)

    monkeypatch.setattr(os, "open", as_another_user)
    with one_writer(master):
        pass
    assert not lock.exists()


def test_a_master_name_too_long_for_the_lock_and_backup_suffixes_merges(tmp_path):
    name = "高雄市政府警察局" * 10 + "總表.xlsx"  # 251 bytes: the longest names a folder takes
    plan, returns, master = merged(tmp_path, name)
    res = remerge(plan, returns, master)
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    [backup] = master.parent.glob("*-備份-*.xlsx")
    assert len(os.fsencode(backup.name)) <= 255 and backup.name.startswith("高雄市政府警察局")
    assert openpyxl.load_workbook(backup).sheetnames == openpyxl.load_workbook(master).sheetnames


def test_office_lock_files_show_their_user_and_never_junk(tmp_path):
    plan, returns, master = merged(tmp_path)
    before = master.read_bytes()
    lo = master.with_name(".~lock.總表.xlsx#")
    lo.write_bytes(b"\xff\xfe\x00\x01junk\x1b[31m,x," * 1000)
    res = remerge(plan, returns, master)
    assert_refused(res, master, before, "LibreOffice", ".~lock.總表.xlsx#", str(master.parent))
    assert "\x1b" not in res.output and "\ufffd" not in res.output and "使用者" not in res.output
    lo.unlink()
    # An Excel lock as LibreOffice writes it for 陳大同: the first copy of the name is one
    # byte per character (garbage for 陳大同), the UTF-16 copy at byte 55 the real one.
    name = "陳大同"
    raw = bytes([len(name)]) + bytes(ord(c) & 0xFF for c in name)
    raw += b" " * (55 - len(raw)) + bytes([len(name), 0]) + name.encode("utf-16-le")
    master.with_name("~$總表.xlsx").write_bytes(raw + b" \x00" * ((165 - len(raw)) // 2))
    assert_refused(remerge(plan, returns, master), master, before, "Excel", "使用者：陳大同")


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_an_office_lock_under_the_real_name_refuses_a_merge_through_a_link(tmp_path):
    plan, returns, master = merged(tmp_path)
    before = master.read_bytes()
    link = master.with_name("連結.xlsx")
    link.symlink_to(master.name)
    master.with_name(".~lock.總表.xlsx#").write_text(",王小明,pc-01,02.12.2026 10:00,file:///x;",
                                                     encoding="utf-8")
    res = remerge(plan, returns, link)
    assert_refused(res, master, before, "王小明", "pc-01", "02.12.2026 10:00")


def test_the_lock_module_reads_office_locks_a_little_at_a_time(tmp_path, monkeypatch):
    """A huge lock file is not read whole (only its start holds the user's name)."""
    lo = tmp_path / ".~lock.總表.xlsx#"
    with lo.open("wb") as fh:
        fh.write(b",\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e,host,")
        fh.truncate(1 << 30)  # a sparse gigabyte
    monkeypatch.setattr(type(lo), "read_bytes", lambda self: pytest.fail("read whole"))
    assert "王小明" in file_locks.office_holding(tmp_path / "總表.xlsx")


# ---------------------------------------------------------------- the PDF beside the master

def test_a_users_own_pdf_of_that_name_is_never_renamed_nor_overwritten(tmp_path, monkeypatch):
    plan, returns, master = merged(tmp_path)
    own = master.with_suffix(".pdf")
    own.write_bytes(b"%PDF-1.4 the signed and stamped copy")
    res = remerge(plan, returns, master)
    assert res.exit_code == 0 and "Traceback" not in res.output, res.output
    assert own.read_bytes() == b"%PDF-1.4 the signed and stamped copy"
    assert not list(master.parent.glob("*-備份-*.pdf"))
    assert "與總表同名的 PDF 不是 xltool 轉出的檔案" in res.output
    monkeypatch.setattr(printing, "to_pdf", lambda *a, **k: pytest.fail("would overwrite it"))
    res = remerge(plan, returns, master, "--pdf")
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    assert own.read_bytes() == b"%PDF-1.4 the signed and stamped copy"
    assert "「總表.pdf」已存在，且不是 xltool 轉出的檔案，為免覆蓋而未寫入" in res.output


@pytest.mark.libreoffice
def test_the_pdf_xltool_writes_is_marked_valid_and_set_aside_later(tmp_path, soffice):
    plan, returns, master = merged(tmp_path)
    res = remerge(plan, returns, master, "--pdf")
    assert res.exit_code == 0, res.output
    pdf = master.with_suffix(".pdf")
    assert printing.is_ours(pdf)
    info = subprocess.run(["pdfinfo", "-custom", str(pdf)], capture_output=True, text=True, encoding="utf-8")
    assert info.returncode == 0 and not info.stderr, info.stderr  # no repair needed
    assert "XltoolPrintOf:   總表.xlsx" in info.stdout and "彙整總表" in info.stdout
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True, encoding="utf-8")
    assert "評分" in text.stdout or "總分" in text.stdout
    res = remerge(plan, returns, master)
    assert not pdf.exists() and len(list(master.parent.glob("總表-備份-*.pdf"))) == 1, res.output


def test_a_pdf_printed_by_xltool_after_the_master_is_set_aside_all_the_same(tmp_path):
    """A PDF newer than the master (xltool print after reviews were typed) still shows
    the scores before this merge."""
    plan, returns, master = merged(tmp_path)
    pdf = master.with_suffix(".pdf")
    pdf.write_bytes(b"%PDF-1.4 printed later " + printing.MARK_KEY)
    later = master.stat().st_mtime + 3600
    os.utime(pdf, (later, later))
    res = remerge(plan, returns, master)
    assert not pdf.exists() and "已改名為" in res.output, res.output


# ---------------------------------------------------------------- backups

@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_backup_name_taken_by_a_link_to_the_master_is_not_the_backup(tmp_path):
    plan, returns, master = merged(tmp_path)
    before = master.read_bytes()
    trap = backup_path(master)
    trap.symlink_to(master.name)  # the same bytes as the master, through a link
    assert remerge(plan, returns, master).exit_code == 0
    [kept] = [b for b in master.parent.glob("總表-備份-*.xlsx") if not b.is_symlink()]
    assert kept.read_bytes() == before


# ---------------------------------------------------------------- reviews as typed

def test_a_review_typed_as_a_formula_without_its_result_is_carried_as_the_formula(tmp_path):
    kit, master = first_master(tmp_path)
    base = total(master)
    type_in(master, {("A01", "複評"): "=18"})  # openpyxl keeps no result for it
    assert merge(kit, master).exit_code == 0
    assert cell_of(master, "A01", "複評").value == "=18"  # as text now: never lost
    [said] = issues(master, "type-error")
    assert said["cell"] == "L5" and "=18" in said["message"] and "公式" in said["message"]
    assert total(master) == base


def test_reviews_typed_as_text_or_in_a_date_format_are_said(tmp_path):
    kit, master = first_master(tmp_path)
    base = total(master)

    def as_a_date(ws):  # 18 typed into a cell formatted as a date (shows 1900/1/18)
        ws["L9"].number_format = "yyyy/mm/dd"
    type_in(master, {("A01", "複評"): "１８", ("A02", "複評"): "12 ", ("B02", "複評"): 18}, edit=as_a_date)
    res = merge(kit, master)
    assert res.exit_code == 0, res.output
    assert (cell_of(master, "A01", "複評").value, cell_of(master, "A02", "複評").value) == (18, 12)
    converted = {i["cell"]: i for i in issues(master, "review-converted")}
    assert set(converted) == {"L5", "L6"} and "「１８」" in converted["L5"]["message"]
    b02 = cell_of(master, "B02", "複評")
    assert b02.value == 18 and b02.fill.fgColor.rgb.endswith("FFC7CE")  # the number, not adopted yet
    [dated] = issues(master, "type-error")
    assert dated["cell"] == "L9" and "日期" in dated["message"] and "18" in dated["message"]
    assert total(master) == pytest.approx(base + 8 + 2)
    assert merge(kit, master).exit_code == 0  # the number in a number's format: adopted
    assert total(master) == pytest.approx(base + 8 + 2 + 8)


def test_a_review_in_a_row_without_an_id_is_an_error_naming_the_backup(tmp_path):
    kit, master = first_master(tmp_path)

    def inserted(ws):  # a row inserted below A02, a 複評 and a note typed into it
        ws.protection.sheet = False
        ws.insert_rows(7)
        ws["L7"], ws["M7"] = 9, "插入列的說明"
    type_in(master, {("A01", "複評"): 15}, edit=inserted)
    res = merge(kit, master)
    assert res.exit_code == 1, res.output
    [said] = issues(master, "review-without-id")
    [backup] = backups(master)
    assert said["cell"] == "L7" and "「9」" in said["message"] and "插入列的說明" in said["message"]
    assert backup.name in said["message"]
    assert openpyxl.load_workbook(backup)["評分"]["L7"].value == 9
    assert cell_of(master, "A01", "複評").value == 15


def test_a_master_of_another_years_plan_gives_none_of_its_reviews(tmp_path):
    kit, master = first_master(tmp_path)
    type_in(master, {("A01", "複評"): 15})
    data = second_plan()
    data["計畫"] = [[k, 113 if k == "年度" else v.replace("112", "113") if isinstance(v, str) else v]
                  for k, v in data["計畫"]]
    next_year = write_plan(tmp_path / "plan-113.xlsx", data)
    res = CliRunner().invoke(cli, ["merge", str(next_year), str(kit.inbox), "-o", str(master),
                                   "--report", str(master.parent / "report.json")])
    assert res.exit_code == 1 and "Traceback" not in res.output, res.output
    [said] = issues(master, "review-other-plan")
    assert "112" in said["message"] and "113" in said["message"] and backups(master)[0].name in said["message"]
    assert [i["review"] for i in report(master)["items"] if i["id"] == "A01"] == [None]
    assert cell_of(master, "A01", "複評").value is None


@pytest.mark.libreoffice
def test_a_review_typed_as_a_formula_in_libreoffice_is_adopted_and_said(tmp_path, soffice):
    kit, master = first_master(tmp_path)
    base = total(master)
    python = shutil.which("python3", path="/usr/bin") or "python3"
    saved = tmp_path / "lo.xlsx"
    out = subprocess.run([python, str(ROOT / "tests" / "lo_review.py"), str(master), str(saved),
                          str(tmp_path / "lo-profile"), "A01==18", "B02==99"],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    shutil.move(saved, master)
    res = merge(kit, master)
    assert res.exit_code == 0, res.output  # both said: a note and a warning
    assert cell_of(master, "A01", "複評").value == 18
    [converted] = issues(master, "review-converted")
    assert converted["cell"] == "L5" and "=18" in converted["message"]
    [over] = issues(master, "type-error")
    assert over["cell"] == "L9" and "=99" in over["message"]
    assert cell_of(master, "B02", "複評").value == "=99"  # the formula kept, as its text
    assert total(master) == pytest.approx(base + 8)
    assert_libreoffice_agrees(master, tmp_path / "lo-profile")


def test_print_never_overwrites_a_pdf_that_is_not_xltools(tmp_path):
    """`xltool print` as `merge --pdf`: a person's own PDF of that name stays."""
    from click.testing import CliRunner

    from xltool.cli import cli

    book = tmp_path / "總表.xlsx"
    book.write_bytes(b"not read: the PDF's name is checked first")
    own = tmp_path / "總表.pdf"
    own.write_bytes(b"%PDF-1.4 a signed scan")
    res = CliRunner().invoke(cli, ["print", str(book)])
    assert res.exit_code == 2, res.output
    assert "總表.pdf" in res.output and "為免覆蓋而未寫入" in res.output
    assert own.read_bytes() == b"%PDF-1.4 a signed scan"


@pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")
def test_a_link_to_the_master_is_written_through(tmp_path):
    """A master reached by a link (a shortcut to the shared folder's file): the file the
    link names gets the new master, and the link stays a link."""
    real = tmp_path / "shared" / "總表.xlsx"
    real.parent.mkdir()
    real.write_bytes(b"old")
    link = tmp_path / "總表.xlsx"
    link.symlink_to(real)
    from xltool.files import atomic_path

    with atomic_path(link) as tmp:
        tmp.write_bytes(b"new")
    assert link.is_symlink() and real.read_bytes() == b"new"
    assert sorted(p.name for p in real.parent.iterdir()) == ["總表.xlsx"]
