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

from .bounds import Bounds, Corrupt, Extent, TooLarge
from .xmlstream import local, make_parser, parse_bytes, parse_stream

WORKBOOK = "xl/workbook.xml"
WORKBOOK_RELS = "xl/_rels/workbook.xml.rels"
DEFAULT_SHARED_STRINGS = "xl/sharedStrings.xml"
_REF = re.compile(r"([A-Za-z]{1,4})([0-9]{1,9})")
_SMALL_PART = 8 * 1024 * 1024


@dataclass
class XlsxScan:
    sheets: list[tuple[str, str]] = field(default_factory=list)  # (name, part) in book order
    formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # name → cells
    date1904: bool = False


def scan_xlsx(zf: zipfile.ZipFile, bounds: Bounds, only: set[str] | None = None,
              prefer: set[str] | None = None) -> XlsxScan:
    """Measure the sheets in ``only``; else in ``prefer`` when all exist; else all."""
    names = set(zf.namelist())
    scan = XlsxScan()
    rels = _relationships(zf) if WORKBOOK_RELS in names else {}
    scan.sheets, scan.date1904 = _workbook(zf, rels)
    present = {n for n, _ in scan.sheets}
    wanted = only if only is not None else (prefer if prefer and prefer <= present else None)
    lengths = _shared_string_lengths(zf, _shared_strings_part(rels, names))
    text_used = 0
    for name, part in scan.sheets:
        if wanted is not None and name not in wanted:
            continue
        if part not in names:
            continue  # the reader will say the sheet is missing
        walk = _SheetWalk(bounds, name, lengths, text_used)
        parser = make_parser(walk.start, walk.end, walk.text)
        with zf.open(part) as fh:
            parse_stream(parser, fh)
        text_used = walk.extent.text
        if walk.formulas:
            scan.formulas[name] = walk.formulas
    return scan


def _read_small(zf: zipfile.ZipFile, part: str) -> bytes:
    with zf.open(part) as fh:
        data = fh.read(_SMALL_PART + 1)
    if len(data) > _SMALL_PART:
        raise TooLarge(part, "", "part")
    return data


def _relationships(zf: zipfile.ZipFile) -> dict[str, tuple[str, str]]:
    """Relationship id → (type, target part)."""
    found: dict[str, tuple[str, str]] = {}

    def start(tag, attrs):
        if local(tag) == "Relationship" and attrs.get("TargetMode") != "External":
            found[attrs.get("Id", "")] = (attrs.get("Type", ""), _resolve(attrs.get("Target", "")))

    parse_bytes(make_parser(start), _read_small(zf, WORKBOOK_RELS))
    return found


def _resolve(target: str) -> str:
    """A relationship target as a zip member name: absolute, or relative to xl/."""
    if target.startswith("/"):
        path = target[1:]
    else:
        path = posixpath.join("xl", target)
    return posixpath.normpath(path)


def _workbook(zf: zipfile.ZipFile, rels: dict[str, tuple[str, str]]):
    sheets: list[tuple[str, str]] = []
    flags = {"date1904": False}

    def start(tag, attrs):
        name = local(tag)
        if name == "sheet":
            rid = next((v for k, v in attrs.items() if local(k) == "id"), "")
            sheets.append((attrs.get("name", ""), rels.get(rid, ("", ""))[1]))
        elif name == "workbookPr":
            flags["date1904"] = attrs.get("date1904", "").lower() in ("1", "true")

    try:
        parse_bytes(make_parser(start), _read_small(zf, WORKBOOK))
    except KeyError:
        raise Corrupt(WORKBOOK) from None
    return sheets, flags["date1904"]


def _shared_strings_part(rels, names: set[str]) -> str | None:
    for kind, target in rels.values():
        if kind.endswith("/sharedStrings") and target in names:
            return target
    return DEFAULT_SHARED_STRINGS if DEFAULT_SHARED_STRINGS in names else None


def _shared_string_lengths(zf: zipfile.ZipFile, part: str | None) -> array:
    """The length in characters of every shared string, in index order."""
    lengths = array("l")
    if part is None:
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
        self.kind = ""
        self.valued = self.formula = False
        self.capture = False
        self.buffer: list[str] = []
        self.captured = 0
        self.inline_chars = 0
        self.in_inline = False
        self.formulas: set[tuple[int, int]] = set()

    def start(self, tag, attrs):
        name = tag[tag.rfind("}") + 1:]
        if name == "c":
            self.records += 1
            if self.records > self.limit:
                raise TooLarge(self.extent.where, "", "records")
            ref = attrs.get("r")
            if ref:
                m = _REF.fullmatch(ref)
                if m is None:
                    raise Corrupt(f"cell reference {ref[:20]!r}")
                row, col = int(m.group(2)) - 1, _col_index(m.group(1))
            else:
                row, col = max(self.row, 0), self.next_col
            self.next_col = col + 1
            self.cell = (row, col)
            self.kind = attrs.get("t", "n")
            self.valued = self.formula = False
            self.inline_chars = 0
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
            if self.kind in ("s", "str", "e"):
                self.capture = True
                self.buffer = []
                self.captured = 0
        elif name == "f":
            self.formula = True
        elif name == "is":
            self.valued = True
            self.in_inline = True

    def end(self, tag):
        name = tag[tag.rfind("}") + 1:]
        if name == "v":
            self.capture = False
        elif name == "is":
            self.in_inline = False
        elif name == "c" and self.cell is not None:
            row, col = self.cell
            self.cell = None
            if self.formula:
                self.formulas.add((row, col))
            if not self.valued:
                return
            self.extent.reach(row, col, row, col)
            chars = self.inline_chars
            if self.kind == "s":
                text = "".join(self.buffer).strip()
                index = int(text) if text.isdigit() and len(text) < 10 else -1
                chars = self.lengths[index] if 0 <= index < len(self.lengths) else 0
            elif self.kind in ("str", "e"):
                chars = self.captured
            if chars:
                self.extent.add_text(chars, row, col)

    def text(self, data):
        if self.capture:
            self.captured += len(data)
            if self.kind == "s" and self.captured <= 16:  # an index: a few digits
                self.buffer.append(data)
        elif self.in_inline:
            self.inline_chars += len(data)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1
