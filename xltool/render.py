"""Render issue records for people (the terminal) and machines (JSON), and
tables for the terminal. The master's sheets render them in master/sheets."""
from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from .display import text_width
from .errors import Issue
from .quoting import visible


def issue_line(issue: Issue) -> str:
    where = issue.location()
    line = f"[{issue.severity}] {where}：{issue.message}" if where else \
        f"[{issue.severity}] {issue.message}"
    return visible(line)


def table(rows: Sequence[Sequence[object]]) -> str:
    """Rows as aligned columns; CJK characters count as two columns wide. Cells that
    are not text (counts) are shown as str() shows them."""
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
