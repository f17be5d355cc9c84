"""The 總表 sheet: the plan's layout with every lead unit's result text."""
from __future__ import annotations

from ...forms import fields as F
from ...forms.book import row_height
from ..layout import SUMMARY_SHEET, capped, cn_number
from .context import Context


def write(ctx: Context) -> None:
    plan, f = ctx.plan, ctx.f
    ws = ctx.ws[SUMMARY_SHEET]
    head = ["構面", "執行策略", "執行方法", "主辦單位", "具體作法",
            f"執行績效與成果（{plan.info.period}）", "已繳/應繳", "未繳單位"]
    widths = [9, 13, 26, 11, 32, 52, 8, 12]
    ws.write_string(0, 0, f"{plan.info.name}　執行成果彙整", f["title"])
    hr = 2
    ctx.header(ws, hr, head, widths)
    r = hr + 1
    result_field = F.column("result").name
    for i, dim in enumerate(plan.dimensions, start=1):
        ws.merge_range(r, 0, r, len(head) - 1,
                       f"構面{cn_number(i)}：{dim.name}({dim.points:g} 分)", f["band"])
        r += 1
        for res in (x for x in ctx.r.items if x.item.dimension == dim.code):
            item = res.item
            lines, missing, returned = [], [], 0
            rows = ctx.r.rows_of_item(item)
            for unit in item.leads:
                if ctx.r.status_of(unit).ret is None:
                    missing.append(unit)
                    continue
                returned += 1
                row = rows.get(unit)
                text = row.values.get(result_field) if row else None
                if text:
                    lines.append(f"【{unit}】{text}")
            result_text = capped(lines)
            values = [dim.name, item.strategy, item.method, item.lead_text, item.practice,
                      result_text, f"{returned}/{len(item.leads)}", "、".join(missing)]
            ws.set_row(r, row_height([(str(v), w) for v, w in zip(values, widths)]))
            for c, v in enumerate(values):
                ws.write_string(r, c, v, f["bad"] if c == 7 and v else f["wrap"])
            r += 1
    ws.freeze_panes(hr + 1, 0)
    ctx.print_setup(ws, hr)
