"""Every file the merge considered, unit by unit, in the order people read them:
units missing first, then those in error, then the rest; each unit's superseded
files under it; the files that could not be used at the end. The terminal's
status table and the 繳交狀態 sheet are both drawn from this one list."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import Issue
from ..intake import Return
from .choice import blank
from .merge import STATUS_MISSING, STATUS_ORDER, SUPERSEDED, MergeResult, UnitStatus

UNUSABLE = "無法使用"
UNRECOGNISED_UNIT = "（無法辨識）"
BLANK = "空白（未填寫）"  # a file with nothing entered: no return, whatever else the unit sent


@dataclass(frozen=True)
class Listed:
    unit: str
    label: str  # 已繳, 未繳, 有誤, 已取代（未採用）, 空白（未填寫） or 無法使用
    status: str  # the unit's status (for a rejected file: UNUSABLE)
    ret: Return | None
    why: Issue | None = None  # a superseded file: why it is not the one used


def listing(result: MergeResult) -> Iterator[Listed]:
    for s in _in_order(result):
        yield Listed(s.unit, s.status, s.status, s.ret)
        for old in s.superseded:
            label = BLANK if blank(old) else f"{SUPERSEDED}（未採用）"
            yield Listed(s.unit, label, s.status, old, s.why.get(id(old)))
    for ret in result.rejected:
        yield Listed(ret.unit or UNRECOGNISED_UNIT, UNUSABLE, UNUSABLE, ret)


def _in_order(result: MergeResult) -> list[UnitStatus]:
    """The units as people read them: missing first, then in error, then the rest."""
    order = {u.name: i for i, u in enumerate(result.plan.units)}
    return sorted(result.units, key=lambda s: (STATUS_ORDER[s.status], order[s.unit]))


def choice_issues(result: MergeResult) -> list[Issue]:
    """What was said about each unit's return, in the order of the listing: that a unit
    sent nothing (the line ``merge`` prints too), why each superseded file is not used,
    a superseded file's untrusted time. What ``xltool status`` prints under its table."""
    missing: dict[str, list[Issue]] = {}
    for issue in result.issues:
        if issue.code == "missing-return" and issue.unit:
            missing.setdefault(issue.unit, []).append(issue)
    return [issue for s in _in_order(result)
            for issue in (s.told or (missing.get(s.unit, []) if s.status == STATUS_MISSING else []))]


def blank_only(result: MergeResult) -> dict[str, list[str]]:
    """Each 未繳 unit that sent only blank files: the names of those files (for the
    reminder, which must not say nothing arrived)."""
    return {s.unit: [r.name for r in s.superseded if blank(r)] for s in result.units
            if s.status == STATUS_MISSING and s.superseded and all(blank(r) for r in s.superseded)}
