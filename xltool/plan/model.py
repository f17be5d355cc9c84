"""The plan model: what a plan says, as plain data. Nothing here reads or writes a
workbook, and nothing knows any particular plan: names, points, units, groups,
lists and grade bands are all data (see plan/load.py for how they are read)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from ..cells import parse_offset
from ..errors import Issue
from .grades import GradeBand, grade_for
from .units import Unit

STATUS_LIST = "執行狀態"  # the list every template's 執行狀態 drop-down shows
DEFAULT_NOT_APPLICABLE = "不適用"


@dataclass(frozen=True)
class PlanInfo:
    name: str
    agency: str
    year: int
    period: str
    review_month: str
    deadline: date
    contact_unit: str = ""
    contact_person: str = ""
    contact_phone: str = ""
    contact_email: str = ""
    not_applicable: str = DEFAULT_NOT_APPLICABLE
    short_name: str = ""
    time_zone: str = ""  # e.g. +08:00; empty: this machine's zone
    # A 複評 that differs from the 自評 by more than this needs a 複評說明 (0: any difference).
    review_note_margin: float = 0.0


@dataclass(frozen=True)
class Dimension:
    code: str
    name: str
    points: float


@dataclass(frozen=True)
class Item:
    id: str
    dimension: str  # the 構面 代碼
    strategy: str
    method: str
    lead_text: str
    practice: str
    target: float | None
    measure: str
    points: float
    leads: tuple[str, ...]


@dataclass
class Plan:
    info: PlanInfo
    dimensions: list[Dimension]
    units: list[Unit]
    items: list[Item]
    grades: list[GradeBand]
    lists: dict[str, list[str]]
    source: Path | None = None
    warnings: list[Issue] = field(default_factory=list)

    @property
    def plan_id(self) -> str:
        """Stable id of this plan: the agency, the plan's name and the year."""
        key = f"{self.info.agency}|{self.info.name}|{self.info.year}"
        return hashlib.sha256(key.encode("utf-8")).hexdigest()[:16]

    @property
    def zone(self):
        """The units' time zone (a tzinfo), or None for this machine's own."""
        return parse_offset(self.info.time_zone) if self.info.time_zone else None

    @property
    def total_points(self) -> float:
        return sum(d.points for d in self.dimensions)

    def dimension(self, key: str) -> Dimension:
        """The dimension whose 代碼 is ``key``."""
        return next(d for d in self.dimensions if d.code == key)

    def unit(self, name: str) -> Unit:
        """The unit named ``name`` (KeyError if none is)."""
        return self._units_by_name()[name]

    def has_unit(self, name: str) -> bool:
        return name in self._units_by_name()

    def _units_by_name(self) -> dict[str, Unit]:
        """Indexed once: a merge or a mailing asks per file, and plans may have 10,000
        units. (A plan is not changed once loaded; items_for's index assumes so too.)"""
        index = self.__dict__.get("_unit_index")
        if index is None:
            index = self.__dict__["_unit_index"] = {}
            for u in self.units:
                index.setdefault(u.name, u)  # the first of a name, as a search finds it
        return index

    def items_for(self, unit: str) -> list[Item]:
        """The items a unit leads, in plan order (indexed once: plans may have 10,000 units)."""
        index = self.__dict__.get("_items_by_unit")
        if index is None:
            index = {u.name: [] for u in self.units}
            for item in self.items:
                for lead in item.leads:
                    index.setdefault(lead, []).append(item)
            self.__dict__["_items_by_unit"] = index
        return list(index.get(unit, []))

    def most_items(self) -> int:
        """The most items any one unit leads (the longest 填報表)."""
        most = self.__dict__.get("_most_items")
        if most is None:
            most = self.__dict__["_most_items"] = max(
                (len(self.items_for(u.name)) for u in self.units), default=0)
        return most

    def grade_for(self, total: float) -> str:
        return grade_for(total, self.grades)
