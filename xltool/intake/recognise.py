"""Recognising a return: whose it is, of which plan and template version, and
whether its identity holds together (see README, 安全性)."""
from __future__ import annotations

from datetime import datetime, timedelta

from ..cells import local_text, norm_text, squeeze
from ..errors import WARNING
from ..forms import fields as F
from ..forms.identity import CELL_KEY, IDENTITY_KEYS, KEYS, fingerprint, fingerprint_of, implausible_time
from ..quoting import quote
from ..reading.workbook import SheetData
from .form import find_header_row, item_ids
from .returns import Made
from .state import Reading


def metadata(rd: Reading, props: dict[str, str], sheet: SheetData | None) -> dict[str, str] | None:
    """The template's identity from both places it is kept, which must agree:
    a file that says one thing in its properties and another in its hidden
    sheet has been tampered with, and cannot be attributed to either unit."""
    from_props = {k: norm_text(v) for k, v in props.items() if k.startswith("xltool_")}
    from_sheet: dict[str, str] = {}
    if sheet is not None:
        for row in sheet.rows:
            if len(row) >= 2 and isinstance(row[0], str) and row[0].startswith("xltool_"):
                from_sheet.setdefault(row[0], norm_text(row[1]))
    conflicts = [k for k in IDENTITY_KEYS
                 if k in from_props and k in from_sheet and from_props[k] != from_sheet[k]]
    if conflicts:
        key = conflicts[0]
        rd.issue("identity-conflict", f"檔案的識別資料互相矛盾（文件屬性為「{quote(from_props[key])}」，"
                   f"隱藏工作表為「{quote(from_sheet[key])}」），無法確認是哪個單位的填報表，"
                   "未採用；請以原填報表填寫後回傳。", sheet="", field=key)
        return None
    return {**from_sheet, **from_props}


def find_form(rd: Reading, sheets: dict[str, SheetData]) -> SheetData | None:
    if F.FORM_SHEET in sheets:
        return sheets[F.FORM_SHEET]
    for sheet in sheets.values():  # renamed: recognise it by its header row
        if find_header_row(sheet) is not None:
            rd.ret.sheet = sheet.name
            rd.issue("sheet-renamed", f"「{F.FORM_SHEET}」工作表被更名為「{quote(sheet.name)}」，"
                       "已依內容讀取；請勿更改工作表名稱。", WARNING, sheet=sheet.name)
            return sheet
    return None


def identify(rd: Reading, meta: dict[str, str], form: SheetData | None) -> bool:
    plan, info = rd.plan, rd.plan.info
    if meta.get(KEYS["plan_id"]):
        if meta[KEYS["plan_id"]] != plan.plan_id or meta.get(KEYS["year"]) != str(info.year):
            name = quote(meta.get(KEYS["plan_name"], "其他計畫"))
            rd.issue("wrong-plan", f"此檔是「{name}」（{quote(meta.get(KEYS['year'], '?'), 8)} 年度）的填報表，"
                       f"不是本計畫（{info.name}）的；請改用本年度的填報表。", sheet="",
                       value=meta.get(KEYS["year"]), expected=str(info.year))
            return False
        version = meta.get(KEYS["version"], "")
        if version not in F.ACCEPTED_TEMPLATE_VERSIONS:
            rd.issue("wrong-version", f"填報表範本版本「{quote(version, 12)}」無法辨識，請改用新產生的填報表。",
                       sheet="", value=version,
                       expected="、".join(F.ACCEPTED_TEMPLATE_VERSIONS))
            return False
        unit = meta.get(KEYS["unit"], "")
        if not plan.has_unit(unit):
            rd.issue("unknown-unit", f"填報表上的單位「{quote(unit)}」不在計畫的單位中。", sheet="",
                       value=unit)
            return False
        rd.ret.unit = unit
        # Usually the file is named after its unit; only otherwise look for another name.
        named = [] if unit in squeeze(rd.ret.path.stem) else units_in_name(rd)
        if named and unit not in named:
            rd.issue("name-mismatch", f"檔名看似「{'、'.join(named)}」，但檔案內容是「{unit}」的填報表；"
                       f"已依內容視為「{unit}」的回傳。", WARNING, sheet="")
        rd.made = made_from(rd, meta, unit)
        rd.plan_changed = not rd.made.current
        rd.ret.usable = True
        return True
    return identify_without_metadata(rd, form)


def made_from(rd: Reading, meta: dict[str, str], unit: str) -> Made:
    """Which version of the plan the template was made from (see Made). Digests
    that do not hash to the template's fingerprint were forged or damaged: an
    error, and none of them is trusted."""
    claimed = meta.get(KEYS["fingerprint"], "")
    expected = [i.id for i in rd.plan.items_for(unit)]
    items = [i for i in meta.get(KEYS["items"], "").split(",") if i] or expected
    rd.ret.version = claimed
    rd.ret.generated = meta.get(KEYS["generated"], "")
    current = not claimed or claimed == fingerprint_of(rd.plan, unit)
    if meta.get(KEYS["version"]) == "1" or current:
        return Made(items=items, current=current)
    digests = {i: meta.get(f"{CELL_KEY}{i}", "").split(",") for i in items}
    if fingerprint([digests[i] for i in items]) != claimed or \
            any(len(d) != len(F.PLAN_COLUMNS) for d in digests.values()):
        rd.issue("fingerprint-mismatch", "填報表的識別資料與其識別碼不符（識別資料可能被竄改或損毀）；"
                   "鎖定欄位已以計畫內容為準，請以原填報表填寫後回傳。", sheet="")
        return Made(items=items, current=False)
    return Made(items=items, digests=digests, current=False)


def trusted_time(rd: Reading, saved, meta: dict[str, str]):
    """The saved time, unless it is impossible: in the future, or before the
    template was made. Such a time is not trusted to pick the latest return."""
    if saved is None:
        return None
    problem, zone_hint = time_problem(rd.plan, saved, meta.get(KEYS["generated"], ""),
                                      rd.ret.path.suffix, rd.ret.producer)
    if problem:
        rd.issue("implausible-time", f"檔案記錄的存檔時間（{local_text(saved, rd.plan.zone)}）{problem}，"
                   f"不可信；挑選最新回傳檔時不採用此時間。{zone_hint}", WARNING, sheet="")
        return None
    return saved


ZONE_HOURS = 14  # time zones lie within 14 hours of UTC
ZONE_HINT = "可能是時區不同：請在計畫檔「計畫」工作表填寫各單位所在的「時區」，例如 +08:00，再重新執行"


def time_problem(plan, saved: datetime, generated: str, suffix: str, producer: str) -> tuple[str, str]:
    """Why a saved time cannot be true ("" when it can), and a hint at the plan's
    時區 ("" unless): the time was written without a zone (ODF; LibreOffice's .xlsx),
    the plan gives none, and read a whole number of hours (up to 14) away it would
    be plausible."""
    problem = implausible_time(saved, generated, plan.info.year, plan.zone)
    if not problem or plan.zone is not None or not written_local(suffix, producer):
        return problem, ""
    shifts = (timedelta(hours=sign * h) for h in range(1, ZONE_HOURS + 1) for sign in (-1, 1))
    if not any(not implausible_time(saved + s, generated, plan.info.year) for s in shifts):
        return problem, ""
    here = datetime.now().astimezone().strftime("%z")
    return problem, (f"此檔記錄的是不含時區的當地時間，計畫檔沒有填寫「時區」，因此以執行 xltool 的電腦的"
                     f"時區（UTC{here[:3]}:{here[3:]}）解讀；改以相差 {ZONE_HOURS} 小時以內的時區解讀"
                     f"即為合理的時間，{ZONE_HINT}。")


def written_local(suffix: str, producer: str) -> bool:
    """Whether a file's saved time is local time without a zone (see saved_instant):
    ODF always, and LibreOffice's .xlsx (stamped Z but local)."""
    suffix = suffix.lower()
    return suffix in (".ods", ".fods") or (
        suffix in (".xlsx", ".xlsm") and producer.lower().startswith("libreoffice"))


def units_in_name(rd: Reading) -> list[str]:
    """Every unit whose name or an alias appears in the file name, in plan order.

    Several can match (第一課 is inside 第一課室); the caller settles it with the
    sheet's content."""
    stem = squeeze(rd.ret.path.stem)
    return [u.name for u in rd.plan.units
            if any(name and name in stem for name in (u.name, *u.aliases))]


def identify_without_metadata(rd: Reading, form: SheetData | None) -> bool:
    ids = item_ids(form) if form is not None else []
    by_content = [u.name for u in rd.plan.units
                  if ids and [i.id for i in rd.plan.items_for(u.name)] == ids]
    named = units_in_name(rd)
    candidates = [u for u in named if u in by_content] or \
        (named if len(named) == 1 else []) or (by_content if len(by_content) == 1 else [])
    if len(candidates) != 1:
        rd.issue("unrecognized", "無法辨識這是哪個單位的回傳：檔案缺少填報表識別資料，"
                   "檔名與內容也無法對應到單一單位。請以原填報表填寫後回傳。", sheet="")
        return False
    rd.ret.unit = candidates[0]
    rd.ret.usable = True
    rd.issue("no-metadata", f"檔案缺少填報表識別資料（可能是複製貼上到新檔案），已依檔名與內容視為"
               f"「{rd.ret.unit}」的回傳；請以原填報表填寫。", WARNING, sheet="")
    return True
