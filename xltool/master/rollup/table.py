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

from ...cells import excel_round, fmt_number, local_text
from ...errors import WARNING, Issue
from ...plan import GradeBand, grade_for
from ..documents.content import AGENCY_KIND
from .roster import NAME_COLUMN, Roster
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
    given = _once(masters)
    shown = shown_names(given)
    for n, path in enumerate(given):
        try:
            branches.append(verify_master(path, n, shown[n]))
        except Unverified as exc:
            issues.append(exc.issue)
            refused[exc.issue.file] = exc.issue.message
        if progress:
            progress(path)
    scheme = _scheme(branches, issues)
    branches = [b for b in branches if b.scheme == scheme]
    issues += [b.untrusted for b in branches if b.untrusted is not None]
    chosen = _latest(branches, issues)
    issues += [note for b in chosen.values() for note in b.notes]
    bands = _bands(chosen, roster, issues)
    rows = _rows(chosen, roster, issues, bands, refused)
    out = Rollup(scheme, bands, rows, issues)
    out.agency, out.title = _title(chosen)
    return out


def shown_names(paths: list[Path]) -> list[str]:
    """How messages name each file: by its name, unless another file given has the same
    one (every 分局 sends 總表.xlsx), then with as many of its folders as tell them apart."""
    from ...files import display_name

    parts = [[display_name(p) for p in reversed([Path(path), *Path(path).parents][:-1])]
             for path in (Path(p).absolute() for p in paths)]
    depth = [1] * len(paths)
    while True:
        shown = ["/".join(p[-d:]) for p, d in zip(parts, depth)]
        clash = {s for s in shown if shown.count(s) > 1}
        grow = [i for i, s in enumerate(shown) if s in clash and depth[i] < len(parts[i])]
        if not grow:
            return shown
        for i in grow:
            depth[i] += 1


def _once(masters: list[Path]) -> list[Path]:
    """The masters given, each file once (a shell pattern and a name may both give it),
    in the order first given."""
    from ...files import real_path

    seen: dict[Path, Path] = {}
    for path in masters:
        seen.setdefault(real_path(Path(path)), Path(path))
    return list(seen.values())


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
            issues.append(Issue("duplicate-branch", f"「{agency}」有多份總表：{_why_chosen(group[0], old)}"
                                f"{_differs(group[0], old)}", WARNING, file=old.name, unit=agency))
    return chosen


def _why_chosen(used: Branch, other: Branch) -> str:
    """Why ``used`` and not ``other``, as true as the files' times allow."""
    if used.saved is not None and (other.saved is None or used.saved > other.saved):
        when = f"（{local_text(other.saved)}）" if other.saved else "（沒有可信的存檔時間）"
        return f"採用存檔時間較晚的「{used.name}」（{local_text(used.saved)}），「{other.name}」{when}不採用。"
    return (f"「{used.name}」與「{other.name}」的存檔時間相同（或都沒有可信的存檔時間），"
            f"採用指定順序較後的「{used.name}」，「{other.name}」不採用。")


def _differs(used: Branch, other: Branch) -> str:
    """A warning that the master left out scores otherwise: then which one is right matters."""
    if [s for _, s in used.outcome.dimensions] == [s for _, s in other.outcome.dimensions]:
        return ""
    return (f"兩份的成績不同（「{used.name}」總分 {fmt_number(used.outcome.total)} 分，「{other.name}」總分 "
            f"{fmt_number(other.outcome.total)} 分），請確認採用的是正確的一份；不是時請移除另一份後重新執行。")


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
                rows.append(_no_branch(len(rows) + 1, name, roster, _fits(name, left), refused, issues))
            else:
                rows.append(_row(len(rows) + 1, name, left.pop(agency), bands))
        for agency in sorted(left):
            issues.append(Issue("not-in-roster", f"「{left[agency].name}」的「{agency}」不在名冊中，列在最後。",
                                file=left[agency].name, unit=agency))
    for agency in sorted(left):
        rows.append(_row(len(rows) + 1, agency, left[agency], bands))
    return rows


def _no_branch(number: int, name: str, roster: Roster, fits: list[str], refused: dict[str, str],
               issues: list[Issue]) -> Row:
    """The row of a roster name no master is taken for, and why: it fits several
    branches, or its masters were refused, or none came."""
    if len(fits) > 1:
        issues.append(Issue("roster-invalid", f"名冊中的「{name}」同時符合「{'」、「'.join(fits)}」，無法判斷是哪一個"
                            "單位；請在名冊寫出全名。", file=roster.source, unit=name, field=NAME_COLUMN, value=name))
        return Row(number, name, note=MISSING)
    why = [f for f, message in refused.items() if name in message]
    issues.append(Issue("missing-branch", f"名冊中的「{name}」沒有可採計的總表"
                        + (f"（「{'、'.join(why)}」不採計，原因見上）。" if why else "。"), unit=name))
    return Row(number, name, note=REFUSED if why else MISSING)


def _match(name: str, left: dict[str, Branch]) -> str | None:
    """The branch a roster name means: the same name, or the one name it ends."""
    if name in left:
        return name
    ends = _fits(name, left)
    return ends[0] if len(ends) == 1 else None


def _fits(name: str, left: dict[str, Branch]) -> list[str]:
    """The branches a roster name is the ending of (or that are its ending)."""
    return sorted(a for a in left if a.endswith(name) or name.endswith(a))


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
