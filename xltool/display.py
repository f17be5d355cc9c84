"""How wide a text shows, in columns: what the terminal's tables and the help text
line up by, and what a template's cells are sized by. Kept apart from cells.py so
that `xltool --help` imports nothing more than it needs."""
from __future__ import annotations


def text_width(text: str) -> int:
    """Display width in Excel character units: CJK and full-width count double.
    (Everything from U+2E80 on is taken as wide: exact enough for layout, and fast.)"""
    return len(text) + sum(1 for ch in text if ch >= "\u2e80")
