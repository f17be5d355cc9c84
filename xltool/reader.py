"""The one place that opens spreadsheet files: a safety gate, then calamine.

Every workbook xltool reads (the plan and every return) comes through
:func:`read_workbook`. The gate looks at the raw bytes before any parser
does, so a zip bomb or an encrypted file is refused without being inflated.
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from .errors import WARNING, Issue, XltoolError

MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ZIP_ENTRIES = 5_000
MAX_UNCOMPRESSED_BYTES = 300 * 1024 * 1024
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


def _reject(path: Path, code: str, message: str) -> Rejected:
    return Rejected(Issue(code=code, message=message, file=path.name))


def gate(path: Path) -> list[Issue]:
    """Check size, magic bytes and zip structure; raise :class:`Rejected`.

    Returns warnings for files that may be read but deserve a word.
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
                      f"「{path.name}」的內容不是 {suffix} 格式（可能是改了副檔名的其他檔案）。")
    if suffix in ZIP_FORMATS:
        return _check_zip(path)
    return []


def _check_zip(path: Path) -> list[Issue]:
    try:
        with zipfile.ZipFile(path) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise _reject(path, "corrupt-file",
                      f"「{path.name}」已損毀或不完整（可能在傳送時被截斷），請重新存檔後再寄。")
    if len(infos) > MAX_ZIP_ENTRIES:
        raise _reject(path, "zip-bomb", f"「{path.name}」內含 {len(infos)} 個項目，超過安全上限。")
    total = sum(i.file_size for i in infos)
    packed = sum(i.compress_size for i in infos) or 1
    if total > MAX_UNCOMPRESSED_BYTES or (total > 10 * 1024 * 1024
                                          and total / packed > MAX_COMPRESSION_RATIO):
        raise _reject(path, "zip-bomb",
                      f"「{path.name}」解壓後過大（{total // 1024 // 1024} MB），疑似壓縮炸彈，已拒絕讀取。")
    names = {i.filename for i in infos}
    warnings = []
    if any(n.lower().endswith("vbaproject.bin") for n in names):
        warnings.append(Issue(code="macro-removed", severity=WARNING, file=path.name,
                              message=f"「{path.name}」含有巨集；xltool 只讀取儲存格內容，"
                                      "巨集不會執行也不會保留。"))
    if any(n.startswith("xl/externalLinks/") or n == "xl/connections.xml" for n in names):
        warnings.append(Issue(code="external-link", severity=WARNING, file=path.name,
                              message=f"「{path.name}」含有外部連結或資料連線；"
                                      "xltool 不會開啟連結，只讀取儲存格中已存的值。"))
    return warnings


def read_workbook(path: Path, *, max_rows: int = DEFAULT_MAX_ROWS,
                  max_cols: int | None = None) -> WorkbookData:
    """Gate, then read every sheet's cell values with python-calamine.

    Rows and columns are capped whatever the file's own ``<dimension>`` claims.
    Any parser failure becomes :class:`Rejected` with a plain message.
    """
    path = Path(path)
    warnings = gate(path)
    from python_calamine import CalamineWorkbook  # lazy: keeps `--help` fast

    try:
        wb = CalamineWorkbook.from_path(str(path))
        sheets = {}
        for meta in wb.sheets_metadata:
            sheet = wb.get_sheet_by_name(meta.name)
            rows = sheet.to_python(skip_empty_area=False, nrows=max_rows)
            if max_cols is not None:
                rows = [r[:max_cols] for r in rows]
            sheets[meta.name] = SheetData(
                name=meta.name,
                rows=[[_clean(v) for v in r] for r in rows],
                visible=str(meta.visible).endswith("Visible"))
    except Exception as exc:  # calamine raises many types; all mean "unreadable"
        text = str(exc)
        if "password" in text.lower() or "encrypt" in text.lower():
            raise _reject(path, "encrypted",
                          f"「{path.name}」設有密碼保護，無法讀取。請移除密碼後重新存檔。")
        raise _reject(path, "unreadable",
                      f"無法讀取「{path.name}」：檔案格式有誤或已損毀（{type(exc).__name__}）。")
    props, saved = _document_properties(path)
    return WorkbookData(path=path, sheets=sheets, properties=props, saved=saved,
                        warnings=warnings)


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
