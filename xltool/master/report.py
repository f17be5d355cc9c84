"""The merge report as JSON (format documented in README, 「報告檔格式」).

Every time in it has one shape, ISO 8601 to the second with its offset
(2020-07-08T14:00:00+08:00), whoever wrote it: a file's save time (some carry
microseconds), or the collect log's record of a message (a sender's Date header
marked -0000 has no offset: it is UTC, RFC 5322 §3.3).
"""
from __future__ import annotations

import json
from datetime import datetime, timezone
from typing import Any

from .audit import evidence_records, file_records, unit_evidence

# The fields of the report that hold a time, wherever they are nested.
TIME_FIELDS = frozenset({"saved", "sent", "received", "date"})


def report_time(value: datetime | str | None, zone=None) -> str | None:
    """A time as the report gives it: to the second, with its offset. A datetime is
    put in ``zone`` (None: this machine's); a text that is not an ISO time (a log
    damaged by hand) is kept as it is: nothing read is dropped."""
    if value is None or value == "":
        return None if value is None else ""
    if isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            return value
        # A logged time keeps the offset it was logged with (a mail's own zone).
        when = when if when.tzinfo is not None else when.replace(tzinfo=timezone.utc)
    else:
        when = value.astimezone(zone)  # a naive one is this machine's time, as astimezone takes it
    return when.isoformat(timespec="seconds")


def _shaped(value: Any) -> Any:
    """``value`` (a record, or a list of them) with each time field in the report's shape."""
    if isinstance(value, dict):
        return {k: report_time(v) if k in TIME_FIELDS and isinstance(v, str) else _shaped(v)
                for k, v in value.items()}
    if isinstance(value, list):
        return [_shaped(v) for v in value]
    return value


def write_result_json(result, out) -> None:
    """Write the report piece by piece: with 10,000 units the item scores alone are
    600,000 numbers, which need not all be in memory at once."""
    plan = result.plan

    def dump(value, indent: int = 2) -> str:
        text = json.dumps(value, ensure_ascii=False, indent=2)
        return text.replace("\n", "\n" + " " * indent)

    def section(name: str, rows, last: bool = False) -> None:
        out.write(f'  "{name}": [')
        first = True
        for row in rows:
            out.write(("\n    " if first else ",\n    ") + dump(row, 4))
            first = False
        out.write(("\n  ]" if not first else "]") + ("\n" if last else ",\n"))

    out.write("{\n")
    out.write('  "plan": ' + dump({
        "id": plan.plan_id, "name": plan.info.name, "agency": plan.info.agency,
        "year": plan.info.year, "period": plan.info.period,
        "review_month": plan.info.review_month}) + ",\n")
    section("units", ({
        "unit": s.unit, "status": s.status,
        "file": s.ret.name if s.ret else None,
        "saved": report_time(s.ret.saved, plan.zone) if s.ret and s.ret.saved else None,
        "errors": s.ret.errors if s.ret else 0,
        "warnings": s.ret.warnings if s.ret else 0,
        "superseded": [old.name for old in s.superseded],
        "sender": result.senders.get(s.ret.name) if s.ret else None,
        "sha256": s.ret.sha256 or None if s.ret else None,
        **_shaped(unit_evidence(result, s.unit)),
    } for s in result.units))
    section("files", map(_shaped, file_records(result)))
    section("unassigned_evidence", map(_shaped, evidence_records(result.received.evidence.get("", []))))
    section("items", ({
        "id": r.item.id, "dimension": plan.dimension(r.item.dimension).name,
        "points": r.item.points,
        "unit_scores": {u: (None if e.excluded else (e.score or 0)) for u, e in r.entries.items()},
        "invalid_units": [u for u, e in r.entries.items() if e.invalid],
        "capped_units": {u: e.capped_from for u, e in r.entries.items() if e.capped_from is not None},
        "unreported_new": [u for u, e in r.entries.items() if e.new],
        "self_score": r.self_score, "review": r.review,
        "review_note": result.review_notes.get(r.item.id), "adopted": r.adopted,
        "all_not_applicable": r.all_excluded,
    } for r in result.items))
    section("unusable_reviews", unusable_records(result))
    section("plan_changes", ({"templates_made": c.generated, "item": c.item, "field": c.field,
                              "old": c.old, "new": c.new, "units": list(c.units)}
                             for c in result.changes))
    section("dimensions", ({"code": d.code, "name": d.name, "points": d.points, "score": sc}
                           for d, sc in result.dimensions))
    out.write(f'  "total": {json.dumps(result.total)},\n')
    out.write(f'  "grade": {json.dumps(result.grade, ensure_ascii=False)},\n')
    section("issues", (i.to_dict() for i in result.issues), last=True)
    out.write("}\n")


def unusable_records(result) -> list[dict]:
    """The 複評 of the previous master that were not adopted, in 評分's order: the
    code that said it, the value exactly as typed (a number or a text), the cell it
    was read from, and its cell in the new master, where it is kept."""
    from .review import removed_items, unusable_reviews
    from .sheets.scores import removed_review_cell, review_cell

    plan, unusable = result.plan, unusable_reviews(result)
    cells = {item.id: review_cell(plan, n) for n, item in enumerate(plan.items)}
    cells.update({item_id: removed_review_cell(plan, k)
                  for k, item_id in enumerate(removed_items(plan, unusable, result.review_notes))})
    return [{"item": item_id, "code": bad.code, "value": bad.value, "typed": bad.typed, "reason": bad.reason,
             "expected": bad.expected or None, "read_from": bad.cell, "cell": cells[item_id],
             "in_plan": not bad.removed}
            for item_id, bad in ((i, unusable[i]) for i in cells if i in unusable)]
