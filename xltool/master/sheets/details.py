"""The 明細 sheet: one row per unit and item, as the unit wrote it."""
from __future__ import annotations

import functools
from typing import TYPE_CHECKING

from ... import textfit
from ...codes import code
from ...forms import fields as F
from ..audit import evidence_words
from ..layout import DETAIL_SHEET, detail_widths
from .context import ONE_LINE, Context
from .xmlrows import BLANK, rows_for

if TYPE_CHECKING:
    from ...intake import Return, Row

# A row's flags that the catalogue has no entry for, in words.
FLAG_WORDS = {"removed-item": "計畫已刪除的項目"}
# What 檢核 says of a unit's item that has no row (other readers of 明細 rely on
# these words), and the code beside it.
MISSING, NEW_ITEM, ROW_DELETED = "未繳", "新增項目未填報", "列已刪除"
NO_ROW_CODES = {MISSING: "missing-return", NEW_ITEM: "new-item-unreported", ROW_DELETED: "row-deleted"}


def flag_label(flag: str) -> str:
    """What a row's flag (an issue code) says, in words."""
    return FLAG_WORDS.get(flag) or code(flag).label


def write(ctx: Context) -> None:
    """The whole sheet from a finished merge: what a sequential run writes, and what
    the streamed run (master/streaming.py) writes unit by unit, through the same calls."""
    sheet = Details(ctx)
    for status in ctx.r.units:
        sheet.unit(status.unit, status.ret)
    sheet.close()


class Details:
    """One row per unit and item, as tall as its text wraps to (up to Excel's tallest
    row: a record stays one row, for filters, pivot tables and the readers of this
    sheet; 總表 prints even longer texts whole). The biggest sheet by far (600,000 rows
    for 10,000 units), so every cell counts: who filled it in is on 繳交狀態, once per
    unit. 檢核 says what is wrong in words; the issue codes are in the hidden last
    column, for scripts.

    The header goes out at once, then :meth:`unit` writes each unit's rows, in plan
    order, while the other returns may still be read: a unit's rows depend only on
    the plan, the collect logs (``ctx.r.received``) and the return chosen for it.
    What is the same on every row of a unit or of an item is worked out once."""

    def __init__(self, ctx: Context):
        self.ctx, self.plan = ctx, ctx.plan
        self.ws = ws = ctx.ws[DETAIL_SHEET]
        self.inputs = [c.name for c in F.INPUT_COLUMNS]
        head = ["單位", "編號", "構面", *self.inputs, "來源檔案", "工作表列", "檢核", "檢核代碼"]
        self.widths = widths = list(detail_widths())
        self.columns = len(head)
        ctx.header(ws, 0, head[:-1], widths[:-1])
        ws.write_string(0, len(head) - 1, head[-1], ctx.f["header"])
        ws.set_column(len(head) - 1, len(head) - 1, widths[-1], None, {"hidden": True})
        self.dims = {d.code: d.name for d in self.plan.dimensions}
        styles = {name: ctx.f[name] for name in ("wrap", "num", "bad", "cell")}
        self.out = rows_for(ws, styles, ctx.set_height)
        self.r = 1

    def unit(self, unit: str, ret: Return | None) -> None:
        """The rows of one unit, from the return chosen for it (None: it sent none)."""
        ctx, plan, dims = self.ctx, self.plan, self.dims
        rows = dict(ret.rows.items()) if ret else {}  # one read per return
        removed = list(ret.removed.values()) if ret else []
        source = ret.name if ret else ""
        lines = max(_lines(unit, self.widths[0]), _lines(source, self.widths[-4]))  # per unit
        no_inputs = [None] * len(self.inputs)
        for item in plan.items_for(unit) + [None] * len(removed):
            row: Row | None
            if item is None:  # an item the plan took away: kept as the unit wrote it
                row = removed.pop(0)
                item_id, dim_name = row.item_id, ""
            else:
                row = rows.get(item.id)
                item_id, dim_name = item.id, dims[item.dimension]
            words, codes = _flags(ret, row, item_id)
            words += evidence_words(ctx.r, unit, row)
            values = [unit, item_id, dim_name,
                      *(map(row.values.get, self.inputs) if row else no_inputs),
                      source, f"{ret.sheet}!{row.row + 1}" if row and ret else "",
                      "、".join(words), "、".join(codes)]
            self._row(values, row.invalid if row else (), bool(codes),
                      max(lines, _own_lines(row, values, self.widths)))
            self.r += 1

    def _row(self, values: list, refused, bad: bool, lines: int) -> None:
        """One record, as tall as its tallest text (the hidden codes aside) wraps to.
        The cells of ``refused`` inputs are marked, empty as they are (what the unit
        typed is in 檢核結果), and so is 檢核 when anything is wrong with the row."""
        end = 3 + len(self.inputs)
        # An empty input is still a cell of the table (BLANK): its border prints.
        inputs = [(BLANK if v is None else v, "bad") if name in refused else
                  (BLANK, "cell") if v is None else (v, "wrap" if type(v) is str else "num")
                  for name, v in zip(self.inputs, values[3:end])]
        cells = [(values[0], "wrap"), (values[1], "wrap"), (values[2], "wrap"), *inputs,
                 (values[end], "wrap"), (values[end + 1], "wrap"),
                 (values[end + 2], "bad" if bad else "wrap"), (values[end + 3], "cell")]
        height = _height(lines)
        if not self.out.row(self.r, cells, height if height > ONE_LINE else None):
            _row(self.ctx, self.ws, self.r, values, self.widths, refused, bad, lines)

    def close(self) -> None:
        self.ws.autofilter(0, 0, max(self.r - 1, 1), self.columns - 1)
        self.ws.freeze_panes(1, 2)
        self.ctx.print_setup(self.ws, 0)


def _flags(ret: Return | None, row: Row | None, item_id: str) -> tuple[list[str], list[str]]:
    """What 檢核 says of a row, in words, and the issue codes behind them."""
    if row:
        if not row.flags:
            return [], []
        codes = sorted(set(row.flags))
        return [flag_label(c) for c in codes], codes
    word = MISSING if ret is None else NEW_ITEM if item_id in ret.new_items else ROW_DELETED
    return [word], [NO_ROW_CODES[word]]


@functools.lru_cache(maxsize=64)
def _height(lines: int) -> float:
    return textfit.height_for(lines)


def _lines(text: str, width: float) -> int:
    return textfit.lines_needed(text, width) if text else 1


def _own_lines(row: Row | None, values: list, widths: list[float]) -> int:
    """The most lines a record's cells take, the unit's own columns (unit, source file:
    the same on every row of a unit) aside: from what the worker that read the row
    worked out (master/fit.py), else counted here. 檢核 is the merge's: counted here."""
    last = len(values) - 1
    check = values[last - 1]
    lines = textfit.lines_needed(check, widths[last - 1]) if check else 1
    if row is not None and row.fit is not None:
        return max(lines, row.fit[0])
    source = last - 3
    for c in range(1, last - 1):
        value = values[c]
        if c != source and value and type(value) is str:
            lines = max(lines, textfit.lines_needed(value, widths[c]))
    return lines


def _row(ctx: Context, ws, r: int, values: list, widths: list[float], refused, bad: bool,
         lines: int = 1) -> None:
    """One record through XlsxWriter's calls, for a value :class:`RowXml` does not
    write (a date, say)."""
    f, last = ctx.f, len(values) - 1
    ctx.set_height(ws, r, textfit.height_for(lines))
    wrap, first_input, end_input = f["wrap"], 3, 3 + len(F.INPUT_COLUMNS)
    for c, value in enumerate(values):
        if c == last:
            ws.write_string(r, c, value, f["cell"])
        elif c == last - 1:
            ws.write_string(r, c, value, f["bad"] if bad else wrap)
        elif first_input <= c < end_input:
            kind, marked = type(value), F.INPUT_COLUMNS[c - first_input].name in refused
            if value is None:  # still a cell of the table: its border prints
                ws.write_blank(r, c, None, f["bad"] if marked else f["cell"])
                continue
            if kind is str:
                ws.write_string(r, c, value, f["bad"] if marked else wrap)
            elif kind is float or kind is int:
                ws.write_number(r, c, value, f["bad"] if marked else f["num"])
            else:
                ctx.value(ws, r, c, value, marked)
        else:
            ws.write_string(r, c, value, wrap)
