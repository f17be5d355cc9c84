"""The master prints well: A4 landscape, headers on every page, nothing cut off, CJK fonts."""
import re
import subprocess

import pytest
from click.testing import CliRunner
from conftest import ROOT
from lo_pdf import poppler

from xltool.cli import cli

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
# Each sheet's first and last header cell: both on a page means no column was cut off.
HEADERS = {"總表": ("構面", "未繳單位"), "明細": ("單位", "檢核"), "評分": ("編號", "採計分數"),
           "繳交狀態": ("單位", "說明"), "附表2": ("實施考核機關", "考核年月")}


@pytest.fixture(scope="module")
def pdf(soffice, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("print")
    master = tmp / "master.xlsx"
    res = CliRunner().invoke(cli, ["merge", str(EXAMPLE / "plan.xlsx"), str(EXAMPLE / "returns"),
                                   "-o", str(master), "--pdf"])
    assert res.exit_code == 0, res.output
    assert (tmp / "master.pdf").exists()
    return tmp / "master.pdf"


def pages(pdf):
    info = subprocess.run([poppler("pdfinfo"), str(pdf)], capture_output=True, text=True).stdout
    count = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    out = []
    for n in range(1, count + 1):
        text = subprocess.run([poppler("pdftotext"), "-layout", "-f", str(n), "-l", str(n),
                               str(pdf), "-"], capture_output=True, text=True).stdout
        size = subprocess.run([poppler("pdfinfo"), "-f", str(n), "-l", str(n), str(pdf)],
                              capture_output=True, text=True).stdout
        w, h = map(float, re.search(r"Page\s+\d+ size:\s+([\d.]+) x ([\d.]+)", size).groups())
        sheet = re.search(r"(\S+)\s+第 \d+ 頁，共 \d+ 頁", text)
        out.append({"text": text, "w": w, "h": h, "sheet": sheet.group(1) if sheet else None})
    return out


def test_every_page_is_a4_landscape(pdf):
    for n, page in enumerate(pages(pdf), start=1):
        assert (round(page["w"]), round(page["h"])) == (842, 595), n


def test_headers_repeat_and_no_column_is_cut(pdf):
    found = {}
    for n, page in enumerate(pages(pdf), start=1):
        assert page["sheet"], f"page {n} has no footer"
        found.setdefault(page["sheet"], []).append(n)
        if page["sheet"] in HEADERS:
            first, last = HEADERS[page["sheet"]]
            assert first in page["text"] and last in page["text"], (page["sheet"], n)
    assert len(found["總表"]) > 1  # the check above ran on more than one page of 總表
    assert set(HEADERS) <= set(found)


def test_cjk_text_uses_an_embedded_cjk_font(pdf):
    fonts = subprocess.run([poppler("pdffonts"), str(pdf)], capture_output=True, text=True).stdout
    cjk = [line for line in fonts.splitlines() if re.search(r"CJK|Ming|Kai|Hei|Song|Noto Sans TC", line)]
    assert cjk, fonts
    assert all(" yes " in line for line in cjk)  # embedded, so no empty boxes anywhere


def test_print_without_libreoffice_says_how_to_install(tmp_path, monkeypatch):
    import xltool.master.printing as printing

    monkeypatch.setattr(printing, "find_soffice", lambda: None)
    book = tmp_path / "m.xlsx"
    book.write_bytes(b"PK")
    res = CliRunner().invoke(cli, ["print", str(book)])
    assert res.exit_code == 2
    assert "libreoffice-calc-nogui" in res.output and "libreoffice.org" in res.output
