"""What xltool's files look like on paper, and which PDF stands beside the master.

- Both templates print 第 N 頁，共 M 頁 on every page, numbered through the workbook
  (the .ods had the footer in its master page, but no footer style, so Calc printed none;
  conftest.py validates every .ods a run writes, at its end).
- The .ods asks Calc for the forbidden-character rules (kinsoku): without them 。，、
  start a line of a wrapped cell.
- ``merge`` without ``--pdf`` sets aside the PDF an earlier ``merge --pdf`` left beside
  the master (it shows the old scores), under the master's backup naming, and says so;
  a PDF that cannot be made no longer stops the merge after the master was written.
"""
import os
import re
from datetime import datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from lo_pdf import pages, to_pdf
from plans import second_plan, write_plan

import xltool.master.printing as printing
from xltool.cli import cli
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

UNIT = "甲組"  # leads A01, B01 and B02 of the second plan
# Clauses of every length from 1 to 14 characters, each closed by ，or 。: in a column
# 11 to 13 characters wide, some of the marks fall at the start of a line unless kept back.
PRACTICE = "".join("甲" * n + ("。" if n % 3 == 0 else "，") for n in range(1, 15))
CLOSING = "，。"
PAGE_NUMBER = re.compile(r"第 (\d+) 頁，共 (\d+) 頁")
# A stand-in for the PDF an earlier merge --pdf wrote: xltool's PDFs carry its mark.
EARLIER = b"%PDF-1.4 the earlier master's scores " + printing.MARK_KEY


@pytest.fixture(scope="module")
def printed(soffice, tmp_path_factory):
    """The unit's .xlsx and .ods templates, and each as LibreOffice prints it."""
    tmp = tmp_path_factory.mktemp("printed")
    sheets = second_plan()
    sheets["項目"][1][5] = PRACTICE  # A01's 具體作法
    plan = load_plan(write_plan(tmp / "plan.xlsx", sheets))
    write_templates(plan, tmp / "templates", units=[UNIT], formats=("xlsx", "ods"),
                    generated=datetime(2024, 1, 2))
    paths = {fmt: tmp / "templates" / template_filename(plan, UNIT, fmt) for fmt in ("xlsx", "ods")}
    return paths, {fmt: pages(to_pdf(soffice, path, tmp / fmt)) for fmt, path in paths.items()}


@pytest.mark.libreoffice
def test_the_ods_template_numbers_its_pages_as_the_xlsx_does(printed):
    """第 N 頁，共 M 頁 on every page, numbered through the workbook (guide, then form)."""
    for fmt, printed_pages in printed[1].items():
        total = len(printed_pages)
        assert total >= 2, fmt  # the guide and the form
        assert [PAGE_NUMBER.findall(" ".join(page.texts)) for page in printed_pages] == \
            [[(str(n), str(total))] for n in range(1, total + 1)], fmt


@pytest.mark.libreoffice
def test_every_printed_page_of_a_template_names_its_unit(printed):
    """A page that comes loose from the stack still says whose form it is."""
    for fmt, printed_pages in printed[1].items():
        for n, page in enumerate(printed_pages, start=1):
            footer = " ".join(w.text for w in page.words if w.y0 > page.height * 0.9)
            assert UNIT in footer and f"第 {n} 頁" in footer, (fmt, n, footer)


@pytest.mark.libreoffice
def test_closing_punctuation_never_starts_a_line_in_the_ods(printed):
    words = [w for page in printed[1]["ods"] for w in page.words
             if w.text and set(w.text) <= set("甲" + CLOSING)]
    assert len(words) > 5  # the 具體作法 cell, over several lines
    left = min(w.x0 for w in words)
    starts = [w.text for w in words if abs(w.x0 - left) < 1]
    assert len(starts) > 5 and not [t for t in starts if t[0] in CLOSING], starts


# ---------------------------------------------------------------- the PDF beside the master

@pytest.fixture
def merged_once(tmp_path):
    """A plan, an empty returns folder and a master merged from them, with the PDF of
    that master as an earlier ``merge --pdf`` left it (a stand-in: no LibreOffice)."""
    plan = write_plan(tmp_path / "plan.xlsx", second_plan())
    (tmp_path / "returns").mkdir()
    master = tmp_path / "out" / "總表.xlsx"
    res = CliRunner().invoke(cli, ["merge", str(plan), str(tmp_path / "returns"), "-o", str(master)])
    assert master.exists(), res.output
    old_pdf = master.with_suffix(".pdf")
    old_pdf.write_bytes(EARLIER)
    stamp = datetime(2024, 1, 20, 9, 30, 5).timestamp()
    os.utime(old_pdf, (stamp, stamp))
    return plan, tmp_path / "returns", master


def merge_again(plan: Path, returns: Path, master: Path, *extra: str):
    return CliRunner().invoke(cli, ["merge", str(plan), str(returns), "-o", str(master), *extra])


def test_merge_without_pdf_sets_the_earlier_pdf_aside_and_says_so(merged_once):
    plan, returns, master = merged_once
    beside = master.parent / "其他說明.pdf"  # not the master's: never touched
    beside.write_bytes(b"%PDF-1.4 something else")
    res = merge_again(plan, returns, master)
    assert "Traceback" not in res.output
    aside = master.parent / "總表-備份-20240120-093005.pdf"
    assert not master.with_suffix(".pdf").exists()
    assert aside.read_bytes() == EARLIER  # kept, not deleted
    assert beside.read_bytes() == b"%PDF-1.4 something else"
    assert "[說明] 總表.pdf：先前的總表轉出的 PDF，不是本次彙整的結果，" \
        "已改名為「總表-備份-20240120-093005.pdf」" in res.output
    assert "或以 xltool print 將總表轉成 PDF" in res.output


def test_a_second_set_aside_keeps_the_first(merged_once):
    plan, returns, master = merged_once
    merge_again(plan, returns, master)
    newer = master.with_suffix(".pdf")
    newer.write_bytes(b"%PDF-1.4 a later print " + printing.MARK_KEY)
    stamp = datetime(2024, 2, 1, 8, 0, 0).timestamp()
    os.utime(newer, (stamp, stamp))
    merge_again(plan, returns, master)
    assert sorted(p.name for p in master.parent.glob("*.pdf")) == [
        "總表-備份-20240120-093005.pdf", "總表-備份-20240201-080000.pdf"]


def test_a_pdf_that_cannot_be_renamed_stays_with_a_warning(merged_once, monkeypatch):
    plan, returns, master = merged_once

    replace = os.replace

    def refused(src, dst):  # as Windows does while a viewer has the PDF open
        if Path(src).suffix == ".pdf":
            raise PermissionError(13, "檔案正由其他程式使用")
        replace(src, dst)

    monkeypatch.setattr(os, "replace", refused)
    res = merge_again(plan, returns, master)
    assert "Traceback" not in res.output
    assert master.with_suffix(".pdf").read_bytes() == EARLIER
    assert "[警告] 總表.pdf：先前的總表轉出的 PDF，不是本次彙整的結果，但無法改名" \
        "（檔案正由其他程式使用）；請勿採用" in res.output


def test_merge_pdf_without_libreoffice_keeps_the_master_and_sets_the_old_pdf_aside(
        merged_once, monkeypatch):
    plan, returns, master = merged_once
    before = master.stat().st_mtime_ns
    monkeypatch.setattr(printing, "find_soffice", lambda: None)
    res = merge_again(plan, returns, master, "--pdf")
    assert "Traceback" not in res.output and res.exit_code == 1
    assert master.stat().st_mtime_ns != before  # the new master was written all the same
    assert "已寫出總表" in res.output  # and the merge's own results shown
    assert "[錯誤] 總表.xlsx：總表已寫出，但未能轉成 PDF：需要 LibreOffice 才能產生 PDF" in res.output
    assert not master.with_suffix(".pdf").exists()
    assert (master.parent / "總表-備份-20240120-093005.pdf").exists()
