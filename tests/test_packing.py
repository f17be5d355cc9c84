"""The master's zip (master/packing.py): its big parts deflated in threads, its rows
copied as bytes. Every member reads back as written, by zipfile (which checks the
CRC) and by calamine, and a master's bytes do not depend on how the work was shared."""
import random
import shutil
import zipfile
import zlib
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import xlsxwriter
import xlsxwriter.packager
from conftest import ROOT
from python_calamine import CalamineWorkbook

from xltool.master import packing
from xltool.master.merge import merge
from xltool.master.run import run_merge
from xltool.master.writer import write_master
from xltool.plan import load_plan
from xltool.xlsx_text import LiteralWorksheet

EXAMPLE = ROOT / "examples" / "kaohsiung-109"


def _xml_like(size: int, seed: int = 1) -> bytes:
    """Text like a sheet's (repeats, CJK, line breaks) with some noise that deflates badly."""
    rng = random.Random(seed)
    out, n = [], 0
    while n < size:
        piece = (f'<row r="{n}"><c r="A{n}" t="inlineStr"><is><t>第{rng.randrange(10**6)}項\n'
                 f'{rng.randbytes(12).hex()}</t></is></c></row>').encode()
        out.append(piece)
        n += len(piece)
    return b"".join(out)[:size]


@pytest.mark.parametrize("size", [0, 1, packing.BLOCK - 1, packing.BLOCK, 3 * packing.BLOCK + 17])
def test_the_blocks_join_into_one_deflate_stream(size):
    data = _xml_like(size)
    with ThreadPoolExecutor(3) as pool:
        deflate = packing.ParallelDeflate(pool, 3, 3)
        pieces = [deflate.compress(data[k:k + 70_000]) for k in range(0, len(data), 70_000)]
        stream = b"".join(pieces) + deflate.flush()
    assert zlib.decompress(stream, -zlib.MAX_WBITS) == data
    inflater = zlib.decompressobj(-zlib.MAX_WBITS)
    assert inflater.decompress(stream) == data and inflater.eof and not inflater.unused_data


def test_a_big_member_reads_back_whole_and_the_same_every_time(tmp_path, monkeypatch):
    part = tmp_path / "part.xml"
    part.write_bytes(_xml_like(packing.PARALLEL_FROM + 5 * packing.BLOCK // 3))
    zips = []
    for threads in (2, 3, 4):
        monkeypatch.setattr(packing, "deflate_threads", lambda t=threads: t)
        target = tmp_path / f"t{threads}.zip"
        with packing.MasterZipFile(target, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
            zf.write(part, "xl/worksheets/sheet1.xml")
            zf.writestr(zipfile.ZipInfo("small.xml", (1980, 1, 1, 0, 0, 0)), b"<a/>")
        with zipfile.ZipFile(target) as zf:
            assert zf.testzip() is None  # every CRC checked
            assert zf.read("xl/worksheets/sheet1.xml") == part.read_bytes()
        zips.append(target.read_bytes())
    assert zips[0] == zips[1] == zips[2]  # the blocks are fixed, not the threads' timing
    # one core: zipfile's own deflate, and the same member
    monkeypatch.setattr(packing, "deflate_threads", lambda: 1)
    plain = tmp_path / "plain.zip"
    with packing.MasterZipFile(plain, "w", zipfile.ZIP_DEFLATED, compresslevel=3) as zf:
        zf.write(part, "xl/worksheets/sheet1.xml")
    with zipfile.ZipFile(plain) as zf:
        assert zf.read("xl/worksheets/sheet1.xml") == part.read_bytes()


def _sheet_xml(path, worksheet_class) -> bytes:
    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True})
    ws = wb.add_worksheet("明細", worksheet_class)
    wrap = wb.add_format({"text_wrap": True})
    for r in range(3000):
        ws.write_string(r, 0, f"第 {r} 列\n行二　全形空白", wrap)
        ws.write_number(r, 1, r / 7)
        ws.write_string(r, 2, "a&b<c>😀\r\n")
    ws.autofilter(0, 0, 2999, 2)
    wb.close()
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml")


def test_the_rows_copied_as_bytes_are_xlsxwriters_own(tmp_path):
    ours = _sheet_xml(tmp_path / "ours.xlsx", packing.MasterWorksheet)
    assert ours == _sheet_xml(tmp_path / "theirs.xlsx", LiteralWorksheet)
    assert ours.count(b"<row ") == 3000 and b"</sheetData><autoFilter" in ours
    sheet = CalamineWorkbook.from_path(str(tmp_path / "ours.xlsx")).get_sheet_by_name("明細").to_python()
    assert sheet[2999][0] == "第 2999 列\n行二　全形空白"


def test_a_master_deflated_in_blocks_is_the_sequential_one(tmp_path, monkeypatch):
    """Blocks small enough that every sheet of the example's master is cut into many:
    the streamed master, from the pool, is byte for byte the sequential one, and reads
    back in calamine."""
    monkeypatch.setattr(packing, "BLOCK", 4096)
    monkeypatch.setattr(packing, "PARALLEL_FROM", 8192)
    monkeypatch.setattr(packing, "deflate_threads", lambda: 3)
    monkeypatch.setenv("XLTOOL_WORKERS", "2")
    used = []
    monkeypatch.setattr(packing, "ParallelDeflate",
                        lambda *a, cls=packing.ParallelDeflate: used.append(1) or cls(*a))
    plan = load_plan(EXAMPLE / "plan.xlsx")
    inbox = tmp_path / "in"
    shutil.copytree(EXAMPLE / "returns", inbox)
    for n in range(26):  # enough files for the pool
        shutil.copy(next(inbox.glob("*第一課*")), inbox / f"copy{n:02d}.xlsx")
    sequential = tmp_path / "sequential.xlsx"
    write_master(merge(plan, [inbox], workers=1, spill_from=10 ** 9), sequential)
    streamed = tmp_path / "out" / "master.xlsx"
    assert used and run_merge(plan, [inbox], streamed).written
    assert streamed.read_bytes() == sequential.read_bytes()
    with zipfile.ZipFile(streamed) as zf:
        assert zf.testzip() is None
    book = CalamineWorkbook.from_path(str(streamed))
    assert book.get_sheet_by_name("明細").to_python()[1][0]


def _members(path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        assert zf.testzip() is None  # every CRC checked
        return {name: zf.read(name) for name in zf.namelist()}


def _example_master(tmp_path, name: str) -> dict[str, bytes]:
    out = tmp_path / name / "master.xlsx"
    assert run_merge(load_plan(EXAMPLE / "plan.xlsx"), [EXAMPLE / "returns"], out).written
    return _members(out)


def test_rows_deflated_early_make_the_member_they_would_have_made(tmp_path, monkeypatch):
    """明細 spliced from its early-deflated rows holds what zipping it whole holds, and
    its scratch files are gone afterwards."""
    made = []

    class Noted(packing.EarlyRows):
        def usable(self):
            made.append(self)
            return super().usable()
    monkeypatch.setattr(packing, "deflate_threads", lambda: 2)
    monkeypatch.setattr(packing, "EarlyRows", Noted)
    early = _example_master(tmp_path, "early")
    assert len(made) == 1 and not made[0].rows.exists() and not made[0].deflated.exists()
    monkeypatch.setattr(Noted, "possible", staticmethod(lambda ws: False))
    whole = _example_master(tmp_path, "whole")
    assert early == whole and b"<sheetData><row " in early["xl/worksheets/sheet2.xml"]


def test_rows_that_failed_to_deflate_early_are_zipped_as_usual(tmp_path, monkeypatch):
    whole = _example_master(tmp_path, "whole")
    monkeypatch.setattr(packing, "deflate_threads", lambda: 2)

    def full_disk(self):
        self.deflated.write_bytes(b"\x00half")
        raise OSError("磁碟已滿")
    monkeypatch.setattr(packing.EarlyRows, "_deflate", full_disk)
    assert _example_master(tmp_path, "failed") == whole


def test_rows_changed_since_they_were_deflated_are_not_used(tmp_path):
    rows = tmp_path / "rows.xml"
    rows.write_bytes(_xml_like(50_000))
    early = packing.EarlyRows(type("Sheet", (), {"row_data_filename": str(rows)}), 3)
    assert early.usable()
    inflated = zlib.decompressobj(-zlib.MAX_WBITS).decompress(early.deflated.read_bytes())
    assert inflated == rows.read_bytes()
    with rows.open("ab") as fh:
        fh.write(b"<row/>")
    assert not early.usable()
    early.discard()
    assert not early.deflated.exists()


def test_the_row_xlsxwriter_holds_is_written_before_the_rows_are_deflated(tmp_path, monkeypatch):
    """A sheet written by XlsxWriter's own calls, its last row (with a height) still in
    XlsxWriter's hands: that row is in the spliced member once, as XlsxWriter writes it."""
    from xltool.master.writer import MasterWorkbook

    def book(name: str, early: bool):
        wb = MasterWorkbook(str(tmp_path / name), {"constant_memory": True})
        ws = wb.add_worksheet("明細", packing.MasterWorksheet)
        ws.set_row(0, 30)
        for r in range(2000):
            ws.write_string(r, 0, f"第 {r} 列")
            ws.write_number(r, 1, r)
        ws.set_row(1999, 42)
        ws.write_comment(1999, 0, "末列")
        if early:
            assert packing.EarlyRows.possible(ws)
            packing.start_early_rows(ws, 3)
            assert ws.early_rows is not None
        wb.close()
        return _members(tmp_path / name)
    monkeypatch.setattr(packing, "deflate_threads", lambda: 2)
    early = book("early.xlsx", True)
    assert early == book("late.xlsx", False)
    sheet = early["xl/worksheets/sheet1.xml"]
    assert sheet.count(b'<row r="2000"') == 1 and sheet.count(b'<row r="1"') == 1
    assert b'<row r="2000" ht="42"' in sheet
    monkeypatch.setattr(packing, "deflate_threads", lambda: 1)  # one core: nothing to gain
    wb = xlsxwriter.Workbook(str(tmp_path / "one.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet("明細", packing.MasterWorksheet)
    ws.write_string(0, 0, "甲")
    assert not packing.EarlyRows.possible(ws)
    wb.close()


@pytest.mark.parametrize("rows", [random.Random(7).randbytes(300_000), b"", _xml_like(300_000)])
def test_a_spliced_member_is_its_head_rows_and_tail(tmp_path, rows):
    """Rows that deflate to more bytes than they are (noise) or to none at all, between
    a part's head and tail, read back whole."""
    head, tail = b"<worksheet><sheetData>", b"</sheetData></worksheet>"
    (tmp_path / "rows.xml").write_bytes(rows)
    (tmp_path / "part.xml").write_bytes(head + tail)
    early = packing.EarlyRows(type("Sheet", (), {"row_data_filename": str(tmp_path / "rows.xml")}), 3)
    assert early.usable()  # (as the sheet asks before its rows are spliced)
    spliced = {str(tmp_path / "part.xml"): (len(head), early)}
    with packing.MasterZipFile(tmp_path / "t.zip", "w", zipfile.ZIP_DEFLATED, compresslevel=3,
                               spliced=spliced) as zf:
        zf.write(str(tmp_path / "part.xml"), "xl/worksheets/sheet1.xml")
    assert _members(tmp_path / "t.zip") == {"xl/worksheets/sheet1.xml": head + rows + tail}
    assert not spliced and not early.rows.exists() and not early.deflated.exists()


def test_a_workbook_not_stored_waits_for_its_early_rows(tmp_path, monkeypatch):
    """The store fails (a full disk) on a part zipped before 明細's: closing the workbook
    waits for the early deflate, which would otherwise go on writing into a removed
    folder (found by helper-51), and leaves nothing behind."""
    import time

    from xltool.master.writer import MasterWorkbook

    made = []

    class Slow(packing.EarlyRows):
        def _deflate(self):
            made.append(self)
            time.sleep(0.5)
            super()._deflate()

    def full_disk(self, *args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(packing, "deflate_threads", lambda: 2)
    monkeypatch.setattr(packing, "EarlyRows", Slow)
    monkeypatch.setattr(xlsxwriter.packager.Packager, "_write_workbook_rels_file", full_disk)  # (before 明細's part)
    wb = MasterWorkbook(str(tmp_path / "m.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet("明細", packing.MasterWorksheet)
    ws.write_string(0, 0, "甲")
    packing.start_early_rows(ws, 3)
    with pytest.raises((OSError, xlsxwriter.exceptions.FileCreateError)):
        wb.close()
    assert made and made[0].job.done() and not made[0].deflated.exists()
    assert not Path(wb._scratch.name).exists()  # (the partial file is the caller's: atomic_path)
