"""XlsxWriter workbooks whose temporary files live in a folder of their own.

XlsxWriter writes each part of a workbook (and, in constant-memory mode, each
sheet's rows) to a temporary file, and removes them only when the workbook is
stored whole: a write that fails, on a full disk for one, used to leave them all
in the system's temporary folder, making the disk fuller at every retry. Here they
go in a folder that is removed when the workbook closes, whether that succeeds or not.
"""
from __future__ import annotations

import tempfile
from typing import Any

import xlsxwriter


class ScratchWorkbook(xlsxwriter.Workbook):
    def __init__(self, filename: str, options: dict[str, Any] | None = None):
        self._scratch = tempfile.TemporaryDirectory(prefix="xltool-", ignore_cleanup_errors=True)
        super().__init__(filename, {**(options or {}), "tmpdir": self._scratch.name})

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._settle()
            for sheet in self.worksheets():  # XlsxWriter closes the row files only on success
                handle = getattr(sheet, "row_data_fh", None)
                if handle is not None:
                    try:
                        handle.close()
                    except OSError:
                        pass
            self._scratch.cleanup()

    def _settle(self) -> None:
        """What still works on the folder's files ends (before they are removed)."""
