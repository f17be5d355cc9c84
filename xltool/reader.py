"""The one place that opens spreadsheet files: a safety gate, then calamine.

Every workbook xltool reads (the plan and every return) comes through
:func:`read_workbook`. The gate looks at the raw bytes before any parser
does, so a zip bomb or an encrypted file is refused without being inflated.
"""
from __future__ import annotations

import re
import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .errors import WARNING, Issue, XltoolError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 5_000
MAX_UNCOMPRESSED_BYTES = 100 * 1024 * 1024
MAX_CELL_SPAN = 5_000_000  # cells a parser may allocate for one sheet
MAX_COMPRESSION_RATIO = 150
DEFAULT_MAX_ROWS = 20_000

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
class SheetData:
    name: str
    rows: list[list[Any]]
    visible: bool = True
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2

    def cell(self, row: int, col: int) -> Any:
        """Value at 0-based (row, col), or None past the data."""
        if row < len(self.rows) and col < len(self.rows[row]):
            return self.rows[row][col]
        return None


@dataclass
class WorkbookData:
    path: Path
    sheets: dict[str, SheetData]
    properties: dict[str, str] = field(default_factory=dict)
    saved: datetime | None = None
    warnings: list[Issue] = field(default_factory=list)
    formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # (row, col), 0-based


def _reject(path: Path, code: str, message: str) -> Rejected:
    return Rejected(Issue(code=code, message=message, file=path.name))


@dataclass
class GateReport:
    """What the gate learnt from the raw bytes, for the reader and the checks."""

    warnings: list[Issue] = field(default_factory=list)
    formulas: dict[str, set[tuple[int, int]]] = field(default_factory=dict)  # sheet → cells


def gate(path: Path) -> GateReport:
    """Check a file before any parser sees it; raise :class:`Rejected` when unsafe.

    Size cap, magic bytes against the extension, encryption, and for zip
    formats the entry count, total size and compression ratio (from the
    directory, before inflating), then a bounded streaming inflate of every
    entry that verifies each CRC, and a scan of the sheets for formulas and for
    cells far enough apart to make a parser allocate gigabytes.
    """
    suffix = path.suffix.lower()
    if suffix not in SPREADSHEET_SUFFIXES:
        raise _reject(path, "not-a-spreadsheet",
                      f"「{path.name}」不是試算表檔（可接受 .xlsx、.xlsm、.xls、.ods）。")
    try:
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise _reject(path, "unreadable", f"無法讀取「{path.name}」：{exc.strerror or exc}。")
    if size == 0:
        raise _reject(path, "empty-file", f"「{path.name}」是空檔案（0 位元組），請重新存檔後再寄。")
    if size > MAX_FILE_BYTES:
        raise _reject(path, "too-large",
                      f"「{path.name}」大小 {size // 1024 // 1024} MB，超過上限 "
                      f"{MAX_FILE_BYTES // 1024 // 1024} MB。")
    if head.startswith(OLE_MAGIC) and suffix in ZIP_FORMATS:
        # An .xlsx that is really an OLE container is how Office stores encryption.
        raise _reject(path, "encrypted",
                      f"「{path.name}」設有密碼保護（已加密），無法讀取。請移除密碼後重新存檔。")
    expected = ZIP_MAGIC if suffix in ZIP_FORMATS else OLE_MAGIC
    if not head.startswith(expected):
        raise _reject(path, "wrong-format",
                      f"「{path.name}」的內容不是 {suffix} 格式（可能是改了副檔名的其他檔案），"
                      "請以試算表程式重新存檔。")
    if suffix in ZIP_FORMATS:
        return _check_zip(path, suffix)
    return GateReport()


_CORRUPT = "「{}」已損毀或不完整（可能在傳送時被截斷），請重新存檔後再寄。"


def _check_zip(path: Path, suffix: str) -> GateReport:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
            _check_directory(path, infos, suffix)
            scanned = _inflate_all(path, zf, infos)
    except Rejected:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, ValueError, EOFError,
            NotImplementedError, RuntimeError) as exc:
        if "encrypted" in str(exc).lower():
            raise _reject(path, "encrypted", f"「{path.name}」設有密碼保護，無法讀取。請移除密碼後重新存檔。")
        raise _reject(path, "corrupt-file", _CORRUPT.format(path.name))
    report = GateReport()
    names = {i.filename for i in infos}
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        report.warnings.append(Issue(
            code="macro-removed", severity=WARNING, file=path.name,
            message=f"「{path.name}」含有巨集；xltool 只讀取儲存格內容，巨集不會執行也不會保留。"))
    if any(n.startswith("xl/externalLinks/") or n == "xl/connections.xml" for n in names):
        report.warnings.append(Issue(
            code="external-link", severity=WARNING, file=path.name,
            message=f"「{path.name}」含有外部連結或資料連線；xltool 不會開啟連結，"
                    "只讀取儲存格中已存的值。"))
    if suffix == ".ods":
        report.formulas = _scan_ods(path, scanned.get("content.xml", b""))
    else:
        report.formulas = _scan_xlsx(path, scanned)
    return report


def _check_directory(path: Path, infos: list[zipfile.ZipInfo], suffix: str) -> None:
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _reject(path, "zip-bomb", f"「{path.name}」內含 {len(infos)} 個項目，超過安全上限。")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED_BYTES or (total > 10 * 1024 * 1024
                                          and total / packed > MAX_COMPRESSION_RATIO):
        raise _reject(path, "zip-bomb",
                      f"「{path.name}」解壓後過大（{total // 1024 // 1024} MB），疑似壓縮炸彈，已拒絕讀取。")
    names = {i.filename for i in infos}
    required = ("content.xml",) if suffix == ".ods" else ("[Content_Types].xml", "xl/workbook.xml")
    missing = [n for n in required if n not in names]
    if missing:
        raise _reject(path, "corrupt-file",
                      f"「{path.name}」缺少必要的內容（{'、'.join(missing)}），已損毀；請重新存檔後再寄。")


def _inflate_all(path: Path, zf: zipfile.ZipFile, infos) -> dict[str, bytes]:
    """Inflate every entry in chunks, discarding data. zipfile stops at each
    entry's declared size and checks its CRC, so a directory that lies about
    sizes is caught here, with memory bounded by the chunk size. The sheet
    parts are kept (they are within the size caps) for the scans that follow."""
    keep: dict[str, bytes] = {}
    inflated = 0
    for info in infos:
        if info.is_dir():
            continue
        wanted = _is_sheet_part(info.filename)
        chunks = []
        with zf.open(info) as fh:
            first = True
            while True:
                chunk = fh.read(1 << 16)
                if not chunk:
                    break
                if first and info.filename.endswith((".xml", ".rels")) and b"<!DOCTYPE" in chunk[:2048]:
                    # Entity declarations serve only billion-laughs and XXE attacks here.
                    raise _reject(path, "xml-rejected", f"「{path.name}」含有 XML 實體宣告（可能是"
                                                        "攻擊檔案），已拒絕讀取。")
                first = False
                inflated += len(chunk)
                if inflated > MAX_UNCOMPRESSED_BYTES:
                    raise _reject(path, "zip-bomb", f"「{path.name}」解壓後過大，疑似壓縮炸彈，已拒絕讀取。")
                if wanted:
                    chunks.append(chunk)
        if wanted:
            keep[info.filename] = b"".join(chunks)
    return keep


def _is_sheet_part(name: str) -> bool:
    return (name.startswith("xl/worksheets/") and name.endswith(".xml")) or name in (
        "content.xml", "xl/workbook.xml", "xl/_rels/workbook.xml.rels")


_XLSX_CELL = re.compile(rb'<c\b([^>]*?)(/>|>(.*?)</c>)', re.S)
_XLSX_REF = re.compile(rb'\br="([A-Z]{1,3})([0-9]{1,7})"')
# A sheet with no column past ZZ and no row past 99,999 cannot span too far: skip the walk.
_XLSX_FAR = re.compile(rb'\br="(?:[A-Z]{3}[0-9]+|[A-Z]{1,3}[0-9]{6,}|[0-9]{6,})"')


def _scan_xlsx(path: Path, parts: dict[str, bytes]) -> dict[str, set[tuple[int, int]]]:
    """Formula cells per sheet name; reject sheets whose valued cells span too far."""
    from defusedxml import ElementTree as DET

    names: dict[str, str] = {}
    try:
        rels = DET.fromstring(parts.get("xl/_rels/workbook.xml.rels", b"<r/>"))
        targets = {r.get("Id"): r.get("Target", "") for r in rels}
        book = DET.fromstring(parts.get("xl/workbook.xml", b"<w/>"))
        for el in book.iter():
            if el.tag.endswith("}sheet"):
                rid = next((v for k, v in el.attrib.items() if k.endswith("}id")), None)
                target = targets.get(rid, "").lstrip("/")
                part = target if target.startswith("xl/") else "xl/" + target
                names[part] = el.get("name", "")
    except Exception:
        raise _reject(path, "xml-rejected", f"「{path.name}」的活頁簿結構含有不安全或無效的 XML"
                                            "（例如實體宣告），已拒絕讀取。")
    formulas: dict[str, set[tuple[int, int]]] = {}
    for part, data in parts.items():
        if not part.startswith("xl/worksheets/"):
            continue
        if b"<!ENTITY" in data or b"<!DOCTYPE" in data:
            raise _reject(path, "xml-rejected", f"「{path.name}」含有 XML 實體宣告（可能是攻擊檔案），已拒絕讀取。")
        if b"<f>" not in data and b"<f " not in data and not _XLSX_FAR.search(data):
            continue  # the common case: no formula, nothing far away
        cells = set()
        lo_r = lo_c = 1 << 30
        hi_r = hi_c = -1
        for m in _XLSX_CELL.finditer(data):
            ref = _XLSX_REF.search(m.group(1))
            inner = m.group(3) or b""
            if ref is None or not inner:
                continue
            r, c = int(ref.group(2)) - 1, _col_index(ref.group(1).decode())
            lo_r, hi_r, lo_c, hi_c = min(lo_r, r), max(hi_r, r), min(lo_c, c), max(hi_c, c)
            if b"<f>" in inner or b"<f " in inner:
                cells.add((r, c))
        if hi_r >= 0 and (hi_r - lo_r + 1) * (hi_c - lo_c + 1) > MAX_CELL_SPAN:
            raise _reject(path, "too-large",
                          f"「{path.name}」的工作表「{names.get(part, part)}」有資料分散在極遠的儲存格，"
                          "讀取會耗盡記憶體；請刪除多餘的儲存格後重新存檔。")
        if cells:
            formulas[names.get(part, part)] = cells
    return formulas


_ODS_TAG = re.compile(rb"<(/?)table:(table|table-row|table-cell|covered-table-cell)\b([^>]*?)(/?)>")
_ODS_ATTR = re.compile(rb'table:(name|number-rows-repeated|number-columns-repeated|formula)="([^"]*)"')


def _scan_ods(path: Path, content: bytes) -> dict[str, set[tuple[int, int]]]:
    """Walk content.xml's table/row/cell tags, expanding repeats arithmetically:
    formula cells per sheet, and a refusal where a valued cell repeats far."""
    if b"<!ENTITY" in content or b"<!DOCTYPE" in content:
        raise _reject(path, "xml-rejected", f"「{path.name}」含有 XML 實體宣告（可能是攻擊檔案），已拒絕讀取。")
    formulas: dict[str, set[tuple[int, int]]] = {}
    sheet, row, col, row_repeat = "", 0, 0, 1
    for m in _ODS_TAG.finditer(content):
        closing, tag, attrs, selfclose = m.group(1), m.group(2), m.group(3), m.group(4)
        found = {k.decode(): v.decode("utf-8", "replace") for k, v in _ODS_ATTR.findall(attrs)}
        if tag == b"table":
            if not closing:
                sheet, row = _unescape(found.get("name", "")), 0
            continue
        if tag == b"table-row":
            if closing:
                row += row_repeat
            else:
                col, row_repeat = 0, int(found.get("number-rows-repeated", "1") or 1)
                if selfclose:
                    row += row_repeat
            continue
        repeat = int(found.get("number-columns-repeated", "1") or 1)
        valued = b"value-type" in attrs
        if valued and repeat * row_repeat > MAX_CELL_SPAN:
            raise _reject(path, "too-large",
                          f"「{path.name}」的工作表「{sheet}」有大量重複的資料儲存格，讀取會耗盡記憶體；"
                          "請刪除多餘的儲存格後重新存檔。")
        if not closing and "formula" in found:
            formulas.setdefault(sheet, set()).add((row, col))
        if not closing:
            col += repeat
    return formulas


def _unescape(text: str) -> str:
    import html

    return html.unescape(text)


def _col_index(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n - 1


def assert_xml_guard() -> None:
    """openpyxl refuses XML entity tricks only when defusedxml is installed."""
    from openpyxl.xml import DEFUSEDXML

    if not DEFUSEDXML:
        raise XltoolError("安全防護未啟用：請先安裝 defusedxml（pip install defusedxml）再執行。")


def read_workbook(path: Path, *, max_rows: int = DEFAULT_MAX_ROWS,
                  max_cols: int | None = None, only: set[str] | None = None,
                  prefer: set[str] | None = None) -> WorkbookData:
    """Gate, then read every sheet's cell values with python-calamine.

    Rows and columns are capped whatever the file's own ``<dimension>`` claims.
    ``only`` reads just those sheets; ``prefer`` reads just those when all exist.
    Any parser failure becomes :class:`Rejected` with a plain message.
    """
    path = Path(path)
    report = gate(path)
    from python_calamine import CalamineWorkbook  # lazy: keeps `--help` fast

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = {}
        present = {meta.name for meta in wb.sheets_metadata}
        if only is None and prefer and prefer <= present:
            only = prefer  # everything needed is there: leave the other sheets unread
        for meta in wb.sheets_metadata:
            if only is not None and meta.name not in only:
                continue
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False, nrows=max_rows)
            if max_cols is not None:
                rows = [r[:max_cols] for r in rows]
            merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
            sheets[meta.name] = SheetData(
                name=meta.name,
                rows=[[_clean(v) for v in r] for r in rows],
                visible=str(meta.visible).endswith("Visible"),
                merged=merged)
    except Exception as exc:  # calamine raises many types; all mean "unreadable"
        text = str(exc)
        if "password" in text.lower() or "encrypt" in text.lower():
            raise _reject(path, "encrypted",
                          f"「{path.name}」設有密碼保護，無法讀取。請移除密碼後重新存檔。")
        raise _reject(path, "unreadable",
                      f"無法讀取「{path.name}」：檔案格式有誤或已損毀（{type(exc).__name__}）。")
    props, saved = _document_properties(path)
    return WorkbookData(path=path, sheets=sheets, properties=props, saved=saved,
                        warnings=report.warnings, formulas=report.formulas)


def _clean(value: Any) -> Any:
    """Calamine's values, with empty strings as None and whole floats as int."""
    if value == "" or value is None:
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, (datetime, date, time, timedelta)):
        return value
    return value


def _document_properties(path: Path) -> tuple[dict[str, str], datetime | None]:
    """Custom properties and the saved time, from docProps (xlsx) or meta.xml (ods)."""
    if path.suffix.lower() not in ZIP_FORMATS:
        return {}, None
    from defusedxml import ElementTree as DET

    props: dict[str, str] = {}
    saved = None
    try:
        with zipfile.ZipFile(path) as zf:
            names = set(zf.namelist())
            if "docProps/custom.xml" in names:
                root = DET.fromstring(_read_small(zf, "docProps/custom.xml"))
                for prop in root:
                    name = prop.get("name")
                    if name and len(prop):
                        props[name] = prop[0].text or ""
            if "docProps/core.xml" in names:
                root = DET.fromstring(_read_small(zf, "docProps/core.xml"))
                for el in root:
                    if el.tag.endswith("}modified") and el.text:
                        saved = _parse_iso(el.text)
            if "meta.xml" in names:
                root = DET.fromstring(_read_small(zf, "meta.xml"))
                for el in root.iter():
                    if el.tag.endswith("}user-defined"):
                        name = next((v for k, v in el.attrib.items() if k.endswith("}name")), None)
                        if name:
                            props[name] = el.text or ""
                    elif el.tag == "{http://purl.org/dc/elements/1.1/}date" and el.text:
                        saved = _parse_iso(el.text)
    except Exception:
        # Properties are a convenience; a return without them is still read.
        return {}, None
    return props, saved


def _read_small(zf: zipfile.ZipFile, name: str, limit: int = 2 * 1024 * 1024) -> bytes:
    with zf.open(name) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:
        raise ValueError(f"{name} too large")
    return data


def _parse_iso(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")[:32])
    except ValueError:
        return None
