"""Files shipped in workbook_templates/ (installed as xltool.workbook_templates)."""
from __future__ import annotations

import json
from functools import cache
from importlib import resources


@cache
def load_json(name: str) -> dict:
    text = resources.files("xltool.workbook_templates").joinpath(name).read_text("utf-8")
    return json.loads(text)
