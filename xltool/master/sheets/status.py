"""The 繳交狀態 sheet: each unit's status, file, save time and sender, the evidence
it sent (count and folder), and each file's hash: the first digits to read, the
whole SHA-256 in a hidden last column (what ``xltool status --verify`` checks)."""
from __future__ import annotations

import re

from ...cells import local_text
from ...forms import fields as F
from ...intake.log import UNASSIGNED_DIR
from ..audit import FILE_HEADER, HASH_HEADER, SHORT_HEADER, short_hash
from ..layout import STATUS_SHEET
from ..merge import STATUS_ERRORS, STATUS_MISSING
from ..statuses import BLANK, UNUSABLE, Listed, blank_only, listing
from .context import UNMEASURED, Context

# The collect log's time of a message, as the sender list quotes it (2026-11-27 13:27).
_SENT = re.compile(r"(\d{4})-(\d{2})-(\d{2})[ T](\d{2}:\d{2})")


def roc_sender(text: str) -> str:
    """A sender as the collect log records it, with the time in the ROC year."""
    return _SENT.sub(lambda m: f"{int(m[1]) - 1911}/{m[2]}/{m[3]} {m[4]}", text)


def write(ctx: Context) -> None:
    """One row per file the merge considered, as tall as its text wraps to."""
    ws = ctx.ws[STATUS_SHEET]
    fields = [field.name for field in F.FORM_FIELDS]
    head = ["單位", "狀態", FILE_HEADER, "存檔時間", *fields, "錯誤數", "警告數", "說明", "寄件者",
            "佐證資料數", "佐證資料夾", SHORT_HEADER, HASH_HEADER]
    # Narrow enough that A4 landscape, fit to one page wide, prints at 9 pt or more (11 pt
    # at 0.83): the texts wrap instead (each row as tall as they need), and the whole
    # SHA-256, for --verify, is hidden and does not print.
    widths = [9, 8, 13, 11, *(FIELD_WIDTHS.get(f.role, 9) for f in F.FORM_FIELDS),
              7, 7, 20, 10, 9, 9, 15, 70]  # 佐證資料 takes 9 to wrap in two lines, in Calc too
    ctx.header(ws, 0, head, widths)
    ws.set_column(len(head) - 1, len(head) - 1, widths[-1], None, {"hidden": True})
    # The hashes do not wrap (the whole SHA-256 does not even show): measured as if on
    # one line, they leave the row as tall as what wraps (and the whole one is not laid
    # out, 50 ms for 1,000 files).
    measured = widths[:-2] + [UNMEASURED, UNMEASURED]
    note = {STATUS_MISSING: "未收到可用的填報表", STATUS_ERRORS: "請依「檢核結果」通知單位修正"}
    only_blank = blank_only(ctx.r)
    received = ctx.r.received
    r = 1
    for entry in listing(ctx.r):
        ret = entry.ret
        header = ret.header if ret and entry.status != UNUSABLE else {}
        if entry.status == UNUSABLE and ret is not None:  # a file that could not be used
            explain = next((i.message for i in ret.issues if i.is_error), "")
        elif entry.why is not None:  # a superseded file: why another one is used
            explain = entry.why.message
        elif entry.unit in only_blank and entry.label == STATUS_MISSING:
            explain = _only_blank_note(only_blank[entry.unit])
        else:
            explain = _unit_note(ctx, entry.unit, note.get(entry.label, ""))
        first = entry.label == entry.status != UNUSABLE  # the unit's own row: its evidence
        evidence = len(received.evidence.get(entry.unit, [])) if first else None
        values = [entry.unit, entry.label, ret.name if ret else "",
                  # to the second: the later of two saves in one minute wins, visibly
                  _saved_text(ret, ctx.plan.zone) if ret and entry.status != UNUSABLE else "",
                  *(header.get(name) for name in fields),
                  *_counts(entry), explain,
                  roc_sender(ctx.r.senders.get(ret.name, "")) if ret else "",
                  evidence, received.folders.get(entry.unit, "") if first else "",
                  short_hash(ret), ret.sha256 if ret else ""]
        marked = entry.status in (STATUS_MISSING, STATUS_ERRORS, UNUSABLE)
        # 狀態 wraps: 已取代（未採用） is wider than its column, and the row is as tall as it;
        # so does 存檔時間, its time under its date.
        styles = ["wrap", "bad" if marked else "wrap", "wrap", "wrap",
                  *["wrap"] * len(fields), "num", "num", "wrap", "wrap", "num", "wrap", "cell", "cell"]
        r = ctx.record(ws, r, values, measured, styles)
    unassigned = received.evidence.get("", [])
    if unassigned:  # evidence from senders the plan does not know, for the secretariat to sort
        values = [UNASSIGNED_DIR, "", "", "", *[None] * len(fields), None, None,
                  "寄件者不是計畫檔中任何單位的電子郵件", "", len(unassigned), received.folders.get("", ""),
                  "", ""]
        r = ctx.record(ws, r, values, widths, ["wrap"] * len(head))
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(r - 1, 1), len(head) - 1)
    ctx.print_setup(ws, 0)  # A4 landscape, one page wide, the header row on every page


FIELD_WIDTHS = {"filled_by": 7, "phone": 8, "filed_on": 10}  # 填報日期: 113/01/05 must fit


def _counts(entry: Listed) -> tuple[int | None, int | None]:
    """錯誤數 and 警告數 of a row: none for a blank file, whose empty cells are no
    errors of a return (and 0 for a unit that sent nothing)."""
    if entry.ret is None:
        return 0, 0
    if entry.label == BLANK:
        return None, None
    return entry.ret.errors, entry.ret.warnings


def _only_blank_note(names: list[str]) -> str:
    """The 說明 of a unit whose every file was blank."""
    files = "、".join(f"「{n}」" for n in names)
    return f"只收到空白表：{files}沒有填寫任何內容，視為未繳；催繳時會再寄填報表"


def _saved_text(ret, zone) -> str:
    """A file's save time, to the second (the later of two saves in one minute wins,
    visibly); a time not trusted is shown as such, and a file that records none says so."""
    if ret.saved is not None:
        return local_text(ret.saved, zone, seconds=True)
    if ret.stated is not None:
        return f"{local_text(ret.stated, zone, seconds=True)}（不可信）"
    return "（未記錄）"


def _unit_note(ctx: Context, unit: str, note: str) -> str:
    """The 說明 of a unit's own row: its status, and a doubt about the file chosen."""
    doubts = [i for i in ctx.r.status_of(unit).told if not i.is_error and i.level == "warning"
              and i.code != "implausible-time"]
    if not doubts:
        return note
    doubt = "採用哪一份檔案請確認：見下列「已取代」檔案的說明"
    return f"{note}；{doubt}" if note else doubt
