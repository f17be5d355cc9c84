"""The items of a plan document: its 構面 headings and its item tables, in order.

An item table is one whose header row names 執行策略, 執行方法, 主辦單位 and
具體作法; the columns are found by those names wherever they stand. 編號 are
numbered by position when the table has no 編號 column: 構面-執行策略-執行方法,
plus the row's place when several rows share one 執行方法 (1-2-1-3).
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

from .draft import (
    REQUIRED_ROLES,
    ROLES,
    SUB_ITEM,
    DraftDimension,
    DraftItem,
    PlanDraft,
    dimension_heading,
    number,
    squash,
)
from .files import Block, Cell, Paragraph, Table


@dataclass
class _State:
    """Where the walk is: the 構面, and what carries down from row to row."""

    draft: PlanDraft
    dimension: DraftDimension | None = None
    strategy: str | None = None
    method: str = ""
    head: str | None = None  # a 執行方法 heading the next (n) rows continue
    group: tuple[str, str] | None = None
    place: list[int] = field(default_factory=lambda: [0, 0, 0])  # strategy, method, row
    places: list[tuple[int, int, int, int]] = field(default_factory=list)

    def start_dimension(self, number_: int | None, name: str, points: float | None, heading: str) -> None:
        dims = self.draft.dimensions
        code = str(number_ if number_ and all(d.code != str(number_) for d in dims) else len(dims) + 1)
        self.dimension = DraftDimension(code, name, points, heading.strip())
        dims.append(self.dimension)
        self.strategy, self.method, self.head, self.group = None, "", None, None
        self.place = [0, 0, 0]


def read_items(blocks: list[Block], draft: PlanDraft) -> None:
    state = _State(draft)
    for block in blocks:
        if isinstance(block, Paragraph):
            found = dimension_heading(block.text)
            if found:
                state.start_dimension(*found, block.text)
        else:
            _table(block, state)
    _number(draft, state.places)


def header_roles(row: list[Cell]) -> dict[str, int] | None:
    """Role → grid column, when ``row`` is an item table's header row."""
    roles: dict[str, int] = {}
    col = 0
    for cell in row:
        text = squash(cell.text)
        for role, names in ROLES.items():
            if role not in roles and any(text.startswith(squash(n)) for n in names):
                roles[role] = col
        col += cell.span
    return roles if all(r in roles for r in REQUIRED_ROLES) else None


def _at(row: list[Cell], col: int) -> Cell | None:
    start = 0
    for cell in row:
        if start <= col < start + cell.span:
            return cell
        start += cell.span
    return None


def _table(table: Table, state: _State) -> None:
    roles: dict[str, int] | None = None
    header: list[str] = []
    for row in table.rows:
        texts = [squash(c.text) for c in row]
        filled = [c for c in row if c.text.strip()]
        if len(filled) == 1 and (roles is None or len(row) == 1 or filled[0].span > 1):
            found = dimension_heading(filled[0].text)
            if found:
                state.start_dimension(*found, filled[0].text)
                continue
        if roles is None:
            roles = header_roles(row)
            if roles is not None:
                header = texts
                _period(row, roles, state.draft)
                state.draft.points_column = state.draft.points_column or "points" in roles
            continue
        if texts == header or not filled or (len(filled) == 1 and filled[0].span >= 3):
            continue  # a repeated header row, an empty row, or a banner across the table
        values = {role: _at(row, col) for role, col in roles.items()}
        _row(values, state)


def _period(row: list[Cell], roles: dict[str, int], draft: PlanDraft) -> None:
    """填報期間 from the brackets of the 執行績效與成果 header: (1-6 月) → 1-6月."""
    cell = _at(row, roles["result"]) if "result" in roles else None
    if cell is None or draft.period:
        return
    m = re.search(r"[(（]([^()（）]{1,20})[)）]", cell.text)
    if m:
        draft.period = re.sub(r"\s+", "", m.group(1))


def _text(cell: Cell | None) -> str:
    return cell.text if cell is not None else ""


def _row(values: dict[str, Cell | None], state: _State) -> None:
    strategy, method = values["strategy"], values["method"]
    lead, practice = _text(values["lead"]), _text(values["practice"])
    if strategy is not None and strategy.text.strip() and not strategy.continued \
            and strategy.text != state.strategy:
        state.strategy, state.head, state.group = strategy.text, None, None
        state.place = [state.place[0] + 1, 0, 0]
    if not lead.strip() and not practice.strip():
        if method is not None and method.text.strip() and not method.continued:
            state.head, state.group = method.text, ("head", method.text)  # a heading row
            state.place[1:] = [state.place[1] + 1, 0]
        return
    if state.dimension is None:
        state.start_dimension(None, "", None, "")
    if method is None or not method.text.strip() or method.continued or method.text == state.method:
        text, group = state.method, state.group
    elif state.head is not None and SUB_ITEM.match(method.text):
        text, group = state.head + "\n" + method.text, ("head", state.head)
    else:
        state.head = _heading_of(method.text)
        text = method.text
        group = ("head", state.head) if state.head is not None else ("text", text)
    if group != state.group or state.place[1] == 0:
        state.place[1:] = [state.place[1] + 1, 0]
        state.group = group
    state.place[2] += 1
    state.method = text
    assert state.dimension is not None  # started above
    state.draft.items.append(DraftItem(
        id=_text(values.get("id")).strip(), dimension=state.dimension.code,
        strategy=state.strategy or "", method=text, lead_text=lead, practice=practice,
        points=number(_text(values.get("points"))) if values.get("points") else None,
        target=_text(values.get("target")).strip(), measure=_text(values.get("measure")).strip()))
    dim_index = state.draft.dimensions.index(state.dimension) + 1
    state.places.append((dim_index, max(state.place[0], 1), state.place[1], state.place[2]))


def _heading_of(text: str) -> str | None:
    """The heading of a 執行方法 that starts a numbered list: the lines before its (1)."""
    lines = text.split("\n")
    for k, line in enumerate(lines):
        if k and SUB_ITEM.match(line):
            return "\n".join(lines[:k])
    return None


def _number(draft: PlanDraft, places: list[tuple[int, int, int, int]]) -> None:
    """編號 by position where the document has none: 1-2-1, or 1-2-1-3 in a shared 執行方法."""
    sizes: dict[tuple[int, int, int], int] = {}
    for d, s, m, _ in places:
        sizes[(d, s, m)] = sizes.get((d, s, m), 0) + 1
    for item, (d, s, m, k) in zip(draft.items, places):
        if not item.id:
            item.id = f"{d}-{s}-{m}" + (f"-{k}" if sizes[(d, s, m)] > 1 else "")
