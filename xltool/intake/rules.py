"""Cell rules for returns, built with `schema` from the 填報表 declarations.

The same :mod:`xltool.fields` columns that drew the template's validations
are turned into rules here, so the template and the merge cannot disagree.
Pasting bypasses a spreadsheet's validation, so every value is checked again.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, time
from functools import lru_cache
from typing import Any

from schema import And, Schema, SchemaError, Use

from ..cells import fmt_number, kept_text, norm_text, shows_nothing, starts_with_blank_line, to_number
from ..forms.fields import EARLIEST_DATE, LATEST_DATE, TEXT_LIMIT, Column
from ..quoting import NOT_TEXT
from ..xlsx_text import fits_a_cell

_CONTROL = NOT_TEXT  # removed from a return's text, with a note


@dataclass
class Problem:
    code: str
    message: str
    expected: str


@dataclass
class Checked:
    value: Any  # the normalised value, or None when blank or invalid
    problem: Problem | None = None
    note: str = ""  # what normalisation changed, for the record


def clean_text(value: Any) -> str:
    """Free text as typed: control characters removed, and kept as cells.kept_text
    keeps it (the first line's indent too; blank lines before it and blanks after go).

    No NFKC here: it would turn the full-width punctuation of Chinese prose
    into ASCII.
    """
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return kept_text(_CONTROL.sub("", str(value).replace("\r\n", "\n").replace("\r", "\n")))


def _fail(code: str, message: str):
    return f"{code}|{message}"


@lru_cache(maxsize=4096)
def rule_for(col: Column, *, choices: tuple[str, ...] | None = None,
             maximum: float | None = None) -> Schema:
    """The `schema` rule for one input column (for one item, where it has a maximum).
    Cached: a merge asks for the same few rules for every row of every return."""
    if col.kind == "list":
        listed = "、".join(choices or [])
        # Matched after normalising (a full-width bracket typed for a half-width one is the
        # same choice); what is kept is the plan's own wording of the choice.
        exact = {norm_text(c): c for c in choices or []}
        return Schema(And(Use(lambda v: exact.get(norm_text(v))), lambda v: v is not None,
                          error=_fail("not-in-list", f"「{col.name}」須為清單中的值：{listed}")))
    if col.kind == "number":
        lo = col.minimum if col.minimum is not None else float("-inf")
        hi = maximum if maximum is not None else float("inf")
        span = (f"{fmt_number(lo)} 到 {fmt_number(hi)} 之間" if maximum is not None
                else f"{fmt_number(lo)} 以上")
        return Schema(And(Use(finite_number, error=_fail("type-error", f"「{col.name}」須為數字")),
                          lambda v: lo <= v <= hi,
                          error=_fail("out-of-range", f"「{col.name}」須為 {span}的數字")))
    if col.kind == "date":
        message = _fail("type-error", date_problem(col))
        return Schema(And(Use(_as_date, error=message),
                          lambda d: EARLIEST_DATE <= d <= LATEST_DATE, error=message))
    return Schema(And(Use(clean_text), fits_a_cell,
                      error=_fail("too-long", f"「{col.name}」超過 {TEXT_LIMIT} 個字元"
                                              "（中文擴充字、表情符號等每字以 2 計）")))


def finite_number(value: Any) -> float | int:
    """:func:`cells.to_number`, but never an infinity: 400 nines typed as text read as
    inf, which no spreadsheet can hold (the master could not be written)."""
    number = to_number(value)
    if not math.isfinite(number):
        raise ValueError("not a finite number")
    return number


def date_problem(col: Column, example: date | None = None) -> str:
    """What a date cell must hold, with an example date: the plan's own where the
    caller has one (its 繳交期限), ROC first."""
    example = example or date(2026, 7, 5)
    return (f"「{col.name}」須為日期，例如 {example.year - 1911}/{example.month}/{example.day}"
            f"（民國年）或 {example.year}/{example.month}/{example.day}")


def is_lost_date(raw: Any) -> bool:
    """A date before 1900 that could not be read: readers give a time of day for one.
    LibreOffice stores such a date when an ROC date is typed into a date cell of a
    .xlsx (it takes 115/07/01 for the year 115); the reader puts the number the file
    holds back (reading.workbook._looked_up_again), so this is what is left: a cell whose
    number could not be found."""
    return isinstance(raw, time) and not isinstance(raw, datetime)


def date_message(col: Column, raw: Any, example: date | None = None) -> str:
    """What is wrong with a date cell, and for a lost date how to type it instead."""
    if not is_lost_date(raw):
        return date_problem(col, example)
    example = example or date(2026, 7, 5)
    roc = f"{example.year - 1911}/{example.month:02d}/{example.day:02d}"
    return (f"{date_problem(col, example)}。此儲存格的日期早於西元 1900 年，無法讀取"
            f"（在 LibreOffice 中輸入民國日期時可能如此），請在日期前加半形單引號（'{roc}）或改輸入西元日期。")


@lru_cache(maxsize=4096)
def expected_text(col: Column, choices: tuple[str, ...] | None = None,
                  maximum: float | None = None) -> str:
    if col.kind == "list":
        return "、".join(choices or [])
    if col.kind == "number":
        lo = fmt_number(col.minimum or 0)
        return f"{lo}～{fmt_number(maximum)}" if maximum is not None else f"≥ {lo}"
    if col.kind == "date":
        return "日期"
    return f"文字（{TEXT_LIMIT} 字以內）"


def check(rule: Schema, col: Column, raw: Any, expected: str,
          bounds: tuple[tuple[str, ...] | None, float | None] | None = None) -> Checked:
    """Apply one rule to a raw cell value; blank cells are None and pass here.

    ``bounds`` — the (choices, maximum) the rule was built with — lets values the
    rule would pass unchanged skip it (see :func:`_already_valid`)."""
    if raw is None or (isinstance(raw, str) and shows_nothing(raw)):
        return Checked(None)  # blanks, or zero-width marks, alone: nothing shows
    if bounds is not None and _already_valid(col, raw, *bounds):
        return Checked(raw)
    if col.kind == "date" and is_lost_date(raw):
        return Checked(None, Problem("type-error", date_message(col, raw), expected))
    try:
        value = rule.validate(raw)
    except SchemaError as exc:
        text = next((m for m in reversed(exc.errors) if m), "type-error|格式不正確")
        code, _, message = text.partition("|")
        return Checked(None, Problem(code, message, expected))
    return Checked(value, note=_note(col, raw, value))


def _already_valid(col: Column, raw: Any, choices, maximum) -> bool:
    """The values the rule would pass through unchanged, recognised without running it.

    Most cells of most returns are like this; skipping the schema machinery for
    them is what keeps a merge near the speed of reading. Anything else, including
    every value that needs normalising, goes through the rule.
    """
    kind = col.kind
    if kind == "list":
        return type(raw) is str and choices is not None and raw in choices
    if kind == "number":
        return (type(raw) in (int, float) and (type(raw) is int or math.isfinite(raw))
                and (col.minimum is None or raw >= col.minimum)
                and (maximum is None or raw <= maximum))
    if kind == "text":
        return (type(raw) is str and fits_a_cell(raw) and raw == raw.rstrip()
                and not starts_with_blank_line(raw)
                and "\r" not in raw and not _CONTROL.search(raw))
    return False


def _note(col: Column, raw: Any, value: Any) -> str:
    """Describe a normalisation that changed what the unit typed."""
    if col.kind == "number" and isinstance(raw, str):
        return f"文字「{raw}」已視為數字 {fmt_number(value)}"
    if col.kind == "date" and isinstance(raw, str):
        return f"文字「{raw}」已視為日期 {value.isoformat()}"
    if isinstance(raw, str) and raw != value and col.kind == "list":
        return f"「{raw}」已正規化為「{value}」"
    if isinstance(raw, str) and _CONTROL.search(raw):
        return "已移除控制字元"
    return ""


def _as_date(value: Any) -> date:
    """A date cell, or text such as 115/07/01, 115-07-01, 115年7月1日 or 2026/7/1
    (see :func:`cells.parse_date`, which also reads LibreOffice's year-115 dates)."""
    from ..cells import parse_date

    return parse_date(value)
