"""What a template says about itself, so that merge can recognise a return.

The same keys go into custom document properties and into a very hidden
sheet: properties survive copy-paste of sheets into a new file less often,
the sheet survives programs that drop custom properties.
"""
from __future__ import annotations

import hashlib
import json

from .cells import norm_text
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
}


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


def plan_cell_value(plan, item, attr: str):
    """The value a template shows in a locked plan column."""
    if attr == "dimension":
        return plan.dimension(item.dimension).name
    return getattr(item, attr)


def fingerprint(rows: list[list[str]]) -> str:
    """A short hash of locked content; any edit to a locked cell changes it."""
    data = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()[:24]
