"""Workbooks printed to PDF by LibreOffice, read back with poppler's pdftotext -bbox.

Used by the template tests that look at paper: header lines, print scale and text
size, number and date display. Text size is measured, not assumed: a Chinese
character is one em wide in every CJK font, so a word of Chinese characters is
(its width / its length) points of type on the page, whatever scale the page was
printed at.
"""
from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import convert
from defusedxml import ElementTree as ET

XHTML = "{http://www.w3.org/1999/xhtml}"


def poppler(tool: str) -> str:
    exe = shutil.which(tool)
    if not exe:
        if os.environ.get("XLTOOL_REQUIRE_ALL"):
            pytest.fail(f"{tool} (poppler-utils) is required here")
        pytest.skip(f"{tool} (poppler-utils) is not installed")
    return exe


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def cjk_points(self) -> float | None:
        """The type size of a word of Chinese characters (two or more), else None."""
        if len(self.text) < 2 or not all("\u4e00" <= ch <= "\u9fff" for ch in self.text):
            return None
        return (self.x1 - self.x0) / len(self.text)


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    words: list[Word]

    @property
    def texts(self) -> list[str]:
        return [w.text for w in self.words]

    def min_cjk_points(self) -> float:
        return min(s for w in self.words if (s := w.cjk_points) is not None)


def to_pdf(soffice: str, src: Path, out_dir: Path) -> Path:
    """``src`` printed by LibreOffice headless, every visible sheet, as its print set-up says."""
    return convert(soffice, src, "pdf", out_dir)


def pages(pdf: Path) -> list[Page]:
    out = subprocess.run([poppler("pdftotext"), "-bbox", str(pdf), "-"], capture_output=True,
                         check=True, timeout=120).stdout
    root = ET.fromstring(out)
    found = []
    for n, page in enumerate(root.iter(f"{XHTML}page"), start=1):
        words = [Word(w.text or "", *(float(w.get(k)) for k in ("xMin", "yMin", "xMax", "yMax")))
                 for w in page.iter(f"{XHTML}word")]
        found.append(Page(n, float(page.get("width")), float(page.get("height")), words))
    return found
