"""What intake makes of one returned file: its rows, its issues, and what its
template was made from."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from ..cells import a1
from ..errors import Issue
from ..files import display_name
from ..forms import fields as F


@dataclass(slots=True)
class Row:
    """One item row of a return. Kept small: a merge holds one per unit and item."""

    item_id: str
    row: int  # 0-based sheet row
    values: dict[str, Any] = field(default_factory=dict)  # input column → checked value
    flags: list[str] = field(default_factory=list)  # issue codes on this row
    invalid: list[str] = field(default_factory=list)  # input columns whose value was refused
    raw: dict[str, Any] | None = None  # input column → value as found (feedback only)
    # What the row's texts need in the master, worked out by the worker that read it
    # (master/fit.py), so that the one process writing the master need not.
    fit: tuple[int, tuple[int, ...]] | None = None


@dataclass
class Return:
    path: Path
    unit: str | None = None
    saved: datetime | None = None
    rows: dict[str, Row] = field(default_factory=dict)
    header: dict[str, Any] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)
    usable: bool = False  # recognised and read: its rows count towards scores
    sheet: str = F.FORM_SHEET
    cols: dict[str, int] = field(default_factory=dict)  # column name → 0-based column
    # Made from an earlier version of the plan (see Made): what the plan changed since.
    version: str = ""  # the template's fingerprint: the plan version it was made from
    generated: str = ""  # when that template was made (ISO, as the template says)
    revisions: list[tuple[str, str, str, str]] = field(default_factory=list)  # item, field, old, new
    removed: dict[str, Row] = field(default_factory=dict)  # rows of items no longer the unit's
    new_items: list[str] = field(default_factory=list)  # the unit's items its template lacked
    capped: dict[str, float] = field(default_factory=dict)  # item → score over revised points
    # The audit record (see intake/audit.py): the file as read, whether usable or not.
    size: int | None = None  # bytes, as read
    sha256: str = ""  # of the bytes as read
    producer: str = ""  # the program that saved it, as the file's own properties say
    stated: datetime | None = None  # when the file says it was saved (an instant), trusted or not
    unlisted: frozenset[str] = frozenset()  # codes of the issues past MAX_ISSUES_PER_FILE

    @property
    def name(self) -> str:
        """The file's name as people should see it (see files.display_name)."""
        return display_name(self.path)

    def cell_ref(self, row: Row, column: str) -> str:
        """The A1 address of an input cell of ``row`` in this return's own layout."""
        return a1(row.row, self.cols[column])

    @property
    def errors(self) -> int:
        return sum(1 for i in self.issues if i.is_error)

    @property
    def warnings(self) -> int:
        return sum(1 for i in self.issues if not i.is_error)


@dataclass
class Made:
    """What a return's template was made from, as far as it can be trusted.

    ``digests`` are the template's own record of each locked cell (version 2); a
    locked cell that differs from the plan but matches its digest is the earlier
    plan's wording, not the unit's edit. Without trusted digests every difference
    is an edit."""

    items: list[str] = field(default_factory=list)  # the template's items, in order
    digests: dict[str, list[str]] = field(default_factory=dict)  # item → cell digests
    current: bool = True  # made from the plan as it is now
