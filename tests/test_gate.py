"""The gate's two ways through a worksheet agree: the fast one (the C parser builds the
part, Python walks its cells) and the streaming one (for parts too big to hold)."""
import zipfile

import corpus
import fuzzing
import pytest

from xltool.reading.bounds import Bounds, Corrupt, Extent, TooLarge
from xltool.reading.xlsx_scan import _shared_string_lengths, _SheetWalk, _walk_tree
from xltool.reading.xmlstream import Malformed, Unsafe, make_parser, parse_stream

RETURN_BOUNDS = Bounds(rows=5000, cols=256, cells=500_000, text=8_000_000, records=1_500_000)
FAILURES = (TooLarge, Corrupt, Malformed, Unsafe)


def both(zf, part, lengths):
    def streamed():
        walk = _SheetWalk(RETURN_BOUNDS, "s", lengths, 0)
        with zf.open(part) as fh:
            parse_stream(make_parser(walk.start, walk.end, walk.text), fh)
        return walk.extent, walk.formulas

    answers = []
    for how in (streamed, lambda: _walk_tree(zf.read(part), Extent(RETURN_BOUNDS, "s"), lengths)):
        try:
            extent, formulas = how()
            answers.append((extent.max_row, extent.max_col, extent.text, sorted(formulas)))
        except FAILURES:  # which refusal comes first may differ: a refusal either way
            answers.append("refused")
    return answers


def sheets(path):
    with zipfile.ZipFile(path) as zf:
        names = zf.namelist()
        lengths = _shared_string_lengths(zf, "xl/sharedStrings.xml"
                                         if "xl/sharedStrings.xml" in names else None)
        for part in names:
            if part.endswith(".xml") and b"sheetData" in zf.read(part):
                yield zf, part, lengths


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("gate")
    paths = []
    for case in corpus.gate_cases():
        if case.name.endswith(".xlsx"):
            case.build(folder / case.name)
            paths.append(folder / case.name)
    for n, recipe in enumerate(fuzzing.recipes("xlsx", seed=31, count=60)):
        paths.append(fuzzing.rebuild(recipe, folder / f"fuzz{n}.xlsx"))
    return paths


def test_the_fast_walk_and_the_streaming_walk_agree(files):
    compared = 0
    for path in files:
        try:
            for zf, part, lengths in sheets(path):
                streamed, tree = both(zf, part, lengths)
                assert streamed == tree, (path.name, part)
                compared += 1
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, *FAILURES):
            continue  # not a zip a reader gets to: the gate stops it earlier
    assert compared > 50


def test_the_quick_walk_only_ever_answers_plainly_within_bounds(files):
    """Where the bulk byte scan says "within bounds", the exact walk agrees, and what the
    scan counted is at least what is there."""
    from xltool.reading.xlsx_scan import _quick_walk, _upper_lengths

    answered = 0
    for path in files:
        try:
            for zf, part, lengths in sheets(path):
                names = zf.namelist()
                sst = zf.read("xl/sharedStrings.xml") if "xl/sharedStrings.xml" in names else b""
                upper = _upper_lengths(sst)
                quick = Extent(RETURN_BOUNDS, "s")
                if upper is None or not _quick_walk(zf.read(part), quick, upper):
                    continue
                answered += 1
                try:  # the scan does not judge well-formedness: the reader will
                    exact, _ = _walk_tree(zf.read(part), Extent(RETURN_BOUNDS, "s"), lengths)
                except (Malformed, Corrupt):
                    continue
                assert quick.max_row >= exact.max_row and quick.max_col >= exact.max_col
                assert quick.text >= exact.text
        except (zipfile.BadZipFile, OSError, ValueError, EOFError, *FAILURES):
            continue
    assert answered > 20
