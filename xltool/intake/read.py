"""Recognise each returned workbook and check every cell, in one pass per file.

A return is identified by the template's metadata (plan id, 年度, unit,
template version). When the metadata is gone, the file name and the item
numbers in 填報表 identify it instead, with a warning. Every problem becomes an
:class:`Issue`; rows are kept even when they have errors. Files are read in
isolated workers (see reading/isolation.py).
"""
from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

from ..errors import ERROR, WARNING, Issue
from ..files import display_name
from ..forms import fields as F
from ..forms.identity import KEYS, saved_instant
from ..forms.todo import TODO_SHEET
from ..plan import Plan
from ..quoting import quote
from ..reading.bounds import Bounds
from ..reading.workbook import Rejected, read_workbook
from .audit import file_digest
from .discover import discover  # noqa: F401  (the intake API)
from .form import MAX_RETURN_COLS, read_form, verify_fingerprint
from .notes import note_issues
from .recognise import find_form, identify, metadata, trusted_time
from .returns import Made, Return, Row  # noqa: F401  (the intake API)
from .state import Reading

MAX_RETURN_ROWS = 5_000


def return_bounds(plan: Plan) -> Bounds:
    """What a return may make a reader build: its form's items plus a margin of rows,
    a few hundred columns, and text for every input cell filled to Excel's limit."""
    cache = plan.__dict__.get("_return_bounds")
    if cache is None:
        most = plan.most_items()
        rows = max(MAX_RETURN_ROWS, F.FIRST_ITEM_ROW + most + 500)
        text = max(8_000_000, most * len(F.INPUT_COLUMNS) * F.TEXT_LIMIT // 4)
        cache = plan.__dict__["_return_bounds"] = Bounds(rows=rows, cols=256, cells=rows * 100,
                                                         text=text, records=rows * 300)
    return cache


def read_returns(plan: Plan, paths: list[Path], *, keep_raw: bool = False,
                 workers: int | None = None,
                 progress: Callable[[Path], None] | None = None,
                 job: Callable[[Plan, tuple[Path, bool]], Return] | None = None) -> Iterator[Return]:
    """Read and check every file in isolated worker processes, yielding in the order
    given. A worker that crashes, runs out of memory or of time costs only its file,
    which comes back as a Return holding one issue that says so. ``job``: what a
    worker does with one file instead of :func:`read_return` (a module-level function
    that calls it, e.g. to do more of a later stage's work in parallel)."""
    from ..reading.isolation import Failure, Pool
    from ..reading.workbook import failure_issue

    paths = list(paths)
    if workers is None:
        workers = 1 if len(paths) < PARALLEL_FROM else worker_count()
    with Pool(job or _read_return_job, plan, workers=workers) as pool:
        answers = pool.map((path, keep_raw) for path in paths)
        for path, answer in zip(paths, answers):
            if isinstance(answer, Failure):
                answer = Return(path=path, issues=[failure_issue(path, answer, pool.limits)])
                answer.size, answer.sha256 = file_digest(path)
            if progress:
                progress(path)
            yield answer


PARALLEL_FROM = 24  # files; below this one worker is quicker than several


def worker_count() -> int:
    """One worker per core, up to 8; XLTOOL_WORKERS overrides (e.g. on a shared server)."""
    value = os.environ.get("XLTOOL_WORKERS", "")
    if value.isdigit() and int(value) > 0:
        return int(value)
    return min(os.cpu_count() or 1, 8)


def _read_return_job(plan: Plan, payload: tuple[Path, bool]) -> Return:
    path, keep_raw = payload
    return read_return(plan, path, keep_raw)


def read_return(plan: Plan, path: Path, keep_raw: bool = False) -> Return:
    """Recognise and check one returned workbook. Never raises for a bad file:
    anything unexpected becomes one issue record and the batch goes on.
    ``keep_raw`` keeps every value as found, for the correction copies."""
    rd = Reading(plan, Path(path), keep_raw)
    rd.ret.size, rd.ret.sha256 = file_digest(rd.ret.path)  # before reading: what was read
    try:
        return _read(rd)
    except Exception as exc:  # noqa: BLE001 — one bad file must not stop the merge
        ret = Return(path=Path(path))
        ret.issues.append(Issue("internal-error", f"xltool 讀取「{display_name(path)}」時發生內部錯誤"
                                f"（{type(exc).__name__}）；這不是檔案的問題，請將此訊息回報開發者。",
                                file=display_name(path)))
        return ret


def _read(rd: Reading) -> Return:
    _identify_and_read(rd)
    if rd.dropped:
        rd.ret.issues.append(Issue(
            "too-many-issues", f"此檔還有 {rd.dropped} 個問題未列出（其中 {rd.dropped_errors} 個錯誤）；"
            "請先修正上列問題後重新回傳。", ERROR if rd.dropped_errors else WARNING,
            file=rd.file, unit=rd.ret.unit or ""))
    if rd.ret.unit:  # issues found before the unit was known get it now
        rd.ret.issues = [i if i.unit else replace(i, unit=rd.ret.unit)
                           for i in rd.ret.issues]
    return rd.ret


# The sheets a template (and a correction copy) has: anything else the unit added.
TEMPLATE_SHEETS = frozenset({F.GUIDE_SHEET, F.FORM_SHEET, F.LIST_SHEET, F.META_SHEET, TODO_SHEET})


ADDED_SHEETS_TOLD = 10  # added sheets told one by one; the rest in one issue


def _added_sheets(rd: Reading, names: list[str], form: str) -> None:
    """Say each sheet the unit added: no sheet but the form is read, so what it holds
    would be lost unseen. A book of hundreds of sheets is told in a bounded number of
    issues, not one each, which would push the form's own issues off the list."""
    added = [name for name in names if name not in TEMPLATE_SHEETS and name != form]
    for name in added[:ADDED_SHEETS_TOLD]:
        rd.issue("sheet-added", f"檔案中有填報表沒有的工作表「{quote(name)}」；其中的內容不會納入彙整，"
                 f"要填報的內容請填在「{F.FORM_SHEET}」對應項目的儲存格中。", WARNING, sheet=name)
    rest = added[ADDED_SHEETS_TOLD:]
    if rest:
        shown = "、".join(f"「{quote(name)}」" for name in rest[:10]) + ("…" if len(rest) > 10 else "")
        rd.issue("sheet-added", f"檔案中另有 {len(rest)} 個填報表沒有的工作表（共 {len(added)} 個）：{shown}；"
                 f"其中的內容不會納入彙整，要填報的內容請填在「{F.FORM_SHEET}」對應項目的儲存格中。",
                 WARNING, sheet=rest[0])


def _identify_and_read(rd: Reading) -> None:
    try:
        wb = read_workbook(rd.ret.path, bounds=return_bounds(rd.plan),
                           max_rows=return_bounds(rd.plan).rows, max_cols=MAX_RETURN_COLS,
                           prefer={F.FORM_SHEET, F.META_SHEET})
    except Rejected as exc:
        rd.ret.issues.append(exc.issue)
        return
    for w in wb.warnings:
        rd.ret.issues.append(w)
    rd.ret.producer = wb.producer
    meta = metadata(rd, wb.properties, wb.sheets.get(F.META_SHEET))
    rd.ret.stated = saved_instant(wb.saved, wb.producer, rd.ret.path.suffix, rd.plan.zone,
                                  (meta or {}).get(KEYS["generated"], ""))
    rd.ret.issues += note_issues(rd.file, wb.notes, meta)
    if meta is None:
        return
    rd.meta = meta
    form = find_form(rd, wb.sheets)
    if not identify(rd, meta, form):
        return
    rd.ret.saved = trusted_time(rd, rd.ret.stated, meta)
    if form is None:
        rd.issue("form-sheet-missing", f"找不到「{F.FORM_SHEET}」工作表（可能已更名或刪除），"
                   "請以原填報表填寫後回傳。", sheet="")
        return
    _added_sheets(rd, wb.sheet_names, form.name)
    rd.formulas = wb.formulas.get(form.name, {})
    rd.date_system = "odf" if rd.ret.path.suffix.lower() == ".ods" else (
        "1904" if wb.date1904 else "1900")
    read_form(rd, form)
    verify_fingerprint(rd, meta)
