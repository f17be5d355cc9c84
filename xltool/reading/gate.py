"""The gate: look at a file's structure before any parser does, and bound it.

Size cap, magic bytes against the extension, encryption; for the zip formats
the directory (entry count, total size, compression ratio), then a bounded
streaming inflate of every entry that verifies each CRC and refuses DTDs; then
the format's own scan (:mod:`.xlsx_scan`, :mod:`.ods_scan`, :mod:`.xls_scan`),
which measures every sheet that will be read and finds its formulas. A file
that fails is refused with one :class:`Rejected` issue in the user's terms.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ERROR, Issue, XltoolError
from ..files import display_name
from .bounds import Ambiguous, Bounds, Corrupt, Encrypted, Formulas, TooLarge
from .xmlstream import Malformed, Unsafe

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 5_000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_COMPRESSION_RATIO = 150
KEEP_PART = 4 * 1024 * 1024  # XML parts up to this size are kept as inflated, for the scan
KEEP_TOTAL = 16 * 1024 * 1024  # and up to this much of them in all
PROPERTY_PARTS = ("docProps/custom.xml", "docProps/core.xml", "docProps/app.xml", "meta.xml")

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_FORMATS = {".xlsx", ".xlsm", ".ods"}
OLE_FORMATS = {".xls"}
SPREADSHEET_SUFFIXES = ZIP_FORMATS | OLE_FORMATS


class Rejected(XltoolError):
    """The file cannot be read; ``issue`` says why in the user's terms."""

    def __init__(self, issue: Issue):
        self.issue = issue
        super().__init__(issue.message)


@dataclass
class GateReport:
    """What the gate learnt, for the reader and the checks."""

    warnings: list[Issue] = field(default_factory=list)
    # Keyed by the sheet's place in the book, not its name: a reader and the gate may
    # spell a name differently (white space in an attribute), never its position.
    formulas: dict[int, Formulas] = field(default_factory=dict)  # index → formula cells
    sheets: list[str] = field(default_factory=list)
    tables: list = field(default_factory=list)  # ODF: the values, read by the same walk
    date1904: bool = False
    saved_xls: object = None  # an .xls file's own save time (aware datetime), when it has one
    # The document-property parts as the gate inflated them (name → bytes), or None
    # when one of them was not kept and must be read from the file again.
    properties: dict[str, bytes] | None = None
    notes: list = field(default_factory=list)  # cell notes (reading/notes.py): no reader reads them
    # .xlsx: each sheet's part (index → member), where its relationships name one only:
    # where a value a reader gave must be looked up as the file holds it
    sheet_parts: dict[int, str] = field(default_factory=dict)
    percent_styles: frozenset[int] = frozenset()  # .xlsx: cell styles that show a percentage


def reject(path: Path, code: str, message: str) -> Rejected:
    """A refusal: always an error, whatever the code's usual level."""
    return Rejected(Issue(code=code, message=message, severity=ERROR, file=display_name(path)))


_CORRUPT = "「{}」已損毀或不完整（可能在傳送時被截斷），請重新存檔後再寄。"
_ENTITY = "「{}」含有 XML 實體宣告（可能是攻擊檔案），已拒絕讀取。"
_AMBIGUOUS = ("「{}」的內部結構不規則（含有名稱只差大小寫或斜線的重複項目），無法確定會讀到哪一份內容；"
              "請以 Excel 或 LibreOffice 重新存檔後再寄。")
_ENCRYPTED = "「{}」設有密碼保護（已加密），無法讀取。請移除密碼後重新存檔。"


def file_head(path: Path, empty_advice: str = "") -> bytes:
    """The first bytes of a file that exists, is not empty and is not too large."""
    name = display_name(path)
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise reject(path, "unreadable", f"無法讀取「{name}」：{exc.strerror or exc}。") from None
    if size == 0:
        raise reject(path, "empty-file", f"「{name}」是空檔案（0 位元組）{empty_advice}。")
    if size > MAX_FILE_BYTES:
        raise reject(path, "too-large", f"「{name}」大小 {size // 1024 // 1024} MB，超過上限 "
                                        f"{MAX_FILE_BYTES // 1024 // 1024} MB。")
    return head


def gate(path: Path, bounds: Bounds | None = None, only: set[str] | None = None,
         prefer: set[str] | None = None) -> GateReport:
    """Check ``path`` and measure the sheets a reader will load: those in ``only``;
    else those in ``prefer`` when all of them exist; else every sheet."""
    bounds = bounds or Bounds()
    name = display_name(path)
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        raise reject(path, "not-a-spreadsheet",
                     f"「{name}」不是試算表檔（可接受 .xlsx、.xlsm、.xls、.ods）。")
    head = file_head(path, "，請重新存檔後再寄")
    if head.startswith(OLE_MAGIC) and suffix in ZIP_FORMATS:
        # An .xlsx that is really an OLE container is how Office stores encryption.
        raise reject(path, "encrypted", _ENCRYPTED.format(name))
    expected = ZIP_MAGIC if suffix in ZIP_FORMATS else OLE_MAGIC
    if not head.startswith(expected):
        raise reject(path, "wrong-format", f"「{name}」的內容不是 {suffix} 格式（可能是改了副檔名的"
                                           "其他檔案），請以試算表程式重新存檔。")
    try:
        if suffix in ZIP_FORMATS:
            return _gate_zip(path, suffix, bounds, only, prefer)
        return _gate_xls(path, bounds)
    except TooLarge as exc:
        raise reject(path, "too-large", _too_large_message(name, exc)) from None
    except Encrypted:
        raise reject(path, "encrypted", _ENCRYPTED.format(name)) from None
    except Unsafe:
        raise reject(path, "xml-rejected", _ENTITY.format(name)) from None
    except Ambiguous:
        raise reject(path, "corrupt-file", _AMBIGUOUS.format(name)) from None
    except (Corrupt, Malformed, zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError,
            ValueError, NotImplementedError, RuntimeError, KeyError) as exc:
        if "encrypt" in str(exc).lower():
            raise reject(path, "encrypted", _ENCRYPTED.format(name)) from None
        raise reject(path, "corrupt-file", _CORRUPT.format(name)) from None


def _too_large_message(name: str, exc: TooLarge) -> str:
    where = f"的工作表「{exc.where}」" if exc.where else ""
    cell = f"（儲存格 {exc.cell}）" if exc.cell else ""
    if exc.what == "text":
        return (f"「{name}」{where}的文字總量過大{cell}，讀取會耗盡記憶體；"
                "請刪除多餘的內容後重新存檔。")
    if exc.what in ("records", "repeat", "part"):
        return f"「{name}」{where}的結構過於龐大，讀取會耗盡記憶體或時間；請重新存檔後再寄。"
    return (f"「{name}」{where}有資料位於填報範圍之外的遠處{cell}，讀取會耗盡記憶體；"
            "請刪除多餘的儲存格後重新存檔。")


def _gate_zip(path: Path, suffix: str, bounds: Bounds, only: set[str] | None,
              prefer: set[str] | None) -> GateReport:
    from .notes import xlsx_notes

    name = display_name(path)
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        _check_directory(path, infos, suffix)
        kept = _inflate_all(path, zf, infos)
        report = GateReport()
        names = {i.filename for i in infos}
        if all(n in kept for n in PROPERTY_PARTS if n in names):
            report.properties = {n: kept[n] for n in PROPERTY_PARTS if n in names}
        if any(n.lower().endswith("vbaproject.bin") for n in names):
            report.warnings.append(Issue(
                code="macro-removed", file=name,
                message=f"「{name}」含有巨集；xltool 只讀取儲存格內容，巨集不會執行也不會保留。"))
        if any(n.startswith("xl/externalLinks/") or n == "xl/connections.xml" for n in names):
            report.warnings.append(Issue(
                code="external-link", file=name,
                message=f"「{name}」含有外部連結或資料連線；xltool 不會開啟連結，"
                        "只讀取儲存格中已存的值。"))
        if suffix == ".ods":
            from .ods_scan import scan_ods

            # The walk that bounds an ODF file also reads it: what is measured is what
            # is read, so the two can never disagree about a cell.
            wanted = only if only is not None else prefer
            ods = scan_ods(zf, bounds, collect=True, wanted=wanted)
            if prefer and only is None and not prefer <= set(ods.sheets):
                ods = scan_ods(zf, bounds, collect=True)
            report.sheets, report.formulas, report.tables = ods.sheets, ods.formulas, ods.tables
            report.notes = ods.notes
        else:
            from .xlsx_scan import STYLES, TooLarge, _key, _members, _read_small, percent_styles, scan_xlsx

            xlsx = scan_xlsx(zf, bounds, only, prefer, kept)
            report.sheets = [n for n, _ in xlsx.sheets]
            members = _members(zf.namelist())
            styles = members.get(_key(STYLES))
            if styles is not None:
                try:
                    report.percent_styles = percent_styles(_read_small(zf, styles, kept))
                except TooLarge:
                    pass  # a reader's look only: no percentage is said
            for k, (_, parts) in enumerate(xlsx.sheets):
                found = {members[_key(p)] for p in parts if _key(p) in members}
                if len(found) == 1:
                    report.sheet_parts[k] = found.pop()
            report.notes = xlsx_notes(zf, xlsx.sheets, members,
                                      lambda part: _read_small(zf, part, kept))
            report.formulas, report.date1904 = xlsx.formulas, xlsx.date1904
    return report


def _gate_xls(path: Path, bounds: Bounds) -> GateReport:
    from .xls_scan import scan_xls

    scan = scan_xls(path.read_bytes(), bounds)
    return GateReport(formulas=scan.formulas, sheets=scan.sheets, date1904=scan.date1904,
                      saved_xls=scan.saved)


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], suffix: str) -> None:
    name = display_name(path)
    if len(infos) > MAX_ZIP_ENTRIES:
        raise reject(path, "zip-bomb", f"「{name}」內含 {len(infos)} 個項目，超過安全上限。")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED_BYTES or (total > 10 * 1024 * 1024
                                          and total / packed > MAX_COMPRESSION_RATIO):
        raise reject(path, "zip-bomb",
                     f"「{name}」解壓後過大（{total // 1024 // 1024} MB），疑似壓縮炸彈，已拒絕讀取。")
    names = {i.filename for i in infos}
    required = ("content.xml",) if suffix == ".ods" else ("[Content_Types].xml", "xl/workbook.xml")
    missing = [n for n in required if n not in names]
    if missing:
        raise reject(path, "corrupt-file",
                     f"「{name}」缺少必要的內容（{'、'.join(missing)}），已損毀；請重新存檔後再寄。")


def _inflate_all(path: Path, zf: zipfile.ZipFile, infos: list[zipfile.ZipInfo]) -> dict[str, bytes]:
    """Inflate every entry in chunks. zipfile stops at each entry's declared size and
    checks its CRC, so a directory that lies about sizes is caught here, with memory
    bounded by the chunk size. The small XML parts are kept (name → bytes; a later
    entry of the same name wins, as in zipfile), so that none is inflated twice."""
    inflated = kept_bytes = 0
    kept: dict[str, bytes] = {}
    for info in infos:
        if info.is_dir():
            continue
        xml = info.filename.endswith((".xml", ".rels"))
        keep = xml and info.file_size <= KEEP_PART and kept_bytes + info.file_size <= KEEP_TOTAL
        chunks: list[bytes] = []
        first = True
        with zf.open(info) as fh:
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                if first and xml and b"<!DOCTYPE" in chunk[:2048]:
                    raise Unsafe()
                first = False
                inflated += len(chunk)
                if inflated > MAX_UNCOMPRESSED_BYTES:
                    raise reject(path, "zip-bomb", f"「{display_name(path)}」解壓後過大，"
                                                   "疑似壓縮炸彈，已拒絕讀取。")
                if keep:
                    chunks.append(chunk)
        kept.pop(info.filename, None)  # an earlier entry of the name is not the one read
        if keep:
            kept[info.filename] = b"".join(chunks)
            kept_bytes += info.file_size
    return kept
