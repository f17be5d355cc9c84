"""How tall a row must be for its wrapped text to show whole, in Excel and in
LibreOffice alike, on screen and on paper.

XlsxWriter does not autofit, and neither office program refits a row whose height
the file sets, so a row that is too short cuts its last lines off. The height is
computed here instead, from the text, the column width and the font size, by
laying the text out the way the office programs do, erring on the long side:

- each paragraph (an explicit line break, Alt+Enter) starts a new line;
- Chinese breaks between two characters, except that closing punctuation
  (、。，」） …) never starts a line and opening punctuation (「（ …) never ends one;
- a Latin word (a number, a file name) breaks only at a space, and is kept with the
  Chinese character beside it; a run between spaces that mixes Latin and Chinese
  is kept whole while it fits on a line, as LibreOffice keeps it;
- a piece wider than the whole line starts a line of its own and breaks after a
  hyphen or slash, or else anywhere.

Two renderings are modelled, and every paragraph gets the larger count:

- ``EXCEL``: Excel draws 標楷體 on whole screen pixels, Chinese a full em (15 px
  at 11 pt) and Latin half of one, in columns of the default font's digit (Arial
  11: 8 px a unit) less a 5 px margin.
- ``LIBREOFFICE``: LibreOffice measures columns in Liberation Sans's digit (Arial's
  metric twin, 6.1 pt a unit) and gives the text about 94 % of them; without
  標楷體 (Linux) it draws Latin in DejaVu Sans, which is wider, and Chinese in
  Noto Sans CJK, whose lines are the tallest (1.45 em, the line pitch used here).

The master and the templates set Arial 11 as the workbook's default font, so that
a column measures the same in both programs. The constants were measured against
LibreOffice's own optimal row heights and against its printed PDF, for Chinese,
Latin and mixed text at column widths 7 to 60, regular and bold. Column widths are
in Excel's units, as given to ``set_column``.
"""
from __future__ import annotations

import functools
import math
import re
import unicodedata
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate

FONT_SIZE = 11.0
MAX_ROW_HEIGHT = 409.0  # Excel's tallest row, in points
LINE_EM = 1.46  # line pitch, in ems: Noto Sans CJK's as LibreOffice prints it, the tallest in use
PADDING = 3.0  # points above and below the lines

# Characters that never start a line, and those that never end one (kinsoku).
NO_START = frozenset("、。，．：；！？）」』】〕〉》〗〙’”…‥ー～・·％%,.;:!?)]}")
NO_END = frozenset("（「『【〔〈《〖〘‘“([{")
_SPACES = re.compile("( +)")
_LATIN = re.compile("[A-Za-z0-9]")
# A long word's parts: a line may end after - / ? & or before %.
_HYPHENS = re.compile(r"[^-/?&%]*[-/?&]*%?")

# DejaVu Sans advance widths of ASCII 32–126, in 1/1000 em (regular, bold).
_DEJAVU = (
    318, 401, 460, 838, 636, 950, 780, 275, 390, 390, 500, 838, 318, 361, 318, 337, 636, 636, 636, 636,
    636, 636, 636, 636, 636, 636, 337, 337, 838, 838, 838, 531, 1000, 684, 686, 698, 770, 632, 575, 775,
    752, 295, 295, 656, 557, 863, 748, 787, 603, 787, 695, 635, 611, 732, 684, 989, 685, 611, 685, 390,
    337, 390, 838, 500, 500, 613, 635, 550, 635, 615, 352, 635, 634, 278, 278, 579, 278, 974, 634, 612,
    635, 635, 411, 521, 392, 634, 592, 818, 592, 592, 525, 636, 337, 636, 838)
_DEJAVU_BOLD = (
    348, 456, 521, 838, 696, 1002, 872, 306, 457, 457, 523, 838, 380, 415, 380, 365, 696, 696, 696, 696,
    696, 696, 696, 696, 696, 696, 400, 400, 838, 838, 838, 580, 1000, 774, 762, 734, 830, 683, 683, 821,
    837, 372, 372, 775, 637, 995, 837, 850, 733, 850, 770, 720, 682, 812, 774, 1103, 771, 724, 725, 457,
    365, 457, 838, 500, 500, 675, 716, 593, 716, 678, 435, 716, 712, 343, 343, 665, 343, 1042, 712, 687,
    716, 716, 493, 595, 478, 712, 652, 924, 645, 652, 582, 712, 365, 712, 838)


def is_wide(ch: str) -> bool:
    """Drawn a full em wide: CJK, full-width forms, and the ambiguous ones (…, ○, ※),
    which Chinese fonts draw full width."""
    return unicodedata.east_asian_width(ch) in ("W", "F", "A")


def _pixels(ems: float, size: float) -> float:
    """An advance in points, rounded up to whole 96-dpi pixels as both programs lay out."""
    return math.ceil(ems * size * 4 / 3 - 1e-6) * 0.75


def _xml_width(width: float) -> float:
    """A column width as XlsxWriter writes it to the file (it adds Excel's 5 px padding)."""
    pixels = int(width * 7 + 0.5) + 5 if width >= 1 else int(width * 12 + 0.5)
    return pixels / 7


@dataclass(frozen=True, eq=False)
class Rendering:
    """How one office program sizes columns and characters. Compared and hashed by
    identity (there are two, and both key every cache: hashing their width tables on
    every lookup cost more than the lookups)."""

    name: str
    excel_pixels: bool  # columns on Excel's pixel grid (8 px per unit of Arial 11)
    unit: float  # points per width unit otherwise (LibreOffice: Liberation Sans's digit)
    usable: float  # share of the column the text may use
    margin: float  # points of the column the text may not use
    latin: tuple[int, ...] | None  # ASCII widths in 1/1000 em; None: half an em (標楷體)
    latin_bold: tuple[int, ...] | None

    def column(self, width: float) -> float:
        """The points a column of ``width`` (Excel's units) leaves for text."""
        units = _xml_width(width)
        points = int((units + 1 / 16) * 8) * 0.75 if self.excel_pixels else units * self.unit
        return max(points * self.usable - self.margin, 1.0)

    def char(self, ch: str, size: float, bold: bool) -> float:
        """The advance of one character, in points."""
        code = ord(ch)
        if 32 <= code < 127:
            table = self.latin_bold if bold else self.latin
            return _pixels(table[code - 32] / 1000 if table else 0.5, size)
        if ch == "\t":
            return _pixels(1.0, size)
        if unicodedata.category(ch) in ("Mn", "Me", "Cf", "Cc"):
            return 0.0
        return _pixels(1.0 if is_wide(ch) else 0.75, size)

    def widest(self, size: float, bold: bool) -> float:
        """No character is wider than this."""
        table = (self.latin_bold if bold else self.latin) or (500,)
        return _pixels(max(max(table) / 1000, 1.0), size)


# Excel: 標楷體 (Chinese a full em, Latin half of one) in columns of Arial 11's 8 px
# digit, less 5 px of margin. LibreOffice: its columns measure in Liberation Sans's
# digit (6.1 pt) and leave about 94 % to the text; without 標楷體 (Linux) Latin is
# drawn in DejaVu Sans, with it (Windows) at half an em: the wider of the two counts.
EXCEL = Rendering("Excel", True, 0.0, 1.0, 3.75, None, None)
LIBREOFFICE = Rendering("LibreOffice", False, 6.1, 0.94, 1.0,
                        tuple(max(w, 500) for w in _DEJAVU), tuple(max(w, 500) for w in _DEJAVU_BOLD))
RENDERINGS = (EXCEL, LIBREOFFICE)


class _Widths(dict):
    """Character → advance (points) for one rendering, font size and weight, filled as met."""

    def __init__(self, rendering: Rendering, size: float, bold: bool):
        super().__init__()
        self.rendering, self.size, self.bold = rendering, size, bold
        self.pieces = _PieceWidths(self)  # piece → advance, for the pieces met most

    def __missing__(self, ch: str) -> float:
        width = self[ch] = self.rendering.char(ch, self.size, self.bold)
        return width

    def of(self, text: str) -> float:
        return sum(map(self.__getitem__, text))


class _PieceWidths(dict):
    """Piece → advance (points): a text's pieces are mostly one or two characters,
    met again and again. Emptied when it grows large, so memory stays bounded."""

    LIMIT = 10_000
    LONGEST = 8  # longer pieces (a whole Latin word, a mixed run) are summed each time

    def __init__(self, chars: _Widths):
        super().__init__()
        self.chars = chars

    def __missing__(self, piece: str) -> float:
        width = self.chars.of(piece)
        if len(piece) <= self.LONGEST:
            if len(self) >= self.LIMIT:
                self.clear()
            self[piece] = width
        return width


_TABLES: dict[tuple[Rendering, float, bool], _Widths] = {}


def _widths(rendering: Rendering, size: float, bold: bool) -> _Widths:
    key = (rendering, size, bold)
    table = _TABLES.get(key)
    if table is None:
        table = _TABLES[key] = _Widths(rendering, size, bold)
    return table


@functools.lru_cache(maxsize=1)
def _breaks() -> re.Pattern[str]:
    """Where a run of text may break: between two wide (Chinese) characters, unless
    kinsoku forbids it. Built once, from the Unicode tables: the wide characters of
    the Basic Multilingual Plane, and the planes of ideographs and emoji."""
    ranges: list[tuple[int, int]] = []
    start: int | None = None
    for code in range(0x80, 0x10001):
        is_in = code < 0x10000 and is_wide(chr(code)) and not 0xD800 <= code < 0xE000
        if is_in and start is None:
            start = code
        elif not is_in and start is not None:
            ranges.append((start, code - 1))
            start = None
    ranges += [(0x1F300, 0x1FAFF), (0x20000, 0x3FFFD)]
    wide = "".join(f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    no_end = "".join(map(re.escape, sorted(NO_END)))
    no_start = "".join(map(re.escape, sorted(NO_START)))
    return re.compile(f"(?<=[{wide}])(?<![{no_end}])(?=[{wide}])(?![{no_start}])")


def _atoms(run: str) -> list[str]:
    """A run of text without spaces, cut where a line may break."""
    return [atom for atom in _breaks().split(run) if atom]


_RUN_PIECES: dict[str, tuple[str, ...]] = {}  # a short run → its pieces (runs repeat: 場次，, 人。)
_RUN_CACHED_UP_TO, _RUN_CACHE_LIMIT = 12, 20_000


def _run_pieces(run: str) -> tuple[str, ...]:
    """The pieces of one run without spaces: whole when ASCII (a Latin word, a number)
    or when it mixes Latin and Chinese, else its atoms."""
    if run.isascii() or _LATIN.search(run):
        return (run,)
    return tuple(_atoms(run))


def _pieces(paragraph: str) -> list[str]:
    """A paragraph in the pieces a line is filled with: runs of spaces (which hang
    at a line's end), runs that mix Latin and Chinese (whole), and the atoms of
    the other runs."""
    pieces: list[str] = []
    cache = _RUN_PIECES
    for run in _SPACES.split(paragraph):
        if not run:
            continue
        if run[0] in NO_START and len(pieces) > 1 and pieces[-1][0] == " ":
            spaces = pieces.pop()  # no line starts with it: the spaces before it hold
            pieces[-1] += spaces + run
        elif run[0] == " ":
            pieces.append(run)
        elif len(run) > _RUN_CACHED_UP_TO:
            pieces.extend(_run_pieces(run))
        else:
            found = cache.get(run)
            if found is None:
                if len(cache) >= _RUN_CACHE_LIMIT:
                    cache.clear()
                found = cache[run] = _run_pieces(run)
            pieces.extend(found)
    return pieces


class _Filler:
    """Lines being filled, one piece at a time, under one rendering; ``keep`` keeps
    their text (otherwise they are only counted)."""

    def __init__(self, widths: _Widths, room: float, keep: bool = True):
        self.widths, self.room, self.keep = widths, room, keep
        self.lines: list[str] = []
        self.count = 0
        self.line, self.used, self.content = "", 0.0, False

    def end_line(self) -> None:
        if self.keep:
            self.lines.append(self.line)
        self.count += 1
        self.line, self.used, self.content = "", 0.0, False

    def put(self, piece: str, width: float) -> None:
        """Add an unbreakable piece, on a new line when it does not fit on this one."""
        if self.content and self.used + width > self.room:
            self.end_line()
        if self.keep:
            self.line += piece
        self.used += width
        self.content = True

    def piece(self, piece: str) -> None:
        width = self.widths.of(piece)
        if piece[0] == " ":  # spaces hang at the end of a line
            self.used += width
            if self.keep:
                self.line += piece
        elif width <= self.room:
            self.put(piece, width)
        else:  # wider than a line: on lines of its own, broken where it may be
            if self.content:
                self.end_line()
            for atom in _atoms(piece):
                atom_width = self.widths.of(atom)
                if atom_width <= self.room:
                    self.put(atom, atom_width)
                else:
                    self.long_word(atom)

    def long_word(self, word: str) -> None:
        """A word wider than a line: after its hyphens and slashes, else anywhere."""
        if self.content:
            self.end_line()
        for part in _HYPHENS.findall(word):
            width = self.widths.of(part)
            if width <= self.room:
                self.put(part, width)
                continue
            if self.content:
                self.end_line()
            self.characters(part)

    def characters(self, text: str) -> None:
        """Fill lines character by character (found by bisection on the widths' sums)."""
        edges = [0.0, *accumulate(map(self.widths.__getitem__, text))]
        start = 0
        while start < len(text):
            end = bisect_right(edges, edges[start] + self.room - self.used + 1e-9) - 1
            if end <= start:
                if self.content:
                    self.end_line()
                    continue
                end = start + 1  # a character wider than the line: alone on it
            self.put(text[start:end], edges[end] - edges[start])
            start = end


def paragraphs(text: str) -> list[str]:
    """The explicit lines of a cell's text (Alt+Enter, or \\r\\n from elsewhere)."""
    return str(text).replace("\r\n", "\n").replace("\r", "\n").split("\n")


def _fill(paragraph: str, widths: _Widths, room: float, keep: bool) -> _Filler:
    filler = _Filler(widths, room, keep)
    for piece in _pieces(paragraph):
        filler.piece(piece)
    filler.end_line()
    return filler


def wrap(text: str, width: float, size: float = FONT_SIZE, bold: bool = False,
         rendering: Rendering = EXCEL) -> list[str]:
    """The lines ``text`` takes in a column of ``width`` under one rendering; joined,
    each paragraph's lines are the paragraph."""
    widths, room = _widths(rendering, size, bold), rendering.column(width)
    return [line for p in paragraphs(text) for line in _fill(p, widths, room, True).lines]


def paragraph_lines(paragraph: str, width: float, size: float = FONT_SIZE, bold: bool = False) -> int:
    """The most lines one paragraph takes under any rendering. One that is narrower
    than the line under a rendering takes one line there, without a layout."""
    most = 1
    pieces: list[str] | None = None  # cut once, for both renderings
    widest = _dominant(width, size, bold)
    if widest is not None:  # its lines are never fewer: counting them is enough
        widths, room = _widths(widest, size, bold), _room(widest, width)
        if widths.of(paragraph) <= room:
            return 1
        pieces = _pieces(paragraph)
        count = _count(pieces, widths, room)
        if count is not None:
            return count
    for rendering in RENDERINGS:
        widths, room = _widths(rendering, size, bold), _room(rendering, width)
        if widths.of(paragraph) > room:
            pieces = _pieces(paragraph) if pieces is None else pieces
            count = _count(pieces, widths, room)
            if count is None:  # a piece wider than a line: the full layout
                count = _fill(paragraph, widths, room, False).count
            most = max(most, count)
    return most


@functools.lru_cache(maxsize=1024)
def _dominant(width: float, size: float, bold: bool) -> Rendering | None:
    """The rendering whose line count is never below the other's in a column of
    ``width``, if one is: LibreOffice's where it leaves no more room than Excel's
    (every column but the narrowest), since none of its characters is narrower
    (tests/test_textfit.py holds that). Filling lines greedily, a layout with no
    more room and no narrower pieces breaks no later on any line, so it never takes
    fewer lines; only :func:`_count`'s layout is covered (a piece wider than a line
    takes every rendering's full layout)."""
    if _room(LIBREOFFICE, width) <= _room(EXCEL, width):
        return LIBREOFFICE
    return None


@functools.lru_cache(maxsize=1024)
def _room(rendering: Rendering, width: float) -> float:
    return rendering.column(width)


def _count(pieces: Sequence[str], widths: _Widths, room: float) -> int | None:
    """The lines :class:`_Filler` fills with ``pieces``, counted without it (the
    master's hot path: one call per wrapped cell); None when a piece is wider than
    a line, which only the filler breaks."""
    count, used, content = 1, 0.0, False
    advance = widths.pieces
    for piece in pieces:
        width = advance[piece]
        if piece[0] == " ":
            used += width
        elif width > room:
            return None
        elif content and used + width > room:
            count += 1
            used = width
        else:
            used += width
            content = True
    return count


@functools.lru_cache(maxsize=256)
def _sure(width: float, size: float, bold: bool) -> int:
    """How many characters fit on one line whatever they are (none is wider than 1 em
    rounded up to whole pixels, which covers DejaVu's widest Latin letters too)."""
    widest = max(r.widest(size, bold) for r in RENDERINGS)
    return int(min(r.column(width) for r in RENDERINGS) // widest)


def lines_needed(text: str, width: float, size: float = FONT_SIZE, bold: bool = False) -> int:
    """Lines of ``text`` in a column of ``width``: each paragraph at the most that any
    rendering takes."""
    if len(text) <= _sure(width, size, bold) and "\n" not in text and "\r" not in text:
        return 1
    if len(text) > CACHED_UP_TO:
        return _count_lines(text, width, size, bold)
    return _lines_needed(text, width, size, bold)


CACHED_UP_TO = 200  # characters: the texts that repeat are short ones


@functools.lru_cache(maxsize=8192)
def _lines_needed(text: str, width: float, size: float, bold: bool) -> int:
    """Cached per distinct text and width: a sheet repeats its unit names, file names
    and statuses on row after row."""
    return _count_lines(text, width, size, bold)


def _count_lines(text: str, width: float, size: float, bold: bool) -> int:
    return sum(paragraph_lines(p, width, size, bold) for p in paragraphs(text))


def height_for(lines: int, size: float = FONT_SIZE) -> float:
    """The row height (points) that shows ``lines`` lines whole; Excel's limit at most."""
    return min(round(lines * size * LINE_EM + PADDING, 2), MAX_ROW_HEIGHT)


def max_lines(size: float = FONT_SIZE) -> int:
    """The most lines one row can show (Excel's rows stop at 409 points)."""
    return int((MAX_ROW_HEIGHT - PADDING) // (size * LINE_EM))


def row_height(cells: Iterable[tuple[str, float]], size: float = FONT_SIZE,
               bold: bool = False) -> float:
    """The height of a row whose wrapped cells are (text, column width) pairs."""
    lines = max((lines_needed(str(text), width, size, bold) for text, width in cells if text),
                default=1)
    return height_for(lines, size)


def _split(text: str, width: float, size: float, limit: int,
           counts: Sequence[int] | None = None) -> list[tuple[str, int]]:
    """``text`` in pieces of at most ``limit`` lines, each with its lines: cut between
    paragraphs where it can, else at the end of a line. ``counts``: each paragraph's
    :func:`paragraph_lines`, when already known."""
    if len(text) <= _sure(width, size, False) and "\n" not in text and "\r" not in text:
        return [(text, 1)]
    pieces: list[tuple[str, int]] = []
    current: list[str] = []
    used = 0
    for k, paragraph in enumerate(paragraphs(text)):
        n = counts[k] if counts is not None else paragraph_lines(paragraph, width, size)
        if used + n > limit and current:
            pieces.append(("\n".join(current), used))
            current, used = [], 0
        if n > limit:
            *heads, (paragraph, n) = _cut(paragraph, width, size, limit)
            pieces.extend(heads)
        current.append(paragraph)
        used += n
    pieces.append(("\n".join(current), used))
    return pieces


def split_text(text: str, width: float, size: float = FONT_SIZE, limit: int | None = None) -> list[str]:
    """``text`` in pieces that each fit one row (``limit`` lines, by default as many
    as a row can show): cut between paragraphs where it can, else at the end of a
    line. The pieces, joined by the line breaks cut at, are the text again."""
    return [piece for piece, _ in _split(text, width, size, limit or max_lines(size))]


def _cut(paragraph: str, width: float, size: float, limit: int) -> list[tuple[str, int]]:
    """One paragraph taller than ``limit`` lines, cut at line ends into pieces that fit."""
    lines = max((wrap(paragraph, width, size, False, r) for r in RENDERINGS), key=len)
    out, start = [], 0
    while start < len(lines):
        take = min(limit, len(lines) - start)
        while True:
            piece = "".join(lines[start:start + take])
            n = paragraph_lines(piece, width, size)
            if n <= limit or take == 1:
                break
            take -= 1
        out.append((piece, n))
        start += take
    return out


def fit_row(values: Sequence[str], widths: Sequence[float], size: float = FONT_SIZE,
            counts: dict[int, Sequence[int]] | None = None) -> list[tuple[list[str], float]]:
    """A row's texts as one or more rows, each with the height that shows it whole:
    one row when it fits Excel's tallest row, else the first holds the start of every
    text and the next ones what did not fit. ``counts``: column → the lines of each
    paragraph of its text, where already known (worked out elsewhere, in parallel)."""
    limit = max_lines(size)
    counts = counts or {}
    pieces = [_split(v, w, size, limit, counts.get(c)) if v else [("", 1)]
              for c, (v, w) in enumerate(zip(values, widths))]
    depth = max((len(p) for p in pieces), default=1)
    rows = []
    for k in range(depth):
        cells = [p[k] if k < len(p) else ("", 1) for p in pieces]
        rows.append(([text for text, _ in cells], height_for(max((n for _, n in cells), default=1), size)))
    return rows


def split_row(values: Sequence[str], widths: Sequence[float], size: float = FONT_SIZE) -> list[list[str]]:
    """A row's texts as one or more rows that each fit Excel's tallest row (see fit_row)."""
    return [texts for texts, _ in fit_row(values, widths, size)]
