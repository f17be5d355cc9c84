"""Render issue records for people (terminal) and machines (JSON)."""
from __future__ import annotations

import json
from typing import Iterable

from ..errors import Issue
from ..quoting import visible


def issue_line(issue: Issue) -> str:
    where = issue.location()
    line = f"[{issue.severity}] {where}：{issue.message}" if where else \
        f"[{issue.severity}] {issue.message}"
    return visible(line)


def table(rows: list[list[str]]) -> str:
    """Rows as aligned columns; CJK characters count as two columns wide."""
    from ..forms.book import text_width

    rows = [[visible(v) for v in r] for r in rows]
    widths = [max(text_width(str(r[c])) for r in rows) for c in range(len(rows[0]))]
    return "\n".join("  ".join(str(v) + " " * (w - text_width(str(v)))
                                for v, w in zip(r, widths)).rstrip() for r in rows)


def changes_table(changes) -> str:
    """Plan revisions for the terminal, in the terms of the master's 計畫修訂 sheet."""
    rows = [["編號", "欄位", "原內容", "新內容", "受影響單位"]]
    for c in changes:
        rows.append([c.item, c.field, _short(c.old), _short(c.new), "、".join(c.units)])
    return table(rows)


def _short(text: str, limit: int = 30) -> str:
    text = text.replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "…"


def render_text(issues: Iterable[Issue]) -> str:
    return "\n".join(issue_line(i) for i in issues)


def summary(issues: list[Issue]) -> str:
    errors = sum(1 for i in issues if i.is_error)
    warnings = len(issues) - errors
    return f"共 {errors} 個錯誤、{warnings} 個警告。"


def issues_json(issues: Iterable[Issue]) -> str:
    return json.dumps([i.to_dict() for i in issues], ensure_ascii=False, indent=2)


def result_json(result) -> str:
    """The merge result as JSON (format documented in README, 「報告檔格式」)."""
    import io

    out = io.StringIO()
    write_result_json(result, out)
    return out.getvalue()


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
        "saved": s.ret.saved.astimezone(plan.zone).isoformat() if s.ret and s.ret.saved else None,
        "errors": s.ret.errors if s.ret else 0,
        "warnings": s.ret.warnings if s.ret else 0,
        "superseded": [old.name for old in s.superseded],
        "sender": result.senders.get(s.ret.name) if s.ret else None,
    } for s in result.units))
    section("items", ({
        "id": r.item.id, "dimension": plan.dimension(r.item.dimension).name,
        "points": r.item.points,
        "unit_scores": {u: (None if e.excluded else (e.score or 0)) for u, e in r.entries.items()},
        "invalid_units": [u for u, e in r.entries.items() if e.invalid],
        "capped_units": {u: e.capped_from for u, e in r.entries.items() if e.capped_from is not None},
        "unreported_new": [u for u, e in r.entries.items() if e.new],
        "self_score": r.self_score, "review": r.review, "adopted": r.adopted,
        "all_not_applicable": r.all_excluded,
    } for r in result.items))
    section("plan_changes", ({"templates_made": c.generated, "item": c.item, "field": c.field,
                              "old": c.old, "new": c.new, "units": list(c.units)}
                             for c in result.changes))
    section("dimensions", ({"code": d.code, "name": d.name, "points": d.points, "score": sc}
                           for d, sc in result.dimensions))
    out.write(f'  "total": {json.dumps(result.total)},\n')
    out.write(f'  "grade": {json.dumps(result.grade, ensure_ascii=False)},\n')
    section("issues", (i.to_dict() for i in result.issues), last=True)
    out.write("}\n")
