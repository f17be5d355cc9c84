"""Every file the merge considered, unit by unit, in the order people read them:
units missing first, then those in error, then the rest; each unit's superseded
files under it; the files that could not be used at the end. The terminal's
status table and the 繳交狀態 sheet are both drawn from this one list."""
from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ..errors import Issue
from ..intake import Return
from .merge import STATUS_ORDER, SUPERSEDED, MergeResult

UNUSABLE = "無法使用"
UNRECOGNISED_UNIT = "（無法辨識）"


@dataclass(frozen=True)
class Listed:
    unit: str
    label: str  # 已繳, 未繳, 有誤, 已取代（未採用） or 無法使用
    status: str  # the unit's status (for a rejected file: UNUSABLE)
    ret: Return | None
    why: Issue | None = None  # a superseded file: why it is not the one used


def listing(result: MergeResult) -> Iterator[Listed]:
    order = {u.name: i for i, u in enumerate(result.plan.units)}
    for s in sorted(result.units, key=lambda s: (STATUS_ORDER[s.status], order[s.unit])):
        yield Listed(s.unit, s.status, s.status, s.ret)
        for old in s.superseded:
            yield Listed(s.unit, f"{SUPERSEDED}（未採用）", s.status, old, s.why.get(id(old)))
    for ret in result.rejected:
        yield Listed(ret.unit or UNRECOGNISED_UNIT, UNUSABLE, UNUSABLE, ret)


def choice_issues(result: MergeResult) -> list[Issue]:
    """What was said about each unit's choice of file (why each superseded file is
    not used, a superseded file's untrusted time, a blank file chosen), in the
    order of the listing: what ``xltool status`` prints under its table."""
    order = {u.name: i for i, u in enumerate(result.plan.units)}
    return [issue for s in sorted(result.units, key=lambda s: (STATUS_ORDER[s.status], order[s.unit]))
            for issue in s.told]
