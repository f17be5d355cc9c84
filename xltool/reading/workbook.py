"""Read a workbook's cell values: the gate first, then python-calamine.

Every workbook xltool reads (the plan, every return, a master being re-merged)
comes through :func:`read_workbook`. It runs in an isolated worker (see
:mod:`.isolation`) unless it is already in one. A well-formed ODF file that
calamine refuses is read by the gate's own streaming ODF walk instead.
"""
from __future__ import annotations

import math
import zipfile
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from pathlib import Path
from typing import Any, TypedDict

from ..cells import col_index
from ..errors import Issue
from ..files import display_name
from .bounds import Bounds, Formulas
from .gate import SPREADSHEET_SUFFIXES, ZIP_FORMATS, GateReport, Rejected, gate, reject  # noqa: F401
from .isolation import Failure, Limits

DEFAULT_MAX_ROWS = 20_000


@dataclass
class SheetData:
    name: str
    rows: list[list[Any]]
    visible: bool = True
    merged: list[tuple[int, int, int, int]] = field(default_factory=list)  # r1, c1, r2, c2
    percent: frozenset[tuple[int, int]] = frozenset()  # (row, col) of numbers shown as a percentage

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
    saved: datetime | None = None  # as the file states it: aware when it gave a zone
    producer: str = ""  # the program that saved it, from the file's own properties
    warnings: list[Issue] = field(default_factory=list)
    formulas: dict[str, Formulas] = field(default_factory=dict)  # sheet → formula cells (bounds.py)
    date1904: bool = False
    reader: str = "calamine"  # or "odf-stream", when calamine refused a valid ODF file
    notes: list = field(default_factory=list)  # cell notes (reading/notes.py), to be said
    sheet_names: list[str] = field(default_factory=list)  # every sheet, read or not, in book order


class _ReadOptions(TypedDict):
    """The keyword arguments of :func:`read_here`, as sent to a worker."""

    bounds: Bounds | None
    max_rows: int
    max_cols: int | None
    only: set[str] | None
    prefer: set[str] | None


def read_workbook(path: Path, *, bounds: Bounds | None = None, max_rows: int = DEFAULT_MAX_ROWS,
                  max_cols: int | None = None, only: set[str] | None = None,
                  prefer: set[str] | None = None, limits: Limits | None = None) -> WorkbookData:
    """Gate, then read the cell values of the chosen sheets, in an isolated worker.

    ``only`` reads just those sheets; ``prefer`` reads just those when all exist.
    Rows and columns are capped whatever the file claims. Raises :class:`Rejected`
    for a file that cannot be read, with a plain message."""
    from .isolation import IN_WORKER, Pool

    options = _ReadOptions(bounds=bounds, max_rows=max_rows, max_cols=max_cols, only=only,
                           prefer=prefer)
    if IN_WORKER:
        return read_here(Path(path), **options)
    with Pool(_read_job, limits=limits) as pool:
        answer = pool.call((Path(path), options))
    if isinstance(answer, Failure):
        raise Rejected(failure_issue(Path(path), answer, pool.limits))
    status, value = answer
    if status == "rejected":
        raise Rejected(value)
    return value


def read_stamps(paths: list[Path]) -> list[tuple[dict[str, str], datetime | None] | None]:
    """The document properties and the stated save time of each file (None where it
    cannot be read), in isolated workers: for telling a copy xltool wrote, untouched
    since, from one a program saved again (forms.identity.untouched_copy)."""
    from .isolation import Pool

    with Pool(_stamp_job) as pool:
        return [None if isinstance(a, Failure) else a for a in pool.map(list(paths))]


def _stamp_job(_context, path: Path) -> tuple[dict[str, str], datetime | None] | None:
    try:
        wb = read_here(path, only=set())
    except Rejected:
        return None
    return wb.properties, wb.saved


def _read_job(_context, payload) -> tuple[str, Any]:
    path, options = payload
    try:
        return "ok", read_here(path, **options)
    except Rejected as exc:
        return "rejected", exc.issue


def failure_issue(path: Path, failure: Failure, limits: Limits) -> Issue:
    """The issue for a file whose worker died, ran out of memory or of time."""
    name = display_name(path)
    if failure.kind == "memory":
        return Issue("too-large", f"讀取「{name}」需要的記憶體超過上限（{limits.memory_mb} MB），"
                                  "已停止讀取；檔案可能過大或已損毀，請重新存檔後再寄。", file=name)
    if failure.kind == "timeout":
        spent = (f"CPU 時間 {limits.cpu_seconds:g} 秒" if failure.detail == "cpu"
                 else f"{limits.wall_seconds:g} 秒")
        return Issue("timeout", f"讀取「{name}」超過時間上限（{spent}），"
                                "已停止讀取；檔案可能過大或已損毀，請重新存檔後再寄。", file=name)
    return Issue("unreadable", f"無法讀取「{name}」：讀取程式異常結束（檔案格式有誤或已損毀），"
                               "請重新存檔後再寄。", file=name)


def read_here(path: Path, *, bounds: Bounds | None = None, max_rows: int = DEFAULT_MAX_ROWS,
              max_cols: int | None = None, only: set[str] | None = None,
              prefer: set[str] | None = None) -> WorkbookData:
    """:func:`read_workbook` in this process: for workers, and for tests of the reader."""
    path = Path(path)
    bounds = bounds or Bounds()
    report = gate(path, bounds, only, prefer)
    present = report.sheets
    wanted = only if only is not None else (
        prefer if prefer and prefer <= set(present) else None)
    if path.suffix.lower() == ".ods":
        reader = "odf-stream"
        names = [t.name for t in report.tables]
        sheets = {t.name: SheetData(t.name, [[_clean(v) for v in r[:max_cols]]
                                             for r in t.rows[:max_rows]], merged=t.merged,
                                    percent=frozenset(t.percent))
                  for t in report.tables}
        order = report.sheets
    else:
        reader = "calamine"
        try:
            sheets, order = _calamine_sheets(path, wanted, max_rows, max_cols)
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 — calamine panics are BaseExceptions
            raise _unreadable(path, exc) from None
        names = order
        _looked_up_again(path, sheets, order, report)
    formulas = {order[i]: cells for i, cells in report.formulas.items() if i < len(order)}
    props, saved, producer = _document_properties(path, report.properties)
    if report.saved_xls is not None and saved is None:
        saved = report.saved_xls  # type: ignore[assignment]
    return WorkbookData(path=path, sheets={n: sheets[n] for n in names if n in sheets},
                        properties=props, saved=saved, producer=producer,
                        warnings=report.warnings, formulas=formulas, date1904=report.date1904,
                        reader=reader, notes=report.notes, sheet_names=list(report.sheets or names))


LOOKED_UP_PART = 64 * 1024 * 1024  # bytes of a sheet walked again (the gate bounds it)


def _looked_up_again(path: Path, sheets: dict[str, SheetData], order: list[str],
                     report: GateReport) -> None:
    """What calamine does not give, from the sheet's XML, in one walk of each sheet that
    needs one (most need none): the numbers of early dates (see below), and the cells
    whose number shows as a percentage (report.percent_styles), which calamine gives as
    the bare number (95% as 0.95) while the unit sees 95%.

    A number under a date format that is no day since 1900 (a negative one) comes
    from calamine as a time of day, 00:00:00, and the number is lost. LibreOffice
    writes such numbers: an ROC date typed into a date cell of a .xlsx (116/01/05 is
    the year 116 there, -651588). Each is put back as the number the file holds, for
    the checks to read as the form declares (see intake.form.as_declared). A time of
    day (a number from 0 to 1) stays one. Each sheet's part is read once, whatever
    the number of such cells (time linear in its size)."""
    lost = {name: {(r, c) for r, row in enumerate(sheet.rows) for c, v in enumerate(row) if type(v) is time}
            for name, sheet in sheets.items() if any(time in map(type, row) for row in sheet.rows)}
    styles = report.percent_styles
    if not lost and not styles:
        return
    with zipfile.ZipFile(path) as zf:
        for name, sheet in sheets.items():
            part = report.sheet_parts.get(order.index(name)) if name in order else None
            if part is None or not (styles or lost.get(name)):
                continue
            with zf.open(part) as fh:
                found, percent = _numbers_and_percent_cells(fh, lost.get(name, set()), styles)
            for (r, c), number in found.items():
                if not 0 <= number < 1:
                    sheet.rows[r][c] = number
            sheet.percent = frozenset(percent)


def _numbers_and_percent_cells(stream, cells: set[tuple[int, int]], styles: frozenset[int] = frozenset()
                    ) -> tuple[dict[tuple[int, int], float], set[tuple[int, int]]]:
    """The finite number a sheet's XML holds (its <v>) in each of ``cells`` (0-based
    row, column), and the number cells of a style in ``styles``, in one streaming pass
    over at most LOOKED_UP_PART bytes. A cell is placed as the gate places it (its r,
    else the next after the one before it, any prefix); where one is written twice, the
    last counts, as for the readers."""
    from xml.parsers import expat

    from .xlsx_scan import _REF
    from .xmlstream import CHUNK, Unsafe, make_parser

    found: dict[tuple[int, int], float] = {}
    percent: set[tuple[int, int]] = set()
    at = {"row": -1, "next": 0}
    cell: list = [None, None]  # the wanted cell being read, and its <v> text (None: not in one)

    def start(tag, attrs):
        name = tag[tag.rfind("}") + 1:]
        if name == "row":
            ref = attrs.get("r")
            at["row"] = int(ref) - 1 if ref and ref.isdigit() and len(ref) <= 9 else at["row"] + 1
            at["next"] = 0
        elif name == "c":
            ref = attrs.get("r")
            m = _REF.fullmatch(ref) if ref else None
            if ref and m is None:
                where = None  # no reader places it where the gate would look
            else:
                where = (int(m.group(2)) - 1, col_index(m.group(1))) if m else (max(at["row"], 0), at["next"])
                at["next"] = where[1] + 1
            number = attrs.get("t", "n") == "n"
            cell[0], cell[1] = (where if where in cells and number else None), None
            if where in cells:
                found.pop(where, None)  # written again: this one counts
            if styles and where is not None:
                style = attrs.get("s", "0")
                if number and style.isdigit() and len(style) <= 6 and int(style) in styles:
                    percent.add(where)
                else:
                    percent.discard(where)
        elif name == "v" and cell[0] is not None:
            cell[1] = []

    def end(tag):
        name = tag[tag.rfind("}") + 1:]
        if name == "v" and cell[0] is not None and cell[1] is not None:
            text = "".join(cell[1])
            try:
                number = float(text) if len(text) <= 40 else math.nan
            except ValueError:
                number = math.nan
            if math.isfinite(number):
                found[cell[0]] = number
            cell[1] = None
        elif name == "c":
            cell[0] = cell[1] = None

    def text(data):
        if cell[1] is not None and len(cell[1]) < 8:
            cell[1].append(data)

    parser = make_parser(start, end, text)
    left = LOOKED_UP_PART
    try:
        while left > 0:
            chunk = stream.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            parser.Parse(chunk, False)
    except (expat.ExpatError, Unsafe, ValueError, LookupError, UnicodeError):
        pass  # what was read before stands: the gate let the part through
    return found, percent


def _unreadable(path: Path, exc: BaseException) -> Rejected:
    text = str(exc).lower()
    name = display_name(path)
    if "password" in text or "encrypt" in text:
        return reject(path, "encrypted", f"「{name}」設有密碼保護，無法讀取。請移除密碼後重新存檔。")
    return reject(path, "unreadable", f"無法讀取「{name}」：檔案格式有誤或已損毀"
                                      f"（{type(exc).__name__}），請重新存檔後再寄。")


def _calamine_sheets(path: Path, wanted: set[str] | None, max_rows: int,
                     max_cols: int | None) -> tuple[dict[str, SheetData], list[str]]:
    """The chosen sheets' values, and every sheet's name in book order."""
    from python_calamine import CalamineWorkbook  # lazy: keeps `--help` fast

    try:
        str(path).encode("utf-8")
        wb = CalamineWorkbook.from_path(str(path))
    except UnicodeEncodeError:  # a name that is not UTF-8 (see files.display_name)
        with path.open("rb") as fh:
            wb = CalamineWorkbook.from_filelike(fh)
    sheets = {}
    order = [meta.name for meta in wb.sheets_metadata]
    for meta in wb.sheets_metadata:
        if wanted is not None and meta.name not in wanted:
            continue
        sheet = wb.get_sheet_by_name(meta.name)
        rows = sheet.to_python(skip_empty_area=False, nrows=max_rows)
        merged = [(a[0], a[1], b[0], b[1]) for a, b in (sheet.merged_cell_ranges or [])]
        sheets[meta.name] = SheetData(
            name=meta.name, rows=[_clean_row(r[:max_cols]) for r in rows],
            visible=str(meta.visible).endswith("Visible"), merged=merged)
    return sheets, order


def _clean_row(values: list[Any]) -> list[Any]:
    """_clean of every value of a row, with text and whole numbers (most cells) done
    in place, not one call each."""
    return [(v or None) if (kind := type(v)) is str else
            int(v) if kind is float and v.is_integer() and -2**53 < v < 2**53 else _clean(v)
            for v in values]


def _clean(value: Any) -> Any:
    """Reader values as the checks expect them: empty strings as None, whole floats
    as int, and numbers no writer can store (NaN, infinities) as the text they were."""
    if value == "" or value is None:
        return None
    if isinstance(value, float):
        if not math.isfinite(value):
            return "NaN" if value != value else ("INF" if value > 0 else "-INF")
        if value.is_integer() and abs(value) < 2**53:
            return int(value)
        return value
    return value  # text, dates, times and durations as calamine gives them


# ------------------------------------------------------------------ properties

_SMALL = 2 * 1024 * 1024


def _document_properties(path: Path, parts: dict[str, bytes] | None = None
                         ) -> tuple[dict[str, str], datetime | None, str]:
    """Custom properties, the saved time and the producer, from docProps (xlsx)
    or meta.xml (ods). Properties are a convenience: a file without them is read.
    ``parts`` holds them as the gate inflated them; None reads them from the file."""
    if path.suffix.lower() not in ZIP_FORMATS:
        return {}, None, ""
    from .gate import PROPERTY_PARTS
    from .xmlstream import Malformed, Unsafe

    found: dict[str, Any] = {"props": {}, "saved": None, "producer": ""}
    collectors = dict(zip(PROPERTY_PARTS, (_custom_xlsx, _core_xlsx, _app_xlsx, _meta_ods)))
    try:
        if parts is not None:
            for part, data in parts.items():
                if len(data) > _SMALL:
                    raise ValueError(f"{part} too large")
                collectors[part](data, found)
        else:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
                for part, collect in collectors.items():
                    if part in names:
                        collect(_read_small(zf, part), found)
    except (Malformed, Unsafe, zipfile.BadZipFile, OSError, ValueError, KeyError):
        return {}, None, ""
    return found["props"], found["saved"], found["producer"]


def _read_small(zf: zipfile.ZipFile, name: str) -> bytes:
    with zf.open(name) as fh:
        data = fh.read(_SMALL + 1)
    if len(data) > _SMALL:
        raise ValueError(f"{name} too large")
    return data


def _elements(data: bytes):
    """(local name, attributes by local name, text) of every element, in order."""
    from .xmlstream import local, make_parser, parse_bytes

    out: list[list[Any]] = []
    stack: list[list[Any]] = []

    def start(tag, attrs):
        item = [local(tag), {local(k): v for k, v in attrs.items()}, []]
        stack.append(item)
        out.append(item)

    def end(tag):
        stack.pop()

    def text(data):
        if stack:
            stack[-1][2].append(data)

    parse_bytes(make_parser(start, end, text), data)
    return [(name, attrs, "".join(parts)) for name, attrs, parts in out]


def _custom_xlsx(data: bytes, found: dict) -> None:
    current = None
    for name, attrs, text in _elements(data):
        if name == "property":
            current = attrs.get("name")
        elif current and name in ("lpwstr", "lpstr", "bstr", "i4", "r8", "bool", "filetime"):
            found["props"][current] = text
            current = None


def _core_xlsx(data: bytes, found: dict) -> None:
    for name, _attrs, text in _elements(data):
        if name == "modified" and text:
            found["saved"] = parse_stamp(text)


def _app_xlsx(data: bytes, found: dict) -> None:
    for name, _attrs, text in _elements(data):
        if name == "Application" and text:
            found["producer"] = text.strip()[:100]


def _meta_ods(data: bytes, found: dict) -> None:
    for name, attrs, text in _elements(data):
        if name == "user-defined" and attrs.get("name"):
            found["props"][attrs["name"]] = text
        elif name == "date" and text:
            found["saved"] = parse_stamp(text)
        elif name == "generator" and text:
            found["producer"] = text.strip()[:100]


def parse_stamp(text: str) -> datetime | None:
    """An ISO 8601 time as written in document properties: aware when it has a zone
    (Z or an offset), naive when it has none (ODF writes local time that way)."""
    text = text.strip()[:40]
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        try:
            value = datetime.fromisoformat(text[:19])
        except ValueError:
            return None
    if value.tzinfo is not None:
        value = value.astimezone(timezone.utc)
    return value
