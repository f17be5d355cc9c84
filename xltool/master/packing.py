"""How the master's parts go into its zip: the big one deflated on every core.

明細 of 1,000 units is 44 MB of XML, and zipping it is the last thing a merge
waits for, with every worker done and the other cores idle. So a part that large
is cut into blocks that are deflated at once in threads (zlib lets go of the
interpreter while it works) and joined in order into one deflate stream, as pigz
does: each block ends on a byte boundary (a sync flush), and the last is followed
by an empty final block. Any unzip reads the result as one ordinary member. The
blocks are the same whatever order the threads finish in, so a master's bytes
never depend on timing. Small parts, and machines with one core, are deflated as
before.

The sheet's rows also reach its part as bytes: XlsxWriter copies a constant-memory
sheet's row file into the part in text mode, decoding and encoding all 44 MB again.
"""
from __future__ import annotations

import os
import shutil
import zipfile
import zlib
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor

from ..xlsx_text import LiteralWorksheet

BLOCK = 1 << 20  # bytes of XML a thread deflates at a time (each costs a few bytes of ratio)
PARALLEL_FROM = 4 * BLOCK  # parts smaller than this are deflated in one stream
MAX_THREADS = 4
_COPY = 1 << 20


def deflate_threads() -> int:
    return min(os.cpu_count() or 1, MAX_THREADS)


def _deflate_block(data: bytes, level: int) -> bytes:
    block = zlib.compressobj(level, zlib.DEFLATED, -zlib.MAX_WBITS)
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
        return done + zlib.compressobj(self.level, zlib.DEFLATED, -zlib.MAX_WBITS).flush()

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


class MasterZipFile(zipfile.ZipFile):
    """A ZipFile whose large members from disk are deflated by :class:`ParallelDeflate`."""

    def write(self, filename, arcname=None, compress_type=None, compresslevel=None):
        threads = deflate_threads()
        if threads < 2 or compress_type not in (None, zipfile.ZIP_DEFLATED) \
                or self.compression != zipfile.ZIP_DEFLATED or compresslevel is not None \
                or not os.path.isfile(filename) or os.path.getsize(filename) < PARALLEL_FROM:
            return super().write(filename, arcname, compress_type, compresslevel)
        # As ZipFile.write does for a file, but its compressor is the parallel one.
        zinfo = zipfile.ZipInfo.from_file(filename, arcname, strict_timestamps=self._strict_timestamps)
        zinfo.compress_type = zipfile.ZIP_DEFLATED
        level = self.compresslevel if self.compresslevel is not None else zlib.Z_DEFAULT_COMPRESSION
        zinfo._compresslevel = level  # as ZipFile.write sets it
        with ThreadPoolExecutor(threads, thread_name_prefix="xltool-deflate") as pool, \
                open(filename, "rb") as src, self.open(zinfo, "w") as dest:
            if not hasattr(dest, "_compressor"):  # another zipfile than the one this knows
                shutil.copyfileobj(src, dest, _COPY)
                return None
            dest._compressor = ParallelDeflate(pool, level, threads)
            shutil.copyfileobj(src, dest, _COPY)
        return None


class MasterWorksheet(LiteralWorksheet):
    """A worksheet whose constant-memory rows are copied into its part as bytes."""

    def _write_optimized_sheet_data(self) -> None:
        rows, part = getattr(self, "row_data_fh", None), getattr(self, "fh", None)
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
