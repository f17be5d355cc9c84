"""Quoting values that came from outside (a subject, an attachment name, a cell)
in messages for people: short, and with nothing the terminal would obey."""
from __future__ import annotations

import re
from typing import Any

QUOTE_CHARS = 60

# What shows as nothing: Unicode's default-ignorable code points (zero-width and
# direction marks, variation selectors, fillers, tags) and its format characters (Cf).
# In a name it makes two names look alike, or one read as another (U+202E shows what
# follows backwards).
SHOWS_AS_NOTHING = re.compile(
    "[\u00ad\u034f\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u115f\u1160\u17b4\u17b5"
    "\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0"
    "\ufff0-\ufffb\U000110bd\U000110cd\U00013430-\U0001343f\U0001bca0-\U0001bca3"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff]")
# That, C0 and C1 controls, DEL, the Unicode line and paragraph separators, and the
# noncharacters U+FFFE and U+FFFF: what a quoted value shows as an escape, so that a
# terminal obeys none of it and a reader sees every character.
_INVISIBLE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029\ufffe\uffff]|{SHOWS_AS_NOTHING.pattern}")
_SURROGATE = re.compile("[\ud800-\udfff]")  # undecodable bytes, kept by surrogateescape


def _escape(match: re.Match) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


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
