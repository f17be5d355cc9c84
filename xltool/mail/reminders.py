"""`xltool send --remind` and `--corrections`: the loop closed by mail.

A reminder goes to each unit that has not returned (the CLI finds them as
`xltool status` does, and passes their names: this layer does not import the
merge). To a unit that sent only a blank form it says so, naming the file (the
CLI passes those names too, and the collect log's records) as the unit sent it
and when it arrived, rather than that nothing arrived. It states the
deadline (the plan's, or a new one) and attaches the unit's template again: from
a templates folder when given, otherwise drawn afresh from the plan, dated the
start of the day, so that a rerun on the same day attaches the very same file and
is recognised as already done.

A correction goes to each unit that has a correction copy (written by `merge
--feedback`) in the folder now. The copy's unit is the one its own identity
says, checked as any return is checked (intake reads it in an isolated worker;
the file name is not trusted). The list of what to fix is the copy's own
待修正事項 sheet, read back (in an isolated worker too): the mail lists exactly
its entries, in its words (cell, field, value, problem, expected), never a list
of its own that could disagree with the file the unit opens. Other files in
the folder are left alone.

Both are composed and sent by send.py, which logs them apart from the first
mailing, by round.
"""
from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

from ..cells import local_text, roc_date
from ..errors import ERROR, WARNING, Issue
from ..forms.template import write_templates
from ..forms.todo import TODO_SHEET, todo_rows
from ..plan import Plan
from ..quoting import quote
from ..resources import load_json
from .send import CORRECT, REMIND, Batch, compose, find_templates, prepare_for

MOST_FIXES = 40  # listed in the body; the copy's 待修正事項 sheet lists them all
COPY_SUFFIXES = (".xlsx", ".ods")  # what merge --feedback writes
# Issues about the file as a whole, for the secretariat (shown when sending), not the unit.
NOT_FOR_THE_UNIT = {"name-mismatch", "no-metadata", "implausible-time", "superseded", "normalized"}


def round_key(today: date) -> str:
    """The round a run of this day belongs to."""
    return today.isoformat()


def with_deadline(plan: Plan, deadline: date | None) -> Plan:
    """The plan with a new deadline (templates drawn from it state it), or as it is."""
    if deadline is None or deadline == plan.info.deadline:
        return plan
    return replace(plan, info=replace(plan.info, deadline=deadline))


def deadline_issues(plan: Plan, deadline: date | None, today: date) -> list[Issue]:
    """A warning when the deadline the messages would state has passed."""
    due = deadline or plan.info.deadline
    if due >= today:
        return []
    where = "--deadline 的日期" if deadline else "計畫檔的繳交期限"
    advice = "請改用之後的日期" if deadline else "要給新的期限請加 --deadline"
    return [Issue("deadline-passed", f"{where} {roc_date(due)} 已過，郵件仍會寫「請於 {roc_date(due)} 前回傳」；"
                  f"{advice}，例如 --deadline {roc_date(today + timedelta(days=7))}。",
                  WARNING, field="繳交期限", value=roc_date(due))]


def _start_of(today: date, plan: Plan) -> datetime:
    """Midnight of ``today`` in the plan's zone (or this machine's), in UTC."""
    midnight = datetime.combine(today, time())
    local = midnight.replace(tzinfo=plan.zone) if plan.zone else midnight.astimezone()
    return local.astimezone(timezone.utc)


def prepare_reminders(plan: Plan, units: list[str], *, templates_dir: Path | None = None,
                      deadline: date | None = None, today: date | None = None,
                      formats: tuple[str, ...] = ("xlsx",), prefer_one: bool = True,
                      blank: Mapping[str, list[str]] | None = None,
                      received: Mapping[str, Mapping] | None = None) -> Batch:
    """A reminder to each of ``units`` (those 未繳), its template attached again.
    ``blank``: the units among them that sent only blank forms, with those files' names;
    ``received``: the collect log's record of each collected file, by its name
    (:func:`~xltool.intake.log.received_from`), to name a file as the unit sent it."""
    today = today or date.today()
    due = with_deadline(plan, deadline)
    values = {"today": roc_date(today), "deadline": roc_date(due.info.deadline),
              "original": (f"（原訂繳交期限為 {roc_date(plan.info.deadline)}）"
                           if due.info.deadline != plan.info.deadline else "")}
    tag = f"remind-{today:%Y%m%d}"

    def message(unit: str, paths: list[Path]):
        arrived = what_arrived(values, (blank or {}).get(unit), received, plan.zone)
        return compose(due, unit, paths, REMIND, {**values, **arrived}, tag)

    with tempfile.TemporaryDirectory(prefix="xltool-remind-") as tmp:
        source = Path(templates_dir) if templates_dir is not None else Path(tmp)
        if templates_dir is None:
            leading = [u for u in units if plan.items_for(u)]
            write_templates(due, source, units=leading, formats=formats,
                            generated=_start_of(today, plan))
        # The messages hold the files' bytes: the folder may go once they are composed.
        batch = prepare_for(plan, units, lambda unit: find_templates(plan, source, unit, formats),
                            message, REMIND, formats, prefer_one)
    return Batch(batch.outgoing, deadline_issues(plan, deadline, today) + batch.issues)


def what_arrived(values: Mapping[str, str], blank_files: list[str] | None,
                 received: Mapping[str, Mapping] | None = None, zone=None) -> dict[str, str]:
    """The reminder's sentences on what was received (mail.json): nothing, or only blank
    forms, named as the unit sent them (:func:`sent_as`)."""
    text = load_json("mail.json")["reminder"]
    case = "blank" if blank_files else "nothing"
    names = "、".join(sent_as(name, (received or {}).get(name), zone) for name in blank_files or [])
    return {key: text[key][case].format(**values, blank_files=names) for key in ("received", "if_sent")}


def sent_as(name: str, record: Mapping | None, zone=None) -> str:
    """A returned file as its unit knows it: the attachment it mailed, when that
    arrived (as every screen shows times), and the name `xltool collect` stored it
    under, for the secretariat to find it; a file no collect log names (put in the
    folder by hand) by its own name. Names from a mail are shown visible (no
    control characters) and bounded."""
    from ..intake.log import SENT_NAME_CHARS, as_mailed

    mailed = as_mailed(record, name)
    if mailed is None:
        return f"「{quote(name, 120)}」"
    sent, at = mailed
    when = local_text(at, zone or at.tzinfo) + " 收到，" if at else ""
    return f"「{quote(sent, SENT_NAME_CHARS)}」（{when}收件後存為「{quote(name, 120)}」）"


@dataclass
class Copy:
    path: Path
    unit: str
    todo: list[dict[str, str]] | None = None  # its 待修正事項 entries (None: unreadable)


def find_copies(plan: Plan, folder: Path) -> tuple[list[Copy], list[Issue]]:
    """The correction copies of this plan in ``folder`` now, each with its unit as
    its own identity says (checked as a return is) and its 待修正事項 entries."""
    from ..forms.identity import correction_copies
    from ..intake import read_returns

    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in COPY_SUFFIXES
                   and not p.name.startswith("~$")) if folder.is_dir() else []
    found, untouched = correction_copies(plan.plan_id, files)
    mine = [path for path in found if path in untouched]
    issues = []
    for path in found:
        if path not in untouched:  # saved again since xltool wrote it: most likely the unit's own correction
            issues.append(Issue("copy-not-sent", f"「{path.name}」不是 xltool 原樣寫出的退件補正檔"
                                "（寫出後又被存檔過，可能是單位寄回的修正檔），未寄出；"
                                "若是單位的修正檔，請移到回收資料夾後重新執行 xltool merge --feedback。",
                                file=path.name))
    copies = []
    for path, ret, todo in zip(mine, read_returns(plan, mine), read_todo(mine)):
        if not ret.usable or not ret.unit:
            why = next((i.message for i in ret.issues if i.is_error), "")
            issues.append(Issue("unrecognized", f"無法確認退件補正檔「{path.name}」是哪個單位的，未寄出"
                                f"{'：' + why if why else ''}；請重新執行 xltool merge --feedback。",
                                ERROR, file=path.name))
            continue
        issues += [i for i in ret.issues if i.code in NOT_FOR_THE_UNIT and i.level != "info"]
        copies.append(Copy(path, ret.unit, todo))
    return copies, issues


def read_todo(paths: list[Path]) -> list[list[dict[str, str]] | None]:
    """The 待修正事項 entries of each copy, read in isolated workers (None where the
    file or the sheet cannot be read)."""
    from ..reading.isolation import Failure, Pool

    with Pool(_todo_job) as pool:
        return [None if isinstance(a, Failure) else a for a in pool.map(list(paths))]


def _todo_job(_context, path: Path) -> list[dict[str, str]] | None:
    from ..reading.workbook import Rejected, read_here

    try:
        sheet = read_here(path, only={TODO_SHEET}).sheets.get(TODO_SHEET)
    except Rejected:
        return None
    return todo_rows(sheet) if sheet is not None else None


_REF = re.compile(r"([^\s!（]+)!([A-Z]{1,3}[0-9]+)")
_SEVERITY = re.compile(r"^\[([^\]]+)\]\s*")


_SENTENCE_ENDS = ("。", "！", "？", "…")


def fix_lines(copies: list[Copy]) -> list[str]:
    """The numbered list of what to fix, for the body of one unit's message: the
    entries of the copies' 待修正事項 sheets, each in the sheet's words."""
    lines: list[str] = []
    fixes = [(c, entry) for c in copies for entry in c.todo or []]
    for n, (copy, entry) in enumerate(fixes[:MOST_FIXES], start=1):
        cell = entry.get("儲存格", "")
        where = _REF.sub(lambda m: f"工作表「{m[1]}」儲存格 {m[2]}", quote(cell, 80)) or "整個檔案"
        if len(copies) > 1:
            where = f"「{copy.path.name}」{where}"
        problem = entry.get("問題與修正方式", "")
        severity = _SEVERITY.match(problem)
        line = f"{n}. " + (f"[{severity[1]}] " if severity else "") + where
        if entry.get("欄位"):
            line += f"（{quote(entry['欄位'])}）"
        said = quote(problem[severity.end():] if severity else problem, 1000)
        line += f"：{said}" + ("" if not said or said.endswith(_SENTENCE_ENDS) else "。")
        for label, name in (("目前填寫", "填寫內容"), ("應為", "應填內容")):
            if entry.get(name):
                text = quote(entry[name], 201)
                line += f"{label}：{text}" + ("" if text.endswith(_SENTENCE_ENDS) else "。")
        lines.append(line)
    if len(fixes) > MOST_FIXES:
        lines.append(f"…另有 {len(fixes) - MOST_FIXES} 處，請見附件的「待修正事項」工作表。")
    if not lines:
        lines.append("（請見附件的「待修正事項」工作表；紅色儲存格已更正者，請確認內容後直接回傳。）")
    return lines


def prepare_corrections(plan: Plan, folder: Path, *, deadline: date | None = None,
                        today: date | None = None) -> Batch:
    """A message to each unit with a correction copy in ``folder``: its own copies
    attached, the list of what to fix in the body, and the deadline."""
    today = today or date.today()
    copies, issues = find_copies(plan, folder)
    by_unit: dict[str, list[Copy]] = {}
    for copy in copies:
        by_unit.setdefault(copy.unit, []).append(copy)
    due = with_deadline(plan, deadline)

    def message(unit: str, paths: list[Path]):
        lines = fix_lines(by_unit[unit])
        count = sum(len(c.todo or []) for c in by_unit[unit])
        values = {"deadline": roc_date(due.info.deadline), "fixes": "\n".join(lines),
                  "fix_count": count or "若干"}
        return compose(due, unit, paths, CORRECT, values, "correct")

    batch = prepare_for(plan, list(by_unit), lambda unit: ([c.path for c in by_unit[unit]], []),
                        message, CORRECT, prefer_one=False)
    passed = deadline_issues(plan, deadline, today) if batch.outgoing else []
    return Batch(batch.outgoing, passed + issues + batch.issues)
