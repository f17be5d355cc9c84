"""The plan workbook's sheets, fields and cell rules.

Each rule is a `schema` Schema over one cell's raw value; the innermost error
text is the message the user sees. Nothing here knows any particular plan.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any

from schema import And, Or, SchemaError, Use

from ..cells import norm_text, parse_date, parse_offset, prose, to_number
from ..quoting import NOT_TEXT, SHOWS_AS_NOTHING

INFO_SHEET, DIM_SHEET, UNIT_SHEET, ITEM_SHEET, GRADE_SHEET, LIST_SHEET = (
    "計畫", "構面", "單位", "項目", "等第", "選項")
SHEETS = (INFO_SHEET, DIM_SHEET, UNIT_SHEET, ITEM_SHEET, GRADE_SHEET, LIST_SHEET)

# 計畫 sheet: field name → (attribute, required)
INFO_FIELDS = {
    "計畫名稱": ("name", True),
    "機關名稱": ("agency", True),
    "年度": ("year", True),
    "填報期間": ("period", True),
    "考核年月": ("review_month", True),
    "繳交期限": ("deadline", True),
    "承辦單位": ("contact_unit", False),
    "承辦人": ("contact_person", False),
    "聯絡電話": ("contact_phone", False),
    "電子郵件": ("contact_email", False),
    "不適用選項": ("not_applicable", False),
    "簡稱": ("short_name", False),
    "時區": ("time_zone", False),
    "複評說明門檻": ("review_note_margin", False),
}

# ---------------------------------------------------------------- cell rules


def key(value: Any) -> str:
    """Text that is matched (codes, names, lists): NFKC, so ＡＢ and AB are one."""
    return norm_text(value)


def _review_month(value: Any) -> str:
    if not isinstance(value, str):
        # 109.10 typed as a number arrives as 109.1: the month is already lost.
        raise ValueError("number")
    text = norm_text(value)
    if not re.fullmatch(r"\d{2,3}\.(0[1-9]|1[0-2])", text):
        raise ValueError(text)
    return text


def _email(value: Any) -> str:
    """One address, local@domain.tld; the reason in zh-TW when it is not."""
    from .addresses import address_problem

    text = norm_text(value)
    problem = address_problem(text) if text else None
    if problem:
        raise SchemaError(None, problem)
    return text


# What no text of the plan may hold: C0 and C1 control characters (tab and line
# breaks aside, which prose may hold), and what no XML file can store (U+FFFE,
# U+FFFF, lone surrogates). Every template, master and report is XML: such a
# character is dropped or replaced there (and the untouched return then differs
# from the plan), or the writer refuses the whole file.
CONTROL_IN_PROSE = NOT_TEXT
# Names go into mail headers, file names and sheet titles, where a line break breaks
# the message or the file: no line break, no tab either.
LINE_BREAK = re.compile("[\r\n\u2028\u2029]")
CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff\ud800-\udfff]")
SINGLE_LINE_INFO = ("計畫名稱", "機關名稱", "簡稱", "承辦單位")
# The cells of the other sheets that hold names (a list cell may put one name a line).
SINGLE_LINE = {UNIT_SHEET: ("名稱",), GRADE_SHEET: ("等第",)}
# Excel's limit for the texts a name goes into: a document property (the templates
# record the plan's and the unit's names), a string in a formula (a grade), a name.
# Excel counts UTF-16 units: 𠀀 and an emoji take two.
NAME_LIMIT = 255
LIST_CELLS = {UNIT_SHEET: ("群組", "別名")}
# A list's name becomes the defined name 選項_名稱 in every template (forms.template.
# list_name), which Excel too holds to 255 UTF-16 units.
LIST_NAME_PREFIX = "選項_"
LIST_NAME_LIMIT = NAME_LIMIT - len(LIST_NAME_PREFIX)

# The cells that name something another cell, a return or a file refers to. What
# shows as nothing may not be in them: it makes two names look alike, or one read
# as another (U+202E shows what follows backwards), and matching drops it (cells.
# norm_text), so 資訊\u202e中心 would silently be the unit 資訊中心. Prose keeps it.
IDENTIFYING = {INFO_SHEET: SINGLE_LINE_INFO, DIM_SHEET: ("代碼", "名稱"),
               UNIT_SHEET: ("名稱", "群組", "別名"), ITEM_SHEET: ("編號", "構面", "主辦單位"),
               GRADE_SHEET: ("等第",)}  # and on 選項 every list's name and value
# XlsxWriter writes a text such as _x0041_ into a document property as _x005F_x0041_
# (Excel's escape), and the intake reads properties as written: a unit so named would
# not be its own template's unit.
XLSX_ESCAPE = re.compile("_x[0-9A-Fa-f]{4}_")


def invisible_characters(text: str) -> list[tuple[int, str]]:
    """(0-based position, character) of every character of ``text`` that shows as nothing."""
    return [(i, ch) for i, ch in enumerate(text)
            if SHOWS_AS_NOTHING.match(ch) or unicodedata.category(ch) == "Cf"]


# Prose (the plan's signed wording) is kept exactly as typed, full-width punctuation and
# all; only what is matched is normalised (see cells.prose and cells.norm_text).
def _all(*rules: Any, error: str) -> Any:
    """schema's And. (Its annotations take only callables; Use objects and None are
    rules too.)"""
    return And(*rules, error=error)


def _any(*rules: Any) -> Any:
    """schema's Or (see :func:`_all`)."""
    return Or(*rules)


REQUIRED = _all(Use(prose), len, error="此欄必填，不可空白")
OPTIONAL = Use(prose)
REQUIRED_KEY = _all(Use(key), len, error="此欄必填，不可空白")
OPTIONAL_KEY = Use(key)
POSITIVE = _all(Use(to_number, error="須為數字"), lambda v: v > 0, error="須為大於 0 的數字")
NON_NEGATIVE = _all(Use(to_number, error="須為數字"), lambda v: v >= 0, error="須為 0 以上的數字")
OPTIONAL_NON_NEGATIVE = _any(None, NON_NEGATIVE)
YEAR = _all(Use(to_number, error="須為民國年度數字，例如 109"),
           lambda v: isinstance(v, int) and 1 <= v <= 300, error="須為民國年度數字，例如 109")
INFO_RULES = {
    "年度": YEAR,
    "考核年月": Use(_review_month, error="須為文字格式的「年.月」，例如 109.07"
                                    "（請將儲存格設為文字；數字 109.10 會變成 109.1）"),
    "繳交期限": Use(parse_date, error="須為日期，例如 109/07/10 或 2020-07-10"),
    "電子郵件": Use(_email),
    "不適用選項": OPTIONAL_KEY,
    "時區": Use(lambda v: parse_offset(v) and norm_text(v), error="須為時差，例如 +08:00 或 UTC+8"),
    "複評說明門檻": _all(Use(to_number, error="須為 0 以上的數字，例如 0 或 2"),
                   lambda v: v >= 0, error="須為 0 以上的數字，例如 0 或 2"),
}
DIM_RULES = {"代碼": REQUIRED_KEY, "名稱": REQUIRED, "配分": POSITIVE}
UNIT_RULES = {"名稱": REQUIRED_KEY, "類別": OPTIONAL, "群組": OPTIONAL_KEY, "別名": OPTIONAL_KEY,
              "電子郵件": Use(_email)}
ITEM_RULES = {"編號": REQUIRED_KEY, "構面": REQUIRED_KEY, "執行策略": REQUIRED, "執行方法": REQUIRED,
              "主辦單位": REQUIRED, "具體作法": REQUIRED, "目標值": OPTIONAL_NON_NEGATIVE,
              "計量單位": OPTIONAL, "配分": POSITIVE}
GRADE_RULES = {"等第": REQUIRED, "最低分": NON_NEGATIVE}


def schema_message(exc: SchemaError) -> str:
    """The innermost message of a failed rule: what the user reads."""
    return next((m for m in reversed(exc.errors) if m), "格式不正確")
