"""Build .xls (BIFF8) files in code for the tests, and edit them record by record.

``to_xls`` copies a workbook's cells into an .xls with xlwt, as an old office
program would save a return. ``records``/``assemble`` take the Workbook stream
apart and put it back (fixing the sheet offsets), so a test can inject or
damage single BIFF records.
"""
from __future__ import annotations

import io
import struct
from datetime import date, datetime
from pathlib import Path

import openpyxl
import xlwt
from xlwt.CompoundDoc import XlsDoc

BOF, BOUNDSHEET = 0x0809, 0x0085


def to_xls(source: Path, target: Path, **options) -> Path:
    """Copy every sheet of ``source`` (xlsx) into ``target`` (xls); see xls_stream."""
    save_stream(xls_stream(source, **options), target)
    return target


def xls_stream(source: Path, *, formulas: dict[tuple[str, str], str] | None = None,
               number_format: str | None = None) -> bytes:
    """The Workbook stream of ``source``'s sheets as BIFF8. ``formulas`` puts a
    formula (with no cached value) at {(sheet, A1): "H6-1"}; ``number_format`` gives
    every number that format (a date-looking one makes readers guess dates)."""
    src = openpyxl.load_workbook(source)
    book = xlwt.Workbook(encoding="utf-8")
    day = xlwt.easyxf(num_format_str="yyyy/mm/dd")
    numbers = xlwt.easyxf(num_format_str=number_format) if number_format else None
    for ws in src.worksheets:
        out = book.add_sheet(ws.title, cell_overwrite_ok=True)
        out.visibility = {"visible": 0, "hidden": 1, "veryHidden": 2}[ws.sheet_state]
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                value = cell.value
                if isinstance(value, (datetime, date)):
                    out.write(cell.row - 1, cell.column - 1, value, day)
                elif isinstance(value, (int, float)) and numbers is not None:
                    out.write(cell.row - 1, cell.column - 1, value, numbers)
                else:
                    out.write(cell.row - 1, cell.column - 1, value)
        for (sheet, ref), formula in (formulas or {}).items():
            if sheet == ws.title:
                c = openpyxl.utils.cell.coordinate_from_string(ref)
                col = openpyxl.utils.column_index_from_string(c[0]) - 1
                out.write(c[1] - 1, col, xlwt.Formula(formula))
    return book.get_biff_data()


def save_stream(stream: bytes, target: Path) -> None:
    buf = io.BytesIO()
    XlsDoc().save(buf, stream)
    Path(target).write_bytes(buf.getvalue())


def records(stream: bytes) -> list[list]:
    out, pos = [], 0
    while pos + 4 <= len(stream):
        kind, length = struct.unpack_from("<HH", stream, pos)
        out.append([kind, stream[pos + 4:pos + 4 + length]])
        pos += 4 + length
    return out


def assemble(recs: list[list]) -> bytes:
    """Records back into a stream, with each BOUNDSHEET pointing at its sheet's BOF."""
    positions, pos = [], 0
    for _kind, body in recs:
        positions.append(pos)
        pos += 4 + len(body)
    sheet_bofs = [p for p, (kind, _) in zip(positions, recs) if kind == BOF][1:]
    k = 0
    fixed = []
    for kind, body in recs:
        if kind == BOUNDSHEET and k < len(sheet_bofs):
            body = struct.pack("<I", sheet_bofs[k]) + body[4:]
            k += 1
        fixed.append((kind, body))
    return b"".join(struct.pack("<HH", kind, len(body)) + body for kind, body in fixed)
