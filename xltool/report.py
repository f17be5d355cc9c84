"""Render issue records for people (terminal) and machines (JSON)."""
from __future__ import annotations

import json
from typing import Iterable

from .errors import Issue


def issue_line(issue: Issue) -> str:
    where = issue.location()
    return f"[{issue.severity}] {where}：{issue.message}" if where else \
        f"[{issue.severity}] {issue.message}"


def render_text(issues: Iterable[Issue]) -> str:
    return "\n".join(issue_line(i) for i in issues)


def summary(issues: list[Issue]) -> str:
    errors = sum(1 for i in issues if i.is_error)
    warnings = len(issues) - errors
    return f"共 {errors} 個錯誤、{warnings} 個警告。"


def issues_json(issues: Iterable[Issue]) -> str:
    return json.dumps([i.to_dict() for i in issues], ensure_ascii=False, indent=2)
