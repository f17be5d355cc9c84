"""The gate's search for prefixed cell elements (xlsx_scan.prefixed_element) finds
exactly what the pattern it replaces finds, on random, known and long parts."""
from __future__ import annotations

import random

import pytest

from xltool.reading import xlsx_scan as XS

ALPHABET = [b"<", b">", b":", b"/", b" ", b"\t", b"!", b"?", b"c", b"r", b"o", b"w", b"v", b"f",
            b"is", b"t", b"si", b"sheetData", b"x", b"\xc3\xa9", b"#", b"=", b'"', b"\n"]
PIECES = [b"<x:c ", b"<:c>", b"<c r=\"A1\">", b"xml:space=\"preserve\"", b"http://a/b", b":row/",
          b"< x:c ", b"<x y:c ", b"<x:y:c ", b"<\xc3\xa9:sheetData>", b"<a:rowx ", b"<a:r\t"]


def _random_part(rng: random.Random) -> bytes:
    return b"".join(rng.choice(PIECES) if rng.random() < 0.3 else rng.choice(ALPHABET)
                    for _ in range(rng.randrange(0, 40)))


@pytest.mark.parametrize("seed", range(8))
def test_same_answer_as_the_pattern(seed):
    rng = random.Random(seed)
    found = 0
    for _ in range(4000):
        data = _random_part(rng)
        expected = XS._PREFIXED_ELEMENT.search(data) is not None
        assert XS.prefixed_element(data) == expected, data
        found += expected
    assert 0 < found < 4000  # both answers were met


@pytest.mark.parametrize("data, expected", [
    (b'<worksheet xmlns="http://x"><row r="1"><c r="A1" t="inlineStr"><is><t xml:space="preserve">a'
     b"</t></is></c></row></worksheet>", False),
    (b'<row r="1"><x:c r="Z9"><v>1</v></x:c></row>', True),
    (b'<row r="1"><:c r="Z9"/></row>', True),
    (b"<x:cc r=\"A1\"/>", False),
    (b"<a b:c=\"1\"/>", False),  # an attribute, not an element
    (b"<a:b:c/>", False),  # the pattern wants the first colon: a:b is no element it reads
    (b"", False),
])
def test_known_parts(data, expected):
    assert XS.prefixed_element(data) == expected == (XS._PREFIXED_ELEMENT.search(data) is not None)


def test_long_parts_of_colons():
    """Many colons before a name, with and without a tag before them: the same answers
    as the pattern (its linear walk is the docstring's argument, not timed here)."""
    colons = b"a" * 200_000 + b":c " * 200_000 + b"x" * 200_000 + b":c "
    for data in (colons, b"<" + colons, b"<x" + colons[200_000:], b"<" * 1000 + b":" * 1000 + b"c>"):
        assert XS.prefixed_element(data) == (XS._PREFIXED_ELEMENT.search(data) is not None)
