"""Quoting values that came from outside (a subject, an attachment name, a cell)
in messages for people: short, and with nothing the terminal would obey."""
from __future__ import annotations

import re
from typing import Any

QUOTE_CHARS = 60

# C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the
# bidirectional overrides that can make a terminal line read differently.
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069\ufeff]")
_SURROGATE = re.compile("[\ud800-\udfff]")  # undecodable bytes, kept by surrogateescape


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(value: Any) -> str:
    """``value`` with every control character written as an escape such as ``\\x1b``.

    Surrogates (undecodable bytes kept by a parser) become U+FFFD, so that the
    text can always be written out."""
    text = value if isinstance(value, str) else str(value)
    return _INVISIBLE.sub(_escape, _SURROGATE.sub("\ufffd", text))


def quote(value: Any, limit: int = QUOTE_CHARS) -> str:
    """At most ``limit`` characters of ``value`` (then "…"), made visible."""
    text = value if isinstance(value, str) else str(value)
    shown = visible(text[:limit + 1])  # cut first: a value may be megabytes long
    return shown if len(shown) <= limit else shown[:limit] + "…"


# What XML 1.0 cannot hold, so no ODF, .docx or HTML file xltool writes can: odfpy
# writes U+FFFD for it, python-docx refuses the whole document.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff\ud800-\udfff]")
# What no text xltool keeps may hold: the above, and C1 controls and DEL (tab and line
# breaks are text). The plan check refuses them; a return's text has them removed.
NOT_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufffe\uffff\ud800-\udfff]")


def xml_lines(text: str) -> list[str]:
    """A text's lines for a document made of XML (a CR, a CR LF or a LF each ends one;
    a raw CR would read as a break of its own), without what XML cannot hold."""
    text = str(text).replace("\r\n", "\n").replace("\r", "\n")
    return _NOT_IN_XML.sub("", text).split("\n")
