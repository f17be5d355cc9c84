"""How the master's parts go into its zip: the big one deflated on every core.

明細 of 1,000 units is 44 MB of XML, and zipping it is the last thing a merge
waits for, with every worker done and the other cores idle. So a part that large
is cut into blocks that are deflated at once in threads (zlib lets go of the
interpreter while it works) and joined in order into one deflate stream, as pigz
does: each block ends on a byte boundary (a sync flush), and the last is followed
by an empty final block. Any unzip reads the result as one ordinary member. The
blocks are the same whatever order the threads finish in, so a master's bytes
never depend on timing. Small parts, and machines with one core, are deflated as
before: there, and where an early deflate failed, the members are the same and
their compressed bytes are not.

明細's rows are finished before the master's other sheets are written, so they are
deflated then, in a thread, while the interpreter writes those sheets on one core
(:class:`EarlyRows`); its zip member is then the sheet's head, those rows, and its
tail, each a run of deflate blocks. Elsewhere a sheet's rows reach its part as bytes:
XlsxWriter copies a constant-memory row file into the part in text mode, decoding and
encoding it all again.
"""
from __future__ import annotations

import os
import shutil
import zipfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from ..xlsx_text import LiteralWorksheet

BLOCK = 1 << 20  # bytes of XML a thread deflates at a time (each costs a few bytes of ratio)
PARALLEL_FROM = 4 * BLOCK  # parts smaller than this are deflated in one stream
MAX_THREADS = 4
_COPY = 1 << 20


def deflate_threads() -> int:
    return min(os.cpu_count() or 1, MAX_THREADS)


def _raw_deflater(level: int):
    """A deflate stream with no zlib header, as a zip member holds it."""
    return zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)


def _final_block(level: int) -> bytes:
    """The empty final block that ends a member made of sync-flushed blocks."""
    return _raw_deflater(level).flush()


def _deflate_block(data: bytes, level: int) -> bytes:
    block = _raw_deflater(level)
    return block.compress(data) + block.flush(zlib.Z_SYNC_FLUSH)


class ParallelDeflate:
    """A compressor with zlib's ``compress``/``flush``, whose blocks are deflated in
    ``pool``. At most two blocks a thread are in hand at once, so memory stays a few MB."""

    def __init__(self, pool: ThreadPoolExecutor, level: int, threads: int):
        self.pool, self.level, self.ahead = pool, level, 2 * threads
        self.pending: deque[Future[bytes]] = deque()
        self.buffer = bytearray()

    def compress(self, data: bytes) -> bytes:
        self.buffer += data
        while len(self.buffer) >= BLOCK:
            self._submit(bytes(self.buffer[:BLOCK]))
            del self.buffer[:BLOCK]
        return self._ready(wait=len(self.pending) > self.ahead)

    def flush(self) -> bytes:
        if self.buffer:
            self._submit(bytes(self.buffer))
            self.buffer.clear()
        done = b"".join(f.result() for f in self.pending)
        self.pending.clear()
        return done + _final_block(self.level)

    def _submit(self, data: bytes) -> None:
        self.pending.append(self.pool.submit(_deflate_block, data, self.level))

    def _ready(self, wait: bool) -> bytes:
        """The blocks done at the front of the queue (the first one waited for when
        too many are in hand), in order."""
        out = []
        while self.pending and (wait or self.pending[0].done()):
            out.append(self.pending.popleft().result())
            wait = len(self.pending) > self.ahead
        return b"".join(out)


class EarlyRows:
    """A finished constant-memory sheet's rows, deflated in a thread into a file beside
    them (one deflate stream that ends on a byte boundary, not final)."""

    def __init__(self, ws, level: int):
        self.rows = Path(ws.row_data_filename)
        self.deflated = self.rows.with_name(self.rows.name + ".deflate")
        self.size = self.rows.stat().st_size
        self.level = level
        pool = ThreadPoolExecutor(1, thread_name_prefix="xltool-deflate")
        self.job = pool.submit(self._deflate)
        pool.shutdown(wait=False)  # the thread ends with its one job

    @staticmethod
    def possible(ws) -> bool:
        """Whether ``ws``'s rows can all be in its row file now: a constant-memory
        sheet, its row file still open, rows in it, and a core to spare."""
        fh = getattr(ws, "row_data_fh", None)
        return (bool(getattr(ws, "constant_memory", False)) and fh is not None and not fh.closed
                and getattr(ws, "fh", None) is fh and not getattr(ws, "row_data_fh_closed", True)
                and hasattr(ws, "_write_single_row") and ws.dim_rowmin is not None
                and deflate_threads() >= 2)

    def _deflate(self) -> None:
        deflate = _raw_deflater(self.level)
        with self.rows.open("rb") as src, self.deflated.open("wb") as out:
            for block in iter(lambda: src.read(BLOCK), b""):
                out.write(deflate.compress(block))
            out.write(deflate.flush(zlib.Z_SYNC_FLUSH))

    def usable(self) -> bool:
        """Deflated whole, of the rows as they are now (waits for the thread)."""
        try:
            self.job.result()
        except Exception:  # noqa: BLE001 — (a full disk, say) the rows are zipped as usual
            return False
        return self.rows.stat().st_size == self.size

    def discard(self) -> None:
        self.job.exception()  # (waited for)
        self.deflated.unlink(missing_ok=True)


def start_early_rows(ws, level: int) -> None:
    """Deflate ``ws``'s rows now, when :meth:`EarlyRows.possible`."""
    if not EarlyRows.possible(ws):
        return
    # The row XlsxWriter still holds, written as it would write it when the workbook
    # is stored (its packager: _write_single_row); -1 is the row it then writes, and
    # no row of that number has cells, a height or a comment: it writes nothing more.
    ws._write_single_row(-1)
    if ws.table:  # (another XlsxWriter than the one this knows)
        return
    ws.row_data_fh.close()  # flushed: XlsxWriter reopens it to store the workbook
    ws.row_data_fh_closed = True
    ws.early_rows = EarlyRows(ws, level)


class _Spliced:
    """The compressor of a member whose middle is already deflated: the head and the
    tail are deflated as they come; the rows' writes (their bytes are still given, for
    the member's CRC and size) get the deflated file's bytes instead."""

    def __init__(self, level: int, deflated):
        self.level, self.deflated, self.in_rows, self.after_rows = level, deflated, False, False

    def compress(self, data: bytes) -> bytes:
        if self.in_rows:
            return self.deflated.read(len(data))  # the deflated rows, at the rows' pace
        # (after the rows, what is left of them first: they may deflate to more bytes)
        rest = self.deflated.read() if self.after_rows else b""
        return rest + (_deflate_block(data, self.level) if data else b"")

    def flush(self) -> bytes:
        return self.compress(b"") + _final_block(self.level)


class MasterZipFile(zipfile.ZipFile):
    """A ZipFile whose large members from disk are deflated by :class:`ParallelDeflate`,
    and whose members with :class:`EarlyRows` (``spliced``: part file → where the rows
    go in it, and them) are put together from what was deflated early."""

    def __init__(self, *args, spliced: dict | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.spliced = spliced if spliced is not None else {}

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        if filename in self.spliced and compress_type is None and compresslevel is None:
            return self._write_spliced(filename, arcname, *self.spliced.pop(filename))
        threads = deflate_threads()
        if threads < 2 or compress_type not in (None, zipfile.ZIP_DEFLATED) \
                or self.compression != zipfile.ZIP_DEFLATED or compresslevel is not None \
                or not os.path.isfile(filename) or os.path.getsize(filename) < PARALLEL_FROM:
            return super().write(filename, arcname, compress_type, compresslevel)
        # As ZipFile.write does for a file, but its compressor is the parallel one.
        zinfo, level = self._deflated_info(filename, arcname)
        with ThreadPoolExecutor(threads, thread_name_prefix="xltool-deflate") as pool, \
                open(filename, "rb") as src, self.open(zinfo, "w") as dest:
            if not hasattr(dest, "_compressor"):  # another zipfile than the one this knows
                shutil.copyfileobj(src, dest, _COPY)
                return None
            dest._compressor = ParallelDeflate(pool, level, threads)
            shutil.copyfileobj(src, dest, _COPY)
        return None

    def _deflated_info(self, filename, arcname) -> tuple[zipfile.ZipInfo, int]:
        """The member's entry, deflated at the file's level, as ZipFile.write makes it."""
        zinfo = zipfile.ZipInfo.from_file(filename, arcname, strict_timestamps=self._strict_timestamps)  # type: ignore[attr-defined]
        zinfo.compress_type = zipfile.ZIP_DEFLATED
        level = self.compresslevel if self.compresslevel is not None else zlib.Z_DEFAULT_COMPRESSION
        zinfo._compresslevel = level  # type: ignore[attr-defined]
        return zinfo, level

    def _write_spliced(self, filename, arcname, at: int, early: EarlyRows) -> None:
        """The member of a sheet part whose rows (from :class:`EarlyRows`) go at ``at``."""
        zinfo, level = self._deflated_info(filename, arcname)
        zinfo.file_size += early.size  # (the member's size decides on ZIP64, as for any file)
        try:
            with open(filename, "rb") as part, early.rows.open("rb") as rows, \
                    early.deflated.open("rb") as deflated, self.open(zinfo, "w") as dest:
                compressor = _Spliced(level, deflated)
                if hasattr(dest, "_compressor"):  # (else another zipfile's: it deflates them all)
                    dest._compressor = compressor
                dest.write(part.read(at))
                compressor.in_rows = True
                shutil.copyfileobj(rows, dest, _COPY)
                compressor.in_rows, compressor.after_rows = False, True
                dest.write(part.read())
        finally:
            early.rows.unlink(missing_ok=True)
            early.deflated.unlink(missing_ok=True)


class MasterWorksheet(LiteralWorksheet):
    """A worksheet whose constant-memory rows are copied into its part as bytes, or,
    deflated early (:func:`start_early_rows`), put in its zip member from there."""

    early_rows: EarlyRows | None = None
    spliced: dict | None = None  # the workbook's: part file → (offset, EarlyRows)

    def _write_optimized_sheet_data(self) -> None:
        early, part = self.early_rows, getattr(self, "fh", None)
        if early is not None:
            self.early_rows = None
            if self.spliced is not None and part is not None and hasattr(part, "buffer") \
                    and early.usable():
                self.row_data_fh.close()  # (reopened by XlsxWriter, with nothing to add)
                self._xml_start_tag("sheetData")
                part.flush()
                self.spliced[part.name] = (part.buffer.tell(), early)
                self._xml_end_tag("sheetData")
                return None
            early.discard()
        rows = getattr(self, "row_data_fh", None)
        if self.dim_rowmin is None or rows is None or part is None or not hasattr(part, "buffer") \
                or not getattr(self, "row_data_filename", None):
            return super()._write_optimized_sheet_data()
        self._xml_start_tag("sheetData")
        rows.close()  # written through: its text is on disk, as the bytes copied below
        part.flush()
        with open(self.row_data_filename, "rb") as src:
            shutil.copyfileobj(src, part.buffer, _COPY)
        os.unlink(self.row_data_filename)
        self._xml_end_tag("sheetData")
        return None
