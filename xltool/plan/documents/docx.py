"""A .docx plan document as blocks (python-docx opens the package; the body is
walked here, so that tracked insertions, fields, links and content controls keep
their text and deleted text, text boxes and fallbacks stay out)."""
from __future__ import annotations

from pathlib import Path

from .files import Block, Budget, GridRow, Paragraph, Table, attr, carry_down, join_paragraphs

W = "{http://schemas.openxmlformats.org/wordprocessingml/2006/main}"
MC = "{http://schemas.openxmlformats.org/markup-compatibility/2006}"
P, TBL, TR, TC, T = W + "p", W + "tbl", W + "tr", W + "tc", W + "t"
SDT, SDT_CONTENT, CUSTOM_XML = W + "sdt", W + "sdtContent", W + "customXml"
VAL, TYPE, CHAR = W + "val", W + "type", W + "char"
# Subtrees whose text is not the paragraph's: properties, deleted or moved-away
# text, text boxes (their own paragraphs) and the fallback copies of drawings.
SKIP = {W + "pPr", W + "rPr", W + "del", W + "moveFrom", W + "txbxContent", W + "instrText",
        W + "delText", MC + "Fallback", W + "footnoteReference", W + "endnoteReference"}
WRAPPERS = {SDT, CUSTOM_XML, W + "ins", W + "moveTo", W + "smartTag"}


def docx_blocks(path: Path, budget: Budget) -> list[Block]:
    import docx

    document = docx.Document(str(path))
    blocks: list[Block] = []
    _body(document.element.body, blocks, budget)
    return blocks


def _children(parent, tag: str):
    """``parent``'s children named ``tag``, also those wrapped in content controls."""
    for el in parent.iterchildren():
        if el.tag == tag:
            yield el
        elif el.tag == SDT:
            content = el.find(SDT_CONTENT)
            if content is not None:
                yield from _children(content, tag)
        elif el.tag in WRAPPERS:
            yield from _children(el, tag)


def _body(parent, blocks: list[Block], budget: Budget) -> None:
    for el in parent.iterchildren():
        if el.tag == P:
            budget.add_block()
            blocks.append(Paragraph(paragraph_text(el, budget)))
        elif el.tag == TBL:
            budget.add_block()
            blocks.append(_table(el, budget))
        elif el.tag == SDT:
            content = el.find(SDT_CONTENT)
            if content is not None:
                _body(content, blocks, budget)
        elif el.tag in WRAPPERS:
            _body(el, blocks, budget)


def _table(tbl, budget: Budget) -> Table:
    rows = []
    for tr in _children(tbl, TR):
        budget.add_row()
        row = GridRow(budget)
        before = tr.find(f"{W}trPr/{W}gridBefore")
        if before is not None:
            row.add("", attr(before.attrib, VAL))
        for tc in _children(tr, TC):
            span, continued = 1, False
            pr = tc.find(W + "tcPr")
            if pr is not None:
                grid_span = pr.find(W + "gridSpan")
                if grid_span is not None:
                    span = attr(grid_span.attrib, VAL)
                merge = pr.find(W + "vMerge")
                continued = merge is not None and merge.get(VAL, "continue") == "continue"
            row.add(join_paragraphs(_cell_texts(tc, budget)), span, continued)
        rows.append(row.cells)
    return Table(carry_down(rows))


def _cell_texts(tc, budget: Budget) -> list[str]:
    """A cell's paragraphs; a table nested in the cell gives its paragraphs in order."""
    texts = []
    for el in tc.iterchildren():
        if el.tag == P:
            texts.append(paragraph_text(el, budget))
        elif el.tag == TBL:
            texts.extend(paragraph_text(p, budget) for p in el.iter(P))
        elif el.tag == SDT:
            content = el.find(SDT_CONTENT)
            if content is not None:
                texts.extend(_cell_texts(content, budget))
        elif el.tag in WRAPPERS:
            texts.extend(_cell_texts(el, budget))
    return texts


def paragraph_text(p, budget: Budget) -> str:
    out: list[str] = []
    _runs(p, out)
    text = "".join(out)
    budget.add_text(len(text))
    return text


def _runs(el, out: list[str]) -> None:
    for child in el.iterchildren():
        tag = child.tag
        if not isinstance(tag, str) or tag in SKIP:
            continue  # comments and processing instructions have no string tag
        if tag == T:
            out.append(child.text or "")
        elif tag in (W + "tab", W + "ptab"):
            out.append("\t")
        elif tag == W + "br":
            if child.get(TYPE) in (None, "textWrapping"):
                out.append("\n")  # page and column breaks are layout
        elif tag == W + "cr":
            out.append("\n")
        elif tag == W + "noBreakHyphen":
            out.append("-")
        elif tag == W + "sym":
            out.append(_symbol(child.get(CHAR)))
        elif tag != P:  # a paragraph inside a run belongs to a drawing or a box
            _runs(child, out)


def _symbol(code: str | None) -> str:
    try:
        value = int(code or "", 16)
    except ValueError:
        return ""
    return chr(value) if 0x20 <= value < 0x110000 else ""  # Symbol-font code points stay as they are
