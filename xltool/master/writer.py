"""Write the consolidated master workbook with XlsxWriter, one sheet module at a time.

Every text that came from a return is written with ``write_string``, and the
workbook is opened with ``strings_to_formulas`` and ``strings_to_urls`` off:
nothing a unit typed can become a formula or a link. Scores in 評分 and 附表2
are live formulas carrying the values computed in Python as their cache. Rows
are as tall as their text wraps to (:mod:`xltool.textfit`), for XlsxWriter does
not autofit; people read issue labels and ROC dates, never codes.
"""
from __future__ import annotations

import filecmp
import functools
import itertools
import os
import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

from xlsxwriter import workbook as xlsxwriter_workbook

from ..cells import utc_naive
from ..files import atomic_path
from ..intake import Return
from ..intake.log import Received
from ..plan import Plan
from ..xlsx_scratch import ScratchWorkbook
from .aside import ValueAside
from .fit import RESULT_FIELD
from .layout import DETAIL_SHEET, SHEET_ORDER, SUMMARY_SHEET
from .merge import MergeResult
from .packing import MasterWorksheet, MasterZipFile, start_early_rows
from .sheets import chart, details, identity, issues, revisions, scores, status, summary, table2
from .sheets.context import ONE_LINE, Context, formats

# 評分 first: the other sheets refer to its cells. 明細 is written before them all,
# unit by unit, while the returns are read (see MasterWriter); 總表 after them, its
# rows laid out meanwhile in a child process (see MasterWriter.finish).
WRITERS = (scores, table2, status, issues, revisions, chart, identity)
# The workbook's default font sets the width unit of every column (its digit). Calibri,
# XlsxWriter's default, is missing where LibreOffice runs on Linux and gets a wider
# stand-in, so columns there would be a third wider than in Excel; Arial has a metric
# twin that LibreOffice ships (Liberation Sans), so a column measures the same in both,
# and the row heights worked out for its text (xltool.textfit) hold in both. The
# templates do the same. Every cell names its own font (標楷體).
DEFAULT_FONT = {"font_name": "Arial", "font_size": 11}
# zlib's level 3 rather than its default 6: 明細 of 60,000 rows (44 MB of XML) deflates
# in 40 % of the time, into a file 12 % larger; the zipping is the last thing a merge
# waits for, with every worker done.
DEFLATE_LEVEL = 3


def write_master(result: MergeResult, target: Path, created: datetime | None = None) -> Path | None:
    """Write the master atomically from a finished merge, as a sequential run does;
    back up an existing one first. Returns the backup."""
    target = Path(target)
    with atomic_path(target) as tmp:
        write_sequentially(result, tmp, created)
        return backup_of(target)


def write_sequentially(result: MergeResult, path: Path, created: datetime | None = None) -> None:
    """The whole master at ``path`` from a finished merge: the same calls, in the same
    order, as a master streamed during the merge (see :class:`StreamedMaster`)."""
    writer = MasterWriter(result.plan, path)
    writer.begin(result.received)
    for unit in result.units:
        writer.unit(unit.unit, unit.ret)
    writer.finish(result, created)


def backup_of(target: Path) -> Path | None:
    """A copy of the master at ``target`` before it is replaced (None: there is none),
    named by :func:`backup_path`: never over another file."""
    backup = backup_path(target)
    if backup is None or backup.exists():  # exists: a copy of these very bytes
        return backup
    with atomic_path(backup) as tmp:
        shutil.copyfile(target, tmp)
    return backup


def write_keeping(target, write) -> Path | None:
    """Write ``target`` atomically through ``write(path)``; a file already there whose
    bytes differ (a document someone edited since, or any other file of that name) is
    first copied aside as 名稱-備份-YYYYMMDD-HHMMSS (as the master's backups are named)
    and that copy's path returned, so that nothing of anyone's is replaced unsaid."""
    from ..errors import XltoolError
    from ..files import display_name

    target = Path(target)
    try:
        real = target.resolve() if target.is_symlink() else target
    except (OSError, RuntimeError):  # a link to itself, or a loop of links: Python 3.11 raises RuntimeError
        raise XltoolError(f"「{display_name(target)}」是一個連結，但連到自己或形成迴圈，無法寫入；"
                          "請刪除該連結或改用其他檔名後重新執行。") from None
    with atomic_path(real) as tmp:
        write(tmp)
        try:
            if not real.is_file() or same_content(real, tmp):
                return None
            backup = backup_of(real)
        except OSError as exc:
            raise XltoolError(f"「{display_name(target)}」已存在，但無法先另存備份（{exc.strerror or exc}），"
                              "為免覆蓋而未寫入；請將該檔改名或移走後重新執行。") from None
    return backup


STAMPS = "docProps/core.xml"  # when an .xlsx was written: all that differs between two writes of one content
# The times in it, all that is left out of the comparison: a title, author or keywords
# typed there (Windows' file properties write only this part) are content like any other.
_STAMP_TIMES = re.compile(rb"<dcterms:(created|modified)\b[^>]*>[^<]*</dcterms:\1>")
_STAMPS_READ = 1 << 20  # bytes of the old file's core.xml compared (ours is under 1 KB)


def same_content(old: Path, new: Path) -> bool:
    """``old`` holds what ``new`` does: the same bytes, or the same zip members but for
    the time written (so that writing the same 附表2 again keeps no copy of the last)."""
    if filecmp.cmp(old, new, shallow=False):
        return True
    try:
        with zipfile.ZipFile(old) as a, zipfile.ZipFile(new) as b:
            sizes = {i.filename: i.file_size for i in b.infolist() if i.filename != STAMPS}
            if {i.filename: i.file_size for i in a.infolist() if i.filename != STAMPS} != sizes \
                    or len(a.infolist()) != len(b.infolist()):
                return False  # (sizes first: the old file's members are read only where ours are as large)
            if (STAMPS in a.namelist()) != (STAMPS in b.namelist()):
                return False
            if STAMPS in b.namelist() and _unstamped(a) != _unstamped(b):
                return False
            return all(a.read(n) == b.read(n) for n in sizes)
    except (zipfile.BadZipFile, OSError, RuntimeError, ValueError, EOFError, NotImplementedError):
        return False


def _unstamped(zf) -> bytes:
    """A zip's core.xml (its first bytes) without the times it was created and modified."""
    with zf.open(STAMPS) as fh:
        return _STAMP_TIMES.sub(b"", fh.read(_STAMPS_READ))


def backup_path(target: Path) -> Path | None:
    """Where :func:`backup_of` keeps the master at ``target``: 總表-備份-YYYYMMDD-HHMMSS.xlsx
    from its time saved, else, where that name is taken by other bytes (two saves in
    one second, a clock set back), the first free of …-2.xlsx, …-3.xlsx. A file of
    that name holding the same bytes is the backup already made: it is not copied again
    (a link is never one: it may lead to the master itself). A name too long for the
    file system keeps as much of the master's name as fits."""
    target = Path(target)
    if not target.exists():
        return None
    stamp = datetime.fromtimestamp(target.stat().st_mtime).strftime("%Y%m%d-%H%M%S")
    for n in itertools.count(1):
        backup = target.with_name(_fitted(target.stem, f"-備份-{stamp}{'' if n == 1 else f'-{n}'}{target.suffix}"))
        if backup.is_symlink():
            continue
        if not backup.exists() or (backup.is_file() and filecmp.cmp(backup, target, shallow=False)):
            return backup
    raise AssertionError("unreachable")


MAX_NAME_BYTES = 255  # what most file systems allow a file name, in bytes


def _fitted(stem: str, tail: str) -> str:
    """``stem`` + ``tail``, the stem cut (and marked …) where the whole is too long a name."""
    if len(os.fsencode(stem + tail)) <= MAX_NAME_BYTES:
        return stem + tail
    while stem and len(os.fsencode(stem + "…" + tail)) > MAX_NAME_BYTES:
        stem = stem[:-1]
    return stem + "…" + tail


class MasterWriter:
    """One master workbook being written: 明細 first, one unit at a time and in plan
    order (:meth:`unit`, while the merge still reads), then, once the merge is done,
    the other sheets (:meth:`finish`), which are small."""

    def __init__(self, plan: Plan, path: Path):
        # constant_memory: rows stream to disk as written, so memory stays flat however
        # many returns there are; every sheet is therefore written in row order.
        self.wb = wb = MasterWorkbook(str(path), {
            "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False,
            "constant_memory": True, "default_format_properties": dict(DEFAULT_FONT)})
        # Until the merge is done, the result is only the plan (and the collect logs).
        pending = MergeResult(plan=plan, units=[], items=[], dimensions=[], total=0, grade="",
                              issues=[], rejected=[])
        self.ctx = ctx = Context(wb, pending, f=formats(wb))
        # Each format numbered now, in the order made, not as first used: the sheets'
        # styles then stay what they are in whatever order the sheets are written.
        for fmt in ctx.f.values():
            fmt._get_xf_index()
        # Sheets are added in reading order up front: XlsxWriter numbers them as added.
        ctx.ws = {name: wb.add_worksheet(name, MasterWorksheet) for name in SHEET_ORDER}
        for ws in ctx.ws.values():
            ws.set_default_row(ONE_LINE)  # one line of 標楷體 shows whole, in LibreOffice too
        self.details = details.Details(ctx)
        self.closed = False

    def begin(self, received: Received) -> None:
        """What the collect logs say (明細 names the evidence a unit sent)."""
        self.ctx.r.received = received

    def unit(self, unit: str, ret: Return | None) -> None:
        self.details.unit(unit, ret)

    def finish(self, result: MergeResult, created: datetime | None = None) -> None:
        plan, ctx, wb = result.plan, self.ctx, self.wb
        ctx.r = result
        created = created or result.newest_input or datetime.combine(
            plan.info.deadline, datetime.min.time())
        wb.set_properties({"title": f"{plan.info.name} 彙整總表",
                           "author": plan.info.contact_unit or plan.info.agency,
                           "created": utc_naive(created)})
        # 總表's rows need only the result: they are laid out in a child while the
        # other sheets are written (aside.py), forked before 明細's deflate starts a
        # thread. (The balance: the child takes 0.2 s of 1,000 returns, the other
        # sheets here 0.3 s; with 總表識別's records as well, the child took longer.)
        aside = ValueAside(functools.partial(summary.prepare, ctx)).start() \
            if lays_out_aside(result) else None
        try:
            self.details.close()
            # 明細 is done: its rows are deflated while the other sheets are written.
            start_early_rows(ctx.ws[DETAIL_SHEET], DEFLATE_LEVEL)
            for sheet in WRITERS:
                sheet.write(ctx)
            summary.write(ctx, aside.value() if aside is not None else None)
        finally:
            if aside is not None:
                aside.abandon()
        ctx.ws[SUMMARY_SHEET].activate()
        self.close()

    def close(self) -> None:
        """Close the workbook (XlsxWriter would otherwise write it when collected)."""
        if not self.closed:
            self.closed = True
            self.wb.close()


ASIDE_TEXT = 4_000_000  # characters of 執行績效與成果, up to which 總表 is laid out aside


def lays_out_aside(result: MergeResult) -> bool:
    """Whether 總表's rows are laid out in a child (aside.ValueAside) rather than
    item by item here: the child gives them all at once, a few times the results'
    text in both processes (joined, cut into rows, pickled), which the peak memory
    can take while the rows are in memory and their results' text is at most
    :data:`ASIDE_TEXT` (a few MB: 2.7 million characters for 1,000 returns of 60
    items). At 10,000 returns the child took the peak to 329 MB; item by item here
    it is 178 MB."""
    if result.store is not None:
        return False
    total = 0
    for ret in result.chosen_returns().values():
        if ret is not None:
            for row in ret.rows.values():
                text = row.values.get(RESULT_FIELD)
                if type(text) is str:
                    total += len(text)
                    if total > ASIDE_TEXT:
                        return False
    return True


class MasterWorkbook(ScratchWorkbook):
    """A workbook zipped at :data:`DEFLATE_LEVEL`, its big part on every core
    (master/packing.py). XlsxWriter has no option for either: its ZipFile is replaced
    for the moment the workbook is stored (one thread writes a master), and is left
    as it was where that name is not XlsxWriter's to give (another version of it)."""

    def _store_workbook(self) -> None:
        zip_file = getattr(xlsxwriter_workbook, "ZipFile", None)
        if zip_file is not zipfile.ZipFile:
            return super()._store_workbook()
        spliced: dict = {}  # sheet parts whose rows were deflated early (packing.EarlyRows)
        for sheet in self.worksheets():
            sheet.spliced = spliced
        xlsxwriter_workbook.ZipFile = functools.partial(MasterZipFile, compresslevel=DEFLATE_LEVEL,
                                                        spliced=spliced)
        try:
            return super()._store_workbook()
        finally:
            xlsxwriter_workbook.ZipFile = zip_file

    def _settle(self) -> None:
        """明細's early deflate, when the workbook was not stored (a full disk, say),
        waited for: it would go on writing into a removed file, and on Windows keep
        the folder from being removed."""
        for sheet in self.worksheets():
            early, sheet.early_rows = getattr(sheet, "early_rows", None), None
            if early is not None:
                early.discard()
