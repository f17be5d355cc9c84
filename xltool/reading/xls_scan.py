"""The gate for BIFF (.xls): the compound file opened by hand, every record walked.

An .xls is a compound (OLE) file whose "Workbook" stream is a flat list of
records. Nothing here trusts a count or a size the file states: sector chains
are followed with a visited set and a length bound, and the sheet extents are
taken both from each sheet's DIMENSIONS record (readers size their grid from
it) and from the cell records themselves. Formula records are noted, so a
formula's cached value is never taken for a typed one.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from .bounds import Bounds, Corrupt, Encrypted, Extent, Formulas, TooLarge

_FREE, _END_OF_CHAIN = 0xFFFFFFFF, 0xFFFFFFFE
_MAX_SECTOR = 0xFFFFFFFA
_BOF, _EOF, _BOUNDSHEET, _DIMENSIONS = 0x0809, 0x000A, 0x0085, 0x0200
_SST, _CONTINUE, _DATEMODE, _FILEPASS = 0x00FC, 0x003C, 0x0022, 0x002F
_FORMULAS = {0x0006, 0x0406, 0x04BC, 0x0221, 0x0236}  # FORMULA (BIFF8, BIFF4), SHRFMLA, ARRAY, TABLE
_CELLS = {0x0203, 0x027E, 0x00FD, 0x0204, 0x00D6, 0x0205, 0x0006, 0x0406, 0x0201}  # one cell each
_MULRK, _MULBLANK, _LABELSST, _LABEL = 0x00BD, 0x00BE, 0x00FD, 0x0204


@dataclass
class XlsScan:
    sheets: list[str] = field(default_factory=list)
    formulas: dict[int, Formulas] = field(default_factory=dict)  # sheet index → formula cells (no text)
    date1904: bool = False
    saved: datetime | None = None


def scan_xls(data: bytes, bounds: Bounds) -> XlsScan:
    """Measure every worksheet of an .xls held in ``data`` (readers load them all)."""
    try:
        cfb = _Compound(data)
        stream = cfb.stream("Workbook") or cfb.stream("Book")
        if stream is None:
            raise Corrupt("no Workbook stream")
        scan = _walk(stream, bounds)
        info = cfb.stream("\x05SummaryInformation")
    except (struct.error, IndexError, ValueError) as exc:
        raise Corrupt(str(exc)) from exc
    if info:
        scan.saved = _last_saved(info)
    return scan


# ------------------------------------------------------------------ compound file


class _Compound:
    def __init__(self, data: bytes):
        if len(data) < 512 or data[:8] != b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":
            raise Corrupt("not a compound file")
        self.data = data
        shift, mini_shift = struct.unpack_from("<HH", data, 30)
        if shift not in (9, 12) or mini_shift != 6:
            raise Corrupt("sector size")
        self.size = 1 << shift
        (self.n_fat, self.first_dir, self.cutoff, self.first_minifat, self.n_minifat,
         self.first_difat, self.n_difat) = struct.unpack_from("<I I 4x I I I I I", data, 44)
        self.sectors = (len(data) - self.size) // self.size + 1
        if self.n_fat > self.sectors or self.n_difat > self.sectors:
            raise Corrupt("sector counts")
        self.fat = self._fat()
        self.entries = self._directory()
        root = next((e for e in self.entries if e[3] == 5), None)
        if root is None:
            raise Corrupt("no root entry")
        self.mini_stream = self._chain_bytes(root[1], root[2]) if root[2] else b""
        self.minifat = self._table(self._chain(self.first_minifat)) if self.n_minifat else []

    def _sector(self, n: int) -> bytes:
        start = (n + 1) * self.size
        if n > _MAX_SECTOR or start >= len(self.data):
            raise Corrupt("sector out of file")
        return self.data[start:start + self.size]

    def _fat(self) -> list[int]:
        difat = list(struct.unpack_from("<109I", self.data, 76))
        sector, seen = self.first_difat, set()
        while sector not in (_FREE, _END_OF_CHAIN) and len(difat) < self.n_fat + 109:
            if sector in seen:
                raise Corrupt("DIFAT loop")
            seen.add(sector)
            block = struct.unpack(f"<{self.size // 4}I", self._sector(sector))
            difat.extend(block[:-1])
            sector = block[-1]
        fat_sectors = [s for s in difat[:self.n_fat] if s not in (_FREE, _END_OF_CHAIN)]
        return self._table(fat_sectors)

    def _table(self, sectors: list[int]) -> list[int]:
        table: list[int] = []
        for s in sectors:
            table.extend(struct.unpack(f"<{self.size // 4}I", self._sector(s)))
        return table

    def _chain(self, start: int, table: list[int] | None = None) -> list[int]:
        table = self.fat if table is None else table
        chain, seen, sector = [], set(), start
        while sector not in (_FREE, _END_OF_CHAIN):
            if sector in seen or sector >= len(table):
                raise Corrupt("sector chain")
            seen.add(sector)
            chain.append(sector)
            sector = table[sector]
        return chain

    def _chain_bytes(self, start: int, size: int) -> bytes:
        chain = self._chain(start)
        if len(chain) * self.size < size:
            raise Corrupt("stream shorter than its size")
        return b"".join(self._sector(s) for s in chain)[:size]

    def _directory(self) -> list[tuple[str, int, int, int]]:
        raw = b"".join(self._sector(s) for s in self._chain(self.first_dir))
        entries = []
        for off in range(0, len(raw) - 127, 128):
            name_len, kind = struct.unpack_from("<HB", raw, off + 64)
            start, size = struct.unpack_from("<II", raw, off + 116)
            name = raw[off:off + max(0, min(name_len, 64) - 2)].decode("utf-16-le", "replace")
            if kind in (1, 2, 5):
                entries.append((name, start, size, kind))
        return entries

    def stream(self, name: str) -> bytes | None:
        entry = next((e for e in self.entries if e[0] == name and e[3] == 2), None)
        if entry is None:
            return None
        _, start, size, _ = entry
        if size > len(self.data):
            raise Corrupt("stream larger than the file")
        if size >= self.cutoff:
            return self._chain_bytes(start, size)
        chain = self._chain(start, self.minifat)
        out = b"".join(self.mini_stream[s * 64:(s + 1) * 64] for s in chain)
        if len(out) < size:
            raise Corrupt("mini stream")
        return out[:size]


# ------------------------------------------------------------------ BIFF records


class _Budget:
    """Records walked in one file, over every walk: a sheet list that points many
    entries at one long substream must not make the gate walk it many times over."""

    def __init__(self, limit: int):
        self.left = limit

    def spend(self) -> None:
        self.left -= 1
        if self.left < 0:
            raise TooLarge("", "", "records")


def _records(stream: bytes, budget: _Budget, start: int = 0):
    pos, n = start, len(stream)
    while pos + 4 <= n:
        kind, length = struct.unpack_from("<HH", stream, pos)
        budget.spend()
        yield pos, kind, stream[pos + 4:pos + 4 + length]
        pos += 4 + length


def _walk(stream: bytes, bounds: Bounds) -> XlsScan:
    """The globals from the start of the stream, then each sheet from the offset its
    sheet-list entry gives, as a reader goes: records between them are never read."""
    scan = XlsScan()
    budget = _Budget(bounds.records)
    entries, sst = _globals(stream, budget, scan)
    text_used = 0
    for index, (offset, name) in enumerate(entries):
        extent = Extent(bounds, name, text_used)
        formulas: Formulas = {}
        depth = 0
        for _pos, kind, body in _records(stream, budget, offset):
            if kind == _BOF:
                depth += 1
                if depth > 16:
                    raise Corrupt("BOF nesting")
                continue
            if kind == _EOF:
                depth -= 1
                if depth <= 0:
                    break
                continue
            if depth == 1:  # not inside a chart embedded in the sheet
                _cell_record(kind, body, extent, sst, formulas)
        text_used = extent.text
        if formulas:
            scan.formulas[index] = formulas
    return scan


def _globals(stream: bytes, budget: _Budget, scan: XlsScan) -> tuple[list[tuple[int, str]], list[int]]:
    """The workbook globals: the sheet list, the shared strings, the date system."""
    entries: list[tuple[int, str]] = []
    sst: list[int] = []
    sst_parts: list[bytes] | None = None
    for _pos, kind, body in _records(stream, budget):
        if sst_parts is not None:
            if kind == _CONTINUE:
                sst_parts.append(body)
                continue
            sst, sst_parts = _string_lengths(sst_parts), None
        if kind == _EOF:
            break
        if kind == _FILEPASS:
            raise Encrypted()
        if kind == _BOUNDSHEET and len(body) >= 8:
            offset = struct.unpack_from("<I", body, 0)[0]
            name = _short_string(body[6:])
            if offset >= len(stream):
                raise Corrupt("sheet offset")
            entries.append((offset, name))
            scan.sheets.append(name)
        elif kind == _DATEMODE and len(body) >= 2:
            scan.date1904 = struct.unpack_from("<H", body)[0] == 1
        elif kind == _SST:
            sst_parts = [body]
    if sst_parts is not None:
        sst = _string_lengths(sst_parts)
    return entries, sst


def _cell_record(kind: int, body: bytes, extent: Extent, sst: list[int],
                 formulas: Formulas) -> None:
    if kind == _DIMENSIONS:
        if len(body) >= 14:
            first_row, last_row, first_col, last_col = struct.unpack_from("<IIHH", body)
        elif len(body) >= 8:
            first_row, last_row, first_col, last_col = struct.unpack_from("<HHHH", body)
        else:
            return
        if last_row > first_row and last_col > first_col:  # last is one past the end
            extent.reach(last_row - 1, last_col - 1, first_row, first_col)
        return
    if len(body) < 4:
        return
    row, col = struct.unpack_from("<HH", body)
    if kind in (_MULRK, _MULBLANK):
        if len(body) >= 6:
            last = struct.unpack_from("<H", body, len(body) - 2)[0]
            if kind == _MULRK:
                extent.reach(row, max(last, col), row, col)
        return
    if kind in _FORMULAS:
        formulas[(row, col)] = ""  # a formula in BIFF is tokens, not text
    if kind not in _CELLS or kind == 0x0201:
        return
    extent.reach(row, col, row, col)
    if kind == _LABELSST and len(body) >= 10:
        index = struct.unpack_from("<I", body, 6)[0]
        if index < len(sst):
            extent.add_text(sst[index], row, col)
    elif kind == _LABEL and len(body) >= 8:
        extent.add_text(struct.unpack_from("<H", body, 6)[0], row, col)


def _short_string(body: bytes) -> str:
    if len(body) < 2:
        return ""
    count, flags = body[0], body[1]
    if flags & 1:
        return body[2:2 + 2 * count].decode("utf-16-le", "replace")
    return body[2:2 + count].decode("latin-1")


def _string_lengths(parts: list[bytes]) -> list[int]:
    """Character counts of the shared strings (SST and its CONTINUE records).

    A string's characters may run on into the next CONTINUE record, which then
    starts with a fresh option byte; nothing but the counts is kept."""
    if not parts or len(parts[0]) < 8:
        return []
    unique = struct.unpack_from("<I", parts[0], 4)[0]
    total = sum(len(p) for p in parts)
    if unique > total // 3 + 1:  # every string takes at least three bytes
        raise TooLarge("", "", "records")
    lengths: list[int] = []
    part, pos = 0, 8

    def need(n: int) -> bytes:
        nonlocal part, pos
        out = b""
        while len(out) < n:
            if part >= len(parts):
                raise Corrupt("SST ends early")
            chunk = parts[part][pos:pos + n - len(out)]
            out += chunk
            pos += len(chunk)
            if pos >= len(parts[part]) and len(out) < n:
                part, pos = part + 1, 0
        return out

    try:
        for _ in range(unique):
            if part >= len(parts) or (pos >= len(parts[part]) and part + 1 >= len(parts)):
                break
            if pos >= len(parts[part]):
                part, pos = part + 1, 0
            count, flags = struct.unpack("<HB", need(3))
            runs = struct.unpack("<H", need(2))[0] if flags & 0x08 else 0
            ext = struct.unpack("<I", need(4))[0] if flags & 0x04 else 0
            left, wide = count, flags & 1
            while left:
                room = len(parts[part]) - pos if part < len(parts) else 0
                if room <= 0:
                    part, pos = part + 1, 0
                    if part >= len(parts):
                        raise Corrupt("SST ends early")
                    wide = parts[part][0] & 1
                    pos = 1
                    continue
                take = min(left, room // (2 if wide else 1))
                if take == 0:
                    raise Corrupt("SST string")
                pos += take * (2 if wide else 1)
                left -= take
            lengths.append(count)
            need(4 * runs + ext)
    except (Corrupt, struct.error):
        pass  # a damaged table: the reader will refuse it; the counts so far stand
    return lengths


def _last_saved(info: bytes) -> datetime | None:
    """PIDSI_LASTSAVE_DTM from the SummaryInformation property set, in UTC."""
    try:
        offset = struct.unpack_from("<I", info, 44)[0]
        _size, count = struct.unpack_from("<II", info, offset)
        for k in range(min(count, 256)):
            pid, where = struct.unpack_from("<II", info, offset + 8 + 8 * k)
            if pid == 13:
                vtype, ticks = struct.unpack_from("<IQ", info, offset + where)
                if vtype == 64 and ticks:
                    return datetime(1601, 1, 1, tzinfo=timezone.utc) + timedelta(
                        microseconds=ticks // 10)
    except (struct.error, OverflowError):
        return None
    return None
