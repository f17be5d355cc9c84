"""An .odt plan document as blocks (odfpy parses the package; the body is walked
here, with ODF's white-space rules and spanned and covered cells laid on the grid)."""
from __future__ import annotations

from pathlib import Path

from .files import (
    MAX_COLS,
    Block,
    Budget,
    GridRow,
    Paragraph,
    Table,
    attr,
    carry_down,
    join_paragraphs,
    odf_spaces,
)

TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
PARAGRAPHS = {(TEXT, "p"), (TEXT, "h")}
# Containers whose paragraphs are the document's, in order.
CONTAINERS = {(TEXT, "section"), (TEXT, "list"), (TEXT, "list-item"), (TEXT, "list-header"),
              (TEXT, "index-body"), (TEXT, "table-of-content"), (TEXT, "alphabetical-index")}
ROW_GROUPS = {(TABLE, "table-header-rows"), (TABLE, "table-rows"), (TABLE, "table-row-group")}
# Inside a paragraph: notes, annotations, frames (their own paragraphs) and change marks.
SKIP = {(TEXT, "note"), (OFFICE, "annotation"), (OFFICE, "annotation-end"), (TEXT, "tracked-changes"),
        (TEXT, "soft-page-break"), ("urn:oasis:names:tc:opendocument:xmlns:drawing:1.0", "frame"),
        (TEXT, "bookmark"), (TEXT, "bookmark-start"), (TEXT, "bookmark-end"), (TEXT, "change"),
        (TEXT, "change-start"), (TEXT, "change-end")}
MAX_REPEAT = 1_000


def odt_blocks(path: Path, budget: Budget) -> list[Block]:
    from odf.opendocument import load

    document = load(str(path))
    blocks: list[Block] = []
    _body(document.text, blocks, budget)
    return blocks


def _elements(parent):
    return [n for n in parent.childNodes if n.nodeType == n.ELEMENT_NODE]


def _body(parent, blocks: list[Block], budget: Budget) -> None:
    for el in _elements(parent):
        if el.qname in PARAGRAPHS:
            budget.add_block()
            blocks.append(Paragraph(paragraph_text(el, budget)))
        elif el.qname == (TABLE, "table"):
            budget.add_block()
            blocks.append(_table(el, budget))
        elif el.qname in CONTAINERS:
            _body(el, blocks, budget)


def _rows(parent):
    for el in _elements(parent):
        if el.qname == (TABLE, "table-row"):
            yield el
        elif el.qname in ROW_GROUPS:
            yield from _rows(el)


def _table(table, budget: Budget) -> Table:
    rows: list[list] = []
    spans: dict[int, tuple[int, int]] = {}  # column → (rows still covered, columns)
    for tr in _rows(table):
        repeat = attr(tr.attributes, (TABLE, "number-rows-repeated"), cap=MAX_REPEAT)
        for _ in range(repeat):
            budget.add_row()
            rows.append(_row(tr, spans, budget))
    return Table(carry_down(rows))


def _row(tr, spans: dict[int, tuple[int, int]], budget: Budget) -> list:
    row = GridRow(budget)
    pending = 0  # covered cells still belonging to a cell spanning columns
    for el in _elements(tr):
        if el.qname not in ((TABLE, "table-cell"), (TABLE, "covered-table-cell")):
            continue
        repeat = attr(el.attributes, (TABLE, "number-columns-repeated"), cap=MAX_COLS)
        for _ in range(repeat):
            if el.qname == (TABLE, "table-cell"):
                cols = attr(el.attributes, (TABLE, "number-columns-spanned"))
                down = attr(el.attributes, (TABLE, "number-rows-spanned"), cap=100_000)
                if down > 1:
                    spans[row.col] = (down - 1, cols)
                row.add(join_paragraphs(_cell_texts(el, budget)), cols)
                pending = cols - 1
            elif pending:
                pending -= 1  # covered by the cell to the left
            elif row.col in spans:
                left, cols = spans[row.col]
                spans[row.col] = (left - 1, cols)
                if left <= 1:
                    del spans[row.col]
                row.add("", cols, continued=True)
                pending = cols - 1
            else:
                row.add("")  # a covered cell with nothing over it: an empty slot
    return row.cells


def _cell_texts(cell, budget: Budget) -> list[str]:
    texts = []
    for el in _elements(cell):
        if el.qname in PARAGRAPHS:
            texts.append(paragraph_text(el, budget))
        elif el.qname in CONTAINERS:
            texts.extend(_cell_texts(el, budget))
        elif el.qname == (TABLE, "table"):  # a nested table: its paragraphs, in order
            for tr in _rows(el):
                for c in _elements(tr):
                    texts.extend(_cell_texts(c, budget))
    return texts


class _Text(list):
    """A paragraph's pieces; ``collapsible`` when the last one ended in a space that
    came from character data (which a following space joins)."""

    collapsible = True  # the start of a paragraph: leading spaces go


def paragraph_text(p, budget: Budget) -> str:
    out = _Text()
    _walk(p, out)
    text = "".join(out)
    budget.add_text(len(text))
    return text


def _walk(el, out: _Text) -> None:
    for node in el.childNodes:
        if node.nodeType == node.TEXT_NODE:
            piece = odf_spaces(node.data, at_start=out.collapsible)
            if piece:
                out.append(piece)
                out.collapsible = piece.endswith(" ")
            continue
        if node.nodeType != node.ELEMENT_NODE or node.qname in SKIP:
            continue
        name = node.qname
        special = {(TEXT, "tab"): "\t", (TEXT, "line-break"): "\n"}
        if name == (TEXT, "s"):
            out.append(" " * attr(node.attributes, (TEXT, "c"), cap=MAX_REPEAT))
            out.collapsible = False
        elif name in special:
            out.append(special[name])
            out.collapsible = False
        else:  # spans, links, fields, ruby: their text is the paragraph's
            _walk(node, out)
