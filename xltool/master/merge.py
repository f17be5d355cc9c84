"""Merge returns into one scored result: recognise, check, choose, score.

:func:`merge` reads every file once, keeps every row (flagged when wrong),
picks the latest return per unit, lists the units that sent nothing, and
scores with the pure functions of :mod:`xltool.scoring`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from ..cells import fmt_number
from ..errors import ERROR, WARNING, Issue
from ..forms import fields as F
from ..intake import Return, Row, discover, read_returns
from ..intake.log import Received
from ..plan import Dimension, Item, Plan
from .choice import chosen_of, is_older, ranked, why_not
from .layout import SCORE_SHEET
from .scoring import Entry, adopted_score, dimension_score, item_self_score
from .store import RowStore, StoredRows

if TYPE_CHECKING:
    from .streaming import StreamedMaster

STATUS_DONE, STATUS_MISSING, STATUS_ERRORS = "已繳", "未繳", "有誤"
SUPERSEDED = "已取代"  # a file replaced by the same unit's later return
STATUS_ORDER = {STATUS_MISSING: 0, STATUS_ERRORS: 1, STATUS_DONE: 2}  # how status lists sort
STATUS_FIELD = F.column("status").name
SCORE_FIELD = F.column("score").name


@dataclass
class UnitStatus:
    unit: str
    status: str
    ret: Return | None = None
    superseded: list[Return] = field(default_factory=list)
    # Why each superseded file is not the one used (id of the file → the issue saying
    # so), and everything said about the choice, in the order to show it.
    why: dict[int, Issue] = field(default_factory=dict, repr=False, compare=False)
    told: list[Issue] = field(default_factory=list, repr=False, compare=False)


@dataclass
class ItemResult:
    item: Item
    self_score: float
    review: float | None
    adopted: float
    all_excluded: bool
    result: MergeResult | None = field(default=None, repr=False, compare=False)

    @property
    def entries(self) -> dict[str, Entry]:
        """Lead unit → its contribution; read back when asked, not kept (see store.py)."""
        assert self.result is not None  # merge() gives every item its result
        return self.result.entries_for(self.item)


@dataclass
class MergeResult:
    plan: Plan
    units: list[UnitStatus]
    items: list[ItemResult]
    dimensions: list[tuple[Dimension, float]]
    total: float
    grade: str
    issues: list[Issue]
    rejected: list[Return]  # files that could not be used at all
    senders: dict[str, str] = field(default_factory=dict)  # file name → who sent it, when
    received: Received = field(default_factory=Received)  # the collect logs: messages, evidence
    changes: list = field(default_factory=list)  # revisions.Change: what the plan changed since
    review_notes: dict[str, str] = field(default_factory=dict)  # 複評說明 by item 編號 (review.py)
    # 複評 that cannot be adopted, by item 編號 (review.Unusable): shown as typed, not counted
    unusable_reviews: dict = field(default_factory=dict)
    # 編號 → (自評 the previous master showed beside its 複評 or 複評說明, 自評 now), where they differ
    self_changes: dict[str, tuple[float, float]] = field(default_factory=dict)
    store: RowStore | None = field(default=None, repr=False)
    _by_unit: tuple[tuple, tuple[dict[str, UnitStatus], dict[str, Return | None]]] = field(
        default=((), ({}, {})), repr=False)  # (valid for which units, the indexes: see _unit_index)
    # The last item's rows and entries: the sheets and the report ask for one item's
    # several times in a row, and each time costs a read of the row store.
    _last: dict[str, tuple] = field(default_factory=dict, repr=False)
    # Every item's rows and entries, while they are few enough to hold (see _held_for):
    # kind → (valid for which units, item → its rows or entries)
    _held: dict[str, tuple[tuple, dict]] = field(default_factory=dict, repr=False)

    def _remembered(self, kind: str, item: Item, compute):
        key = (item.id, id(self.units), len(self.units))
        last = self._last.get(kind)
        if last is None or last[0] != key:
            last = self._last[kind] = (key, compute(item))
        return last[1]

    def _held_for(self, kind: str, item: Item, compute):
        """``compute(item)`` once per item while (unit, item) pairs are at most
        ENTRIES_KEPT (a few MB), else for the last item asked only. Scoring, 總表
        (in a child forked after scoring, which inherits what is held), 評分, 總表識別
        and the report each ask for every item's."""
        if _leads_total(self.plan) > ENTRIES_KEPT:
            return self._remembered(kind, item, compute)
        key = (id(self.units), len(self.units))
        held = self._held.get(kind)
        if held is None or held[0] != key:
            held = self._held[kind] = (key, {})
        found = held[1].get(item.id)
        if found is None:
            found = held[1][item.id] = compute(item)
        return found

    def rows_of_item(self, item: Item) -> dict[str, Row]:
        """The rows the chosen returns hold for one item, by unit."""
        # Rows read back from the row store are not held: they would all be in memory.
        keep = self._held_for if self.store is None else self._remembered
        return dict(keep("rows", item, self._rows_of_item))

    def _rows_of_item(self, item: Item) -> dict[str, Row]:
        chosen = self.chosen_returns()
        stored = None
        if self.store:
            files = {ret.rows.file for unit in item.leads
                     if isinstance(ret := chosen[unit], Return) and isinstance(ret.rows, StoredRows)}
            stored = self.store.rows_of_item(item.id, files)
        out: dict[str, Row] = {}
        for unit in item.leads:
            ret = chosen[unit]
            if ret is None:
                continue
            if stored is not None and isinstance(ret.rows, StoredRows):
                row = stored.get(ret.rows.file)
            else:
                row = ret.rows.get(item.id)
            if row is not None:
                out[unit] = row
        return out

    def entries_for(self, item: Item) -> dict[str, Entry]:
        """Lead unit → its contribution to ``item``."""
        return dict(self._held_for("entries", item, self._entries_for))

    def _entries_for(self, item: Item) -> dict[str, Entry]:
        rows = self.rows_of_item(item)
        out = {}
        chosen = self.chosen_returns()
        shared: dict[tuple, Entry] = {}  # the item's entries repeat: one object per kind
        for unit in item.leads:
            ret = chosen[unit]
            if ret is not None and item.id in ret.new_items:
                out[unit] = Entry(0.0, new=True)
            else:
                capped = ret.capped.get(item.id) if ret is not None and ret.capped else None
                out[unit] = _entry(self.plan, rows.get(unit), capped, shared)
        return out

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    def status_of(self, unit: str) -> UnitStatus:
        return self._unit_index()[0][unit]

    def chosen_returns(self) -> dict[str, Return | None]:
        """Unit → the return used for it (None: none), for the loops over every
        (item, unit) pair, which would otherwise ask :meth:`status_of` each time."""
        return self._unit_index()[1]

    def _unit_index(self) -> tuple[dict[str, UnitStatus], dict[str, Return | None]]:
        """Unit → its status, and unit → its return, made again when the units change."""
        key = (id(self.units), len(self.units))
        if self._by_unit[0] != key:
            self._by_unit = (key, ({s.unit: s for s in self.units}, {s.unit: s.ret for s in self.units}))
        return self._by_unit[1]

    @property
    def newest_input(self) -> datetime | None:
        times = [s.ret.saved for s in self.units if s.ret and s.ret.saved]
        return max(times) if times else None


SPILL_FROM = 100_000  # rows (files × the most items a unit leads); from here on rows
# wait on disk, not in memory: up to this many, holding them costs less than 100 MB
ENTRIES_KEPT = 100_000  # (unit, item) pairs: up to this many, every item's entries are kept


def _leads_total(plan: Plan) -> int:
    """The (unit, item) pairs of a plan, counted once."""
    total = plan.__dict__.get("_leads_total")
    if total is None:
        total = plan.__dict__["_leads_total"] = sum(len(i.leads) for i in plan.items)
    return total


def merge(plan: Plan, paths: list[Path], reviews: dict[str, float] | None = None,
          progress: Callable[[Path], None] | None = None, workers: int | None = None,
          spill_from: int | None = None, master: StreamedMaster | None = None) -> MergeResult:
    """Merge the returns found in ``paths``; ``reviews`` are 複評 by item 編號. With
    ``master``, its 明細 is written while the files are read (see streaming.py).
    ``spill_from``: rows from which they wait on disk (see SPILL_FROM)."""
    from ..intake.log import received_from

    files, issues = discover(paths)
    received, log_issues = received_from(paths)  # the collect logs, not the returns
    limit = SPILL_FROM if spill_from is None else spill_from
    store = RowStore() if len(files) * max(plan.most_items(), 1) >= limit else None
    stream = master.begin(received, files) if master is not None else None
    order = stream.order if stream is not None else list(range(len(files)))
    found: list[Return | None] = [None] * len(files)
    for index, ret in zip(order, read_all(plan, [files[n] for n in order], progress, workers)):
        if store is not None and ret.rows:
            ret.rows = store.put(ret.rows)
        found[index] = ret
        if stream is not None:
            stream.add(index, ret)
    if stream is not None:
        stream.finish()
    returns = [ret for ret in found if ret is not None]  # in the order found, as read
    result = score(plan, returns, issues + log_issues, reviews or {}, store, received)
    result.senders = {name: received.sender(name) for name in received.returns}
    result.received = received
    return result


def read_all(plan: Plan, files: list[Path], progress=None, workers: int | None = None):
    """Read every file once, in the order given, in isolated workers (see intake),
    which also work out the lines the rows' texts take in the master (see fit.py)."""
    from .fit import read_and_fit

    return read_returns(plan, files, workers=workers, progress=progress, job=read_and_fit)


def score(plan: Plan, returns: list[Return], issues: list[Issue],
          reviews: dict[str, float], store: RowStore | None = None,
          received: Received | None = None) -> MergeResult:
    """Choose one return per unit and score; pure given the returns read (and the
    collect logs, which settle ties of save time: see :func:`ranked`)."""
    by_unit: dict[str, list[Return]] = {}
    rejected = []
    for ret in returns:
        if ret.usable and ret.unit:
            by_unit.setdefault(ret.unit, []).append(ret)
        else:
            rejected.append(ret)

    statuses = []
    for unit in plan.units:
        candidates = ranked(by_unit.get(unit.name, []), received)
        if not candidates:
            named = [r.name for r in rejected if unit.name in r.name]
            hint = f"（收到無法使用的檔案：{'、'.join(named)}）" if named else ""
            issues.append(Issue("missing-return", f"「{unit.name}」未繳交填報表{hint}。", ERROR,
                                unit=unit.name))
            statuses.append(UnitStatus(unit.name, STATUS_MISSING))
            continue
        if chosen_of(candidates) is None:
            status = _only_blank(unit.name, candidates)
            issues.extend(status.told)
            statuses.append(status)
            continue
        status = _chosen(plan, unit.name, candidates, rejected, received)
        # A newer return replaces the older ones completely: only its problems count,
        # and what was said about the choice (a superseded file's untrusted time too).
        issues.extend(status.ret.issues if status.ret else [])
        issues.extend(status.told)
        statuses.append(status)
    superseded = {id(r) for s in statuses for r in s.superseded}
    for ret in rejected:
        if id(ret) in superseded:
            continue
        issues.extend(ret.issues)
        if not any(i.is_error for i in ret.issues):  # nothing dropped silently
            issues.append(Issue("unrecognized", f"「{ret.name}」無法使用。", file=ret.name))
    rejected = [r for r in rejected if id(r) not in superseded]

    from ..forms.revisions import changes_from_returns

    result = MergeResult(plan=plan, units=statuses, items=[], dimensions=[], total=0, grade="",
                         issues=issues, rejected=rejected, store=store,
                         changes=changes_from_returns(plan, statuses))
    items = result.items
    for item in plan.items:
        entries = result.entries_for(item)
        self_score, all_out = item_self_score(list(entries.values()))
        review = reviews.get(item.id)
        if all_out and review is None:  # a 複評 settles the item
            issues.append(Issue("all-not-applicable", f"項目「{item.id}」的主辦單位全部填「"
                                f"{plan.info.not_applicable}」，本項以 0 分計；請確認。", WARNING,
                                sheet=SCORE_SHEET, field="自評"))
        if review is None:
            _revision_warnings(plan, item, entries, issues)
        items.append(ItemResult(item, self_score, review, adopted_score(self_score, review),
                                all_out, result))

    result.dimensions = [(d, dimension_score(r.adopted for r in items
                                             if r.item.dimension == d.code))
                         for d in plan.dimensions]
    result.total = dimension_score(s for _, s in result.dimensions)
    result.grade = plan.grade_for(result.total)
    return result


def _revision_warnings(plan: Plan, item: Item, entries: dict[str, Entry],
                       issues: list[Issue]) -> None:
    """For the secretariat, on the item: what a plan revision did to its score. Not
    the units' fault, so no unit is named as the one to fix anything."""
    capped = {u: e.capped_from for u, e in entries.items() if e.capped_from is not None}
    if capped:
        given = "、".join(f"{u} {fmt_number(v)} 分" for u, v in capped.items())
        issues.append(Issue("revised-points", f"項目「{item.id}」的配分已修訂為 {fmt_number(item.points)}；"
                            f"依原配分所給的自評（{given}）暫以新配分計，請於「{SCORE_SHEET}」填寫複評確認。",
                            WARNING, sheet=SCORE_SHEET, field="自評"))
    new = [u for u, e in entries.items() if e.new]
    if new:
        issues.append(Issue("new-item-unreported", f"項目「{item.id}」是計畫修訂後新增的項目，"
                            f"{'、'.join(new)} 使用的是修訂前的填報表，尚未填報此項（暫以 0 分計）；"
                            "可以 xltool template --from-returns 產生預填的新填報表請其補填。",
                            WARNING, sheet=SCORE_SHEET, field="自評"))


def _chosen(plan: Plan, unit: str, candidates: list[Return], rejected: list[Return],
            received: Received | None) -> UnitStatus:
    """The unit's status with the first of ``candidates`` used, and why each other is not."""
    chosen, older = candidates[0], candidates[1:]
    older += [r for r in rejected if r.unit == unit and is_older(r, chosen)]
    status = UnitStatus(unit, STATUS_ERRORS if chosen.errors else STATUS_DONE, chosen, older)
    for old in older:
        if old.usable and old.saved is None:  # its own warning says why (recognise.trusted_time)
            status.told += [i for i in old.issues if i.code == "implausible-time"]
        why = why_not(plan, unit, old, chosen, candidates, received)
        status.why[id(old)] = why
        status.told.append(why)
    return status


def _only_blank(unit: str, candidates: list[Return]) -> UnitStatus:
    """A unit whose every file has nothing filled in: it has not returned (a blank
    template sent back is what an acknowledgement or a mistaken attachment looks like),
    so it is reminded, not sent a list of every empty cell to correct."""
    names = "、".join(f"「{r.name}」" for r in candidates)
    status = UnitStatus(unit, STATUS_MISSING, None, list(candidates))
    status.told.append(Issue("missing-return", f"「{unit}」未繳交填報表：收到的{names}沒有填寫任何內容，"
                             "視為未繳。", ERROR, unit=unit))
    for ret in candidates:
        why = Issue("blank-return", f"「{ret.name}」沒有填寫任何內容（空白的填報表），視為未繳，"
                    "其檢核結果不列入。", file=ret.name, unit=unit)
        status.why[id(ret)] = why
        status.told.append(why)
    return status



_NO_ROW, _EXCLUDED = Entry(0.0), Entry(None, excluded=True)  # (frozen: shared)


def _entry(plan: Plan, row: Row | None, capped_from: float | None = None,
           shared: dict[tuple, Entry] | None = None) -> Entry:
    """A unit's contribution to an item: no return or no row counts 0. ``shared``
    holds the entries made so far, so that equal ones are one object (by kind of
    number too: 1 and 1.0, or 0.0 and -0.0, are told apart)."""
    if row is None:
        return _NO_ROW
    value = row.values.get(SCORE_FIELD)
    if value is None and row.values.get(STATUS_FIELD) == plan.info.not_applicable:
        return _EXCLUDED
    invalid = value is None and SCORE_FIELD in row.invalid
    if shared is None or capped_from is not None or (type(value) is float and not value):
        return Entry(value, invalid=invalid, capped_from=capped_from)
    key = (type(value), value, invalid)
    entry = shared.get(key)
    if entry is None:
        entry = shared[key] = Entry(value, invalid=invalid)
    return entry
