"""The roll-up: one row per branch, from the verified masters, plus what sums them up.

- One scheme: the year, the period and the 構面 with their points, shared by
  the most masters (the first given, on a tie); masters of another scheme are
  refused.
- One branch, one row: of two masters with the same 機關名稱, the one saved
  later is used (then the one given later) and the other reported.
- Rows in the roster's order, numbered 1…N; a roster branch that sent nothing
  usable is a row too, marked 未繳. Without a roster, by name.
- Grades by the roster's bands, else by the masters' own, which must agree.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from ...cells import excel_round, fmt_number
from ...errors import WARNING, Issue
from ...plan import GradeBand, grade_for
from ..documents.content import AGENCY_KIND
from .roster import Roster
from .verify import Branch, Scheme, Unverified, verify_master

MISSING, REFUSED = "未繳", "不採計"


@dataclass
class Row:
    number: int
    name: str  # 受考核單位名稱: the roster's name, or the master's 機關名稱
    branch: Branch | None = None  # None: nothing usable came
    scores: list[float] = field(default_factory=list)  # per 構面
    total: float | None = None
    grade: str = ""
    review_month: str = ""
    note: str = ""  # 未繳 / 不採計 where there is no branch

    @property
    def agency(self) -> str:
        """實施考核機關: the branch assessed itself."""
        return self.branch.agency if self.branch else self.name


@dataclass
class Rollup:
    scheme: Scheme | None
    bands: list[GradeBand]
    rows: list[Row]
    issues: list[Issue]
    title: str = ""  # 附表2's title
    agency: str = ""  # the 局, when the branches' names share it

    @property
    def counted(self) -> list[Row]:
        return [r for r in self.rows if r.branch is not None]

    def column(self, k: int) -> list[float]:
        """The counted rows' scores of 構面 ``k`` (or the totals, for k = number of 構面)."""
        n = len(self.scheme.dimensions) if self.scheme else 0
        return [(r.total or 0.0) if k == n else r.scores[k] for r in self.counted]

    def stats(self, k: int) -> tuple[float, float, float] | None:
        """(mean, highest, lowest) of a column, rounded as Excel's ROUND; None without rows."""
        values = self.column(k)
        if not values:
            return None
        return excel_round(sum(values) / len(values), 2), max(values), min(values)

    def distribution(self) -> list[tuple[str, int]]:
        counts = Counter(r.grade for r in self.counted)
        return [(b.grade, counts.get(b.grade, 0)) for b in sorted(self.bands, key=lambda b: -b.minimum)]


_NEVER = datetime.min.replace(tzinfo=timezone.utc)


def rollup(masters: list[Path], roster: Roster | None = None, progress=None) -> Rollup:
    """Verify every master and roll them up; every problem is an issue, none stops the rest."""
    issues: list[Issue] = list(roster.issues) if roster else []
    branches: list[Branch] = []
    refused: dict[str, str] = {}  # file name → why, for the roster rows
    for n, path in enumerate(masters):
        try:
            branches.append(verify_master(path, n))
        except Unverified as exc:
            issues.append(exc.issue)
            refused[exc.issue.file] = exc.issue.message
        if progress:
            progress(path)
    scheme = _scheme(branches, issues)
    branches = [b for b in branches if b.scheme == scheme]
    chosen = _latest(branches, issues)
    bands = _bands(chosen, roster, issues)
    rows = _rows(chosen, roster, issues, bands, refused)
    out = Rollup(scheme, bands, rows, issues)
    out.agency, out.title = _title(chosen)
    return out


def _scheme(branches: list[Branch], issues: list[Issue]) -> Scheme | None:
    if not branches:
        return None
    counts = Counter(b.scheme for b in branches)
    best = max(counts.values())
    scheme = next(b.scheme for b in branches if counts[b.scheme] == best)
    for b in branches:
        if b.scheme != scheme:
            issues.append(Issue("other-scheme", f"「{b.name}」（{b.agency}）的考核架構是「{b.scheme.describe()}」，"
                                f"與其他總表的「{scheme.describe()}」不同，不採計。", file=b.name, unit=b.agency,
                                value=b.scheme.describe()[:80], expected=scheme.describe()[:80]))
    return scheme


def _latest(branches: list[Branch], issues: list[Issue]) -> dict[str, Branch]:
    """One master per branch: the latest saved (then the later given)."""
    by_agency: dict[str, list[Branch]] = {}
    for b in branches:
        by_agency.setdefault(b.agency, []).append(b)
    chosen = {}
    for agency, group in by_agency.items():
        group.sort(key=lambda b: (b.saved or _NEVER, b.order), reverse=True)
        chosen[agency] = group[0]
        for old in group[1:]:
            issues.append(Issue("duplicate-branch", f"「{agency}」有多份總表：採用存檔時間較晚的「{group[0].name}」，"
                                f"「{old.name}」不採用。", WARNING, file=old.name, unit=agency))
    return chosen


def _bands(chosen: dict[str, Branch], roster: Roster | None, issues: list[Issue]) -> list[GradeBand]:
    if roster is not None and roster.bands:
        return list(roster.bands)
    found = [b for b in chosen.values()]
    if not found:
        return []
    first = found[0]
    for b in found[1:]:
        if sorted(b.bands, key=lambda g: -g.minimum) != sorted(first.bands, key=lambda g: -g.minimum):
            issues.append(Issue("bands-disagree", f"「{b.name}」（{b.agency}）的等第標準與「{first.name}」不同；"
                                f"暫依「{first.name}」的標準評定等第，請在名冊的「等第」工作表訂定。", file=b.name,
                                unit=b.agency))
    return list(first.bands)


def _rows(chosen: dict[str, Branch], roster: Roster | None, issues: list[Issue], bands: list[GradeBand],
          refused: dict[str, str]) -> list[Row]:
    rows: list[Row] = []
    left = dict(chosen)
    if roster is not None:
        for name in roster.names:
            agency = _match(name, left)
            if agency is None:
                why = [f for f, message in refused.items() if name in message]
                issues.append(Issue("missing-branch", f"名冊中的「{name}」沒有可採計的總表"
                                    + (f"（「{'、'.join(why)}」不採計，原因見上）。" if why else "。"), unit=name))
                rows.append(Row(len(rows) + 1, name, note=REFUSED if why else MISSING))
            else:
                rows.append(_row(len(rows) + 1, name, left.pop(agency), bands))
        for agency in sorted(left):
            issues.append(Issue("not-in-roster", f"「{left[agency].name}」的「{agency}」不在名冊中，列在最後。",
                                file=left[agency].name, unit=agency))
    for agency in sorted(left):
        rows.append(_row(len(rows) + 1, agency, left[agency], bands))
    return rows


def _match(name: str, left: dict[str, Branch]) -> str | None:
    """The branch a roster name means: the same name, or the one name it ends."""
    if name in left:
        return name
    ends = [a for a in left if a.endswith(name) or name.endswith(a)]
    return ends[0] if len(ends) == 1 else None


def _row(number: int, name: str, branch: Branch, bands: list[GradeBand]) -> Row:
    outcome = branch.outcome
    total = outcome.total
    return Row(number, name, branch, [s for _, s in outcome.dimensions], total, grade_for(total, bands),
               outcome.plan.info.review_month)


def _title(chosen: dict[str, Branch]) -> tuple[str, str]:
    """The 局 (the longest agency name that starts every branch's name) and 附表2's
    title, as the seed words it: 經濟部標準檢驗局 109 年度提升服務效能自行考核結果統計表."""
    if not chosen:
        return "", "自行考核結果統計表"
    agencies = sorted(chosen)
    head = agencies[0]
    for a in agencies[1:]:
        while head and not a.startswith(head):
            head = head[:-1]
    while head and not AGENCY_KIND.search(head):
        head = head[:-1]
    first = chosen[agencies[0]].plan.info
    scheme = re.sub(r"(執行|實施)?計畫$", "", first.name.strip())
    if scheme.startswith(first.agency):
        scheme = scheme[len(first.agency):].strip()
    head = head or (first.agency if len(agencies) == 1 else "")
    return head, f"{head} {scheme}自行考核結果統計表".strip()


def fmt(value: float | None) -> str:
    return fmt_number(value) if value is not None else ""
