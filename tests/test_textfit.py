"""The line counts textfit's shortcuts give are those of the full layout under both
renderings (Excel's and LibreOffice's), whichever takes more lines."""
import random

import pytest

from xltool import textfit as T

ALPHABET = ("的一是在不了有和人這中大為上個國我以要他時來用們生到作地於出就分對成會可主發年動同工也能"
            + "、。，．：；！？）」』】〕〉》（「『【〔〈《 " * 3
            + "abcdefghijklmnopqrstuvwXYZ0123456789-/%&?.,;:()[]_=+~" * 2 + "…○※ー～・·％😀\t\u0301")
WORDS = ["https://www.example.gov.tw/a/b/c?x=1&y=2", "supercalifragilisticexpialidocious", "ISO/IEC17025"]


def _full(paragraph: str, width: float, size: float, bold: bool) -> int:
    """The most lines any rendering's full line filler takes."""
    return max(T._fill(paragraph, T._widths(r, size, bold), T._room(r, width), False).count
               for r in T.RENDERINGS)


def _texts(seed: int, count: int):
    rnd = random.Random(seed)
    for _ in range(count):
        yield "".join(rnd.choice(ALPHABET) if rnd.random() > 0.03 else rnd.choice(WORDS)
                      for _ in range(rnd.randint(1, 160)))


def test_no_libreoffice_character_is_narrower_than_excels():
    """What lets a column where LibreOffice leaves less room count its lines alone."""
    chars = [chr(c) for c in range(32, 0x3100)] + list("、。，（）「」😀\u3000\uff01")
    for size in (9.0, 11.0, 14.0):
        for bold in (False, True):
            lo, excel = T._widths(T.LIBREOFFICE, size, bold), T._widths(T.EXCEL, size, bold)
            assert all(lo[ch] >= excel[ch] for ch in chars)


@pytest.mark.parametrize("width", [2, 9, 11, 13, 15, 18, 30, 40, 52, 90])
def test_paragraph_lines_are_the_full_layouts(width):
    for text in _texts(width, 400):
        for size in (9.0, 11.0):
            for bold in (False, True):
                assert T.paragraph_lines(text, width, size, bold) == _full(text, width, size, bold), text


def test_the_shortcut_is_taken_where_it_holds():
    assert T._dominant(40, 11.0, False) is T.LIBREOFFICE
    narrow = [w for w in range(1, 30) if T._dominant(w, 11.0, False) is None]
    assert narrow and max(narrow) < 15  # only the narrowest columns count both
