"""Pure scoring functions: no I/O, no workbook objects, only numbers and rules.

The rules (README, 「評分規則」):
- an item's 自評 is the arithmetic mean of its lead units' 自評分數; a unit with
  no valid return counts 0; a row marked 不適用 with no score is left out; an
  item whose rows are all left out scores 0 (and is flagged by the caller);
- item scores are rounded to 2 decimals half away from zero, as Excel's ROUND;
- 採計分數 is the 複評 where there is one, else the 自評;
- a 構面 scores the sum of its items' 採計分數; the total is the sum of the 構面;
- the grade is the highest band whose 最低分 the total reaches (plan/grades.py).
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from ..cells import excel_round


@dataclass(frozen=True)
class Entry:
    """One lead unit's contribution to an item."""

    score: float | None  # None: blank or invalid (counts 0 unless excluded)
    excluded: bool = False  # 不適用 with no score: left out of the mean
    invalid: bool = False  # the unit's score was refused (or left blank): counted as 0
    capped_from: float | None = None  # the score given under points since revised (capped)
    new: bool = False  # an item added to the plan after the unit's template: not yet reported


def item_self_score(entries: Sequence[Entry]) -> tuple[float, bool]:
    """Return (自評, all rows left out)."""
    counted = [e.score or 0 for e in entries if not e.excluded]
    if not counted:
        return 0.0, True
    return excel_round(sum(counted) / len(counted), 2), False


def adopted_score(self_score: float, review: float | None) -> float:
    return self_score if review is None else review


def dimension_score(adopted: Iterable[float]) -> float:
    return excel_round(sum(adopted), 2)

