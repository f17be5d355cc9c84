"""The merge as one call: read and check the returns, keep the secretariat's 複評,
write the master (and, when asked, the report, the PDF and the correction copies).
The CLI only reads its arguments, calls :func:`run_merge` and shows the result."""
from __future__ import annotations

import gc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import Issue, XltoolError
from ..files import display_name
from ..plan import Plan
from .aside import ReportAside
from .feedback import Feedback
from .merge import MergeResult, merge
from .report import write_result_json
from .streaming import StreamedMaster

if TYPE_CHECKING:
    from .review import Reviews


@dataclass
class MergeRun:
    result: MergeResult
    written: bool = False  # False: --strict and errors were found
    backup: Path | None = None
    pdf: Path | None = None
    feedback: Feedback | None = None
    # After the master was written: its PDF not made, an earlier PDF set aside.
    problems: list[Issue] = field(default_factory=list)
    reviews: Reviews | None = None  # what the previous master (or its newer copy) held

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.result.issues if i.is_error]

    def review_summary(self) -> str:
        """What became of the previous master and of its 複評, in words: only what
        happened (empty when there was none)."""
        reviews, backup = self.reviews, self.backup
        said = f"原總表已備份為：{display_name(backup)}" if backup else ""
        if reviews is None or reviews.source is None:
            return said
        other = reviews.source.suffix.lower() != ".xlsx" and reviews.source != backup
        source = f"「{display_name(reviews.source)}」" if other else "其中"
        if not reviews.read:
            kept = f"{source}的複評未能讀取，新總表不含先前的複評（見上方說明）"
        else:
            from .review import removed_items

            known = {i.id for i in self.result.plan.items}
            scores = sum(1 for r in self.result.items if r.review is not None)
            notes = sum(1 for k in self.result.review_notes if k in known)
            unusable = sum(1 for k in reviews.unusable if k in known)
            removed = len(removed_items(self.result.plan, reviews.unusable, reviews.notes))
            kept = (f"{source}的複評 {scores} 筆、複評說明 {notes} 筆已保留" if scores or notes
                    else f"{source}沒有複評或複評說明")
            if unusable:
                kept += f"；另有 {unusable} 筆無法採計的複評照原樣保留（紅色標示，見上方說明）"
            if removed:
                kept += (f"；{removed} 個已不在計畫中的項目，其複評與複評說明照原樣保留在"
                         "「評分」總分下方（不計分，見上方說明）")
        return f"{said}；{kept}" if said else kept


def check_outputs(outputs: list[Path], inputs: list[Path], plan: Path | None = None) -> None:
    """No output may overwrite the plan or an input, or land where returns are read."""
    for out in outputs:
        target = Path(out).resolve()
        if plan is not None and target == Path(plan).resolve():
            raise XltoolError(f"輸出檔「{out}」就是計畫檔，寫入會覆蓋計畫；請改用其他檔名。")
        for given in inputs:
            src = Path(given).resolve()
            if target == src or (src.is_dir() and src in target.parents) or \
                    (target.is_dir() and target in src.parents):
                raise XltoolError(f"輸出檔「{out}」位於回傳檔的位置（{given}），會被當成回傳檔讀取"
                                  "或覆蓋回傳檔；請改存到其他資料夾。")


def run_merge(plan: Plan, returns: list[Path], output: Path, **options) -> MergeRun:
    """Merge ``returns`` under ``plan`` into the master at ``output`` (options: see
    :func:`_merge_into`), while nothing else writes it: not an office program that has
    it open, whose later save would put the old master back, nor another xltool.

    ``ends_process``: the process ends with this merge (the ``merge`` command). What
    the merge made is then frozen once the master is written, so that neither the
    collections after it (the report, the correction copies, which do leave cyclic
    garbage and are collected as usual) nor the interpreter's last one at exit walk
    every row and entry it holds (0.2–0.3 s for 1,000 returns, to find none of them
    garbage). Not for a caller that lives on: its collections would pass over them."""
    from ..file_locks import check_not_open, one_writer

    check_not_open(Path(output))
    with one_writer(Path(output)):
        return _merge_into(plan, returns, output, **options)


def _merge_into(plan: Plan, returns: list[Path], output: Path, *, report: Path | None = None,
                strict: bool = False, pdf: bool = False, feedback_dir: Path | None = None,
                progress: Callable[[Path], None] | None = None, ends_process: bool = False) -> MergeRun:
    from .review import carry_notes, unusable_issues, with_backup
    from .writer import backup_path

    if Path(output).suffix.lower() != ".xlsx":
        raise XltoolError(f"總表檔須為 .xlsx：{Path(output).name}")
    reviews, found = _previous_reviews(plan, Path(output))
    # 明細 is written while the returns are read; the master replaces ``output`` only
    # when committed (see streaming.py). The report is written while the master is
    # (see aside.py) and put in place after it; stopped before, nothing of it is left.
    aside: ReportAside | None = None
    try:
        with collector_paused(), StreamedMaster(plan, output) as master:
            result = merge(plan, list(returns), reviews.scores, progress=progress, master=master)
            # The backup holds the lost reviews when they were the master's own (not a copy's).
            lost = with_backup(reviews.lost, backup_path(output) if reviews.source == Path(output) else None)
            result.issues[:0] = found + lost + reviews.issues + carry_notes(result, reviews, display_name(output)) + \
                unusable_issues(reviews, plan, carried_to=display_name(output))
            run = MergeRun(result, reviews=reviews)
            if strict and run.errors:
                _replace(result.issues, lost, with_backup(reviews.lost, None, written=False))
                return run
            if report:
                aside = ReportAside(report, partial(write_result_json, result))
                aside.start()
            run.backup = master.commit(result)
            if ends_process:  # before the collector is back on: see run_merge
                gc.freeze()
        run.written = True
        if aside is not None:  # with the collector on (as the caller had it): json's
            aside.finish()  # indenting encoder leaves a cycle per call
    except BaseException:
        if aside is not None:
            aside.abandon()
        raise
    run.pdf, said = _print_or_set_aside(output, pdf)
    run.problems += said
    if feedback_dir:
        from .feedback import write_feedback

        run.feedback = write_feedback(result, feedback_dir)
    return run


def _print_or_set_aside(output: Path, pdf: bool) -> tuple[Path | None, list[Issue]]:
    """The new master's PDF when asked; else an earlier --pdf's PDF beside it, which
    shows the old scores, set aside."""
    from .printing import print_master, set_aside_stale_pdf

    return print_master(output) if pdf else (None, set_aside_stale_pdf(output))


def _previous_reviews(plan: Plan, output: Path) -> tuple[Reviews, list[Issue]]:
    """The 複評 to keep: the master's at ``output``, or those of a copy of it saved
    later in another format (總表.ods), which is then said."""
    from .review import newer_copy, other_copy_issue, read_review_sheet

    copy = newer_copy(output)
    if copy is None:
        return read_review_sheet(output, plan), []
    return read_review_sheet(copy, plan), [other_copy_issue(copy, output)]


def _replace(issues: list[Issue], old: list[Issue], new: list[Issue]) -> None:
    for was, now in zip(old, new):
        issues[issues.index(was)] = now


@contextmanager
def collector_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off while the master is made. Making it leaves
    next to no cyclic garbage (its rows, entries and results live to the end, or go
    with their last reference; measured with gc.DEBUG_SAVEALL), while each full
    collection walks every object held: 60,000 rows for 1,000 returns, about 0.4 s of
    the main process's 3.5 s of CPU. The workers, which hold one file at a time, keep
    theirs."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()

