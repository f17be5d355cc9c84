"""The gate's quick walk over parts that must be parsed: openpyxl's inline strings, and
quotes outside the cells' tags. Such a sheet is measured in bulk when it is plain; any
variant the patterns cannot vouch for falls to the exact walk, with its answer."""
import re
import shutil
import time
import zipfile

import corpus
import openpyxl
import pytest
from returns import rewrite

from xltool.reading import xlsx_scan
from xltool.reading.bounds import Bounds, Corrupt, Extent, TooLarge
from xltool.reading.gate import Rejected, gate
from xltool.reading.xlsx_scan import _quick_walk, _upper_lengths, _walk_tree
from xltool.reading.xmlstream import Malformed, Unsafe

BOUNDS = Bounds(rows=5000, cols=256, cells=500_000, text=8_000_000, records=1_500_000)
FORM = "xl/worksheets/sheet2.xml"  # 填報表, as openpyxl saves the example's returns
FAILURES = (TooLarge, Corrupt, Malformed, Unsafe)


@pytest.fixture(scope="module")
def resaved(tmp_path_factory):
    """An example return loaded and saved by openpyxl, as office programs re-save them."""
    path = tmp_path_factory.mktemp("inline") / "109_提升服務效能_第一課.xlsx"
    openpyxl.load_workbook(corpus.good("第一課")).save(path)
    return path


def _copy(resaved, tmp_path, change=None, member=FORM):
    path = tmp_path / resaved.name
    shutil.copy(resaved, path)
    if change is not None:
        rewrite(path, member, change)
    return path


def _sheet(path, member=FORM):
    with zipfile.ZipFile(path) as zf:
        return zf.read(member)


def _quick(data, bounds=BOUNDS):
    extent = Extent(bounds, "s")
    return _quick_walk(data, extent, []), extent


def _exact(data, bounds=BOUNDS):
    try:
        extent, _ = _walk_tree(data, Extent(bounds, "s"), xlsx_scan.array("l"))
    except FAILURES as exc:
        return type(exc).__name__
    return extent.max_row, extent.max_col, extent.text


def _gate(path, bounds=BOUNDS):
    try:
        report = gate(path, bounds)
    except Rejected as exc:
        return exc.issue.code, exc.issue.message
    return report.sheets, report.formulas


def _exact_gate(path, bounds=BOUNDS):
    """The gate's answer with the quick walk turned off: the reference."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(xlsx_scan, "_quick_walk", lambda *a, **k: "")
        return _gate(path, bounds)


def test_openpyxl_sheets_take_the_quick_path(resaved, monkeypatch):
    data = _sheet(resaved)
    assert b't="inlineStr"' in data and b"'" in data  # the quote: a validation prompt
    how, extent = _quick(data)
    assert how == "parsed"
    exact = _exact(data)
    assert extent.max_row >= exact[0] and extent.max_col >= exact[1] and extent.text >= exact[2]
    exact_answer = _exact_gate(resaved)

    def refuse(*args):
        raise AssertionError("every sheet of an openpyxl file is measured in bulk")

    monkeypatch.setattr(xlsx_scan, "_walk_tree", refuse)
    assert _gate(resaved) == exact_answer


def _set(ref, inner, kind=b""):
    """A change that replaces cell ``ref`` of the sheet by one of ``kind`` holding ``inner``."""
    def change(xml):
        new = b'<c r="' + ref + b'"' + kind + b">" + inner + b"</c>"
        out, n = re.subn(rb'<c r="' + ref + rb'"[^>]*?(?:/>|>.*?</c>)', new, xml, count=1, flags=re.S)
        assert n == 1
        return out
    return change


# Each variant: (change to the 填報表 XML, what the quick walk must answer).
VARIANTS = {
    "plain inline text": (_set(b"K6", b"<is><t>done &amp; dusted</t></is>", b' t="inlineStr"'),
                          "parsed"),
    "preserved spaces": (_set(b"K6", b'<is><t xml:space="preserve"> x </t></is>', b' t="inlineStr"'),
                         "parsed"),
    "rich text runs": (_set(b"K6", b"<is><r><t>a</t></r><r><t>b</t></r></is>", b' t="inlineStr"'), ""),
    "phonetic run": (_set(b"K6", b"<is><t>a</t><rPh sb=\"0\" eb=\"1\"><t>b</t></rPh></is>",
                          b' t="inlineStr"'), ""),
    "comment inside": (_set(b"K6", b"<is><t>a<!-- x --></t></is>", b' t="inlineStr"'), ""),
    "CDATA inside": (_set(b"K6", b"<is><t><![CDATA[<c r='XFD1'/>]]></t></is>", b' t="inlineStr"'), ""),
    "inline string outside a run": (_set(b"K6", b"<is>loose</is>", b' t="inlineStr"'), ""),
    "single-quoted type": (_set(b"K6", b"<v>0</v>", b" t='s'"), ""),
    "single-quoted r": (lambda x: x.replace(b'<c r="K6"', b"<c r='XFD6'", 1), ""),
    "spaced equals": (_set(b"K6", b"<v>0</v>", b' t = "s"'), ""),
    "carriage return": (_set(b"K6", b"<v>0</v>", b' t\r="s"'), ""),
    "cached formula text": (_set(b"K6", b"<v>long text</v>", b' t="str"'), ""),
    "error value": (_set(b"K6", b"<v>#N/A</v>", b' t="e"'), ""),
    "formula": (_set(b"L6", b"<f>1+1</f><v>9</v>"), ""),
    "another attribute": (_set(b"K6", b"<is><t>a</t></is>", b' t="inlineStr" cm="1"'), ""),
    "row without r": (lambda x: re.sub(rb'<row r="7"', b"<row", x, count=1), ""),
    "row r not a number": (lambda x: re.sub(rb'<row r="7"', b'<row r="x7"', x, count=1), ""),
    "not well formed": (lambda x: x.replace(b"</sheetData>", b"<row r=\"99\"><c r=\"A99\">"
                                                           b"</sheetData>", 1), ""),
    "processing instruction": (lambda x: x.replace(b"<sheetData>", b"<?pi <c r='XFD9'/>?><sheetData>"),
                               ""),
    "another encoding": (lambda x: b'<?xml version="1.0" encoding="ISO-8859-1"?>' + x, ""),
    "encoding in single quotes": (lambda x: b"<?xml version='1.0' encoding='UTF-7'?>" + x, ""),
    "prefixed cell": (lambda x: x.replace(b"<worksheet ", b'<worksheet xmlns:x="http://schemas.'
                                          b'openxmlformats.org/spreadsheetml/2006/main" ', 1)
                      .replace(b'<c r="K6"', b'<x:c r="XFD6"', 1), ""),
}


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_variants_take_the_exact_walk_unless_plain(resaved, tmp_path, name):
    change, expected = VARIANTS[name]
    path = _copy(resaved, tmp_path, change)
    data = _sheet(path)
    how, extent = _quick(data)
    assert how == expected
    exact = _exact(data)
    if how:  # what the scan counted is at least what is there
        assert extent.max_row >= exact[0] and extent.max_col >= exact[1] and extent.text >= exact[2]
    assert _gate(path) == _exact_gate(path)


def test_a_huge_inline_string_is_refused_as_the_exact_walk_refuses_it(resaved, tmp_path):
    huge = "很長" * 600_000  # 1.2 million characters, as character references
    path = _copy(resaved, tmp_path, _set(b"K6", b"<is><t>" + huge.encode("ascii", "xmlcharrefreplace")
                                         + b"</t></is>", b' t="inlineStr"'))
    bounds = Bounds(text=1_000_000)
    assert _quick(_sheet(path), bounds)[0] == ""
    code, message = _gate(path, bounds)
    assert code == "too-large" and "K6" in message  # the exact walk names the cell
    assert (code, message) == _exact_gate(path, bounds)


def test_estimates_that_add_up_too_much_are_measured_exactly(resaved, monkeypatch):
    """Character references count as their bytes in bulk; over several sheets that can
    seem too much text while the file holds just enough: it is then measured exactly."""
    with zipfile.ZipFile(resaved) as zf:
        sheets = [zf.read(n) for n in sorted(zf.namelist()) if n.startswith("xl/worksheets/")]
    exact = sum(_exact(data)[2] for data in sheets)
    assert sum(_quick(data)[1].text for data in sheets) > exact
    bounds = Bounds(text=exact)
    measured = []
    original = xlsx_scan._measure

    def spy(*args, relaxed=True):
        measured.append(relaxed)
        return original(*args, relaxed=relaxed)

    monkeypatch.setattr(xlsx_scan, "_measure", spy)
    assert _gate(resaved, bounds)[0] == ["填報說明", "填報表", "清單", "_xltool"]
    assert measured == [True, False]
    assert _gate(resaved, Bounds(text=exact - 1)) == _exact_gate(resaved, Bounds(text=exact - 1))
    assert _gate(resaved, Bounds(text=exact - 1))[0] == "too-large"


def test_many_cells_fall_to_the_exact_walk(resaved, tmp_path):
    cells = b"".join(b'<c r="A%d" t="inlineStr"><is><t>x</t></is></c>' % n for n in range(100, 2100))
    path = _copy(resaved, tmp_path, lambda x: x.replace(b"</sheetData>", b'<row r="100">' + cells
                                                        + b"</row></sheetData>", 1))
    bounds = Bounds(records=1_500)
    assert _quick(_sheet(path), bounds)[0] == ""
    assert _gate(path, bounds) == _exact_gate(path, bounds)
    assert _gate(path, bounds)[0] == "too-large"


def test_unclosed_cells_cost_one_pass(resaved, tmp_path):
    path = _copy(resaved, tmp_path, lambda x: x.replace(b"</sheetData>", b"<c " * 300_000
                                                        + b"</sheetData>", 1))
    data = _sheet(path)
    start = time.process_time()
    assert _quick(data)[0] == ""
    assert time.process_time() - start < 2.0
    assert _gate(path)[0] == "corrupt-file"


def test_shared_strings_with_an_instruction_are_not_plain():
    sst = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<?pi <si>?><si><t>" + b"x" * 5000 + b"</t></si><si><t>y</t></si></sst>")
    assert _upper_lengths(sst) is None
    plain = sst.replace(b"<?pi <si>?>", b"")
    assert _upper_lengths(plain) == [plain.index(b"<si><t>y") - plain.index(b"<si>"),
                                     len(plain) - plain.index(b"<si><t>y")]


def test_shared_strings_with_quotes_must_be_well_formed():
    sst = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<si><t>it's</t></si></sst>")
    assert _upper_lengths(sst) == [len(sst) - sst.index(b"<si>")]
    assert _upper_lengths(sst.replace(b"</t>", b"")) is None


def test_an_unknown_encoding_is_a_corrupt_file_not_an_internal_error(resaved, tmp_path):
    path = _copy(resaved, tmp_path, lambda x: b'<?xml version="1.0" encoding="UTF-65536"?>' + x)
    assert _gate(path)[0] == "corrupt-file"


def test_an_instruction_named_like_the_declaration_is_no_declaration():
    sst = (b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
           b"<si><t>" + b"x" * 5000 + b"</t></si><si><t>y</t></si></sst>")
    assert _upper_lengths(b'<?xml version="1.0" encoding="UTF-8"?>' + sst) is not None
    assert _upper_lengths(b"<?xml-stylesheet <si>?>" + sst) is None
