"""The gate for SpreadsheetML (.xlsx, .xlsm): parts found by structure, sheets measured.

The sheets are found the way a reader finds them, through ``xl/workbook.xml``
and its relationships, wherever the parts are stored. Each sheet that will be
read is walked as a stream of elements, by local name and so under any prefix:
cells are placed exactly as a reader places them (by ``r``, or one after the
other where ``r`` is missing), formulas are noted, and shared strings count at
the length they expand to in every cell that refers to them.
"""
from __future__ import annotations

import posixpath
import re
import zipfile
from array import array
from dataclasses import dataclass, field

from ..cells import col_index
from .bounds import FORMULA_SHOWN, Ambiguous, Bounds, Corrupt, Extent, Formulas, TooLarge, formula_text
from .xmlstream import Malformed, Unsafe, local, make_parser, parse_bytes, parse_stream

WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
DEFAULT_SHARED_STRINGS = "xl/sharedStrings.xml"
_REF = re.compile(r"([A-Za-z]{1,4})([0-9]{1,9})")
_SMALL_PART = 8 * 1024 * 1024


@dataclass
class XlsxScan:
    sheets: list[tuple[str, list[str]]] = field(default_factory=list)  # (name, parts), book order
    formulas: dict[int, Formulas] = field(default_factory=dict)  # sheet index → formula cells
    date1904: bool = False


def scan_xlsx(zf: zipfile.ZipFile, bounds: Bounds, only: set[str] | None = None,
              prefer: set[str] | None = None, kept: dict[str, bytes] | None = None) -> XlsxScan:
    """Measure the sheets in ``only``; else in ``prefer`` when all exist; else all.
    ``kept`` holds parts the gate already inflated (name → bytes)."""
    kept = kept if kept is not None else {}
    members = _members(zf.namelist())
    scan = XlsxScan()
    rels_part = members.get(_key(WORKBOOK_RELS))
    rels = _relationships(zf, rels_part, kept) if rels_part else {}
    scan.sheets, scan.date1904 = _workbook(zf, members.get(_key(WORKBOOK), WORKBOOK), rels, kept)
    present = {n for n, _ in scan.sheets}
    wanted = only if only is not None else (prefer if prefer and prefer <= present else None)
    jobs = [(index, name, members[_key(part)]) for index, (name, parts) in enumerate(scan.sheets)
            if wanted is None or name in wanted for part in parts if _key(part) in members]
    sst_parts = _shared_strings_parts(rels, members)
    scan.formulas = _measure(zf, bounds, jobs, sst_parts, kept)
    return scan


def _key(name: str) -> str:
    """A member name as a reader looks it up: whatever the case, ``\\`` read as ``/``."""
    return name.replace("\\", "/").casefold()


def _members(names: list[str]) -> dict[str, str]:
    """Lookup key → member name. Members that differ only in case or slashes are
    refused: a reader takes whichever it meets last, and no program writes them."""
    members: dict[str, str] = {}
    for name in dict.fromkeys(names):  # the same name twice is one member: the last is read
        if members.setdefault(_key(name), name) != name:
            raise Ambiguous(name)
    return members


def _measure(zf: zipfile.ZipFile, bounds: Bounds, jobs: list[tuple[int, str, str]],
             sst_parts: list[str], kept: dict[str, bytes],
             relaxed: bool = True) -> dict[int, Formulas]:
    """Walk each sheet of ``jobs`` (index, name, part); its formulas by sheet index.
    ``sst_parts``: the shared strings a reader may use (more than one: the exact walk
    measures each index at its longest). ``relaxed`` lets the quick walk measure
    parts that must be parsed (see below)."""
    sst = _part(zf, sst_parts[0], kept) if len(sst_parts) == 1 else b"" if not sst_parts else None
    sst_parsed = sst is not None and _needs_parse(sst)
    upper = _upper_lengths(sst) if sst is not None and (relaxed or not sst_parsed) else None
    exact: array | None = None
    text_used = 0
    parsed = False  # whether a part that must be parsed was measured by upper bounds
    found: dict[int, Formulas] = {}
    try:
        for index, name, part in jobs:
            data = _part(zf, part, kept)
            extent = Extent(bounds, name, text_used)
            how = _quick_walk(data, extent, upper, sst, relaxed) \
                if data is not None and upper is not None else ""
            if how:
                parsed = parsed or how == "parsed" or sst_parsed
                text_used = extent.text
                continue  # the usual case: plainly within bounds, measured in bulk
            if exact is None:
                exact = _longest(_shared_string_lengths(zf, p, kept) for p in sst_parts)
            extent = Extent(bounds, name, text_used)
            if data is not None:  # C parses it, Python walks only the cells
                extent, formulas = _walk_tree(data, extent, exact)
            else:
                walk = _SheetWalk(bounds, name, exact, text_used)
                with zf.open(part) as fh:
                    parse_stream(make_parser(walk.start, walk.end, walk.text), fh)
                extent, formulas = walk.extent, walk.formulas
            text_used = extent.text
            if formulas:
                found.setdefault(index, {}).update(formulas)
    except TooLarge as exc:
        if exc.what != "text" or not parsed:
            raise
        # Upper bounds carry over from sheet to sheet, so the text may only seem too
        # much: such parts are measured exactly instead, as they always were.
        return _measure(zf, bounds, jobs, sst_parts, kept, relaxed=False)
    return found


def _longest(tables) -> array:
    """Shared-string lengths index by index at the longest of ``tables``."""
    longest = array("l")
    for lengths in tables:
        if len(lengths) > len(longest):
            longest.extend([0] * (len(lengths) - len(longest)))
        for i, n in enumerate(lengths):
            if n > longest[i]:
                longest[i] = n
    return longest


def _part(zf: zipfile.ZipFile, part: str, kept: dict[str, bytes]) -> bytes | None:
    return kept[part] if part in kept else _whole_if_small(zf, part)


# ------------------------------------------------------------------ the quick walk
# Bytes scanned with a few regular expressions (C speed). It only ever answers
# "plainly within bounds": every pattern it relies on must hold, and every count
# it takes is an upper bound of what a reader will build; where anything is
# unusual (comments, CDATA, processing instructions, prefixes on the cell
# elements, cells without ``r``, formulas, inline strings with markup inside,
# another encoding) it says nothing and the exact walk decides.
#
# A part without single quotes, spaced-out ``=``, inline strings or cached formula
# text is read by patterns that hold whatever the XML: its well-formedness is the
# reader's to judge. A part with them (openpyxl writes every string inline, and a
# quote in a validation prompt) is read as the exact walk would read it: its XML
# must be well formed, and so must the shared strings it may refer to. Then no
# ``<`` stands inside an attribute value or in text, so a start tag is whole within
# the bytes from its ``<`` to the next one: quotes and spaced-out ``=`` matter only
# there (a reader takes a cell's ``r`` and ``t``, a row's ``r``), and an inline
# string's text is one run between its tags.

_NEEDS_PARSE = (b"inlineStr", b"<is", b"'", b'"str"', b'"e"', b" =", b"= ", b"\t=", b"=\t", b"\n=",
                b"=\n", b"\r=", b"=\r")
# A reader takes an element by what follows the first colon of its name, whatever the
# prefix (empty, or any character XML allows in a name).
_ANY_PREFIX = rb"<[^\s<>/:!?]*:(?:c|row|v|f|is|t|si|r|sheetData)[\s/>]"
_PREFIXED_ELEMENT = re.compile(_ANY_PREFIX)  # (what prefixed_element finds, for reference)
_LOCAL_AFTER_PREFIX = re.compile(rb":(?:c|row|v|f|is|t|si|r|sheetData)[\s/>]")
_NAME_BEFORE_COLON = re.compile(rb"[^\s<>/:!?]*")
_FORMULA_ELEMENT = re.compile(rb"<f[\s/>]")


def prefixed_element(data: bytes) -> bool:
    """Whether ``_PREFIXED_ELEMENT`` is found in ``data``, found from the colon: a
    search for a colon runs at the speed of a byte search, where the pattern tries
    every tag in turn (a sheet has thousands, 0.13 ms for a form of 60 items). The
    name before the colon holds no colon, so it starts after the previous one: each
    byte is looked at a bounded number of times, whatever the part holds."""
    previous = -1
    for found in _LOCAL_AFTER_PREFIX.finditer(data):
        colon = found.start()
        since = data.rfind(b":", previous + 1, colon)
        start = data.rfind(b"<", max(previous, since) + 1, colon)
        previous = colon
        if start >= 0 and _NAME_BEFORE_COLON.fullmatch(data, start + 1, colon):
            return True
    return False
_UTF8 = re.compile(rb'encoding="(?i:utf-8)"')
_CELL = re.compile(rb"<c[\s/>]")
# Attribute runs are bounded, so that a file of unclosed tags cannot make a scan quadratic.
_CELL_REF = re.compile(rb'<c\s[^>]{0,400}?(?<=\s)r="([A-Z]{1,4})([0-9]{1,9})"')
# A reader keeps a cell's last value: the index must be the cell's only content.
_SHARED_INDEX = re.compile(rb'<c\s[^>]{0,400}?(?<=\s)t="s"[^>]{0,400}>\s{0,64}<v>([0-9]{1,9})</v>'
                           rb'\s{0,64}</c>')
_ANY_R = re.compile(rb'\sr="')
_ROW_TAG = re.compile(rb"<row[\s/>]")
# A number as a reader parses it (a value without t that is no number is text to it).
_NUMBER = rb"-?(?:[0-9]{1,24}\.?[0-9]{0,24}|\.[0-9]{1,24})(?:[eE][-+]?[0-9]{1,3})?"
_ODD_V = re.compile(rb"<v(?=[\s/>])(?!>" + _NUMBER + rb"</v>)")  # a value that is no plain number
_SI = re.compile(rb"<si[\s/>]")
_SI_END = re.compile(rb"</si>|<si(?:\s[^>]{0,400})?/>")
# A whole cell as openpyxl, XlsxWriter, Excel and LibreOffice write the usual ones: its
# start tag holds r, s and t and nothing else, and it holds no formula. Groups: column,
# row, shared-string index, inline text (one run, no markup inside: its bytes bound
# the characters it holds, a reference being longer than its character). Any other
# cell matches only the last alternative, with every group empty.
_PLAIN_CELL = re.compile(
    rb'<c(?: r="([A-Z]{1,4})([0-9]{1,9})"(?: s="[0-9]{1,9}")?'
    rb'(?:(?: t="n")?(?:/>|>(?:<v>' + _NUMBER + rb'</v>)?</c>)'
    rb'| t="b"(?:/>|>(?:<v>[^<]{0,64}</v>)?</c>)'
    rb'| t="s">(?:<v>([0-9]{1,9})</v>)?</c>'
    rb'| t="inlineStr">(?:<is><t(?: xml:space="preserve")?>([^<]*)</t></is>)?</c>)'
    rb'|[\s/>])')
_PLAIN_ROW = re.compile(rb'<row(?:( r="[0-9]{1,9}")|[\s/>])')  # the group: r comes first


def _plain_bytes(data: bytes) -> bool:
    """UTF-8 (or ASCII) XML, as the quick walk needs: not UTF-16, no declaration of
    another encoding, no comments, CDATA or processing instructions, no prefixes."""
    if b"\x00" in data[:200] or data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return False
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    after = start  # where markup after the declaration begins
    if data.startswith((b"<?xml ", b"<?xml\t", b"<?xml\n", b"<?xml\r"), start):  # not <?xml-…
        end = data.find(b"?>", start, start + 1024)
        decl = data[start:end if end >= 0 else start + 1024]
        if b"'" in decl or (b"encoding" in decl and (decl.count(b"encoding") > 1
                                                     or _UTF8.search(decl) is None)):
            return False  # a declaration the pattern cannot vouch for
        after = end + 2 if end >= 0 else start + 2
    # (A one-byte search first: it is many times quicker than a search for two.)
    if data.find(b"?", after) >= 0 and data.find(b"<?", after) >= 0:
        return False  # an instruction's content is not markup: it could hide a string
    if b"!" in data and b"<!" in data:
        return False
    return _FORMULA_ELEMENT.search(data) is None and not prefixed_element(data)


def _needs_parse(data: bytes) -> bool:
    return any(needs in data for needs in _NEEDS_PARSE)


def _upper_lengths(sst: bytes) -> list[int] | None:
    """For each shared string, the bytes from its <si> to the next: no fewer than the
    characters it holds. None when the part is not plain."""
    if not sst:
        return []
    if not _plain_bytes(sst) or (_needs_parse(sst) and not _well_formed(sst)):
        return None
    starts = [m.start() for m in _SI.finditer(sst)]
    ends = [m.start() for m in _SI_END.finditer(sst)]
    following = starts[1:] + [len(sst)]
    # A <si> inside another ends the outer string where the inner one ends, for a
    # reader: the measure below holds only when starts and ends alternate.
    if len(ends) != len(starts) or not all(a <= e < b for a, e, b in zip(starts, ends, following)):
        return None
    return [b - a for a, b in zip(starts, following)]


def _quick_walk(data: bytes, extent: Extent, upper: list[int], sst: bytes | None = b"",
                relaxed: bool = True) -> str:
    """"plain" or "parsed" (how it was read) when the sheet is plainly within bounds,
    and ``extent`` then holds an upper bound of its reach and text; "" to leave it to
    the exact walk. ``sst`` is the shared-strings part that ``upper`` measures;
    without ``relaxed``, a part that must be parsed is left to the exact walk."""
    cells = extent.bounds.cells
    if not _plain_bytes(data) or (len(data) > 2 * cells and data.count(b"<c") > cells):
        return ""
    if _needs_parse(data):
        return "parsed" if relaxed and _parsed_walk(data, extent, upper, sst) else ""
    if b"\x0b" in data or b"\x0c" in data or b't="d"' in data or _ODD_V.search(data):
        return ""  # white space only to the pattern; a date or a value that a reader keeps as text
    refs = _CELL_REF.findall(data)
    if len(refs) != len(_CELL.findall(data)) \
            or len(_ANY_R.findall(data)) != len(refs) + len(_ROW_TAG.findall(data)):
        return ""  # a cell without r, one this pattern cannot read, or an r given twice
    indexes = _SHARED_INDEX.findall(data)
    if len(indexes) != data.count(b't="s"'):
        return ""  # some shared-string cell this pattern cannot read
    if not refs:
        return "plain" if _within(extent, (), (), len(refs), indexes, upper, ()) else ""
    letters, digits = zip(*refs)
    return "plain" if _within(extent, letters, digits, len(refs), indexes, upper, ()) else ""


def _parsed_walk(data: bytes, extent: Extent, upper: list[int], sst: bytes | None) -> bool:
    """The quick walk of a part that must be well formed (see above): every cell one
    the pattern reads whole, every row with its r first."""
    found = _PLAIN_CELL.findall(data)
    rows = _PLAIN_ROW.findall(data)
    if not all(rows):
        return False  # a row without r first, which the pattern cannot vouch for
    letters: tuple[bytes, ...] = ()
    digits = indexes = texts = letters
    if found:
        letters, digits, indexes, texts = zip(*found)
        if not all(letters):
            return False  # a cell the pattern cannot read whole
    shared = [i for i in indexes if i]
    if not _within(extent, letters, digits, len(found) + len(rows), shared, upper, texts):
        return False
    return _well_formed(data) and (not sst or _well_formed(sst))


def _within(extent: Extent, letters: tuple[bytes, ...], digits: tuple[bytes, ...], records: int,
            indexes: list[bytes], upper: list[int], texts: tuple[bytes, ...]) -> bool:
    """Whether the cells (their columns' letters, their rows' digits) reach and the text
    they hold, measured by upper bounds, are within bounds; if so ``extent`` takes them."""
    b = extent.bounds
    far_row = far_col = -1
    if letters:
        far_row = max(map(int, set(digits))) - 1
        far_col = max(map(col_index, {x.decode() for x in set(letters)}))
        if far_row >= b.rows or far_col >= b.cols or (far_row + 1) * (far_col + 1) > b.cells \
                or records > b.records:
            return False
    try:
        text = sum(map(upper.__getitem__, map(int, indexes))) + sum(map(len, texts))
    except IndexError:
        return False
    if extent.text + text > b.text:
        return False
    if letters:
        extent.max_row, extent.max_col = far_row, far_col
    extent.text += text
    return True


def _well_formed(data: bytes) -> bool:
    """expat checks the XML without building anything, and refuses any DTD."""
    try:
        parse_bytes(make_parser(), data)
    except (Malformed, Unsafe):
        return False
    return True


TREE_LIMIT = 4 * 1024 * 1024  # parts up to this size are parsed whole (memory: a few times it)


def _whole_if_small(zf: zipfile.ZipFile, part: str) -> bytes | None:
    """The part's bytes when it is small: the gate has already checked every entry's
    size and CRC, so the stated size is the true one."""
    if zf.getinfo(part).file_size > TREE_LIMIT:
        return None
    with zf.open(part) as fh:
        return fh.read(TREE_LIMIT + 1)


def _walk_tree(data: bytes, extent: Extent, lengths: array) -> tuple[Extent, Formulas]:
    """The same walk as _SheetWalk, over a tree the C parser built. Without a DTD
    no entity can expand, so a part that declares none is safe to parse whole."""
    root = _tree(data)
    formulas = _plain_sheet(root, data, extent, lengths)
    if formulas is not None:
        return extent, formulas
    formulas = {}
    limit, records = extent.bounds.records, 0
    row, next_col = -1, 0
    stack = [root]
    while stack:
        el = stack.pop()
        tag = el.tag
        name = tag[tag.rfind("}") + 1:]
        if name == "c":
            records += 1
            if records > limit:
                raise TooLarge(extent.where, "", "records")
            ref = el.get("r")
            if ref:
                m = _REF.fullmatch(ref)
                if m is None:
                    raise Corrupt(f"cell reference {ref[:20]!r}")
                r, c = int(m.group(2)) - 1, col_index(m.group(1))
            else:
                r, c = max(row, 0), next_col
            next_col = c + 1
            _tree_cell(el, r, c, extent, lengths, formulas)
            continue  # what a cell holds is not more cells
        if name == "row":
            records += 1
            ref = el.get("r")
            if ref:
                if not ref.isdigit() or len(ref) > 9:
                    raise Corrupt(f"row {ref[:20]!r}")
                row = int(ref) - 1
            else:
                row += 1
            next_col = 0
        stack.extend(reversed(el))  # document order
    return extent, formulas


def _tree(data: bytes):
    """The part parsed whole by the C parser; Unsafe or Malformed as the stream says."""
    import xml.etree.ElementTree as ET

    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Unsafe()
    try:
        return ET.fromstring(data)
    except (ET.ParseError, LookupError, ValueError) as exc:  # LookupError: an unknown encoding
        raise Malformed(str(exc)) from exc


def _local_is(tag: str, name: str) -> bool:
    return tag == name or tag.endswith("}" + name)


def _attr(attrs, name: str, default: str | None = None) -> str | None:
    """An attribute by local name, with or without a namespace: a reader that
    ignores prefixes must not see an ``r`` that the gate did not."""
    value = attrs.get(name)
    if value is not None:
        return value
    for key, value in attrs.items():
        if key.endswith("}" + name):
            return value
    return default


MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
_C, _ROW, _V, _F = MAIN + "c", MAIN + "row", MAIN + "v", MAIN + "f"
_ANY_C = re.compile(rb"<c[\s/>]")
_ANY_ROW = re.compile(rb"<row[\s/>]")
_ANY_V = re.compile(rb"<v[\s/>]")
_PREFIXED_ATTR = re.compile(rb"\s(?!xmlns:)[\w.-]+:(?:r|t)=")
_REFS = re.compile(r"([A-Z]{1,4})([0-9]{1,9})")
_NUMBER_TEXT = re.compile(_NUMBER.decode())


def _plain_sheet(root, data: bytes, extent: Extent, lengths: array) -> Formulas | None:
    """The common case in bulk: a sheet as Excel, LibreOffice or XlsxWriter write it
    (cells and rows unprefixed in the main namespace, every one with its ``r``, no
    inline strings). Measured with a few C-level passes instead of a Python step per
    element; anything else returns None and takes the exact walk."""
    cells = list(root.iter(_C))
    rows = list(root.iter(_ROW))
    if len(cells) != len(_ANY_C.findall(data)) or len(rows) != len(_ANY_ROW.findall(data)) \
            or b"inlineStr" in data or b"<is" in data or _PREFIXED_ATTR.search(data) \
            or prefixed_element(data):
        return None
    if len(cells) + len(rows) > extent.bounds.records:
        raise TooLarge(extent.where, "", "records")
    row_refs = [r.get("r") for r in rows]
    holding = [c for c in cells if len(c)]  # a cell with no v, is or f holds nothing
    valued = [c for c in holding if c.find(_V) is not None]
    if len(_ANY_V.findall(data)) != len(valued):
        return None  # a cell with several values (a reader keeps the last) or one elsewhere
    refs = [c.get("r") for c in valued]
    if None in refs or None in row_refs or not all(r.isdigit() and len(r) <= 9 for r in row_refs):
        return None
    found = _REFS.findall(" ".join(refs))
    if len(found) != len(refs) or any(a + b != r for (a, b), r in zip(found, refs)):
        return None
    if found:
        columns = {letters: col_index(letters) for letters, _ in set(found)}
        numbers = [int(d) - 1 for _, d in found]
        far_row = max(numbers)
        far_col = max(columns[letters] for letters, _ in found)
        first = numbers.index(far_row)
        extent.reach(far_row, far_col, far_row, columns[found[first][0]])
    for cell in valued:
        extent.text += _value_chars(cell.get("t"), cell.find(_V), lengths)
    if extent.text > extent.bounds.text:
        raise TooLarge(extent.where, "", "text")
    formulas: Formulas = {}
    if b"<f" in data:
        for cell in holding:
            f = cell.find(_F)
            if f is not None:
                m = _REFS.fullmatch(cell.get("r") or "")
                if m is None:
                    return None
                formulas[(int(m.group(2)) - 1, col_index(m.group(1)))] = formula_text(f.text)
    return formulas


def _tree_cell(el, row: int, col: int, extent: Extent, lengths: array,
               formulas: Formulas) -> None:
    kind = el.get("t")  # a reader takes t and r by their exact names
    valued = False
    chars = 0  # every value and inline string the cell holds: a reader keeps the last
    for child in el:
        tag = child.tag
        name = tag[tag.rfind("}") + 1:]
        if name == "v":
            valued = True
            chars += _value_chars(kind, child, lengths)
        elif name == "f":
            formulas[(row, col)] = formula_text(child.text)
        elif name == "is":  # read in any cell, whatever its t
            valued = True
            chars += sum(_text_chars(t.text or "") for t in child.iter() if _local_is(t.tag, "t"))
    if valued:
        extent.reach(row, col, row, col)
        if chars:
            extent.add_text(chars, row, col)


def _value_chars(kind: str | None, v, lengths: array) -> int:
    """The characters of text a reader may make of the value ``v`` in a cell of type
    ``kind``. Of a number or an index a reader reads only what comes before the first
    reference (``&#48;``), which the parser has already replaced: any prefix counts."""
    if v is None or kind in ("b", "n", "inlineStr", "is"):
        return 0  # a truth value, a number or an error; a value beside an inline string is dropped
    text = "".join(v.itertext())
    if kind == "s":
        return _shared_chars(text, lengths)
    if kind is None and _NUMBER_TEXT.fullmatch(text):
        # A number, but a prefix of it may be none ("-", "1e"), and so text to a reader.
        return len(text) if text[0] in "-." or "e" in text or "E" in text else 0
    return _text_chars(text)


def _text_chars(text: str) -> int:
    """No fewer than a reader's characters: the parser read each CR LF as one LF."""
    return len(text) + text.count("\n")


def _shared_chars(text: str, lengths: array) -> int:
    """The length of the shared string a reader takes ``text`` to index."""
    if not text:
        return 0
    if not (text.isascii() and text.isdigit()):
        return lengths[0] if lengths else 0  # a reader takes an index it cannot parse as 0
    zeros = len(text) - len(text.lstrip("0"))
    longer = len(text) > zeros + 19  # past 19 digits a prefix may not fit a machine word: 0
    found = lengths[0] if longer and lengths else 0
    for i in (int(text[:k]) for k in range(1, min(len(text), zeros + 19) + 1)):
        if i < len(lengths):
            found = max(found, lengths[i])
    return found


def _read_small(zf: zipfile.ZipFile, part: str, kept: dict[str, bytes]) -> bytes:
    if part in kept:
        return kept[part]  # kept parts are smaller than _SMALL_PART
    with zf.open(part) as fh:
        data = fh.read(_SMALL_PART + 1)
    if len(data) > _SMALL_PART:
        raise TooLarge(part, "", "part")
    return data


def _relationships(zf: zipfile.ZipFile, part: str,
                   kept: dict[str, bytes]) -> dict[str, list[tuple[str, str]]]:
    """Relationship id → every (type, target part) given for it. An External target
    is kept too: a reader may follow it into the package all the same."""
    found: dict[str, list[tuple[str, str]]] = {}

    def start(tag, attrs):
        if local(tag) == "Relationship":
            kind = attrs.get("Type", "")
            found.setdefault(attrs.get("Id", ""), []).extend(
                (kind, path) for path in _resolve(attrs.get("Target", "")))

    parse_bytes(make_parser(start), _read_small(zf, part, kept))
    return found


def _resolve(target: str) -> list[str]:
    """The zip members a relationship target may name: absolute, or relative to xl/,
    normalised as the format says or joined as it stands (as some readers do)."""
    joined = "xl/" + target
    path = target[1:] if target.startswith("/") else joined
    return list(dict.fromkeys((path, joined, posixpath.normpath(path))))


def _workbook(zf: zipfile.ZipFile, part: str, rels: dict[str, list[tuple[str, str]]],
              kept: dict[str, bytes]):
    """The sheets in book order, each with every part an id of it may point at: a
    reader follows r:id, and a gate that chose another id would measure the wrong
    part, so each candidate is measured."""
    sheets: list[tuple[str, list[str]]] = []
    flags = {"date1904": False}

    def start(tag, attrs):
        name = local(tag)
        if name == "sheet":
            ids = [v for k, v in attrs.items() if local(k) == "id"]
            parts = [path for i in ids for _, path in rels.get(i, ())]
            sheets.append((_attr(attrs, "name", "") or "", list(dict.fromkeys(parts))))
        elif name == "workbookPr":
            flags["date1904"] = attrs.get("date1904", "").lower() in ("1", "true")

    try:
        parse_bytes(make_parser(start), _read_small(zf, part, kept))
    except KeyError:
        raise Corrupt(WORKBOOK) from None
    return sheets, flags["date1904"]


def _shared_strings_parts(rels, members: dict[str, str]) -> list[str]:
    """The shared strings a reader may use: those at the usual name (some readers look
    nowhere else) and those the relationships name."""
    found = [DEFAULT_SHARED_STRINGS] + [target for targets in rels.values()
                                        for kind, target in targets if kind.endswith("/sharedStrings")]
    return list(dict.fromkeys(members[_key(p)] for p in found if _key(p) in members))


def _shared_string_lengths(zf: zipfile.ZipFile, part: str | None,
                           kept: dict[str, bytes] | None = None) -> array:
    """The length in characters of every shared string, in index order."""
    lengths = array("l")
    if part is None:
        return lengths
    data = _part(zf, part, kept or {})
    if data is not None:
        root = _tree(data)
        if root.tag == MAIN + "sst" and b":si" not in data and b":t" not in data:
            for si in root.iter(MAIN + "si"):  # the usual part: one pass in C per string
                lengths.append(sum(len(t.text or "") for t in si.iter(MAIN + "t")))
            return lengths
        for si in root.iter():
            if _local_is(si.tag, "si"):
                lengths.append(sum(len(t.text or "") for t in si.iter() if _local_is(t.tag, "t")))
        return lengths
    state = {"depth": 0, "n": 0, "in_t": False}

    def start(tag, attrs):
        name = local(tag)
        if name == "si":
            state["n"] = 0
        elif name == "t":
            state["in_t"] = True

    def end(tag):
        name = local(tag)
        if name == "si":
            lengths.append(state["n"])
        elif name == "t":
            state["in_t"] = False

    def text(data):
        if state["in_t"]:
            state["n"] += len(data)

    parser = make_parser(start, end, text)
    with zf.open(part) as fh:
        parse_stream(parser, fh)
    return lengths


class _Value:
    """A ``<v>`` as the stream gave it, for :func:`_value_chars`: its text while it is
    short (a number or an index), else only its length."""

    __slots__ = ("parts", "chars")

    def __init__(self):
        self.parts: list[str] | None = []
        self.chars = 0

    def itertext(self):
        return self.parts

    def add(self, data: str) -> None:
        self.chars += _text_chars(data)
        if self.parts is not None:
            self.parts.append(data)
            if self.chars > 64:
                self.parts = None


class _SheetWalk:
    """One worksheet, element by element: where each valued cell lands, its text."""

    def __init__(self, bounds: Bounds, name: str, lengths: array, text_used: int):
        self.extent = Extent(bounds, name, text_used)
        self.lengths = lengths
        self.records = 0
        self.limit = bounds.records
        self.row = -1  # current row, 0-based
        self.next_col = 0
        self.cell: tuple[int, int] | None = None
        self.kind: str | None = None
        self.valued = self.formula = False
        self.value: _Value | None = None  # the <v> being read
        self.depth = 0  # of elements inside the <v> or <is> being read
        self.chars = 0  # of every value and inline string in the cell: a reader keeps the last
        self.in_inline = False
        self.most: int | None = None  # the longest shared string, once needed
        self.formulas: Formulas = {}
        self.in_formula = False
        self.formula_parts: list[str] = []

    def start(self, tag, attrs):
        name = tag[tag.rfind("}") + 1:]
        if self.value is not None or self.in_inline or self.in_formula:
            self.depth += 1
        elif name == "c":
            self.records += 1
            if self.records > self.limit:
                raise TooLarge(self.extent.where, "", "records")
            ref = attrs.get("r")  # a reader takes r and t by their exact names
            if ref:
                m = _REF.fullmatch(ref)
                if m is None:
                    raise Corrupt(f"cell reference {ref[:20]!r}")
                row, col = int(m.group(2)) - 1, col_index(m.group(1))
            else:
                row, col = max(self.row, 0), self.next_col
            self.next_col = col + 1
            self.cell = (row, col)
            self.kind = attrs.get("t")
            self.valued = self.formula = False
            self.chars = 0
        elif self.cell is None:
            if name == "row":
                self.records += 1
                ref = attrs.get("r")
                if ref:
                    if not ref.isdigit() or len(ref) > 9:
                        raise Corrupt(f"row {ref[:20]!r}")
                    self.row = int(ref) - 1
                else:
                    self.row += 1
                self.next_col = 0
        elif name == "v":
            self.valued = True
            self.value = _Value()
        elif name == "f":
            self.formula = self.in_formula = True
            self.formula_parts = []
        elif name == "is":  # read in any cell, whatever its t
            self.valued = True
            self.in_inline = True

    def end(self, tag):
        if self.depth:
            self.depth -= 1
            return
        name = tag[tag.rfind("}") + 1:]
        if self.value is not None:
            v, kind = self.value, self.kind
            if v.parts is not None:
                self.chars += _value_chars(kind, v, self.lengths)
            elif kind == "s":  # no index at all: whichever a reader makes of it
                self.most = max(self.lengths, default=0) if self.most is None else self.most
                self.chars += self.most
            elif kind not in ("b", "n", "inlineStr", "is"):
                self.chars += v.chars  # too long for a number: text
            self.value = None
        elif self.in_inline:
            self.in_inline = False
        elif self.in_formula:
            self.in_formula = False
        elif name == "c" and self.cell is not None:
            row, col = self.cell
            self.cell = None
            if self.formula:
                self.formulas[(row, col)] = formula_text("".join(self.formula_parts))
            if not self.valued:
                return
            self.extent.reach(row, col, row, col)
            if self.chars:
                self.extent.add_text(self.chars, row, col)

    def text(self, data):
        if self.value is not None:
            self.value.add(data)
        elif self.in_inline:
            self.chars += _text_chars(data)
        elif self.in_formula and sum(map(len, self.formula_parts)) <= FORMULA_SHOWN:
            self.formula_parts.append(data)


_BUILTIN_PERCENT = {9, 10}  # 0% and 0.00%
STYLES = "xl/styles.xml"


def percent_styles(xml: bytes) -> frozenset[int]:
    """The cell styles (a cell's s: their place in cellXfs) whose number format shows a
    number as a percentage (0.95 as 95%): the built-in 0% and 0.00%, or a format with a
    % outside quotes. Empty for the usual return: a look for "%" and the two built-in
    ids settles it without a walk."""
    if b"%" not in xml and b'numFmtId="9"' not in xml and b'numFmtId="10"' not in xml:
        return frozenset()
    percent = set(_BUILTIN_PERCENT)
    for tag in re.findall(rb"<(?:\w+:)?numFmt\b[^>]*>", xml):
        fid, code = re.search(rb'numFmtId="(\d{1,6})"', tag), re.search(rb'formatCode="([^"]*)"', tag)
        if fid and code:
            shown = code.group(1).decode("utf-8", "replace").replace("&quot;", '"')
            if "%" in re.sub(r'"[^"]*"|\\.', "", shown):
                percent.add(int(fid.group(1)))
    # Found as two searches, each once over the part: a part of many openings and no
    # close must cost no more than one pass.
    opening = re.search(rb"<(?:\w+:)?cellXfs\b[^>]*>", xml)
    closing = re.compile(rb"</(?:\w+:)?cellXfs>").search(xml, opening.end()) if opening else None
    if opening is None or closing is None:
        return frozenset()
    found = set()
    for k, tag in enumerate(re.findall(rb"<(?:\w+:)?xf\b[^>]*>", xml[opening.end():closing.start()])):
        fid = re.search(rb'numFmtId="(\d{1,6})"', tag)
        if fid and int(fid.group(1)) in percent:
            found.add(k)
    return frozenset(found)
