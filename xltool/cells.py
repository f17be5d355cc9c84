"""Spreadsheet coordinates and value normalisation shared by readers and writers."""
from __future__ import annotations

import math
import re
import unicodedata
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any


def col_letter(col: int) -> str:
    """0-based column index → letters (0 → A, 26 → AA)."""
    letters = ""
    col += 1
    while col:
        col, rem = divmod(col - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def col_index(letters: str) -> int:
    """The 0-based column of its letters (A → 0, AA → 26): col_letter's inverse."""
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n - 1


def formula_string(text: str) -> str:
    """``text`` as a string literal in a formula: its quotes doubled, as Excel and
    OpenFormula read them (a grade named 普"通 must not end the literal)."""
    return '"' + text.replace('"', '""') + '"'


def a1(row: int, col: int) -> str:
    """0-based (row, col) → an A1 reference."""
    return f"{col_letter(col)}{row + 1}"


def abs_ref(row: int, col: int) -> str:
    """0-based (row, col) → an absolute reference such as $A$2."""
    return f"${col_letter(col)}${row + 1}"


def norm_text(value: Any) -> str:
    """Text as a person meant it: NFKC (full-width digits and spaces), trimmed.

    Whole numbers lose the ``.0`` that spreadsheets add.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    text = unicodedata.normalize("NFKC", str(value))
    if not text.isascii():
        text = _INVISIBLE_FORMAT.sub("", text)
    return text.strip()


# Zero-width and direction marks: invisible, so never part of a name that is matched
# (a header 具體作法 with a zero-width space must not become another column).
_INVISIBLE_FORMAT = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def prose(value: Any) -> str:
    """Text as its author typed it (a plan's signed wording): line ends made \\n and
    the surrounding blanks trimmed, nothing else. Numbers as norm_text gives them."""
    if isinstance(value, str):
        return value.replace("\r\n", "\n").replace("\r", "\n").strip()
    return norm_text(value)


_LEADING_BLANK_LINES = re.compile(r"\A(?:[^\S\n]*\n)+")


def kept_text(value: Any) -> str:
    """A unit's text as it is kept: line ends made \\n, blank lines before it and blanks
    after it dropped (nothing shows them), the first line's indent kept (Chinese prose
    opens a paragraph with two full-width spaces, as the lines after it do). Blanks
    alone, or with zero-width marks, are no text."""
    text = str(value).replace("\r\n", "\n").replace("\r", "\n").rstrip()
    if shows_nothing(text):
        return ""
    return _LEADING_BLANK_LINES.sub("", text)


def shows_nothing(text: str) -> bool:
    """Blanks and zero-width marks alone: a cell that shows nothing. (Cheap for the
    usual text, whose first character past its blanks shows.)"""
    text = text.strip()
    return not text or (_INVISIBLE_FORMAT.match(text) is not None and not _INVISIBLE_FORMAT.sub("", text).strip())


def starts_with_blank_line(text: str) -> bool:
    return _LEADING_BLANK_LINES.match(text) is not None


def squeeze(text: str) -> str:
    """Drop all white space: unit names never contain any, PDF copies often do."""
    return re.sub(r"\s+", "", text)


_GROUPED = re.compile(r"[+-]?\d{1,3}(,\d{3})+(\.\d*)?")


def to_number(value: Any) -> float | int:
    """A number, also from text such as '１２' or ' 3.5 '; ValueError otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError("not a number")
    if isinstance(value, (int, float)):
        return value
    text = norm_text(value)
    if "," in text:
        # Only as thousands are grouped here (1,234.5): 12,5 is no number, not 125.
        if not _GROUPED.fullmatch(text):
            raise ValueError("not a number")
        text = text.replace(",", "")
    if not re.fullmatch(r"[+-]?(\d+(\.\d*)?|\.\d+)", text):
        raise ValueError("not a number")
    number = float(text)
    return int(number) if number.is_integer() and "." not in text else number


def excel_round(value: float, digits: int = 2) -> float:
    """Round half away from zero, as Excel's ROUND does (Python's round() does not)."""
    q = Decimal(1).scaleb(-digits)
    d = Decimal(repr(value)).quantize(q, rounding=ROUND_HALF_UP)
    return float(d)


def fmt_number(value: float | int | None) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, float):
        return f"{value:.6f}".rstrip("0").rstrip(".")
    return str(value)


def local_text(instant: datetime | None, zone=None, seconds: bool = False) -> str:
    """An instant as people here read it: in ``zone`` (the plan's 時區, else this
    machine's), ROC year (109/07/08 14:00; with ``seconds``, 109/07/08 14:00:05)."""
    if instant is None:
        return ""
    try:
        local = instant.astimezone(zone) if instant.tzinfo else instant
    except (OverflowError, OSError, ValueError):
        return str(instant)[:25]
    text = f"{local.year - 1911}/{local.month:02d}/{local.day:02d} {local.hour:02d}:{local.minute:02d}"
    return f"{text}:{local.second:02d}" if seconds else text


def roc_date(d: date) -> str:
    """2020-07-10 → 109/07/10, the way forms write dates."""
    return f"{d.year - 1911}/{d.month:02d}/{d.day:02d}"


def roc_prose_date(d: date) -> str:
    """2020-07-10 → 109年7月10日, for dates inside sentences."""
    return f"{d.year - 1911}年{d.month}月{d.day}日"


# Day zero of each date system: Excel's 1900 system (with Lotus's phantom
# 1900-02-29, so serials before 61 count from 1899-12-31), Excel's 1904 system,
# and ODF's null date.
_EPOCHS = {"1900": date(1899, 12, 30), "1904": date(1904, 1, 1), "odf": date(1899, 12, 30)}


def date_to_serial(value: date | datetime, system: str = "1900") -> float | int:
    """A date as the number its cell holds, in the workbook's date system."""
    day = value.date() if isinstance(value, datetime) else value
    days = (day - _EPOCHS[system]).days
    if system == "1900" and day < date(1900, 3, 1):
        days -= 1  # before the phantom leap day
    if isinstance(value, datetime):
        fraction = (value.hour * 3600 + value.minute * 60 + value.second) / 86400
        return days + fraction if fraction else days
    return days


def serial_to_date(serial: float, system: str = "1900") -> date:
    """The date a cell number means, in the workbook's date system."""
    days = int(serial)
    if system == "1900" and days < 61:
        days += 1
    from datetime import timedelta

    return _EPOCHS[system] + timedelta(days=days)


FIRST_EARLY_SERIAL = -693593  # 0001-01-01, counted LibreOffice's way from 1899-12-30


def early_serial_to_date(serial: float, system: str = "1900") -> date:
    """The day a negative cell number means: LibreOffice counts days from its null
    date (1899-12-30) in the proleptic Gregorian calendar, with no phantom leap day,
    and writes such numbers into a .xlsx for dates before 1900 (Excel writes none)."""
    from datetime import timedelta

    epoch = date(1899, 12, 30) if system == "1900" else _EPOCHS[system]
    return epoch + timedelta(days=math.floor(serial))


def utc_naive(value: datetime) -> datetime:
    """A time as UTC without a zone, which is how XlsxWriter expects document times
    (it labels them Z). A naive time is taken as this machine's local time."""
    from datetime import timezone

    return value.astimezone(timezone.utc).replace(tzinfo=None)


def parse_date(value: Any) -> date:
    """A date cell, or text such as 109/07/10, 109年7月10日, 115-07-01 or 2020-07-10
    (a year under 1000 is an ROC year).

    A date cell in a year under 1000 is an ROC date typed into LibreOffice, which
    reads 115/07/01 as the year 115 (Excel keeps it as text): it is read as the ROC
    date the person typed, just as the same text would be."""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        if value.year >= 1000:
            return value
        year, month, day = _as_libreoffice_shows(value)
        return date(year + 1911, month, day)
    text = norm_text(value)
    m = re.fullmatch(r"(\d{2,4})\s*[/.\-年]\s*(\d{1,2})\s*[/.\-月]\s*(\d{1,2})\s*日?", text)
    if not m:
        raise ValueError(text)
    y, mo, d = (int(g) for g in m.groups())
    return date(y + 1911 if y < 1000 else y, mo, d)


def _as_libreoffice_shows(value: date) -> tuple[int, int, int]:
    """The year, month and day LibreOffice shows for an early date: the Julian calendar's
    before 1582-10-15, while ODF stores the date in the proleptic Gregorian calendar."""
    jdn = value.toordinal() + 1_721_425  # Julian day number
    if jdn >= 2_299_161:  # 1582-10-15, the first Gregorian day
        return value.year, value.month, value.day
    c = jdn + 32_082
    d = (4 * c + 3) // 1461
    e = c - 1461 * d // 4
    m = (5 * e + 2) // 153
    return d - 4800 + m // 10, m + 3 - 12 * (m // 10), e - (153 * m + 2) // 5 + 1


def parse_offset(value: Any):
    """A fixed UTC offset such as +08:00, UTC+8 or GMT+08:00, as a tzinfo."""
    from datetime import timedelta, timezone

    m = re.fullmatch(r"(?:UTC|GMT)?\s*([+-])(\d{1,2})(?::?(\d{2}))?", norm_text(value), re.I)
    if not m:
        raise ValueError(value)
    hours, minutes = int(m.group(2)), int(m.group(3) or 0)
    if hours > 14 or minutes >= 60:
        raise ValueError(value)
    sign = 1 if m.group(1) == "+" else -1
    return timezone(sign * timedelta(hours=hours, minutes=minutes))


def header_name(value: Any) -> str:
    """A header cell's column name, without a note such as （必填） or (選填)."""
    return re.sub(r"[（(].*?[)）]\s*$", "", norm_text(value)).strip()
