"""Keep the rows of many returns on disk, so a merge's memory stays flat.

A merge of 10,000 returns holds 600,000 rows; in memory that is most of a
gigabyte. The rows go to a temporary SQLite file as each return is read, and
each :class:`~xltool.intake.Return` keeps a small mapping that reads its rows
back when the master is written. The file is deleted when the merge is done.
"""
from __future__ import annotations

import pickle
import sqlite3
import tempfile
import weakref
from collections.abc import Iterator, Mapping
from pathlib import Path

from ..intake.returns import Row

RECENT_ROWS = 20_000  # rows held in memory after storing, at most


def any_entered(rows: Mapping[str, Row]) -> bool:
    """Whether any of ``rows`` (item id → Row) holds a value: not blank, not empty text."""
    return any(v is not None and v != "" for row in rows.values() for v in row.values.values())


class RowStore:
    def __init__(self) -> None:
        self._dir = tempfile.TemporaryDirectory(prefix="xltool-rows-")
        # The finaliser may run on another thread (garbage is collected wherever).
        self.db = sqlite3.connect(str(Path(self._dir.name) / "rows.sqlite"), check_same_thread=False)
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE rows (file INTEGER, pos INTEGER, item TEXT, data BLOB, "
                        "PRIMARY KEY (file, item)) WITHOUT ROWID")
        self.db.execute("CREATE INDEX rows_item ON rows (item)")
        self._count = 0
        # The rows of the returns stored last, until first read back whole: 明細 is
        # written from them soon after they are read (master/streaming.py).
        self._recent: dict[int, dict] = {}
        self._recent_rows = 0
        weakref.finalize(self, RowStore._cleanup, self.db, self._dir)

    @staticmethod
    def _cleanup(db, folder) -> None:
        try:
            db.close()
        finally:
            folder.cleanup()

    def put(self, rows: dict) -> StoredRows:
        """Store one return's rows (item id → Row); return a mapping that reads them back."""
        file = self._count
        self._count += 1
        self.db.executemany(
            "INSERT INTO rows VALUES (?, ?, ?, ?)",
            ((file, n, item_id, pickle.dumps((r.row, r.values, r.flags, r.invalid, r.fit), protocol=5))
             for n, (item_id, r) in enumerate(rows.items())))
        self._recent[file] = rows
        self._recent_rows += len(rows)
        while self._recent_rows > RECENT_ROWS and self._recent:
            self._recent_rows -= len(self._recent.pop(next(iter(self._recent))))
        return StoredRows(self, file, len(rows), any_entered(rows))

    def take_recent(self, file: int) -> dict | None:
        """A return's rows as stored, if still held (then no longer): read back once."""
        rows = self._recent.pop(file, None)
        if rows is not None:
            self._recent_rows -= len(rows)
        return rows

    def rows_of_item(self, item_id: str, files: set[int] | None = None) -> dict[int, Row]:
        """The stored rows of one item, by file: one query for a column of the master.
        ``files``: only these files' rows (the returns chosen), else every file's; the
        others are not unpickled (at 10,000 returns each pass over the items reads
        600,000 rows)."""
        found = self.db.execute("SELECT file, data FROM rows WHERE item=?", (item_id,))
        return {file: StoredRows._row(item_id, blob) for file, blob in found if files is None or file in files}

    def close(self) -> None:
        self._cleanup(self.db, self._dir)


class StoredRows(Mapping):
    """A return's rows, read back from the store on demand (item id → Row)."""

    def __init__(self, store: RowStore, file: int, count: int, entered: bool):
        self.store, self.file, self.count = store, file, count
        # Whether any row holds a value: choosing a unit's return asks (choice.filled),
        # and is answered without reading every row back.
        self.entered = entered

    @staticmethod
    def _row(item_id: str, blob: bytes) -> Row:
        row, values, flags, invalid, fit = pickle.loads(blob)
        return Row(item_id, row, values, flags, invalid, None, fit)

    def __getitem__(self, item_id: str):
        found = self.store.db.execute("SELECT data FROM rows WHERE file=? AND item=?",
                                      (self.file, item_id)).fetchone()
        if found is None:
            raise KeyError(item_id)
        return self._row(item_id, found[0])

    def __iter__(self) -> Iterator[str]:
        for (item_id,) in self.store.db.execute(
                "SELECT item FROM rows WHERE file=? ORDER BY pos", (self.file,)):
            yield item_id

    def __len__(self) -> int:
        return self.count

    def __contains__(self, item_id) -> bool:
        return self.store.db.execute("SELECT 1 FROM rows WHERE file=? AND item=?",
                                     (self.file, item_id)).fetchone() is not None

    def items(self):
        """All rows at once, in sheet order: one query instead of one per row."""
        recent = self.store.take_recent(self.file)
        if recent is not None:
            return list(recent.items())
        return [(item_id, self._row(item_id, blob)) for item_id, blob in self.store.db.execute(
            "SELECT item, data FROM rows WHERE file=? ORDER BY pos", (self.file,))]

    def values(self):
        return [row for _, row in self.items()]
