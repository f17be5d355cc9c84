"""What a template says about itself, so that merge can recognise a return.

The same keys go into custom document properties and into a very hidden
sheet: properties survive copy-paste of sheets into a new file less often,
the sheet survives programs that drop custom properties.
"""
from __future__ import annotations

import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

from ..cells import local_text, norm_text, squeeze
from .fields import PLAN_COLUMNS

KEYS = {
    "plan_id": "xltool_plan_id",
    "plan_name": "xltool_plan_name",
    "year": "xltool_year",
    "unit": "xltool_unit",
    "version": "xltool_template_version",
    "generated": "xltool_generated",
    "fingerprint": "xltool_fingerprint",
    "items": "xltool_items",
    "feedback": "xltool_feedback",  # "1" on a correction copy (退件補正檔)
    "notes": "xltool_notes",  # a correction copy's own notes: digests (intake/notes.py)
}
# One more key per item, in the hidden sheet only: the digests of that item's locked
# cells as the template showed them. A return made from an earlier version of the
# plan carries that version's wording in its gray cells; these digests tell such
# cells (the plan's) from cells a unit edited.
CELL_KEY = "xltool_cell:"


def locked_rows(plan, unit: str) -> list[list[str]]:
    """The locked plan cells of a unit's 填報表, as normalised text."""
    cache = plan.__dict__.setdefault("_locked_rows", {})  # per item: merge asks per file
    rows = []
    for item in plan.items_for(unit):
        if item.id not in cache:
            cache[item.id] = [norm_text(plan_cell_value(plan, item, col.attr))
                              for col in PLAN_COLUMNS]
        rows.append(cache[item.id])
    return rows


def cell_digest(value) -> str:
    """A short digest of one locked cell, blind to white space (office programs re-wrap)."""
    return hashlib.sha256(squeeze(norm_text(value)).encode("utf-8")).hexdigest()[:10]


def locked_digests(plan, unit: str) -> list[tuple[str, list[str]]]:
    """(item id, digests of its locked cells) for every item a unit leads, in order."""
    cache = plan.__dict__.setdefault("_locked_digests", {})
    out = []
    for item in plan.items_for(unit):
        if item.id not in cache:
            cache[item.id] = [cell_digest(plan_cell_value(plan, item, col.attr))
                              for col in PLAN_COLUMNS]
        out.append((item.id, cache[item.id]))
    return out


def plan_cell_value(plan, item, attr: str):
    """The value a template shows in a locked plan column."""
    if attr == "dimension":
        return plan.dimension(item.dimension).name
    return getattr(item, attr)


def fingerprint_of(plan, unit: str) -> str:
    """The fingerprint of a unit's template as the plan is now (cached: merge asks per file)."""
    cache = plan.__dict__.setdefault("_fingerprints", {})
    if unit not in cache:
        cache[unit] = fingerprint([d for _, d in locked_digests(plan, unit)])
    return cache[unit]


def fingerprint(digests: list[list[str]]) -> str:
    """A short hash of a template's locked content (its cells' digests, in order):
    the version of the plan the template was made from."""
    data = json.dumps(digests, separators=(",", ":"))
    return hashlib.sha256(data.encode("ascii")).hexdigest()[:24]


def legacy_fingerprint(rows: list[list[str]]) -> str:
    """The fingerprint of templates of version 1 (which carry no cell digests): the
    hash of their locked cells' text, exactly as version 1 computed it."""
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]


# The keys that say which plan, year, unit and template a file is; they must agree
# wherever the file keeps them.
IDENTITY_KEYS = tuple(KEYS[k] for k in ("plan_id", "year", "unit", "version", "fingerprint"))
FUTURE_SLACK = timedelta(hours=1)  # office PCs' clocks are a little off, rarely more


def implausible_time(saved: datetime, generated: str, plan_year: int, zone=None) -> str:
    """Why a file's saved time cannot be true ("" when it can): in the future, or
    before the template it was filled in from was made (or, without that, well
    before the plan's year)."""
    instant = as_instant(saved, zone)
    if instant is None:
        return "無法辨識"
    now = datetime.now(timezone.utc)
    if instant > now + FUTURE_SLACK:
        return f"晚於現在（{local_text(now, zone)}）"
    made = _parse_generated(generated, zone)
    try:
        earliest = made - FUTURE_SLACK if made else datetime(plan_year + 1911 - 1, 1, 1,
                                                             tzinfo=timezone.utc)
    except (OverflowError, ValueError):  # a template "made" in year 1: not a time to trust
        earliest = datetime(plan_year + 1911 - 1, 1, 1, tzinfo=timezone.utc)
    if instant < earliest:
        return f"早於填報表產生的時間（{local_text(made, zone)}）" if made else "早於計畫年度"
    return ""


def saved_instant(saved: datetime | None, producer: str, suffix: str,
                  zone=None, generated: str = "") -> datetime | None:
    """When a file was saved, as a real instant (aware, UTC).

    Excel writes UTC and says so (Z); ODF writes local time with no zone, read here
    in this machine's zone; LibreOffice saving .xlsx writes local time but labels
    it Z (under TZ=Asia/Taipei, a save at 14:06 UTC is stamped 22:06Z), so for its
    .xlsx the stated zone is ignored and the time read as local too. "Local" is
    ``zone`` (the plan's 時區) when given, else this machine's zone.

    Except where LibreOffice kept the time the file already had: saving a template it
    had not changed keeps the time xltool stamped (``generated``, a true UTC time), and
    converting a file another program saved (``soffice --convert-to``) keeps that
    program's true UTC time. Read as local, such a time comes before the template
    was made, where read as stated it does not; LibreOffice's own local time cannot
    (it saved the file after the template was made), so it is then read as stated."""
    if saved is None:
        return None
    if saved.tzinfo is not None and suffix.lower() in (".xlsx", ".xlsm") and \
            producer.lower().startswith("libreoffice"):
        local = as_instant(saved.replace(tzinfo=None), zone)
        if not _kept_by_libreoffice(saved, local, generated):
            return local
    return as_instant(saved, zone)


def _kept_by_libreoffice(stated: datetime, local: datetime | None, generated: str) -> bool:
    """Whether a LibreOffice .xlsx's time is one it kept, a true UTC time: the
    template's own stamp, or a time that read as local is before the template was
    made and read as stated is not (all to the second)."""
    made = _parse_generated(generated) if generated else None
    at = as_instant(stated)
    if made is None or at is None:
        return False
    made, at = made.replace(microsecond=0), at.replace(microsecond=0)
    return made == at or (local is not None and local.replace(microsecond=0) < made <= at)


def _is_stamp(saved: datetime, generated: str) -> bool:
    """Whether ``saved`` is the template's own generation time, to the second."""
    made = _parse_generated(generated) if generated else None
    at = as_instant(saved)
    return made is not None and at is not None and \
        made.replace(microsecond=0) == at.replace(microsecond=0)


def as_instant(value: datetime, zone=None) -> datetime | None:
    """An aware time: naive times (ODF writes local time without a zone) are read
    in ``zone``, or in this machine's time zone."""
    try:
        if value.tzinfo is None and zone is not None:
            value = value.replace(tzinfo=zone)
        return value.astimezone(timezone.utc)
    except (OverflowError, OSError, ValueError):
        return None


def correction_copies(plan_id: str, paths: list[Path]) -> tuple[list[Path], set[Path]]:
    """Of ``paths``: the correction copies of the plan ``plan_id``, in order, and those
    of them still as xltool wrote them (:func:`untouched_copy`). Read in isolated
    workers, as any file from elsewhere."""
    from ..reading.workbook import read_stamps

    copies, untouched = [], set()
    for path, stamp in zip(paths, read_stamps(list(paths))):
        props, saved = stamp or ({}, None)
        if props.get(KEYS["feedback"]) != "1" or props.get(KEYS["plan_id"]) != plan_id:
            continue
        copies.append(path)
        if untouched_copy(props.get(KEYS["generated"], ""), saved):
            untouched.add(path)
    return copies, untouched


def untouched_copy(generated: str, saved: datetime | None) -> bool:
    """Whether a correction copy was saved only when xltool wrote it: its writer stamps
    the save time with the time the copy states it was made; any program that saves
    it again (Excel, LibreOffice, openpyxl) stamps its own time."""
    return saved is not None and _is_stamp(saved, generated)


def _parse_generated(text: str, zone=None) -> datetime | None:
    try:
        return as_instant(datetime.fromisoformat(text), zone) if text else None
    except ValueError:
        return None
