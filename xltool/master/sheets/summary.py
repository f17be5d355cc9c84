"""The 總表 sheet: the plan's layout with every lead unit's result text."""
from __future__ import annotations

from ..fit import summary_entry
from ..layout import SUMMARY_RESULT_COLUMN, SUMMARY_SHEET, SUMMARY_WIDTHS, cn_number
from .context import CONTINUED, Context, Fitted, fitted

WIDTHS = SUMMARY_WIDTHS


Prepared = list[tuple[list[str], list[str], Fitted]]  # per item: values, styles, rows
HEAD = ("構面", "執行策略", "執行方法", "主辦單位", "具體作法", "執行績效與成果（{}）", "已繳/應繳", "未繳單位")


def write(ctx: Context, prepared: Prepared | None = None) -> None:
    """One row per item, as tall as its longest text wraps to; an item whose units'
    results are taller than a row can be goes on in the rows below (marked
    「（續上列）」 under 執行方法), so that every word prints. ``prepared``: what
    :func:`prepare` gives, when it was worked out elsewhere (master/aside.py)."""
    plan = ctx.plan
    ws = ctx.ws[SUMMARY_SHEET]
    items = _prepared(ctx) if prepared is None else iter(prepared)  # (one item at a time)
    head = [name.format(plan.info.period) for name in HEAD]
    ctx.title(ws, 0, f"{plan.info.name}　執行成果彙整")
    hr = 2
    ctx.header(ws, hr, head, WIDTHS)
    r = hr + 1
    for i, dim in enumerate(plan.dimensions, start=1):
        ws.merge_range(r, 0, r, len(head) - 1,
                       f"構面{cn_number(i)}：{dim.name}({dim.points:g} 分)", ctx.f["band"])
        r += 1
        for _ in _results_of(ctx, dim):
            values, styles, rows = next(items)
            r = ctx.write_fitted(ws, r, values, rows, styles, {0: dim.name, 2: CONTINUED})
    ws.freeze_panes(hr + 1, 0)
    ctx.print_setup(ws, hr)


def prepare(ctx: Context) -> Prepared:
    """Every item's row (or rows), in the sheet's order, laid out: pure given the
    merge's result, so that it can be worked out beside the other sheets. All of
    them at once: a few times the results' text (see writer.lays_out_aside)."""
    return list(_prepared(ctx))


def _prepared(ctx: Context):
    return (_item(ctx, dim.name, res.item) for dim in ctx.plan.dimensions
            for res in _results_of(ctx, dim))


def _results_of(ctx: Context, dim):
    return (x for x in ctx.r.items if x.item.dimension == dim.code)


def _item(ctx: Context, dim_name: str, item) -> tuple[list[str], list[str], Fitted]:
    """One item's row (or rows): its plan text, each lead unit's result, who is missing.
    The lines each unit's result takes were worked out by the worker that read it,
    where it did (master/fit.py)."""
    lines: list[str] = []
    counts: list[int] | None = []
    missing, returned = [], 0
    rows = ctx.r.rows_of_item(item)
    chosen = ctx.r.chosen_returns()
    for unit in item.leads:
        if chosen[unit] is None:
            missing.append(unit)
            continue
        returned += 1
        row = rows.get(unit)
        entry = summary_entry(unit, row)
        if entry:
            lines.append(entry)
            if counts is not None and row is not None and row.fit is not None:
                counts.extend(row.fit[1])
            else:
                counts = None  # count them all here
    values = [str(v) for v in (dim_name, item.strategy, item.method, item.lead_text, item.practice,
                               "\n".join(lines), f"{returned}/{len(item.leads)}", "、".join(missing))]
    styles = ["wrap"] * 7 + ["bad" if missing else "wrap"]
    return values, styles, fitted(values, WIDTHS,
                                  {SUMMARY_RESULT_COLUMN: counts} if counts is not None else None)
