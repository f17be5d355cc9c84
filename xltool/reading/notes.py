"""Cell notes (comments). No reader takes a note into its cell, so what a unit explains
in one would vanish from the merge unseen: the gate lists them (as it walks the
parts anyway), and the intake says each one (intake/notes.py)."""
from __future__ import annotations

import posixpath
import zipfile
from dataclasses import dataclass

from .bounds import TooLarge
from .xmlstream import local, make_parser, parse_bytes

NOTE_TEXT = 4_000  # characters of a note kept to quote (what is said is shorter still)
MAX_NOTE_CHARS = 1_000_000  # all notes of a file together: a gate bound, not a limit people meet


@dataclass(frozen=True)
class Note:
    sheet: str
    cell: str  # A1
    author: str
    text: str


class NoteText:
    """The text of notes as it arrives, bounded in total across a file."""

    def __init__(self) -> None:
        self.used = 0

    def add(self, parts: list[str], data: str) -> None:
        self.used += len(data)
        if self.used > MAX_NOTE_CHARS:
            raise TooLarge("", "", "text")
        if sum(map(len, parts)) < NOTE_TEXT:
            parts.append(data)


# ------------------------------------------------------------------- .xlsx

def xlsx_notes(zf: zipfile.ZipFile, sheets: list[tuple[str, list[str]]], members: dict[str, str],
               read_small) -> list[Note]:
    """The notes of every sheet, found through each sheet's relationships. Only files
    that hold a comments part pay for more than a look at the member names."""
    if not any("comments" in key and key.endswith(".xml") for key in members):
        return []
    from .xlsx_scan import _key

    notes: list[Note] = []
    budget = NoteText()
    for sheet, parts in sheets:
        for part in parts:
            rels = members.get(_key(_rels_of(part)))
            for target in _comment_targets(read_small(rels)) if rels else ():
                found = members.get(_key(_beside(part, target)))
                if found:
                    notes += _comments(sheet, read_small(found), budget)
    return notes


def _rels_of(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _comment_targets(data: bytes) -> list[str]:
    targets: list[str] = []

    def start(tag, attrs):
        if local(tag) == "Relationship" and attrs.get("Type", "").endswith("/comments") \
                and attrs.get("TargetMode", "") != "External":
            targets.append(attrs.get("Target", ""))

    parse_bytes(make_parser(start), data)
    return targets


def _beside(part: str, target: str) -> str:
    """A sheet relationship's target: absolute in the package, or relative to the
    sheet's own folder (../comments1.xml from xl/worksheets/)."""
    if target.startswith("/"):
        return target[1:]
    return posixpath.normpath(posixpath.join(posixpath.dirname(part), target))


def _comments(sheet: str, data: bytes, budget: NoteText) -> list[Note]:
    authors: list[str] = []
    notes: list[Note] = []
    state: dict = {"in": None, "parts": [], "ref": "", "author": 0, "t": False}

    def start(tag, attrs):
        name = local(tag)
        if name == "author":
            state["in"], state["parts"] = "author", []
        elif name == "comment":
            state["in"], state["parts"] = "comment", []
            state["ref"] = attrs.get("ref", "")
            state["author"] = attrs.get("authorId", "0")
        elif name == "t":
            state["t"] = True
        elif name == "rPh":  # phonetic runs repeat the text
            state["t"] = None

    def end(tag):
        name = local(tag)
        if name == "author" and state["in"] == "author":
            authors.append("".join(state["parts"]))
            state["in"] = None
        elif name == "comment" and state["in"] == "comment":
            who = int(state["author"]) if str(state["author"]).isdigit() else -1
            author = authors[who] if 0 <= who < len(authors) else ""
            notes.append(Note(sheet, state["ref"], author, "".join(state["parts"])))
            state["in"] = None
        elif name == "t" and state["t"] or name == "rPh":
            state["t"] = False

    def text(data):
        if state["in"] == "author" or (state["in"] == "comment" and state["t"]):
            budget.add(state["parts"], data)

    parse_bytes(make_parser(start, end, text), data)
    return notes
