"""Streaming, namespace-aware XML for the gate: expat, with every DTD refused.

Parts are parsed as they are inflated, a chunk at a time, so time is linear in
the size of the part and memory does not grow with it. Tags arrive as
``namespace}local``; the scanners look at local names, whatever the prefix,
because that is what the readers after them do too.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import IO, NoReturn
from xml.parsers import expat

CHUNK = 1 << 16


class Unsafe(Exception):
    """The XML declares a DTD or entities: only attacks need them here."""


class Malformed(Exception):
    """The XML is not well formed."""


def local(tag: str) -> str:
    return tag[tag.rfind("}") + 1:]


def _refuse(*_args: object) -> NoReturn:
    raise Unsafe()


def make_parser(start: Callable | None = None, end: Callable | None = None,
                text: Callable | None = None):
    p = expat.ParserCreate(namespace_separator="}")
    p.buffer_text = True
    p.StartDoctypeDeclHandler = _refuse
    p.EntityDeclHandler = _refuse
    p.ExternalEntityRefHandler = _refuse
    p.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
    if start:
        p.StartElementHandler = start
    if end:
        p.EndElementHandler = end
    if text:
        p.CharacterDataHandler = text
    return p


def parse_stream(parser, stream: IO[bytes]) -> None:
    """Feed ``stream`` to ``parser`` in chunks; raise Malformed or Unsafe."""
    try:
        while True:
            chunk = stream.read(CHUNK)
            if not chunk:
                break
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    except _BROKEN as exc:
        raise Malformed(str(exc)) from exc


def parse_bytes(parser, data: bytes) -> None:
    try:
        parser.Parse(data, True)
    except _BROKEN as exc:
        raise Malformed(str(exc)) from exc


# What expat raises on a broken part: bad XML, or an unknown encoding in the declaration.
_BROKEN = (expat.ExpatError, LookupError, UnicodeError, ValueError)
