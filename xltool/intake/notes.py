"""Cell notes a unit wrote, said one by one and quoted (the readers leave notes out of
the cells, see reading/notes.py). xltool's own notes, the "what to fix" of a
correction copy, are left out: the copy's hidden sheet records their digests."""
from __future__ import annotations

from ..errors import Issue
from ..forms.identity import KEYS, cell_digest
from ..quoting import quote
from ..reading.notes import NOTE_TEXT, Note

MAX_SAID = 20  # notes said one by one; the rest in one more issue


def own_notes(notes: list[str]) -> str:
    """What a correction copy's hidden sheet records of the notes xltool wrote in it:
    their digests, blind to white space, as LibreOffice and Excel may re-wrap a note
    (and drop its author, so the author cannot tell them apart)."""
    return " ".join(sorted({cell_digest(n) for n in notes}))


def note_issues(name: str, notes: list[Note], meta: dict[str, str] | None) -> list[Issue]:
    """One warning per note a person wrote, quoting it."""
    own = set((meta or {}).get(KEYS["notes"], "").split())
    theirs = [n for n in notes if n.text.strip() and cell_digest(n.text) not in own]
    issues = [Issue("cell-note", f"「{name}」的工作表「{n.sheet}」儲存格 {n.cell} 有註解"
                    f"{f'（{quote(n.author, 40)}）' if n.author.strip() else ''}：「{quote(n.text)}」；"
                    "註解不會納入彙整，要填報的內容請填在儲存格中。",
                    file=name, sheet=n.sheet, cell=n.cell, value=n.text[:NOTE_TEXT])
              for n in theirs[:MAX_SAID]]
    if len(theirs) > MAX_SAID:
        rest = theirs[MAX_SAID:]
        cells = "、".join(f"{n.sheet}!{n.cell}" for n in rest[:10]) + ("…" if len(rest) > 10 else "")
        issues.append(Issue("cell-note", f"「{name}」另有 {len(rest)} 個註解（{cells}）；"
                            "註解不會納入彙整。", file=name))
    return issues
