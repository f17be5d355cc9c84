"""The file names a plan gives each unit, and the rule that keeps them apart.

Every per-unit file is named from the unit's name: its 填報表 (``112_簡稱_單位.xlsx``),
and, from the unit name alone, its mail drafts, its collected returns and its folder
of 佐證資料. Characters Windows forbids become ``_`` and long names are shortened
(:func:`xltool.files.short_filename`), so two units can end up with one file name:
甲/組 and 甲:組, or two long names that differ only after the cut. Windows and macOS
also take ``ABC`` and ``abc`` for the same file. :func:`file_name_twins` finds such
units, so that ``xltool check`` refuses the plan before one unit's file overwrites
another's.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from ..files import MAX_NAME_BYTES, short_filename

# Room left after a name for what is added to it: the copies' 「_待修正」, mail
# drafts' 「_催繳」, a collected return's 「_20200708T1012_2」, and the extension.
SUFFIX_ROOM = 24
NAME_BYTES = MAX_NAME_BYTES - SUFFIX_ROOM


def plan_short_name(name: str, agency: str, short_name: str = "") -> str:
    """The plan's short name for file names: 簡稱, else the name without agency/year."""
    if short_name:
        return short_name
    name = name.replace(agency, "")
    name = re.sub(r"\d+\s*年度?", "", name)
    name = re.sub(r"(執行|實施)?計畫$", "", name.strip())
    return re.sub(r"\s+", "", name) or "填報"


def template_stem(year: int, short: str, unit: str) -> str:
    """A unit's 填報表 file name without its extension: 年度_簡稱_單位, made safe and
    short enough that a copy's suffix still fits."""
    return short_filename(f"{year}_{short}_{unit}", NAME_BYTES)


# Names Windows keeps for devices, whatever follows (CON.eml is the console too).
_DEVICE = re.compile(r"(?i)(con|prn|aux|nul|com[0-9¹²³]|lpt[0-9¹²³]|conin\$|conout\$)([ .].*)?")


def unit_stem(unit: str) -> str:
    """A unit's name as the first part of a file or folder name that has nothing before
    it (mail drafts, collected returns, 佐證資料 folders): also without invisible
    characters (format, surrogate, line and paragraph separators) and device names."""
    text = "".join("_" if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch
                   for ch in unit)
    text = short_filename(text, NAME_BYTES)
    return "_" + text if _DEVICE.fullmatch(text) else text


def same_file(name: str) -> str:
    """What two file names share when Windows takes them for one file."""
    return name.casefold()


def file_name_twins(stems: Iterable[tuple[str, str]]) -> list[tuple[str, str, str]]:
    """(unit, earlier unit, file name) for every unit whose file name (``stems``: unit,
    stem) is an earlier unit's, as Windows compares them."""
    first: dict[str, str] = {}
    twins = []
    for unit, stem in stems:
        taken = first.setdefault(same_file(stem), unit)
        if taken != unit:
            twins.append((unit, taken, stem))
    return twins
