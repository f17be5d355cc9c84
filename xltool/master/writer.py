"""Write the consolidated master workbook with XlsxWriter, one sheet module at a time.

Every text that came from a return is written with ``write_string``, and the
workbook is opened with ``strings_to_formulas`` and ``strings_to_urls`` off:
nothing a unit typed can become a formula or a link. Scores in 評分 and 附表2
are live formulas carrying the values computed in Python as their cache. Rows
are as tall as their text wraps to (:mod:`xltool.textfit`), for XlsxWriter does
not autofit; people read issue labels and ROC dates, never codes.
"""
from __future__ import annotations

import shutil
from datetime import datetime
from pathlib import Path

from ..cells import utc_naive
from ..files import atomic_path
from .layout import SHEET_ORDER, SUMMARY_SHEET
from .merge import MergeResult
from .sheets import chart, details, issues, revisions, scores, status, summary, table2
from .sheets.context import ONE_LINE, Context, formats

# 評分 first: the other sheets refer to its cells.
WRITERS = (scores, summary, details, table2, status, issues, revisions, chart)
# The workbook's default font sets the width unit of every column (its digit). Calibri,
# XlsxWriter's default, is missing where LibreOffice runs on Linux and gets a wider
# stand-in, so columns there would be a third wider than in Excel; Arial has a metric
# twin that LibreOffice ships (Liberation Sans), so a column measures the same in both,
# and the row heights worked out for its text (xltool.textfit) hold in both. The
# templates do the same. Every cell names its own font (標楷體).
DEFAULT_FONT = {"font_name": "Arial", "font_size": 11}


def write_master(result: MergeResult, target: Path, created: datetime | None = None) -> Path | None:
    """Write the master atomically; back up an existing one first. Returns the backup."""
    target = Path(target)
    backup = None
    if target.exists():
        stamp = datetime.fromtimestamp(target.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
        backup = target.with_name(f"{target.stem}-備份-{stamp}{target.suffix}")
        with atomic_path(backup) as tmp:
            shutil.copyfile(target, tmp)
    with atomic_path(target) as tmp:
        _write(result, tmp, created)
    return backup


def _write(result: MergeResult, path: Path, created: datetime | None) -> None:
    import xlsxwriter

    plan = result.plan
    # constant_memory: rows stream to disk as written, so memory stays flat however
    # many returns there are; every sheet is therefore written in row order.
    wb = xlsxwriter.Workbook(str(path), {
        "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
        "constant_memory": True, "default_format_properties": dict(DEFAULT_FONT)})
    created = created or result.newest_input or datetime.combine(
        plan.info.deadline, datetime.min.time())
    wb.set_properties({"title": f"{plan.info.name} 彙整總表",
                       "author": plan.info.contact_unit or plan.info.agency,
                       "created": utc_naive(created)})
    ctx = Context(wb, result, f=formats(wb))
    # Sheets are added in reading order up front: XlsxWriter numbers them as added.
    ctx.ws = {name: wb.add_worksheet(name) for name in SHEET_ORDER}
    for ws in ctx.ws.values():
        ws.set_default_row(ONE_LINE)  # one line of 標楷體 shows whole, in LibreOffice too
    for sheet in WRITERS:
        sheet.write(ctx)
    ctx.ws[SUMMARY_SHEET].activate()
    wb.close()
