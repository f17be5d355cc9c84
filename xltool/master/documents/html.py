"""Render a :class:`~.document_model.Document` as one self-contained web page.

For the agency's website: ``lang="zh-Hant-TW"``, UTF-8, no scripts and nothing
fetched from elsewhere (the styles are inline), each table with a caption and
its header cells as ``th`` with ``scope``. On a phone the tables turn into one
block per row, each value under its column's name, so nothing needs scrolling
sideways; printed, the header rows repeat on every page.
"""
from __future__ import annotations

from html import escape
from pathlib import Path

from ...files import atomic_path
from .model import FONT, FONT_FALLBACKS, DocParagraph, DocTable, Document, grid, lines

STYLE = """
body { font-family: %(fonts)s, serif; line-height: 1.6; margin: 0 auto; max-width: 60em;
       padding: 1em; color: #111; background: #fff; }
h1 { font-size: 1.5em; text-align: center; margin: 0.5em 0; }
p.subtitle { text-align: center; font-size: 1.15em; margin: 0.2em 0 1em; }
h2 { font-size: 1.2em; margin: 1.4em 0 0.4em; }
p.note { font-size: 0.9em; }
table { border-collapse: collapse; width: 100%%; margin: 0.4em 0 1.2em; font-size: 0.95em; }
caption { text-align: left; font-weight: bold; padding: 0.3em 0; }
th, td { border: 1px solid #444; padding: 0.35em 0.5em; vertical-align: top; text-align: left;
         overflow-wrap: anywhere; }
th { background: #d9e1f2; text-align: center; vertical-align: middle; }
td.center { text-align: center; }
thead { display: table-header-group; }
.break { break-before: page; }
@media (max-width: 40em) {
  body { padding: 0.6em; }
  table, tbody, tr, td { display: block; width: auto; }
  thead { position: absolute; left: -10000px; width: 1px; height: 1px; overflow: hidden; }
  tr { border: 1px solid #444; margin-bottom: 0.8em; }
  td { border: none; border-bottom: 1px solid #ddd; }
  td::before { content: attr(data-label); display: block; font-weight: bold; color: #333; }
  td.center { text-align: left; }
}
"""


def write_html(document: Document, target: Path) -> None:
    """Write ``document`` to ``target`` atomically, as UTF-8."""
    with atomic_path(target) as tmp:
        tmp.write_text(render_html(document), encoding="utf-8", newline="\n")


def render_html(document: Document) -> str:
    fonts = ", ".join(f'"{f}"' for f in (FONT, *FONT_FALLBACKS))
    out = ["<!DOCTYPE html>", '<html lang="zh-Hant-TW">', "<head>", '<meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>{escape(document.title)}</title>",
           f"<style>{STYLE % {'fonts': fonts}}</style>", "</head>", "<body>", "<main>"]
    for block in document.blocks:
        out.append(_paragraph(block) if isinstance(block, DocParagraph) else _table(block))
    out += ["</main>", "</body>", "</html>", ""]
    return "\n".join(out)


def _text(text: str) -> str:
    return "<br>".join(escape(line) for line in lines(text))


def _paragraph(block: DocParagraph) -> str:
    cls = ' class="break"' if block.page_break else ""
    if block.style == "title":
        return f"<h1{cls}>{_text(block.text)}</h1>"
    if block.style == "heading":
        return f"<h2{cls}>{_text(block.text)}</h2>"
    kind = {"subtitle": "subtitle", "note": "note"}.get(block.style, "")
    classes = " ".join(c for c in (kind, "break" if block.page_break else "") if c)
    attribute = f' class="{classes}"' if classes else ""
    return f"<p{attribute}>{_text(block.text)}</p>"


def _table(block: DocTable) -> str:
    columns = len(block.widths)
    labels = _labels(block, columns)
    out = ["<table>", f"<caption>{_text(block.caption)}</caption>", "<thead>"]
    for row in block.header:
        cells = []
        for cell in row:
            scope = "colgroup" if cell.colspan > 1 else "col"
            spans = _spans(cell)
            cells.append(f'<th scope="{scope}"{spans}>{_text(cell.text)}</th>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</thead>", "<tbody>"]
    for placed, row in zip(grid(block.body, columns), block.body):
        starts = [c for c, slot in enumerate(placed) if slot is not None and slot[1]]
        cells = []
        for c, cell in zip(starts, row):
            cls = ' class="center"' if cell.align == "center" else ""
            cells.append(f'<td data-label="{escape(labels[c])}"{cls}{_spans(cell)}>{_text(cell.text)}</td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out += ["</tbody>", "</table>"]
    return "\n".join(out)


def _spans(cell) -> str:
    return (f' colspan="{cell.colspan}"' if cell.colspan > 1 else "") + \
        (f' rowspan="{cell.rowspan}"' if cell.rowspan > 1 else "")


def _labels(block: DocTable, columns: int) -> list[str]:
    """Each column's name for the phone layout: the lowest header cell over it."""
    labels = [""] * columns
    for placed in grid(block.header, columns):
        for c, slot in enumerate(placed):
            if slot is not None:
                labels[c] = slot[0].text.replace("\n", "")
    return labels
