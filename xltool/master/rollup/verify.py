"""Verify one branch's master without its plan file.

The master is untrusted (people edited it, in any program), so it is read
through the reading layer in isolated workers, and only values are used:

1. its identity (:mod:`xltool.master.sheets.identity`) is read, and the digest
   over it recomputed: it must match the digest on the sheet and, when the file
   still has it, the custom document property;
2. the plan the identity describes is rebuilt, and the master scored again
   under it by :func:`~xltool.master.documents.outcome.read_outcome` (the same
   scorer as `xltool report`: 明細's self-scores, 評分's 複評 within 0 … 配分,
   never a cached formula value), which also refuses a master whose 評分 or 明細
   do not fit that plan (a 配分 cell edited, an item or a lead missing);
3. every item's units' contributions, recomputed from 明細, must match what
   the merge recorded: a 自評分數 edited afterwards is found here.

A master that fails is one :class:`~xltool.errors.Issue` naming the file and
the reason, and is left out (:class:`Unverified`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from ...cells import fmt_number, local_text, norm_text, to_number
from ...errors import WARNING, Issue
from ...files import display_name
from ...forms.identity import implausible_time, saved_instant
from ...plan import Dimension, GradeBand, Item, Plan, PlanInfo, Unit
from ...reading.workbook import Rejected, read_workbook
from ..documents.outcome import MasterMismatch, Outcome, read_outcome
from ..sheets import identity as ID

MAX_IDENTITY_ROWS = 100_000  # items, units, 構面 and bands of the largest plan, with room


@dataclass(frozen=True)
class Scheme:
    """What every branch of one roll-up shares: the year, the period, the 構面 and points."""

    year: int
    period: str
    dimensions: tuple[tuple[str, float], ...]

    def describe(self) -> str:
        dims = "、".join(f"{name} {fmt_number(points)} 分" for name, points in self.dimensions)
        return f"{self.year} 年度，{self.period}，{dims}"


@dataclass
class Branch:
    """One verified master: whose it is, when it was saved, and its scores."""

    path: Path
    name: str  # the file's name, as messages show it
    agency: str  # 機關名稱: the branch
    scheme: Scheme
    bands: tuple[GradeBand, ...]
    outcome: Outcome
    saved: datetime | None  # the instant the file says it was saved (aware), if it says and it can be
    order: int = 0  # its place among the masters given
    untrusted: Issue | None = None  # why the time the file says it was saved is not believed
    notes: list[Issue] = field(default_factory=list)  # the scorer's warnings (a 複評 that is no number)

    @property
    def plan(self) -> Plan:
        return self.outcome.plan


class Unverified(Exception):
    """The master cannot be verified; ``issue`` says which file and why."""

    def __init__(self, issue: Issue):
        self.issue = issue
        super().__init__(issue.message)


def verify_master(path: Path, order: int = 0, name: str = "") -> Branch:
    """The branch ``path`` is the master of, verified. Raises :class:`Unverified`.
    ``name``: the file as messages call it (default: its name)."""
    path = Path(path)
    name = name or display_name(path)
    try:
        wb = read_workbook(path, only={ID.IDENTITY_SHEET}, max_rows=MAX_IDENTITY_ROWS)
    except Rejected as exc:
        raise Unverified(Issue("master-unverified", f"無法讀取「{name}」：{exc.issue.message}", file=name)) from None
    sheet = wb.sheets.get(ID.IDENTITY_SHEET)
    if sheet is None or not sheet.rows:
        raise _unverified(name, f"「{name}」沒有總表識別資料（工作表「{ID.IDENTITY_SHEET}」），不是 xltool merge "
                                "產生的總表，或是以舊版 xltool 產生；請該單位重新執行 xltool merge。")
    records, stated = _records(sheet.rows)
    if stated is None or ID.records_digest(records) != stated:
        raise _unverified(name, f"「{name}」的總表識別資料與其摘要碼不符（識別資料被修改過）。", "master-tampered")
    prop = wb.properties.get(ID.DIGEST_PROPERTY)
    if prop is not None and prop != stated:
        raise _unverified(name, f"「{name}」的文件摘要資訊與總表識別資料不是同一份總表（{prop[:12]}… 與 "
                                f"{stated[:12]}…）。", "master-tampered")
    plan, recorded = _plan(records, name)
    try:
        outcome = read_outcome(plan, path)
    except MasterMismatch as exc:
        where = "；".join(i.message for i in exc.issues[:3])
        first = exc.issues[0] if exc.issues else None
        if exc.missing_sheet:  # the identity is there: the sheet was renamed or deleted since
            where = (f"找不到工作表「{exc.missing_sheet}」（可能被改名或刪除；請改回原名，或請該單位重新執行 "
                     "xltool merge）")
        raise Unverified(Issue("master-tampered", f"「{name}」的內容與其識別資料不符：{where}", file=name,
                               sheet=first.sheet if first else ID.IDENTITY_SHEET,
                               cell=first.cell if first else "")) from None
    except Rejected as exc:
        raise _unverified(name, f"無法讀取「{name}」：{exc.issue.message}") from None
    _check_entries(outcome, recorded, name)
    errors = [i for i in outcome.issues if i.is_error]
    if errors:
        raise Unverified(Issue("master-unverified", f"「{name}」有 {len(errors)} 個錯誤，不採計：{errors[0].message}",
                               file=name, sheet=errors[0].sheet, cell=errors[0].cell, field=errors[0].field,
                               value=errors[0].value, expected=errors[0].expected))
    scheme = Scheme(plan.info.year, plan.info.period, tuple((d.name, d.points) for d in plan.dimensions))
    saved, untrusted = _saved(wb, path, name, plan)
    return Branch(path, name, plan.info.agency, scheme, tuple(plan.grades), outcome, saved, order, untrusted,
                  [i for i in outcome.issues if not i.is_error])


def _saved(wb, path: Path, name: str, plan: Plan) -> tuple[datetime | None, Issue | None]:
    """When the master was saved, unless the time cannot be true (a clock in the
    future, or a year before the plan's): such a time must not make it "the later"."""
    saved = saved_instant(wb.saved, wb.producer, path.suffix, plan.zone)
    problem = implausible_time(saved, "", plan.info.year, plan.zone) if saved is not None else ""
    if not problem:
        return saved, None
    return None, Issue("implausible-time", f"「{name}」記錄的存檔時間（{local_text(saved, plan.zone)}）{problem}，"
                       "不可信；同一單位有多份總表時，挑選最新的一份不採用此時間。", WARNING, file=name)


def _unverified(name: str, message: str, code: str = "master-unverified") -> Unverified:
    return Unverified(Issue(code, message, file=name, sheet=ID.IDENTITY_SHEET if code == "master-tampered" else ""))


def _records(rows: list[list]) -> tuple[list[list[str]], str | None]:
    """The identity's records (trailing blanks dropped) and the digest it states."""
    records: list[list[str]] = []
    stated = None
    for row in rows:
        cells = ["" if v is None else str(v) for v in row]
        while cells and cells[-1] == "":
            cells.pop()
        if not cells:
            continue
        if cells[0] == ID.DIGEST:
            stated = cells[1] if len(cells) > 1 else ""
            break
        records.append(cells)
    return records, stated


def _plan(records: list[list[str]], name: str) -> tuple[Plan, dict[str, tuple[str, str]]]:
    """The plan the identity describes (as much of it as scoring needs), and what the
    merge recorded per item: (自評, digest of its units' contributions)."""
    try:
        if not records or records[0][:2] != [ID.HEAD, ID.VERSION]:
            raise ValueError("version")
        info = {r[1]: (r[2] if len(r) > 2 else "") for r in records if r[0] == ID.INFO}
        dims = [Dimension(r[1], r[2], float(to_number(r[3]))) for r in records if r[0] == ID.DIMENSION]
        grades = [GradeBand(r[1], float(to_number(r[2]))) for r in records if r[0] == ID.GRADE]
        units = [Unit(r[1]) for r in records if r[0] == ID.UNIT]
        items, recorded = [], {}
        for r in (r for r in records if r[0] == ID.ITEM):
            items.append(Item(r[1], r[2], "", "", "", "", None, "", float(to_number(r[3])), tuple(r[6:])))
            recorded[r[1]] = (r[4], r[5])
        year = int(info["年度"])
        plan_info = PlanInfo(name=info["計畫名稱"], agency=info["機關名稱"], year=year, period=info["填報期間"],
                             review_month=info["考核年月"], deadline=date(1911 + year, 12, 31),
                             not_applicable=info["不適用選項"])
    except (KeyError, IndexError, ValueError, OverflowError):
        raise _unverified(name, f"「{name}」的總表識別資料不完整或格式不符（工作表「{ID.IDENTITY_SHEET}」）。",
                          "master-tampered") from None
    if not dims or not items or not norm_text(plan_info.agency):
        raise _unverified(name, f"「{name}」的總表識別資料沒有構面、項目或機關名稱。", "master-tampered")
    return Plan(info=plan_info, dimensions=dims, units=units, items=items, grades=grades, lists={}), recorded


def _check_entries(outcome: Outcome, recorded: dict[str, tuple[str, str]], name: str) -> None:
    """Each item's units' contributions, recomputed from 明細, against the merge's record."""
    changed = []
    for res in outcome.items:
        pairs = [(unit, ID.entry_key(e.score, e.excluded)) for unit, e in res.entries]
        self_score, digest = recorded[res.item.id]
        if ID.entries_digest(pairs) != digest or fmt_number(res.self_score) != self_score:
            changed.append(f"{res.item.id}（彙整時自評 {self_score}，依「明細」重算為 {fmt_number(res.self_score)}）")
    if changed:
        more = f"等 {len(changed)} 項" if len(changed) > 3 else ""
        raise Unverified(Issue("master-tampered", f"「{name}」的「明細」中自評分數在彙整後被修改過：項目 "
                                                  f"{'、'.join(changed[:3])}{more}。", file=name, sheet="明細"))
