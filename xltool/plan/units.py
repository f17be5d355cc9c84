"""Expand a 主辦單位 cell into unit names.

Plans write leads the way people talk: ``各業務課``, ``第一課至第六課``,
``金門、澎湖辦事處`` (a shared suffix), ``研考`` (a function that one unit
does) or ``會計室`` (a unit's former name). All of it resolves against the
plan's 單位 sheet; nothing here knows any particular plan.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from ..cells import norm_text, squeeze

SEPARATORS = re.compile(r"[、，,;；\n\r/／]+")
RANGE = re.compile(r"^(.+?)(?:至|到|~|～)(.+)$")


@dataclass(frozen=True)
class Unit:
    name: str
    category: str = ""
    groups: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    email: str = ""


def split_names(text: str) -> list[str]:
    """Split a cell listing names on 、 ， , ; / or new lines; blanks dropped."""
    return [squeeze(t) for t in SEPARATORS.split(norm_text(text)) if squeeze(t)]


class UnitDirectory:
    """Resolves names, aliases, groups and ranges to units, in sheet order.

    A 主辦單位 is matched without its blanks (:func:`split_names`), so every name is
    looked up without them too: 北區 服務站 there names the unit 北區 服務站, never a
    unit 北區服務站 (the 單位 sheet may not hold both: sheets.read_units)."""

    def __init__(self, units: list[Unit]):
        self.units = units
        self.order = {u.name: i for i, u in enumerate(units)}
        self.by_name: dict[str, list[str]] = {}
        for u in units:
            self.by_name[squeeze(u.name)] = [u.name]
            for alias in u.aliases:
                self.by_name.setdefault(alias, []).append(u.name)
        self.groups = {g for u in units for g in u.groups}
        members: dict[str, set[str]] = {}  # a group's names so far (a group may hold every unit)
        for u in units:
            for g in u.groups:
                listed = self.by_name.setdefault(g, [])
                seen = members.get(g)
                if seen is None:
                    seen = members[g] = set(listed)
                if u.name not in seen:
                    seen.add(u.name)
                    listed.append(u.name)

    def _single(self, token: str) -> str | None:
        hits = self.by_name.get(token, [])
        return hits[0] if len(hits) == 1 and token not in self.groups else None

    def _resolve(self, token: str) -> list[str] | None:
        if token in self.by_name and self.by_name[token]:
            return self.by_name[token]
        m = RANGE.match(token)
        if m:
            start, end = self._single(m.group(1)), self._single(m.group(2))
            if start and end:
                a, b = sorted((self.order[start], self.order[end]))
                return [u.name for u in self.units[a:b + 1]]
        return None

    def expand(self, text: str) -> tuple[list[str], list[str]]:
        """Return (unit names in sheet order, tokens that resolve to nothing)."""
        tokens = split_names(text)
        found: set[str] = set()
        unknown: list[str] = []
        for i, token in enumerate(tokens):
            names = self._resolve(token) or self._with_shared_suffix(token, tokens[i + 1:])
            if names:
                found.update(names)
            else:
                unknown.append(token)
        return sorted(found, key=self.order.__getitem__), unknown

    def _with_shared_suffix(self, token: str, following: list[str]) -> list[str] | None:
        """``金門`` before ``澎湖辦事處`` means ``金門辦事處``: borrow the later name's tail."""
        for later in following:
            names = self._resolve(later)
            if not names or len(names) != 1:
                continue
            full = names[0]
            for k in range(1, len(full)):
                candidate = squeeze(token + full[-k:])
                if candidate in self.by_name and self.by_name[candidate]:
                    return self.by_name[candidate]
        return None
