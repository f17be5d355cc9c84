"""The gate for OpenDocument spreadsheets, and a streaming reader for the same walk.

``content.xml`` is walked element by element, by local name. Repeats
(``number-rows-repeated``, ``number-columns-repeated``) are counted, never
expanded, until they are known to fit the bounds: a 12 KB file may claim ninety
million cells. Formulas (``table:formula``) are noted wherever they are.

The same walk can also collect the values. That second reading path serves
well-formed ODF that python-calamine refuses (indented ``content.xml``, as
other producers write it, is the common case); it is bounded exactly as the
gate is, because it is the gate.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .bounds import Bounds, Corrupt, Extent, Formulas, TooLarge, formula_text
from .notes import NOTE_TEXT, Note, NoteText
from .xmlstream import local, make_parser, parse_stream

CONTENT = "content.xml"
_NUMERIC = {"float", "percentage", "currency"}
_MAX_REPEAT_DIGITS = 9
_SPACES = re.compile(r"[ \t\r\n]+")


@dataclass
class OdsTable:
    name: str
    rows: list[list[Any]] = field(default_factory=list)
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)
    visible: bool = True
    percent: set[tuple[int, int]] = field(default_factory=set)  # cells whose number shows as a percentage


@dataclass
class OdsScan:
    sheets: list[str] = field(default_factory=list)
    formulas: dict[int, Formulas] = field(default_factory=dict)  # table index → formula cells
    tables: list[OdsTable] = field(default_factory=list)  # only when values were collected
    notes: list[Note] = field(default_factory=list)  # cell annotations (see notes.py)


def scan_ods(zf: zipfile.ZipFile, bounds: Bounds, collect: bool = False,
             wanted: set[str] | None = None) -> OdsScan:
    """Walk content.xml; with ``collect``, also keep the values of the sheets in
    ``wanted`` (all when None). Every sheet is measured: readers load them all."""
    walk = _Walk(bounds, collect, wanted)
    parser = make_parser(walk.start, walk.end, walk.text)
    try:
        fh = zf.open(CONTENT)
    except KeyError:
        raise Corrupt(CONTENT) from None
    with fh:
        parse_stream(parser, fh)
    return walk.scan


def _attrs(attrs: dict[str, str]) -> dict[str, str]:
    """Attributes by local name; ODF's own namespaces win over extensions and foreign
    ones (calcext:value-type, or any other producer's attributes of the same name)."""
    out: dict[str, str] = {}
    odf: set[str] = set()
    for key, value in attrs.items():
        name = local(key)
        own = "urn:oasis:names:tc:opendocument:xmlns:" in key
        if name not in out or (own and name not in odf):
            out[name] = value
        if own:
            odf.add(name)
    return out


def _repeat(value: str | None) -> int:
    if not value:
        return 1
    if not value.isdigit() or len(value) > _MAX_REPEAT_DIGITS:
        raise TooLarge("", "", "repeat")
    return max(int(value), 1)


class _Walk:
    def __init__(self, bounds: Bounds, collect: bool, wanted: set[str] | None):
        self.bounds = bounds
        self.collect = collect
        self.wanted = wanted
        self.scan = OdsScan()
        self.extent: Extent | None = None
        self.table: OdsTable | None = None
        self.keep = False  # collecting this table's values
        self.cells: dict[int, dict[int, Any]] = {}
        self.text_used = 0
        self.records = 0
        self.row = 0
        self.row_repeat = 1
        self.col = 0
        self.cell: dict[str, str] | None = None
        self.cell_repeat = 1
        self.paragraphs = 0
        self.parts: list[str] = []
        self.chars = 0
        self.in_p = 0
        self.in_note = 0
        self.note_parts: list[str] = []  # the annotation being read: its paragraphs
        self.note_author: list[str] = []
        self.note_field = ""  # "p" or "creator" while inside one, else ""
        self.note_text = NoteText()
        self.after_space = True  # the last text was collapsible white space

    # ------------------------------------------------------------ elements

    def start(self, tag, attrs):
        name = tag[tag.rfind("}") + 1:]
        if self.cell is not None:
            self._inside_cell(name, attrs)
        elif name in ("table-cell", "covered-table-cell"):
            self._open_cell(attrs)
        elif name == "table-row":
            self.records += 1
            if self.records > self.bounds.records:
                raise TooLarge(self._where(), "", "records")
            self.row_repeat = _repeat(_attrs(attrs).get("number-rows-repeated"))
            self.col = 0
        elif name == "table" and self.table is None:
            sheet = _attrs(attrs).get("name", "")
            self.scan.sheets.append(sheet)
            self.table = OdsTable(sheet)
            self.extent = Extent(self.bounds, sheet, self.text_used)
            self.keep = self.collect and (self.wanted is None or sheet in self.wanted)
            self.cells = {}
            self.row = 0

    def end(self, tag):
        name = tag[tag.rfind("}") + 1:]
        if self.cell is not None:
            if name in ("table-cell", "covered-table-cell") and self.in_p == 0 \
                    and self.in_note == 0:
                self._close_cell()
            elif name == "p" and self.in_p:
                self.in_p -= 1
                if self.after_space and self.parts and self.parts[-1].endswith(" "):
                    self.parts[-1] = self.parts[-1][:-1]  # the paragraph's trailing space
            elif name == "annotation" and self.in_note:
                self.in_note -= 1
                if self.in_note == 0:
                    self._close_note()
            elif self.in_note and name in ("p", "creator"):
                self.note_field = ""
            return
        if name == "table-row" and self.table is not None:
            self.row += self.row_repeat
            self.row_repeat = 1
        elif name == "table" and self.table is not None:
            self._close_table()

    def text(self, data):
        if self.in_note and self.note_field:
            self.note_text.add(self.note_parts if self.note_field == "p" else self.note_author, data)
        elif self.cell is not None and self.in_p and not self.in_note:
            # ODF white space: runs of spaces, tabs and line ends are one space, and a
            # paragraph neither starts nor ends with one (text:s and text:tab are literal).
            data = _SPACES.sub(" ", data)
            if self.after_space:
                data = data.lstrip(" ")
            if data:
                self._add_chars(data)
                self.after_space = data.endswith(" ")

    # ------------------------------------------------------------ cells

    def _open_cell(self, attrs):
        if self.table is None:
            return  # a cell outside any table: nothing reads it
        self.records += 1
        if self.records > self.bounds.records:
            raise TooLarge(self._where(), "", "records")
        self.cell = _attrs(attrs)
        self.cell_repeat = _repeat(self.cell.get("number-columns-repeated"))
        self.paragraphs = 0
        self.parts = []
        self.chars = 0
        self.in_p = self.in_note = 0

    def _inside_cell(self, name: str, attrs) -> None:
        if name == "annotation":
            self.in_note += 1
            if self.in_note == 1:
                self.note_parts, self.note_author, self.note_field = [], [], ""
        elif self.in_note:
            self._inside_note(name, attrs)
        elif name == "p":
            if self.paragraphs:
                self._add_chars("\n")
            self.paragraphs += 1
            self.in_p += 1
            self.after_space = True
        elif not self.in_p:
            return
        elif name == "s":
            count = _repeat(_attrs(attrs).get("c"))
            self._add_chars(" " * min(count, self.bounds.text + 1))
            self.after_space = False
        elif name == "tab":
            self._add_chars("\t")
            self.after_space = False
        elif name == "line-break":
            self._add_chars("\n")
            self.after_space = True

    def _inside_note(self, name: str, attrs) -> None:
        if name == "p":
            if self.note_field == "" and self.note_parts:
                self.note_text.add(self.note_parts, "\n")
            self.note_field = "p"
        elif name == "creator":
            self.note_field = "creator"
        elif name == "s" and self.note_field == "p":  # text:c spaces, as in a cell
            count = _repeat(_attrs(attrs).get("c"))
            self.note_text.add(self.note_parts, " " * min(count, NOTE_TEXT))
        elif name == "tab" and self.note_field == "p":
            self.note_text.add(self.note_parts, "\t")
        elif name == "line-break" and self.note_field == "p":
            self.note_text.add(self.note_parts, "\n")

    def _close_note(self) -> None:
        if self.table is not None:
            self.scan.notes.append(Note(self.table.name, self._here(), "".join(self.note_author),
                                        "".join(self.note_parts)))
        self.note_field = ""

    def _add_chars(self, data: str) -> None:
        self.chars += len(data)
        # One cell's own text, before repeats: bounded as it arrives.
        if self.chars > self.bounds.text:
            raise TooLarge(self._where(), self._here(), "text")
        if self.keep:
            self.parts.append(data)

    def _close_cell(self):
        cell, rows, cols = self.cell, self.row_repeat, self.cell_repeat
        self.cell = None
        assert cell is not None and self.extent is not None and self.table is not None
        row, col = self.row, self.col
        self.col += cols
        kind = cell.get("value-type", "")
        if "formula" in cell:
            self.extent.reach(row + rows - 1, col + cols - 1, row, col)
            found = self.scan.formulas.setdefault(len(self.scan.sheets) - 1, {})
            text = formula_text(cell["formula"])
            found.update(((r, c), text) for r in range(row, row + rows) for c in range(col, col + cols))
        if not kind and not self.chars:
            return
        self.extent.reach(row + rows - 1, col + cols - 1, row, col)
        text_chars = self.chars if kind in ("", "string") else 0
        if text_chars:
            self.extent.add_text(text_chars * rows * cols, row, col)
        spans = (_repeat(cell.get("number-rows-spanned")), _repeat(cell.get("number-columns-spanned")))
        if spans != (1, 1):
            self.table.merged.append((row, col, row + spans[0] - 1, col + spans[1] - 1))
        if self.keep:
            value = _value(kind, cell, "".join(self.parts))
            if kind == "percentage":  # 95% is 0.95: what the unit sees is not the number
                self.table.percent.update((r, c) for r in range(row, row + rows) for c in range(col, col + cols))
            for r in range(row, row + rows):
                line = self.cells.setdefault(r, {})
                for c in range(col, col + cols):
                    line[c] = value

    def _close_table(self):
        assert self.table is not None and self.extent is not None
        self.text_used = self.extent.text
        if self.keep:
            height = self.extent.max_row + 1
            width = self.extent.max_col + 1
            self.table.rows = [[self.cells.get(r, {}).get(c) for c in range(width)]
                               for r in range(height)]
            self.scan.tables.append(self.table)
        self.table = None
        self.extent = None
        self.cells = {}

    def _where(self) -> str:
        return self.table.name if self.table is not None else ""

    def _here(self) -> str:
        from .bounds import cell_name

        return cell_name(self.row, self.col)


def _value(kind: str, cell: dict[str, str], text: str) -> Any:
    """A cell's value as python-calamine gives it, from ODF's typed attributes."""
    try:
        if kind in _NUMERIC:
            return float(cell.get("value", text))
        if kind == "boolean":
            return cell.get("boolean-value", "").lower() == "true"
        if kind == "date":
            stamp = cell.get("date-value", "")
            return datetime.fromisoformat(stamp) if "T" in stamp else date.fromisoformat(stamp)
        if kind == "time":
            return _duration(cell.get("time-value", ""))
    except ValueError:
        return text or None
    if kind == "string" and "string-value" in cell:
        return cell["string-value"]
    return text or None


def _duration(text: str) -> timedelta:
    """ODF durations such as PT12H30M00S."""
    import re

    m = re.fullmatch(r"-?P(?:(\d+)D)?T?(?:(\d+)H)?(?:(\d+)M)?(?:([\d.]+)S)?", text)
    if not m:
        raise ValueError(text)
    d, h, mi, s = (float(g) if g else 0.0 for g in m.groups())
    return timedelta(days=d, hours=h, minutes=mi, seconds=s)
