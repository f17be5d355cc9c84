"""The 繳交狀態 sheet: each unit's status, file, save time and sender."""
from __future__ import annotations

from ...cells import local_text
from ...forms import fields as F
from ..layout import STATUS_SHEET
from ..merge import STATUS_ERRORS, STATUS_MISSING
from ..statuses import UNUSABLE, listing
from .context import Context


def write(ctx: Context) -> None:
    f = ctx.f
    ws = ctx.ws[STATUS_SHEET]
    fields = [field.name for field in F.FORM_FIELDS]
    head = ["單位", "狀態", "檔案", "存檔時間", *fields, "錯誤數", "警告數", "說明", "寄件者"]
    ctx.header(ws, 0, head, [12, 8, 36, 19, *[14] * len(fields), 7, 7, 36, 36])
    c_errors = 4 + len(fields)
    c_note, c_sender = c_errors + 2, c_errors + 3
    note = {STATUS_MISSING: "未收到可用的填報表", STATUS_ERRORS: "請依「檢核結果」通知單位修正"}
    r = 1
    for entry in listing(ctx.r):
        ret = entry.ret
        if entry.status == UNUSABLE:
            _unusable_row(ctx, ws, r, entry, c_errors)
            r += 1
            continue
        style = f["missing"] if entry.status in (STATUS_MISSING, STATUS_ERRORS) else f["cell"]
        ws.write_string(r, 0, entry.unit, f["cell"])
        ws.write_string(r, 1, entry.label, style)
        ws.write_string(r, 2, ret.name if ret else "", f["cell"])
        ws.write_string(r, 3, local_text(ret.saved, ctx.plan.zone) if ret else "", f["cell"])
        header = ret.header if ret else {}
        for k, name in enumerate(fields):
            ctx.value(ws, r, 4 + k, header.get(name), False)
        ws.write_number(r, c_errors, ret.errors if ret else 0, f["num"])
        ws.write_number(r, c_errors + 1, ret.warnings if ret else 0, f["num"])
        ws.write_string(r, c_note, note.get(entry.label, ""), f["cell"])
        ws.write_string(r, c_sender, ctx.r.senders.get(ret.name, "") if ret else "", f["cell"])
        r += 1
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r - 1, 1), len(head) - 1)
    ctx.print_setup(ws, 0)


def _unusable_row(ctx: Context, ws, r: int, entry, c_errors: int) -> None:
    f, ret = ctx.f, entry.ret
    ws.write_string(r, 0, entry.unit, f["cell"])
    ws.write_string(r, 1, entry.label, f["missing"])
    ws.write_string(r, 2, ret.name, f["cell"])
    ws.write_blank(r, 3, None, f["cell"])
    ws.write_number(r, c_errors, ret.errors, f["num"])
    ws.write_number(r, c_errors + 1, ret.warnings, f["num"])
    first = next((i.message for i in ret.issues if i.is_error), "")
    ws.write_string(r, c_errors + 2, first, f["wrap"])
    ws.write_string(r, c_errors + 3, ctx.r.senders.get(ret.name, ""), f["cell"])
