"""The 繳交狀態 sheet: each unit's status, file, save time and sender."""
from __future__ import annotations

from ...cells import local_text
from ...forms import fields as F
from ..layout import STATUS_SHEET
from ..merge import STATUS_ERRORS, STATUS_MISSING, STATUS_ORDER, SUPERSEDED
from .context import Context


def write(ctx: Context) -> None:
    f = ctx.f
    ws = ctx.ws[STATUS_SHEET]
    fields = [field.name for field in F.FORM_FIELDS]
    head = ["單位", "狀態", "檔案", "存檔時間", *fields, "錯誤數", "警告數", "說明", "寄件者"]
    ctx.header(ws, 0, head, [12, 8, 36, 19, *[14] * len(fields), 7, 7, 36, 36])
    c_errors = 4 + len(fields)
    c_note, c_sender = c_errors + 2, c_errors + 3
    order = {u.name: i for i, u in enumerate(ctx.plan.units)}
    rows = sorted(ctx.r.units, key=lambda s: (STATUS_ORDER[s.status], order[s.unit]))
    r = 1
    note = {STATUS_MISSING: "未收到可用的填報表", STATUS_ERRORS: "請依「檢核結果」通知單位修正"}
    for s in rows:
        entries = [(s.ret, s.status)] + [(old, f"{SUPERSEDED}（未採用）") for old in s.superseded]
        for ret, label in entries:
            style = f["missing"] if s.status in (STATUS_MISSING, STATUS_ERRORS) else f["cell"]
            ws.write_string(r, 0, s.unit, f["cell"])
            ws.write_string(r, 1, label, style)
            ws.write_string(r, 2, ret.name if ret else "", f["cell"])
            ws.write_string(r, 3, local_text(ret.saved, ctx.plan.zone) if ret else "",
                            f["cell"])
            header = ret.header if ret else {}
            for k, name in enumerate(fields):
                ctx.value(ws, r, 4 + k, header.get(name), False)
            ws.write_number(r, c_errors, ret.errors if ret else 0, f["num"])
            ws.write_number(r, c_errors + 1, ret.warnings if ret else 0, f["num"])
            ws.write_string(r, c_note, note.get(label, ""), f["cell"])
            ws.write_string(r, c_sender, ctx.r.senders.get(ret.name, "") if ret else "", f["cell"])
            r += 1
    for ret in ctx.r.rejected:
        ws.write_string(r, 0, ret.unit or "（無法辨識）", f["cell"])
        ws.write_string(r, 1, "無法使用", f["missing"])
        ws.write_string(r, 2, ret.name, f["cell"])
        ws.write_blank(r, 3, None, f["cell"])
        ws.write_number(r, c_errors, ret.errors, f["num"])
        ws.write_number(r, c_errors + 1, ret.warnings, f["num"])
        first = next((i.message for i in ret.issues if i.is_error), "")
        ws.write_string(r, c_note, first, f["wrap"])
        ws.write_string(r, c_sender, ctx.r.senders.get(ret.name, ""), f["cell"])
        r += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r - 1, 1), len(head) - 1)
    ctx.print_setup(ws, 0)
