"""What changed in the plan: between two plan workbooks, or since the templates that
the returns were filled in.

Both come out as the same :class:`Change` records, so ``xltool check NEW --against
OLD`` and the master's 計畫修訂 sheet say it in the same terms: item, field, old
and new value, and the units concerned.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..cells import prose, squeeze
from . import fields as F
from .identity import plan_cell_value

ADDED, REMOVED, LEADS = "（新增項目）", "（刪除項目）", "主辦單位"


@dataclass(frozen=True)
class Change:
    item: str
    field: str  # a 填報表 column, 主辦單位, or ADDED / REMOVED
    old: str
    new: str
    units: tuple[str, ...]  # the units whose templates or returns it concerns
    generated: str = ""  # when the templates of the older version were made (returns only)


def plan_diff(old, new) -> list[Change]:
    """Every difference between two versions of a plan, item by item, in the new plan's
    order (removed items last)."""
    before = {i.id: i for i in old.items}
    after = {i.id: i for i in new.items}
    changes: list[Change] = []
    for item in new.items:
        was = before.get(item.id)
        if was is None:
            changes.append(Change(item.id, ADDED, "", prose(item.practice), item.leads))
            continue
        for col in F.PLAN_COLUMNS[1:]:
            a, b = plan_cell_value(old, was, col.attr), plan_cell_value(new, item, col.attr)
            if _differs(a, b):
                changes.append(Change(item.id, col.name, _text(a), _text(b),
                                      tuple(dict.fromkeys(was.leads + item.leads))))
        if was.leads != item.leads:
            changes.append(Change(item.id, LEADS, was.lead_text, item.lead_text,
                                  tuple(dict.fromkeys(was.leads + item.leads))))
    for item in old.items:
        if item.id not in after:
            changes.append(Change(item.id, REMOVED, prose(item.practice), "", item.leads))
    return changes


def changes_from_returns(plan, statuses) -> list[Change]:
    """What the plan changed since the templates the adopted returns were made from,
    with the units each change concerns; read from the returns' own locked cells."""
    grouped: dict[tuple, list[str]] = {}
    order = {i.id: n for n, i in enumerate(plan.items)}
    for status in statuses:
        ret = status.ret
        if ret is None:
            continue
        keys = [(item, field, old, new) for item, field, old, new in ret.revisions]
        keys += [(item, ADDED, "", prose(_item(plan, item).practice)) for item in ret.new_items]
        keys += [(item, REMOVED, _removed_text(plan, item), "") for item in ret.removed]
        for key in keys:
            grouped.setdefault((ret.generated[:10],) + key, []).append(status.unit)
    changes = [Change(item, field, old, new, tuple(units), generated)
               for (generated, item, field, old, new), units in grouped.items()]
    return sorted(changes, key=lambda c: (c.generated, order.get(c.item, len(order)), c.item,
                                          _field_order(c.field)))


def _item(plan, item_id: str):
    return next(i for i in plan.items if i.id == item_id)


def _removed_text(plan, item_id: str) -> str:
    item = next((i for i in plan.items if i.id == item_id), None)
    return "已不在計畫中" if item is None else f"已改由{item.lead_text}主辦"


def _field_order(name: str) -> int:
    names = [c.name for c in F.PLAN_COLUMNS] + [LEADS, ADDED, REMOVED]
    return names.index(name) if name in names else len(names)


def _differs(a, b) -> bool:
    return squeeze(_text(a)) != squeeze(_text(b))


def _text(value) -> str:
    return prose(value) if value is not None else ""
