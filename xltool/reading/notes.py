"""Cell notes (comments). No reader takes a note into its cell, so what a unit explains
in one would vanish from the merge unseen: the gate lists them (as it walks the
parts anyway), and the intake says each one (intake/notes.py).

No reader needs a note to read the cells either, so a notes part that cannot be read
(broken, or larger than the gate reads) costs the return nothing but its notes: it is
listed as such, to be said as one warning, and the cells are read as usual."""
from __future__ import annotations

import posixpath
import re
import zipfile
from dataclasses import dataclass, replace

from .bounds import TooLarge
from .xmlstream import Malformed, local, make_parser, parse_bytes

NOTE_TEXT = 4_000  # characters of a note kept to quote (what is said is shorter still)
MAX_NOTE_CHARS = 1_000_000  # kept of all notes of a file together: a memory bound
MAX_NOTES = 1_000  # notes of an .xlsx kept one by one; the rest only counted
CUT = "…"  # the text of a note past MAX_NOTE_CHARS: it is there, and counted

_COMMENTS = "/comments"  # relationship types, by their ending (transitional and strict)
_THREADED = "/threadedcomment"


@dataclass(frozen=True)
class Note:
    sheet: str
    cell: str  # A1
    author: str
    text: str
    raw: str | None = None  # the text as stored, where Excel's _xHHHH_ escapes were read
    more: int = 0  # this entry stands for that many further notes, not kept one by one
    problem: str = ""  # a notes part that could not be read: why ("damaged", "too-large")


class NoteText:
    """The text of notes as it arrives: at most NOTE_TEXT characters kept of each
    note, MAX_NOTE_CHARS of all; never refused (a note is no reason to refuse a file).
    The length held in a note's parts is remembered, not summed for every piece, so
    that a note of a million tiny runs costs linear time."""

    def __init__(self) -> None:
        self.kept = 0
        self._held: dict[int, tuple[list[str], int]] = {}  # the parts in flight: at most 2

    def add(self, parts: list[str], data: str) -> None:
        held = self._length(parts)
        room = min(NOTE_TEXT - held, MAX_NOTE_CHARS - self.kept)
        if room <= 0:
            if not parts and self.kept >= MAX_NOTE_CHARS and data.strip():
                parts.append(CUT)
                self._held[id(parts)] = (parts, NOTE_TEXT)
            return
        piece = data[:room]
        parts.append(piece)
        self.kept += len(piece)
        self._held[id(parts)] = (parts, held + len(piece))

    def _length(self, parts: list[str]) -> int:
        entry = self._held.get(id(parts))
        if entry is not None and entry[0] is parts:
            return entry[1]
        # A note (or its author) begins, or comes back: the reference kept with the
        # length means no other list can take its id while it is remembered.
        while len(self._held) >= 2:
            del self._held[next(iter(self._held))]
        length = sum(map(len, parts))
        self._held[id(parts)] = (parts, length)
        return length


# ------------------------------------------------------------------- .xlsx

def xlsx_notes(zf: zipfile.ZipFile, sheets: list[tuple[str, list[str]]], members: dict[str, str],
               read_small) -> list[Note]:
    """The notes of every sheet, found through each sheet's relationships, Excel 365's
    threaded comments (with their replies) in place of their legacy copies. Only a
    file whose sheets have relationships pays for more than a look at member names."""
    from .xlsx_scan import _key

    if not any(_key(_rels_of(part)) in members for _, parts in sheets for part in parts):
        return []
    reader = _XlsxNotes(members, read_small, _key)
    notes: list[Note] = []
    for sheet, parts in sheets:
        notes = _bounded(notes + reader.of_sheet(sheet, parts))
    return notes


class _XlsxNotes:
    """Reads the notes parts of one .xlsx, each part once however many sheets point at
    it (a hostile file may point them all at one large part)."""

    def __init__(self, members: dict[str, str], read_small, key) -> None:
        self.members, self.read_small, self.key = members, read_small, key
        self.budget = NoteText()
        self.parts: dict[str, list[Note]] = {}  # member → its notes (sheet "") or one problem
        self.persons: dict[str, str] | None = None

    def of_sheet(self, sheet: str, parts: list[str]) -> list[Note]:
        legacy: list[Note] = []
        threaded: list[Note] = []
        problems: list[Note] = []
        for part in parts:
            try:
                rels = self.members.get(self.key(_rels_of(part)))
                targets = _targets(self.read_small(rels)) if rels else []
            except (TooLarge, Malformed):
                problems.append(Note(sheet, "", "", "", problem="damaged"))
                continue
            for kind, target in targets:
                member = self.members.get(self.key(_beside(part, target)))
                if member is None:
                    continue  # nothing there: no note to lose
                found = [replace(n, sheet=sheet) for n in self._part(kind, member)]
                problems += [n for n in found if n.problem]
                (legacy if kind == _COMMENTS else threaded).extend(n for n in found if not n.problem)
        # A threaded comment stands in for its legacy copy (same cell), which Excel 365
        # fills with a preamble for older programs.
        by_cell: dict[str, Note | None] = {n.cell: n for n in threaded if not n.more}
        return (problems + [n if n.more else by_cell.pop(n.cell, None) or _legacy(n) for n in legacy]
                + [n for n in by_cell.values() if n] + [n for n in threaded if n.more])

    def _part(self, kind: str, member: str) -> list[Note]:
        if member not in self.parts:
            try:
                data = self.read_small(member)
                self.parts[member] = _bounded(_comments("", data, self.budget) if kind == _COMMENTS
                                              else _threaded("", data, self.budget, self._persons()))
            except TooLarge:
                self.parts[member] = [Note("", "", "", "", problem="too-large")]
            except Malformed:
                self.parts[member] = [Note("", "", "", "", problem="damaged")]
        return self.parts[member]

    def _persons(self) -> dict[str, str]:
        if self.persons is None:
            self.persons = _persons(self.members, self.read_small)
        return self.persons


def _bounded(notes: list[Note]) -> list[Note]:
    """At most MAX_NOTES notes one by one, the rest as one count (memory stays bounded
    whatever number of notes a hostile file holds)."""
    counted = [n for n in notes if n.more]
    said = [n for n in notes if not n.more and not n.problem]
    if len(said) <= MAX_NOTES and len(counted) <= 1:
        return notes
    rest = said[MAX_NOTES:]
    first = (counted or rest)[0]
    more = Note(first.sheet, first.cell, "", "", more=sum(n.more for n in counted) + len(rest))
    return [n for n in notes if n.problem] + said[:MAX_NOTES] + [more]


def _rels_of(part: str) -> str:
    return posixpath.join(posixpath.dirname(part), "_rels", posixpath.basename(part) + ".rels")


def _targets(data: bytes) -> list[tuple[str, str]]:
    """(kind, target) of the notes a sheet's relationships name: legacy comments and
    threaded ones, inside the package (an External target is no part of it)."""
    targets: list[tuple[str, str]] = []

    def start(tag, attrs):
        if local(tag) != "Relationship" or attrs.get("TargetMode", "") == "External":
            return
        kind = attrs.get("Type", "").lower()
        for ending in (_COMMENTS, _THREADED):
            if kind.endswith(ending):
                targets.append((ending, attrs.get("Target", "")))

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
    names = NoteText()  # the authors' own bound: a long list of them starves no note's text
    notes: list[Note] = []
    # "in": author or comment being read; "t": inside a <t> of the note's own text
    # (not of a phonetic run, rPh, which repeats the text in kana).
    state: dict = {"in": None, "parts": [], "ref": "", "author": 0, "t": False, "rph": False}

    def start(tag, attrs):
        name = local(tag)
        if name == "author":
            state["in"], state["parts"] = "author", []
        elif name == "comment":
            state["in"], state["parts"] = "comment", []
            state["ref"] = attrs.get("ref", "")
            state["author"] = attrs.get("authorId", "0")
        elif name == "t":
            state["t"] = not state["rph"]
        elif name == "rPh":
            state["rph"] = True

    def end(tag):
        name = local(tag)
        if name == "author" and state["in"] == "author":
            authors.append(_unescape("".join(state["parts"])))
            state["in"] = None
        elif name == "comment" and state["in"] == "comment":
            who = int(state["author"]) if str(state["author"]).isdigit() else -1
            author = authors[who] if 0 <= who < len(authors) else ""
            stored = "".join(state["parts"])
            text = _unescape(stored)
            if text.strip():  # an empty note says nothing: not kept
                notes.append(Note(sheet, state["ref"], author, text, stored if stored != text else None))
            state["in"] = None
        elif name == "t":
            state["t"] = False
        elif name == "rPh":
            state["rph"] = False

    def text(data):
        if state["in"] == "author":
            names.add(state["parts"], data)
        elif state["in"] == "comment" and state["t"]:
            budget.add(state["parts"], data)

    parse_bytes(make_parser(start, end, text), data)
    return notes


def _threaded(sheet: str, data: bytes, budget: NoteText, persons: dict[str, str]) -> list[Note]:
    """Excel 365's threaded comments by cell: the first one's text, each reply after it."""
    threads: dict[str, tuple[str, list[str]]] = {}  # cell → (author, parts)
    state: dict = {"ref": None, "text": False, "parts": []}

    def start(tag, attrs):
        name = local(tag)
        if name == "threadedComment":
            ref, who = attrs.get("ref", ""), persons.get(attrs.get("personId", ""), "")
            if ref in threads:
                state["parts"] = threads[ref][1]
                budget.add(state["parts"], f"\n回覆（{who}）：" if who else "\n回覆：")
            else:
                state["parts"] = []
                threads[ref] = (who, state["parts"])
            state["ref"] = ref
        elif name == "text" and state["ref"] is not None:
            state["text"] = True

    def end(tag):
        name = local(tag)
        if name == "text":
            state["text"] = False
        elif name == "threadedComment":
            state["ref"] = None

    def text(data):
        if state["text"]:
            budget.add(state["parts"], data)

    parse_bytes(make_parser(start, end, text), data)
    return [Note(sheet, ref, author, "".join(parts)) for ref, (author, parts) in threads.items()
            if "".join(parts).strip()]


def _persons(members: dict[str, str], read_small) -> dict[str, str]:
    """Excel 365's people (id → display name), for the authors of threaded comments;
    none when the part is missing or unreadable (the notes are said all the same)."""
    found: dict[str, str] = {}

    def start(tag, attrs):
        if local(tag) == "person":
            found[attrs.get("id", "")] = attrs.get("displayName", "")

    for key, member in members.items():
        if key.startswith("xl/persons/") and key.endswith(".xml"):
            try:
                parse_bytes(make_parser(start), read_small(member))
            except (TooLarge, Malformed):
                return {}
    return found


# What Excel 365 writes as the legacy copy of a threaded comment, for programs that
# know no threads: a preamble (in the language of the Excel that wrote it), then a
# label line ("Comment:") and the text indented by four spaces, then each reply so.
_LABEL = re.compile(r"^\S.*[:：]\s*$")


def _legacy(note: Note) -> Note:
    """A legacy copy of a threaded comment (author "tc={…}", as LibreOffice keeps it
    too) without its preamble: the comment and its replies; any other note as it is."""
    if not note.author.startswith("tc="):
        return note
    lines = note.text.split("\n")
    for i, line in enumerate(lines[:-1]):
        if _LABEL.match(line) and lines[i + 1].startswith("    "):
            body = [ln[4:] if ln.startswith("    ") else ln for ln in lines[i + 1:]]
            return Note(note.sheet, note.cell, "", "\n".join(body), note.raw or note.text)
    return Note(note.sheet, note.cell, "", note.text, note.raw)


_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")


def _unescape(text: str) -> str:
    """Excel's _xHHHH_ escapes read (a control character; _x005F_ a literal "_"), as
    Excel and LibreOffice show the note. A surrogate is no character: U+FFFD."""
    if "_x" not in text:
        return text
    return _ESCAPE.sub(lambda m: chr(code) if not 0xD800 <= (code := int(m[1], 16)) <= 0xDFFF
                       else "\ufffd", text)
