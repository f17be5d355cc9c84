"""Grade bands (等第): the highest band whose 最低分 a total reaches."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class GradeBand:
    grade: str
    minimum: float


def grade_for(total: float, bands: Iterable[GradeBand]) -> str:
    for band in sorted(bands, key=lambda b: -b.minimum):
        if total >= band.minimum:
            return band.grade
    return ""
