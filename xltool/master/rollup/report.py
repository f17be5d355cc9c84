"""The roll-up's report as JSON (format documented in README, under `xltool rollup`)."""
from __future__ import annotations

import json
from pathlib import Path

from ...files import atomic_path
from .table import Rollup


def rollup_dict(result: Rollup) -> dict:
    scheme = result.scheme
    stats = [result.stats(k) for k in range(len(scheme.dimensions) + 1)] if scheme else []
    names = [name for name, _ in scheme.dimensions] + ["總分"] if scheme else []
    return {
        "title": result.title,
        "scheme": {"year": scheme.year, "period": scheme.period,
                   "dimensions": [{"name": n, "points": p} for n, p in scheme.dimensions]} if scheme else None,
        "bands": [{"grade": b.grade, "minimum": b.minimum} for b in result.bands],
        "rows": [{"number": r.number, "unit": r.name, "agency": r.agency,
                  "status": "counted" if r.branch else ("refused" if r.note == "不採計" else "missing"),
                  "file": r.branch.name if r.branch else None,
                  "saved": r.branch.saved.isoformat() if r.branch and r.branch.saved else None,
                  "scores": r.scores if r.branch else None, "total": r.total, "grade": r.grade or None,
                  "review_month": r.review_month or None} for r in result.rows],
        "statistics": [{"dimension": n, "mean": s[0], "max": s[1], "min": s[2]} if s else
                       {"dimension": n, "mean": None, "max": None, "min": None} for n, s in zip(names, stats)],
        "grades": [{"grade": g, "count": c} for g, c in result.distribution()],
        "issues": [i.to_dict() for i in result.issues],
    }


def write_rollup_json(result: Rollup, target: Path) -> None:
    with atomic_path(Path(target)) as tmp:
        tmp.write_text(json.dumps(rollup_dict(result), ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
