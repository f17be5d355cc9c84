"""Open a plan document (.docx, .odt) and lay it out as plain blocks: paragraphs
and tables, in reading order, with every cell's text exactly as written.

The document is the secretariat's own file, but it is treated like every other
file from outside: the gate below checks its size, its magic bytes, the zip
directory and every XML part (streamed, DTDs refused) before python-docx or
odfpy sees it, and the walk bounds what it builds. It runs in an isolated
worker (see :mod:`xltool.plan.document`).

Cells come out on the table's grid: a cell spanning columns says how many, and
a vertically merged cell appears in each row it spans, carrying the text of its
first row and marked ``continued``.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...files import display_name
from ...reading.bounds import Corrupt, Encrypted, TooLarge
from ...reading.gate import MAX_COMPRESSION_RATIO, MAX_UNCOMPRESSED_BYTES, Rejected, file_head, reject
from ...reading.xmlstream import Malformed, Unsafe, make_parser, parse_stream

DOCUMENT_SUFFIXES = (".docx", ".odt")
MAX_ENTRIES = 5_000
MAX_PART_BYTES = 40 * 1024 * 1024  # the document's own XML (word/document.xml, content.xml)
MAX_TEXT = 8_000_000  # characters of text in all blocks together
MAX_ROWS = 20_000  # table rows in the whole document
MAX_COLS = 64  # grid columns of one table
MAX_BLOCKS = 200_000
ODT_MIME = b"application/vnd.oasis.opendocument.text"
ZIP_MAGIC, OLE_MAGIC = b"PK\x03\x04", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


@dataclass(frozen=True)
class Cell:
    text: str
    span: int = 1  # grid columns this cell covers
    continued: bool = False  # a later row of a vertically merged cell


@dataclass
class Table:
    rows: list[list[Cell]] = field(default_factory=list)


@dataclass(frozen=True)
class Paragraph:
    text: str


Block = Paragraph | Table


class Budget:
    """What one document may build: text, rows and blocks; TooLarge past any of them."""

    def __init__(self) -> None:
        self.text = self.rows = self.blocks = 0

    def add_text(self, n: int) -> None:
        self.text += n
        if self.text > MAX_TEXT:
            raise TooLarge("", "", "text")

    def add_row(self) -> None:
        self.rows += 1
        if self.rows > MAX_ROWS:
            raise TooLarge("", "", "records")

    def add_block(self) -> None:
        self.blocks += 1
        if self.blocks > MAX_BLOCKS:
            raise TooLarge("", "", "records")


# ------------------------------------------------------------------ the gate


def read_document_here(path: Path) -> list[Block]:
    """Gate ``path``, then read its blocks (in this process: call it in a worker).
    Raises :class:`Rejected` with a plain message for a file that cannot be read."""
    path = Path(path)
    suffix = path.suffix.lower()
    _gate(path, suffix)
    name = display_name(path)
    try:
        if suffix == ".docx":
            from .docx import docx_blocks

            return docx_blocks(path, Budget())
        from .odt import odt_blocks

        return odt_blocks(path, Budget())
    except TooLarge:
        raise reject(path, "too-large", f"「{name}」的內容過大（文字或表格列數超過上限），已停止讀取。") from None
    except Rejected:
        raise
    except Exception as exc:  # noqa: BLE001 — a library's parse error, in the user's terms
        raise reject(path, "corrupt-file", f"無法讀取「{name}」：文件格式有誤或已損毀"
                                           f"（{type(exc).__name__}）；請以文書處理程式重新存檔後再試。") from None


def _gate(path: Path, suffix: str) -> None:
    name = display_name(path)
    if suffix not in DOCUMENT_SUFFIXES:
        raise reject(path, "wrong-format", f"「{name}」不是可讀取的計畫文件（可接受 .docx、.odt、.doc）。")
    head = file_head(path)
    if head.startswith(OLE_MAGIC):
        # A .docx inside an OLE container is how Word stores a password-protected file.
        raise reject(path, "encrypted", f"「{name}」設有密碼保護（已加密），無法讀取；請移除密碼後重新存檔。")
    if not head.startswith(ZIP_MAGIC):
        raise reject(path, "wrong-format", f"「{name}」的內容不是 {suffix} 格式（可能是改了副檔名的其他檔案），"
                                           "請以文書處理程式重新存檔。")
    try:
        with zipfile.ZipFile(path) as zf:
            _check_zip(path, zf, suffix)
    except Encrypted:
        raise reject(path, "encrypted", f"「{name}」設有密碼保護（已加密），無法讀取；請移除密碼後重新存檔。")
    except Unsafe:
        raise reject(path, "xml-rejected", f"「{name}」含有 XML 實體宣告（可能是攻擊檔案），已拒絕讀取。")
    except TooLarge:
        raise reject(path, "too-large", f"「{name}」的內容過大，已拒絕讀取。")
    except (Corrupt, Malformed, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
            ValueError, NotImplementedError, RuntimeError, KeyError):
        raise reject(path, "corrupt-file", f"「{name}」已損毀或不完整，請重新存檔後再試。")


def _check_zip(path: Path, zf: zipfile.ZipFile, suffix: str) -> None:
    name = display_name(path)
    infos = zf.infolist()
    if len(infos) > MAX_ENTRIES:
        raise reject(path, "zip-bomb", f"「{name}」內含 {len(infos)} 個項目，超過安全上限。")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED_BYTES or (total > 10 * 1024 * 1024 and total / packed > MAX_COMPRESSION_RATIO):
        raise reject(path, "zip-bomb",
                     f"「{name}」解壓後過大（{total // 1024 // 1024} MB），疑似壓縮炸彈，已拒絕讀取。")
    names = {i.filename for i in infos}
    if suffix == ".odt":
        if "content.xml" not in names:
            raise Corrupt("content.xml")
        mime = _head(zf, "mimetype", 100).strip() if "mimetype" in names else ODT_MIME
        if mime != ODT_MIME:
            raise reject(path, "wrong-format", f"「{name}」不是 ODF 文字文件（.odt），可能是改了副檔名的試算表或簡報。")
        if "META-INF/manifest.xml" in names and b"encryption-data" in _head(zf, "META-INF/manifest.xml", 4 << 20):
            raise Encrypted()
    elif "[Content_Types].xml" not in names:
        raise Corrupt("[Content_Types].xml")
    else:
        types = _head(zf, "[Content_Types].xml", 4 << 20)
        if b"wordprocessingml.document.main" not in types and b"ms-word.document" not in types:
            raise reject(path, "wrong-format", f"「{name}」不是 Word 文件（.docx），可能是改了副檔名的試算表或簡報。")
    for info in infos:
        if not info.is_dir() and info.filename.lower().endswith((".xml", ".rels")):
            _scan_part(zf, info)


def _head(zf: zipfile.ZipFile, member: str, size: int) -> bytes:
    with zf.open(member) as fh:
        return fh.read(size)


class _Limited:
    """A zip member read in chunks, refused once it passes MAX_PART_BYTES (whatever
    the directory claimed)."""

    def __init__(self, fh, name: str):
        self.fh, self.name, self.seen = fh, name, 0

    def read(self, n: int) -> bytes:
        data = self.fh.read(n)
        self.seen += len(data)
        if self.seen > MAX_PART_BYTES:
            raise TooLarge(self.name, "", "part")
        return data


def _scan_part(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Stream one XML part through expat, refusing DTDs; bounded in size."""
    if info.file_size > MAX_PART_BYTES:
        raise TooLarge(info.filename, "", "part")
    with zf.open(info) as fh:
        parse_stream(make_parser(), _Limited(fh, info.filename))  # type: ignore[arg-type]


# ------------------------------------------------------------------ shared by both formats


class GridRow:
    """One table row being laid on the grid: origins of vertical merges are
    remembered per column so later rows can carry their text."""

    def __init__(self, budget: Budget):
        self.budget = budget
        self.cells: list[Cell] = []
        self.col = 0

    def add(self, text: str, span: int = 1, continued: bool = False) -> None:
        span = max(1, min(span, MAX_COLS))
        if self.col + span > MAX_COLS:
            raise TooLarge("", "", "extent")
        self.budget.add_text(len(text))
        self.cells.append(Cell(text, span, continued))
        self.col += span


def carry_down(rows: list[list[Cell]]) -> list[list[Cell]]:
    """Give each ``continued`` cell the text of the cell above it on the grid (the
    first row of its merge). A continued cell with nothing above keeps its text."""
    above: dict[int, str] = {}
    out = []
    for row in rows:
        col, done = 0, []
        for cell in row:
            if cell.continued and col in above:
                cell = Cell(above[col], cell.span, True)
            above[col] = cell.text
            done.append(cell)
            col += cell.span
        out.append(done)
    return out


def join_paragraphs(texts: list[str]) -> str:
    """A cell's paragraphs joined with line breaks; empty paragraphs before the
    first and after the last text dropped (layout, not wording)."""
    while texts and texts[-1] == "":
        texts = texts[:-1]
    while texts and texts[0] == "":
        texts = texts[1:]
    return "\n".join(texts)


_SPACE_RUN = re.compile(r"[ \t\r\n]+")


def odf_spaces(text: str, at_start: bool) -> str:
    """ODF's white-space rule for character data in a paragraph: runs of spaces,
    tabs and line ends are one space, none at the start of the paragraph."""
    text = _SPACE_RUN.sub(" ", text)
    return text.lstrip(" ") if at_start else text


def attr(attrs: dict[Any, Any], key: Any, default: int = 1, cap: int = MAX_COLS) -> int:
    """A small positive integer attribute (spans, repeats), bounded."""
    try:
        return max(1, min(int(attrs.get(key, default)), cap))
    except (TypeError, ValueError):
        return default
