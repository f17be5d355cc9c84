"""Hostile .xlsx files against the gate's quick walk, and the walks and part finding
around it. Each case is a small workbook written here, read by read_here under tiny
bounds: what the gate lets through must be within the bounds once calamine has built
it (rows, columns, rows × columns, characters of text), and a file that wants more
must be refused.

Cases marked BREAK fail today: the gate accepts them while calamine builds more than
the bounds allow. They are xfail(strict=True), so a fix shows up as XPASS and its mark
must then go (none is left). The comments above each group say what calamine does that
the gate once missed; cases with an answer pin the gate's answer to a file that tries
the same."""
import warnings
import zipfile

import pytest

from xltool.reading import xlsx_scan
from xltool.reading.bounds import Bounds
from xltool.reading.gate import Rejected
from xltool.reading.workbook import read_here

BOUNDS = Bounds(rows=50, cols=10, cells=500, text=5000, records=2000)
BIG = "x" * 6000  # more text than BOUNDS allow
QUOTE = "<sheetPr codeName='q'/>"  # a single quote: the quick walk must parse the part

MAIN = 'xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"'
R_NS = 'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"'
PKG = "http://schemas.openxmlformats.org/package/2006/relationships"
OFFICE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/"
DECL = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
CONTENT_TYPES = (
    DECL + '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/></Types>')
ROOT_RELS = (DECL + f'<Relationships xmlns="{PKG}"><Relationship Id="rId1" '
             f'Type="{OFFICE}officeDocument" Target="xl/workbook.xml"/></Relationships>')


def sheet(rows: str, head: str = "") -> str:
    return f"{DECL}<worksheet {MAIN} {R_NS}>{head}<sheetData>{rows}</sheetData></worksheet>"


def sst(*items: str) -> str:
    return f"{DECL}<sst {MAIN}>{''.join(items)}</sst>"


def workbook(*sheets: tuple[str, str]) -> str:
    """(name, relationship id) of each sheet."""
    listed = "".join(f'<sheet name="{n}" sheetId="{i + 1}" r:id="{r}"/>'
                     for i, (n, r) in enumerate(sheets))
    return f"{DECL}<workbook {MAIN} {R_NS}><sheets>{listed}</sheets></workbook>"


def rels(*targets: str, extra: str = "") -> str:
    """Worksheet relationships rId1, rId2, … to ``targets``; ``extra`` more of them."""
    listed = "".join(f'<Relationship Id="rId{i + 1}" Type="{OFFICE}worksheet" Target="{t}"/>'
                     for i, t in enumerate(targets))
    return f"{DECL}<Relationships xmlns=\"{PKG}\">{listed}{extra}</Relationships>"


SMALL = sheet('<row r="1"><c r="A1"><v>1</v></c></row>')
FAR = sheet('<row r="1"><c r="A1"><v>1</v></c></row><row r="100"><c r="Z100"><v>1</v></c></row>')
A1_SHARED = sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>')


def book(rows: str | None = None, *, head: str = "", strings: str | None = None,
         parts: list[tuple[str, str]] | None = None, book_xml: str | None = None,
         rels_xml: str | None = None, more: tuple[tuple[str, str], ...] = ()):
    """The members of a small workbook, in zip order: one sheet "S" (rId1 →
    xl/worksheets/sheet1.xml) holding ``rows``, shared strings when given; ``parts``
    replaces the sheet parts, ``more`` adds members at the end."""
    members = [("[Content_Types].xml", CONTENT_TYPES), ("_rels/.rels", ROOT_RELS),
               ("xl/workbook.xml", book_xml or workbook(("S", "rId1"))),
               ("xl/_rels/workbook.xml.rels", rels_xml or rels("worksheets/sheet1.xml"))]
    members += parts if parts is not None else [("xl/worksheets/sheet1.xml", sheet(rows or "", head))]
    if strings is not None:
        members.append(("xl/sharedStrings.xml", strings))
    return members + list(more)


def _write(path, members) -> None:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # duplicate names, on purpose
        for name, text in members:
            zf.writestr(name, text if isinstance(text, bytes) else text.encode())


def _spy(monkeypatch) -> list[str]:
    """The quick walk's answers ("plain", "parsed", or "" for the exact walk)."""
    if hasattr(xlsx_scan._quick_walk, "answers"):
        xlsx_scan._quick_walk.answers.clear()
        return xlsx_scan._quick_walk.answers
    answers: list[str] = []
    quick = xlsx_scan._quick_walk

    def spy(*args, **kwargs):
        answers.append(quick(*args, **kwargs))
        return answers[-1]

    spy.answers = answers
    monkeypatch.setattr(xlsx_scan, "_quick_walk", spy)
    return answers


def _read(tmp_path, monkeypatch, members, name="t.xlsx"):
    """("read", what calamine built) or (the refusal's code, None); and the quick walk's answers."""
    path = tmp_path / name
    _write(path, members)
    walks = _spy(monkeypatch)
    try:
        data = read_here(path, bounds=BOUNDS)
    except Rejected as exc:
        return exc.issue.code, None, walks
    built = []
    for s in data.sheets.values():
        rows = len(s.rows)
        cols = max((len(r) for r in s.rows), default=0)
        text = sum(len(v) for r in s.rows for v in r if isinstance(v, str))
        built.append((rows, cols, text))
    return "read", built, walks


def _within(built) -> bool:
    return all(r <= BOUNDS.rows and c <= BOUNDS.cols and r * c <= BOUNDS.cells for r, c, _ in built) \
        and sum(t for _, _, t in built) <= BOUNDS.text


def _break(reason: str):
    return pytest.mark.xfail(strict=True, reason="BREAK: " + reason)


def _case(id_, members, expect=None, why=None):
    """``expect``: the gate's answer ("read" or a refusal's code); ``why``: a break."""
    return pytest.param(members, expect, id=id_, marks=[_break(why)] if why else [])


_rows_64 = "".join(f'<row r="{i}"><c r="A{i}"><v>{"y" * 64}</v></c>'
                   f'<c r="B{i}" t="d"><v>{"y" * 64}</v></c></row>' for i in range(1, 50))

QUICK = "the quick walk measures it"
EXACT = "the exact walk (_plain_sheet, _tree_cell) measures it"
PARTS = "the gate measures another part than calamine reads"

CASES = [
    # ---------------------------------------------------------------- cell text
    # calamine keeps a <v> that is no number as text when the cell has no t, and a
    # t="d" value as text; the gate counts text only for t="s", "str", "e" and <is>.
    _case("v-text-without-t", book(f'<row r="1"><c r="A1"><v>{BIG}</v></c></row>')),
    _case("v-text-t-d", book(f'<row r="1"><c r="A1" t="d"><v>{BIG}</v></c></row>')),
    _case("v-64-chars-parsed", book(_rows_64, head=QUOTE)),
    # calamine reads <is> in any cell, whatever its t.
    _case("is-without-inlineStr", book(f'<row r="1"><c r="A1"><is><t>{BIG}</t></is></c></row>')),
    _case("is-with-t-is", book(f'<row r="1"><c r="A1" t="is"><is><t>{BIG}</t></is></c></row>')),
    _case("is-after-shared-v", book(f'<row r="1"><c r="A1" t="s"><v>0</v><is><t>{BIG}</t></is>'
                                    '</c></row>', strings=sst("<si><t>a</t></si>"))),
    # calamine keeps a cell's last <v>; the quick walk and _plain_sheet take the first.
    _case("two-v-shared", book('<row r="1"><c r="A1" t="s"><v>0</v><v>1</v></c></row>',
                               strings=sst("<si><t>a</t></si>", f"<si><t>{BIG}</t></si>"))),
    # ---------------------------------------------------------------- hidden cells
    # calamine takes a cell by its local name, after the first colon, whatever the
    # prefix, and so does the gate (xlsx_scan.prefixed_element), not only ASCII ones.
    _case("empty-prefix-cell", book('<row r="1"><:c r="Z100"><v>1</v></:c></row>')),
    _case("symbol-prefix-cell", book('<row r="1"><x#:c r="Z100"><v>1</v></x#:c></row>')),
    _case("non-ascii-prefix-cell", book('<row r="1"><é:c xmlns:é="urn:x" r="Z100"><v>1</v>'
                                        '</é:c></row>')),
    _case("non-ascii-prefix-cell-parsed", book('<row r="1"><é:c xmlns:é="urn:x" r="Z100"><v>1</v>'
                                               '</é:c></row>', head=QUOTE)),
    # ---------------------------------------------------------------- the cell's r
    # calamine takes the last attribute named exactly r (duplicates are not refused),
    # lower-case letters too, and splits attributes only at XML white space.
    _case("duplicate-r", book('<row r="1"><c r="A1" r="Z99"><v>1</v></c></row>')),
    _case("lower-case-r-and-form-feed-decoy", book('<row r="1"><c r="zz99" t\x0cr="A1"><v>1</v>'
                                                   '</c></row>')),
    # ---------------------------------------------------------------- shared strings
    # _upper_lengths numbers the strings by <si[\s/>]; calamine by the local name si,
    # and a <si> inside a <si> ends the outer string at the inner one's end.
    _case("empty-prefix-si", book(parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
                                  strings=sst(f"<:si><t>{BIG}</t></:si>", "<si><t>a</t></si>"))),
    _case("non-ascii-prefix-si", book(parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
                                      strings=sst(f'<é:si xmlns:é="urn:x"><t>{BIG}</t></é:si>',
                                                  "<si><t>a</t></si>"))),
    _case("nested-si", book(parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
                            strings=sst(f"<si><t>a</t><si><t>{BIG}</t></si></si>"))),
    _case("nested-si-parsed", book(parts=[("xl/worksheets/sheet1.xml",
                                           sheet('<row r="1"><c r="A1" t="s"><v>0</v></c></row>',
                                                 QUOTE))],
                                   strings=sst(f"<si><t>a</t><si><t>{BIG}</t></si></si>"))),
    # calamine reads an index it cannot parse as string 0 (atoi … unwrap_or(0)).
    *[_case(f"shared-index-{n}", book(f'<row r="1"><c r="A1" t="s"><v>{v}</v></c></row>',
                                      strings=sst(f"<si><t>{BIG}</t></si>", "<si><t>a</t></si>")))
      for n, v in (("letters", "x"), ("spaced", " 1"), ("eleven-digits", "00000000000"))],
    # calamine takes r and t by their exact names: a namespaced x:r is not the cell's r.
    _case("namespaced-r-decoy", book('<row r="1"><c xmlns:x="urn:x" x:r="A1" r="Z100"><v>1</v></c>'
                                     '</row>', head=QUOTE), "too-large"),
    _case("namespaced-t-decoy", book(f'<row r="1"><c xmlns:x="urn:x" r="A1" x:t="n"><v>{BIG}</v></c>'
                                     '</row>', head=QUOTE), "too-large"),
    # calamine reads a value up to its first reference, and the text of elements in it.
    _case("number-then-reference", book(f'<row r="1"><c r="A1"><v>-&#53;{"9" * 6000}</v></c></row>')),
    _case("element-inside-v", book(f'<row r="1"><c r="A1"><v><x>{BIG}</x></v></c></row>')),
    # CR LF is two characters to calamine, one to a reader that folds line ends.
    _case("crlf-inline", book(f'<row r="1"><c r="A1" t="inlineStr"><is><t>{"a&#13;&#10;" * 1700}</t>'
                              '</is></c></row>')),
    # ---------------------------------------------------------------- reach, exact walk
    _case("is-only-far-cell", book('<row r="1"><c r="A1"><v>1</v></c><c r="Z100"><is><t>x</t>'
                                   '</is></c></row>')),
    _case("foreign-v-far-cell", book('<row r="1"><c r="A1"><v>1</v></c><c r="Z99">'
                                     '<é:v xmlns:é="urn:x">1</é:v></c></row>')),
    # ---------------------------------------------------------------- which parts
    # calamine finds a member case-insensitively with \ read as /, the last that
    # matches; it joins "xl/" and a target without normalising it; it ignores
    # TargetMode; and it always reads xl/sharedStrings.xml.
    _case("backslash-sheet-member", book(parts=[("xl\\worksheets\\sheet1.xml", FAR)])),
    *[_case(f"target-{n}", book(rels_xml=rels(target), parts=[
        ("xl/worksheets/sheet1.xml", SMALL), (member, FAR)]))
      for n, target, member in (
          ("dot-dot", "worksheets/../worksheets/sheet1.xml", "xl/worksheets/../worksheets/sheet1.xml"),
          ("double-slash", "worksheets//sheet1.xml", "xl/worksheets//sheet1.xml"),
          ("up-and-back", "../xl/worksheets/sheet1.xml", "xl/../xl/worksheets/sheet1.xml"))],
    _case("external-target-mode", book(rels_xml=rels(extra=f'<Relationship Id="rId1" Type="{OFFICE}'
                                                       'worksheet" Target="worksheets/sheet1.xml" '
                                                       'TargetMode="External"/>'),
                                       parts=[("xl/worksheets/sheet1.xml", FAR)])),
    _case("rels-member-case", [(n.replace("workbook.xml.rels", "Workbook.xml.rels"), x)
                               for n, x in book(parts=[("xl/worksheets/sheet1.xml", FAR)])]),
    _case("rels-member-backslash", [(n.replace("xl/_rels/", "xl\\_rels\\"), x)
                                    for n, x in book(parts=[("xl/worksheets/sheet1.xml", FAR)])]),
    _case("second-workbook-case-variant", book(
        rels_xml=rels("worksheets/sheet1.xml", "worksheets/sheet2.xml"),
        parts=[("xl/worksheets/sheet1.xml", SMALL), ("xl/worksheets/sheet2.xml", FAR)],
        more=(("XL/WORKBOOK.XML", workbook(("S", "rId2"))),))),
    _case("second-rels-case-variant", book(
        parts=[("xl/worksheets/sheet1.xml", SMALL), ("xl/worksheets/sheet2.xml", FAR)],
        more=(("XL/_RELS/WORKBOOK.XML.RELS", rels("worksheets/sheet2.xml")),))),
    _case("shared-strings-elsewhere", book(
        parts=[("xl/worksheets/sheet1.xml", A1_SHARED)], strings=sst(f"<si><t>{BIG}</t></si>"),
        rels_xml=rels("worksheets/sheet1.xml", extra=f'<Relationship Id="rIdS" Type="{OFFICE}'
                      'sharedStrings" Target="strings.xml"/>'),
        more=(("xl/strings.xml", sst("<si><t>a</t></si>")),))),
    _case("shared-strings-case", book(parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
                                      more=(("xl/SharedStrings.xml", sst(f"<si><t>{BIG}</t></si>")),))),
    _case("shared-strings-backslash", book(parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
                                           more=(("xl\\sharedStrings.xml", sst(f"<si><t>{BIG}</t></si>")),))),
    _case("shared-strings-case-variant-last", book(
        parts=[("xl/worksheets/sheet1.xml", A1_SHARED)], strings=sst("<si><t>a</t></si>"),
        more=(("xl/SHAREDSTRINGS.xml", sst(f"<si><t>{BIG}</t></si>")),))),
    # ---------------------------------------------------------------- held: not breaks
    _case("far-cell", book('<row r="100"><c r="Z100"><v>1</v></c></row>'), "too-large"),
    _case("lower-case-r", book('<row r="1"><c r="z99"><v>1</v></c></row>'), "too-large"),
    _case("five-letter-column", book('<row r="1"><c r="AAAAA1"><v>1</v></c></row>'), "corrupt-file"),
    _case("ten-digit-row", book('<row r="1"><c r="A0000000099"><v>1</v></c></row>'), "corrupt-file"),
    _case("entity-in-r", book('<row r="1"><c r="Z&#57;9"><v>1</v></c></row>'), "too-large"),
    _case("gt-in-attribute", book('<row r="1"><c s=">" r="Z99"><v>1</v></c></row>'), "too-large"),
    _case("single-quoted-r", book("<row r='1'><c r='Z99'><v>1</v></c></row>"), "too-large"),
    _case("spaced-equals-r", book('<row r="1"><c r = "Z99"><v>1</v></c></row>'), "too-large"),
    _case("cells-without-r", book('<row r="1"><c r="I1"><v>1</v></c><c><v>1</v></c><c><v>1</v>'
                                  '</c></row>'), "too-large"),
    _case("rows-without-r", book("<row><c><v>1</v></c></row>" * 60), "too-large"),
    _case("comment-hides-nothing", book('<!-- <c r="A1"> --><row r="100"><c r="Z100"><v>1</v>'
                                        '</c></row>'), "too-large"),
    _case("empty-far-cells", book('<row r="1"><c r="A1"><v>1</v></c><c r="Z99"/><c r="Y98"></c>'
                                  '</row>'), "read"),
    _case("empty-v-far-cell", book('<row r="1"><c r="A1"><v>1</v></c><c r="X97"><v></v></c></row>'),
          "too-large"),  # calamine keeps no empty value, the gate counts it: refused, but safe
    _case("huge-dimension", book('<row r="1"><c r="A1"><v>1</v></c></row>',
                                 head='<dimension ref="A1:XFD1048576"/>'), "read"),
    _case("huge-number", book('<row r="1"><c r="A1"><v>1e999</v></c></row>'), "read"),
    _case("utf-16-sheet", book(parts=[("xl/worksheets/sheet1.xml", FAR.replace(
        "UTF-8", "UTF-16").encode("utf-16"))]), "too-large"),
    _case("inline-two-t", book(f'<row r="1"><c r="A1" t="inlineStr"><is><t>a</t><t>{BIG}</t>'
                               '</is></c></row>'), "too-large"),
    _case("inline-rich-run", book(f'<row r="1"><c r="A1" t="inlineStr"><is><r><t>{BIG}</t></r>'
                                  '</is></c></row>'), "too-large"),
    _case("inline-cdata", book(f'<row r="1"><c r="A1" t="inlineStr"><is><t><![CDATA[{BIG}]]>'
                               '</t></is></c></row>'), "too-large"),
    _case("inline-char-references", book('<row r="1"><c r="A1" t="inlineStr"><is><t>'
                                         + "&#x4E00;" * 700 + '</t></is></c></row>'), "read"),
    _case("empty-si-element", book(parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
                                   strings=sst("<si/>", f"<si><t>{BIG}</t></si>")), "read"),
    _case("phonetic-run", book(parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
                               strings=sst(f'<si><t>a</t><rPh sb="0" eb="1"><t>{BIG}</t></rPh></si>')),
          "too-large"),  # the gate counts phonetic text calamine drops: refused, but safe
    _case("shared-index-out-of-range", book('<row r="1"><c r="A1" t="s"><v>7</v></c></row>',
                                            strings=sst("<si><t>a</t></si>")), "unreadable"),
    _case("shared-strings-only-elsewhere", book(
        parts=[("xl/worksheets/sheet1.xml", A1_SHARED)],
        rels_xml=rels("worksheets/sheet1.xml", extra=f'<Relationship Id="rIdS" Type="{OFFICE}'
                      'sharedStrings" Target="strings.xml"/>'),
        more=(("xl/strings.xml", sst(f"<si><t>{BIG}</t></si>")),)), "too-large"),
    _case("duplicate-member-far-last", book(parts=[("xl/worksheets/sheet1.xml", SMALL),
                                                   ("xl/worksheets/sheet1.xml", FAR)]), "too-large"),
    _case("duplicate-member-far-first", book(parts=[("xl/worksheets/sheet1.xml", FAR),
                                                    ("xl/worksheets/sheet1.xml", SMALL)]), "read"),
    _case("absolute-target", book(rels_xml=rels("/xl/worksheets/sheet1.xml"),
                                  parts=[("xl/worksheets/sheet1.xml", FAR)]), "too-large"),
    _case("duplicate-relationship-id", book(
        rels_xml=rels(extra=f'<Relationship Id="rId1" Type="{OFFICE}worksheet" Target="worksheets/'
                            f'sheet2.xml"/><Relationship Id="rId1" Type="{OFFICE}worksheet" '
                            'Target="worksheets/sheet1.xml"/>'),
        parts=[("xl/worksheets/sheet1.xml", FAR), ("xl/worksheets/sheet2.xml", SMALL)]), "too-large"),
    _case("sheet-name-with-tab", book(book_xml=workbook(("a\tb", "rId1")),
                                      parts=[("xl/worksheets/sheet1.xml", FAR)]), "too-large"),
]


@pytest.mark.parametrize("members, expect", CASES)
def test_what_the_gate_lets_through_is_within_bounds(members, expect, tmp_path, monkeypatch):
    answer, built, walks = _read(tmp_path, monkeypatch, members)
    if built is not None:
        assert _within(built), f"read {built} (rows, cols, text) past {BOUNDS}; quick walk: {walks}"
    if expect is not None:
        assert answer == expect


def test_members_that_differ_in_case_are_refused(tmp_path, monkeypatch):
    """Of members that differ only in case, calamine reads the last in the zip: the gate
    refuses both orders rather than guess, as a file no Office program writes."""
    answers = []
    for n in range(1, 7):  # both orders of each pair, under several names
        lower, upper = f"xl/worksheets/sheet{n}.xml", f"xl/worksheets/Sheet{n}.xml"
        for first, last in ((lower, upper), (upper, lower)):
            members = book(rels_xml=rels(f"worksheets/sheet{n}.xml"),
                           parts=[(first, SMALL), (last, FAR)])  # calamine reads the last
            answers.append(_read(tmp_path, monkeypatch, members, f"{n}{first == lower}.xlsx")[:2])
    assert all(answer == "corrupt-file" for answer, _ in answers), answers
