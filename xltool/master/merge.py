"""Merge returns into one scored result: recognise, check, choose, score.

:func:`merge` reads every file once, keeps every row (flagged when wrong),
picks the latest return per unit, lists the units that sent nothing, and
scores with the pure functions of :mod:`xltool.scoring`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING

from ..cells import fmt_number, local_text
from ..errors import ERROR, WARNING, Issue
from ..forms import fields as F
from ..intake import Return, Row, discover, read_returns
from ..intake.log import Received
from ..plan import Dimension, Item, Plan
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
    store: RowStore | None = field(default=None, repr=False)
    _by_unit: dict[str, UnitStatus] = field(default_factory=dict, repr=False)
    # The last item's rows and entries: the sheets and the report ask for one item's
    # several times in a row, and each time costs a read of the row store.
    _last: dict[str, tuple] = field(default_factory=dict, repr=False)
    _entries: tuple[tuple, dict[str, dict[str, Entry]]] = field(
        default=((), {}), repr=False)  # (valid for which units, item → entries)

    def _remembered(self, kind: str, item: Item, compute):
        key = (item.id, id(self.units), len(self.units))
        last = self._last.get(kind)
        if last is None or last[0] != key:
            last = self._last[kind] = (key, compute(item))
        return last[1]

    def rows_of_item(self, item: Item) -> dict[str, Row]:
        """The rows the chosen returns hold for one item, by unit."""
        return dict(self._remembered("rows", item, self._rows_of_item))

    def _rows_of_item(self, item: Item) -> dict[str, Row]:
        stored = self.store.rows_of_item(item.id) if self.store else None
        out: dict[str, Row] = {}
        for unit in item.leads:
            ret = self.status_of(unit).ret
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
        """Lead unit → its contribution to ``item``. Scoring, 評分, 總表識別 and the
        report each ask for every item's; while they are few enough to hold (a few
        MB), each item's are read from the rows once."""
        if _leads_total(self.plan) > ENTRIES_KEPT:
            return dict(self._remembered("entries", item, self._entries_for))
        key = (id(self.units), len(self.units))
        if self._entries[0] != key:
            self._entries = (key, {})
        found = self._entries[1].get(item.id)
        if found is None:
            found = self._entries[1][item.id] = self._entries_for(item)
        return dict(found)

    def _entries_for(self, item: Item) -> dict[str, Entry]:
        rows = self.rows_of_item(item)
        out = {}
        for unit in item.leads:
            ret = self.status_of(unit).ret
            if ret is not None and item.id in ret.new_items:
                out[unit] = Entry(0.0, new=True)
            else:
                out[unit] = _entry(self.plan, rows.get(unit), ret.capped.get(item.id) if ret else None)
        return out

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    def status_of(self, unit: str) -> UnitStatus:
        if len(self._by_unit) != len(self.units):
            self._by_unit = {s.unit: s for s in self.units}
        return self._by_unit[unit]

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

    known = {i.id for i in plan.items}
    for item_id in sorted(set(reviews) - known):
        issues.append(Issue("orphan-review", f"總表中編號「{item_id}」的複評 {reviews[item_id]} 對應的項目已不在"
                            "計畫中，未採計；請確認。", WARNING, sheet=SCORE_SHEET, field="複評",
                            value=str(reviews[item_id])))

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


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def ranked(candidates: list[Return], received: Received | None = None) -> list[Return]:
    """A unit's usable returns, the one to use first. The rule (README, 繳交狀態):

    1. the latest trusted save time (see metadata.saved_instant, recognise.trusted_time);
       a file whose time is not trusted, or that records none, loses to any that has one;
    2. files saved at the same instant (or all without a trusted time): identical
       copies count once, under the shortest name (the original, not 「 - 複製」);
       then the file the collect log says arrived later, when it knows every one;
    3. else the file with fewer errors, then fewer warnings (a correction is sent to
       fix what was wrong);
    4. else the longer file name (a correction is usually saved under the old name
       with 「(修正)」「_v2」 added), then the name that sorts last (第二版, v2).

    The streamed master chooses with this same function (streaming.py)."""
    groups: dict[tuple, list[Return]] = {}
    for ret in candidates:
        groups.setdefault(_saved_key(ret), []).append(ret)
    out: list[Return] = []
    for key in sorted(groups, reverse=True):
        out += _break_tie(groups[key], received) if len(groups[key]) > 1 else groups[key]
    return out


def _saved_key(ret: Return):
    """Latest first, by the instant each file was saved; no trusted time: last."""
    return ret.saved is not None, ret.saved or _NEVER


def _name_key(ret: Return):
    return len(ret.path.stem), ret.name, str(ret.path)


def _break_tie(group: list[Return], received: Received | None) -> list[Return]:
    """Files with one save time (see :func:`ranked`), the one to use first."""
    copies = _copies(group)
    originals = [same[0] for same in copies.values()]
    by_log = _by_log(originals, received)
    out: list[Return] = []
    for first in sorted(originals, key=lambda r: (_received_at(r, received) if by_log else _NEVER,
                                                  _fewer_problems(r), _name_key(r)), reverse=True):
        out += copies[first.sha256 or f"#{id(first)}"]
    return out


def _copies(group: list[Return]) -> dict[str, list[Return]]:
    """Files by content (SHA-256), each content's shortest name first."""
    copies: dict[str, list[Return]] = {}
    for ret in sorted(group, key=_name_key):
        copies.setdefault(ret.sha256 or f"#{id(ret)}", []).append(ret)
    return copies


def _fewer_problems(ret: Return) -> tuple[int, int]:
    """Higher for fewer errors, then fewer warnings."""
    return -ret.errors, -ret.warnings


def _by_log(files: list[Return], received: Received | None) -> bool:
    """Whether the collect log settles a tie: it knows when each file arrived, not all at once."""
    times = [_received_at(r, received) for r in files]
    return all(t is not None for t in times) and len(set(times)) > 1


def _received_at(ret: Return, received: Received | None) -> datetime | None:
    """When the collect log says the message carrying ``ret`` was sent (aware), if it knows."""
    record = received.returns.get(ret.name) if received is not None else None
    try:
        when = datetime.fromisoformat(str(record.get("date", ""))) if record else None
    except ValueError:
        return None
    return when.astimezone(timezone.utc) if when is not None and when.tzinfo else None


def _is_older(ret: Return, than: Return) -> bool:
    return ret.saved is not None and than.saved is not None and ret.saved < than.saved


def _chosen(plan: Plan, unit: str, candidates: list[Return], rejected: list[Return],
            received: Received | None) -> UnitStatus:
    """The unit's status with the first of ``candidates`` used, and why each other is not."""
    chosen, older = candidates[0], candidates[1:]
    older += [r for r in rejected if r.unit == unit and _is_older(r, chosen)]
    status = UnitStatus(unit, STATUS_ERRORS if chosen.errors else STATUS_DONE, chosen, older)
    for old in older:
        if old.usable and old.saved is None:  # its own warning says why (recognise.trusted_time)
            status.told += [i for i in old.issues if i.code == "implausible-time"]
        why = _why_not(plan, unit, old, chosen, candidates, received)
        status.why[id(old)] = why
        status.told.append(why)
    filled = [r for r in older if r.usable and _filled(r)]
    if filled and not _filled(chosen):
        status.told.append(Issue(
            "blank-return-chosen", f"採用的「{chosen.name}」是存檔時間最晚的檔案，但沒有填寫任何內容；被取代的"
            f"「{filled[0].name}」有填寫。可能是空白的填報表開啟後又存檔寄回。請向「{unit}」確認：若應採用"
            f"「{filled[0].name}」，請將「{chosen.name}」移出回收資料夾後重新執行。", WARNING,
            file=chosen.name, unit=unit))
    return status


def _why_not(plan: Plan, unit: str, old: Return, chosen: Return, candidates: list[Return],
             received: Received | None) -> Issue:
    """Why ``old`` is superseded by ``chosen``, truthfully (see :func:`ranked`)."""
    zone = plan.zone
    confirm = (f"請向「{unit}」確認：若應採用「{old.name}」，請將「{chosen.name}」移出回收資料夾後重新執行。")
    if old.sha256 and old.sha256 == chosen.sha256:
        return Issue("duplicate-return", f"「{old.name}」與採用的「{chosen.name}」內容完全相同（重複的檔案），"
                     "只採用一份。", file=old.name, unit=unit)
    if _is_older(old, chosen) or not old.usable:
        return Issue("superseded", f"「{old.name}」（存檔時間 {local_text(old.saved, zone, seconds=True)}）"
                     f"已由存檔時間較晚的「{chosen.name}」（{local_text(chosen.saved, zone, seconds=True)}）"
                     "取代，不採用，其檢核結果不列入。", file=old.name, unit=unit)
    if old.saved is None and chosen.saved is not None:
        return Issue("superseded-untimed", f"「{old.name}」{_untimed(plan, old)}，無法判斷是否比「{chosen.name}」"
                     f"（存檔時間 {local_text(chosen.saved, zone, seconds=True)}）新；已採用存檔時間可信的"
                     f"「{chosen.name}」，本檔不採用，其檢核結果不列入。{confirm}", file=old.name, unit=unit)
    if chosen.saved is not None:
        same = f"與「{chosen.name}」的存檔時間相同（{local_text(chosen.saved, zone, seconds=True)}）"
    else:
        same = (f"與「{chosen.name}」的存檔時間都無法採用（本檔{_untimed(plan, old, brief=True)}；"
                f"「{chosen.name}」{_untimed(plan, chosen, brief=True)}）")
    tied = [same[0] for same in _copies([r for r in candidates if r.saved == chosen.saved]).values()]
    return Issue("same-save-time", f"「{old.name}」{same}，但內容不同，無法依存檔時間判斷哪一份較新；"
                 f"{_tie_rule(old, chosen, tied, received, zone)}，暫採用「{chosen.name}」，本檔不採用。{confirm}",
                 file=old.name, unit=unit)


def _untimed(plan: Plan, ret: Return, brief: bool = False) -> str:
    """Why a file's save time is not used: none recorded, or not to be trusted
    (``brief``: without the reason, which the file's own warning gives)."""
    from ..intake.recognise import ZONE_HINT, time_problem

    if ret.stated is None:
        return "沒有記錄存檔時間"
    if brief:
        return f"記錄的存檔時間 {local_text(ret.stated, plan.zone)} 不可信"
    problem, zone_hint = time_problem(plan, ret.stated, ret.generated, ret.path.suffix, ret.producer)
    return (f"記錄的存檔時間（{local_text(ret.stated, plan.zone)}）" + (f"{problem}，不可信" if problem else "不可信")
            + (f"（{ZONE_HINT}）" if zone_hint else ""))


def _tie_rule(old: Return, chosen: Return, tied: list[Return], received: Received | None,
              zone) -> str:
    """The rule that put ``chosen`` before ``old`` among files of one save time, in words."""
    if _by_log(tied, received):
        sent_old, sent_chosen = _received_at(old, received), _received_at(chosen, received)
        if sent_old is not None and sent_chosen is not None and sent_old != sent_chosen:
            return (f"依收件紀錄，「{chosen.name}」較晚寄達（{local_text(sent_chosen, zone)}；"
                    f"本檔為 {local_text(sent_old, zone)}）")
    if _fewer_problems(chosen) != _fewer_problems(old):
        return (f"依檢核結果：採用問題較少的一份（「{chosen.name}」錯誤 {chosen.errors} 個、警告 {chosen.warnings} 個，"
                f"本檔錯誤 {old.errors} 個、警告 {old.warnings} 個；更正後的檔案通常問題較少）")
    if len(chosen.path.stem) != len(old.path.stem):
        return "依檔名規則：採用檔名較長的一份（更正後另存的檔案通常在原檔名後加上「(修正)」「_v2」等字）"
    return "依檔名規則：檔名長度相同時，採用依字碼排序在後的一份（例如「第二版」在「第一版」之後、v2 在 v1 之後）"


def _filled(ret: Return) -> bool:
    """Whether anything was entered in a return: an input cell of an item row, or the header."""
    blank = (None, "")
    return any(v not in blank for v in ret.header.values()) or any(
        v not in blank for row in ret.rows.values() for v in row.values.values())


def _entry(plan: Plan, row: Row | None, capped_from: float | None = None) -> Entry:
    """A unit's contribution to an item: no return or no row counts 0."""
    if row is None:
        return Entry(0.0)
    value = row.values.get(SCORE_FIELD)
    if value is None and row.values.get(STATUS_FIELD) == plan.info.not_applicable:
        return Entry(None, excluded=True)
    return Entry(value, invalid=value is None and SCORE_FIELD in row.invalid,
                 capped_from=capped_from)
