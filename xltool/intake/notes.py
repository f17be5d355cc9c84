"""Cell notes a unit wrote, said one by one and quoted (the readers leave notes out of
the cells, see reading/notes.py). xltool's own notes, the "what to fix" of a
correction copy, are left out: the copy's hidden sheet records their digests. A
notes part that could not be read is said once for its sheet: the notes in it are
not known, the cells are read all the same."""
from __future__ import annotations

from ..errors import Issue
from ..forms.identity import KEYS, cell_digest
from ..quoting import quote
from ..reading.notes import NOTE_TEXT, Note

MAX_SAID = 20  # notes said one by one; the rest in one more issue
_WHY = {"too-large": "註解內容過大", "damaged": "註解的內容已損毀"}


def own_notes(notes: list[str]) -> str:
    """What a correction copy's hidden sheet records of the notes xltool wrote in it:
    their digests, blind to white space, as LibreOffice and Excel may re-wrap a note
    (and drop its author, so the author cannot tell them apart)."""
    return " ".join(sorted({cell_digest(n) for n in notes}))


def note_issues(name: str, notes: list[Note], meta: dict[str, str] | None) -> list[Issue]:
    """One warning per note a person wrote, quoting it; one per sheet whose notes
    could not be read."""
    own = set((meta or {}).get(KEYS["notes"], "").split())
    theirs = [n for n in notes if not n.more and not n.problem and n.text.strip()
              and not _is_own(n, own)]
    # The file, sheet and cell are the issue's place, shown before its message.
    issues = [Issue("cell-note", "此儲存格有註解"
                    f"{f'（{quote(n.author, 40)}）' if n.author.strip() else ''}：「{quote(_one_line(n.text))}」；"
                    "註解不會納入彙整，要填報的內容請填在儲存格中。",
                    file=name, sheet=n.sheet, cell=n.cell, value=n.text[:NOTE_TEXT])
              for n in theirs[:MAX_SAID]]
    rest = theirs[MAX_SAID:]
    counted = sum(n.more for n in notes)
    if rest or counted:
        cells = "、".join(f"{n.sheet}!{n.cell}" for n in rest[:10])
        cells += "…" if len(rest) > 10 or counted else ""
        issues.append(Issue("cell-note", f"「{name}」另有 {len(rest) + counted} 個註解（{cells}）；"
                            "註解不會納入彙整。", file=name))
    return issues + _unreadable(name, notes)


def _is_own(note: Note, own: set[str]) -> bool:
    """Whether xltool wrote the note (its digest recorded), as read or as stored."""
    return bool(own) and (cell_digest(note.text) in own
                          or (note.raw is not None and cell_digest(note.raw) in own))


def _one_line(text: str) -> str:
    """A note's text for a one-line message: its line breaks as spaces (the issue's
    value keeps them)."""
    return " ".join(text.replace("\r\n", "\n").replace("\r", "\n").split("\n"))


def _unreadable(name: str, notes: list[Note]) -> list[Issue]:
    issues: list[Issue] = []
    for sheet in dict.fromkeys(n.sheet for n in notes if n.problem):
        why = "、".join(dict.fromkeys(_WHY.get(n.problem, n.problem) for n in notes
                                      if n.problem and n.sheet == sheet))
        issues.append(Issue("cell-notes-unreadable", f"此工作表有註解無法讀取（{why}），"
                            "其中的文字未能列出；儲存格的內容已照常讀取。若註解中有要填報的內容，"
                            "請填在儲存格中，或重新存檔後再寄。", file=name, sheet=sheet))
    return issues
