"""退件補正: one correction copy per unit whose return has errors.

The copy is the unit's template drawn afresh from the plan (so protection,
lists and metadata are intact, whatever happened to the return) holding what
the unit typed. Every bad cell is red with a comment saying what to fix, and
a first sheet 待修正事項 lists every issue. The unit corrects the copy and
sends it back as its next return.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..cells import a1, roc_prose_date
from ..errors import WARNING, Issue, XltoolError
from ..files import short_filename
from ..forms import fields as F
from ..forms.book import PrintSetup, Sheet, row_height
from ..forms.identity import KEYS
from ..forms.template import build_template
from ..intake import Return, read_returns
from .merge import MergeResult

SHEET = "待修正事項"


@dataclass
class Feedback:
    written: list[Path] = field(default_factory=list)
    removed: list[Path] = field(default_factory=list)  # copies no longer needed
    problems: list[Issue] = field(default_factory=list)


def write_feedback(result: MergeResult, out_dir: Path,
                   created: datetime | None = None) -> Feedback:
    """Make ``out_dir`` the current to-do list: a correction copy, written or rewritten,
    for every unit whose adopted return has errors, and no other copy of this plan
    (those of units that are now clean are removed). A copy that cannot be written is
    an issue; the other copies are still written."""
    from ..forms.ods_writer import write_ods
    from ..forms.xlsx_writer import write_xlsx

    out_dir = Path(out_dir)
    due = [s.ret for s in result.units if s.ret is not None and s.ret.errors]
    done = Feedback()
    # Read the files again, keeping every value as typed (the merge keeps only checked ones).
    for ret, full in zip(due, read_returns(result.plan, [r.path for r in due], keep_raw=True)):
        if not full.usable:
            continue
        book = feedback_book(result, full, created or result.newest_input or datetime(2000, 1, 1))
        fmt = "ods" if ret.path.suffix.lower() == ".ods" else "xlsx"
        target = out_dir / (short_filename(f"{_base_stem(ret.name)}{COPY_SUFFIX}") + f".{fmt}")
        try:
            (write_ods if fmt == "ods" else write_xlsx)(book, target)
        except XltoolError as exc:
            done.problems.append(Issue("write-failed", f"「{ret.unit}」的退件補正檔未寫出：{exc}",
                                       unit=ret.unit or "", file=ret.name))
            continue
        done.written.append(target)
    done.removed = _remove_stale(result.plan, out_dir, set(done.written))
    return done


@dataclass
class Prefilled:
    written: list[tuple[str, Path]] = field(default_factory=list)  # (unit, file)
    problems: list[Issue] = field(default_factory=list)


def write_prefilled(plan, returns: list[Path], out_dir: Path, units=None,
                    formats: tuple[str, ...] = ("xlsx",), generated: datetime | None = None,
                    ) -> Prefilled:
    """Each unit's current template, filled with what it already returned (its latest
    usable return), for a revised plan or the next period's round. A unit without a
    usable return gets a blank template, and the reason is an issue."""
    from ..forms.ods_writer import write_ods
    from ..forms.template import generation_time, template_filename, units_to_write
    from ..forms.xlsx_writer import write_xlsx
    from .merge import merge

    chosen = units_to_write(plan, units)
    generated = generated or generation_time()
    result = merge(plan, list(returns))
    adopted = {s.unit: s.ret for s in result.units if s.ret is not None and s.unit in chosen}
    again = dict(zip(adopted, read_returns(plan, [r.path for r in adopted.values()], keep_raw=True)))
    done = Prefilled()
    for unit in chosen:
        ret = again.get(unit)
        if ret is not None and ret.usable:
            book = prefilled_book(plan, ret, generated)
        else:
            named = [r.name for r in result.rejected if unit in r.name]
            why = f"收到的檔案無法使用：{'、'.join(named)}" if named else "沒有收到可用的回傳檔"
            done.problems.append(Issue("prefill-unavailable", f"「{unit}」{why}，已產生空白的填報表。",
                                       WARNING, unit=unit))
            book = build_template(plan, unit, generated)
        for fmt in formats:
            path = Path(out_dir) / template_filename(plan, unit, fmt)
            (write_ods if fmt == "ods" else write_xlsx)(book, path)
            done.written.append((unit, path))
    return done


COPY_SUFFIX = "_待修正"


def _base_stem(name: str) -> str:
    """A return's name without the correction-copy suffixes it may already carry."""
    stem = Path(name).stem
    while stem.endswith(COPY_SUFFIX):
        stem = stem[:-len(COPY_SUFFIX)]
    return stem


def _remove_stale(plan, out_dir: Path, keep: set[Path]) -> list[Path]:
    """Remove this plan's correction copies that are not in ``keep``: a unit that is
    clean now must not be mailed an outdated copy."""
    from ..reading.workbook import read_properties

    if not out_dir.is_dir():
        return []
    candidates = [p for p in sorted(out_dir.iterdir())
                  if p.is_file() and p.suffix.lower() in (".xlsx", ".ods") and p not in keep]
    removed = []
    for path, props in zip(candidates, read_properties(candidates)):
        if props and props.get(KEYS["feedback"]) == "1" and \
                props.get(KEYS["plan_id"]) == plan.plan_id:
            path.unlink()
            removed.append(path)
    return removed


def feedback_book(result: MergeResult, ret: Return, created: datetime):
    """The correction copy: the return in a fresh template, bad cells red, and a first
    sheet 待修正事項 that lists every issue."""
    plan = result.plan
    book, form, moved = _filled(plan, ret, created)
    book.custom[KEYS["feedback"]] = "1"
    meta = book.sheet(F.META_SHEET)
    meta.put(meta.max_row + 1, 0, KEYS["feedback"])
    meta.put(meta.max_row, 1, "1")
    listing = Sheet(SHEET, widths=[6, 14, 14, 30, 70], protect=True,
                    print_setup=PrintSetup(repeat_rows=(3, 3)))
    listing.put(0, 0, f"{plan.info.name}　{ret.unit}　待修正事項", "title")
    to = f"回傳{plan.info.contact_unit}" if plan.info.contact_unit else "回傳"
    listing.put(1, 0, f"本檔依「{ret.name}」產生。請修正「{F.FORM_SHEET}」中紅色的儲存格"
                      f"（游標移到儲存格上可看說明），修正後直接存檔，{to}"
                      f"（繳交期限：{roc_prose_date(plan.info.deadline)}）。", "text")
    for c, name in enumerate(["項次", "儲存格", "欄位", "填寫內容", "問題與修正方式"]):
        listing.put(3, c, name, "header")
    # Only what the unit must act on: automatic corrections (說明) are not listed.
    to_fix = [(i, cell) for i, cell in _mark_issues(form, moved, ret) if i.level != "info"]
    for n, (issue, cell) in enumerate(to_fix, start=1):
        r = 3 + n
        values = [n, cell, issue.field, issue.value, f"[{issue.severity}] {issue.message}"]
        for c, v in enumerate(values):
            listing.put(r, c, v, "locked" if c else "locked_number")
        listing.heights[r] = row_height([(issue.message, 70), (issue.value, 30)])
    book.sheets.insert(0, listing)
    book.active = SHEET
    return book


def prefilled_book(plan, ret: Return, created: datetime):
    """The unit's current template holding what it returned before (for the items that
    still exist), with the changed and the new items marked and listed in 填報說明."""
    book, form, moved = _filled(plan, ret, created)
    _mark_issues(form, moved, ret)
    rows = {item.id: F.FIRST_ITEM_ROW + n for n, item in enumerate(plan.items_for(ret.unit))}
    id_col = F.COLUMNS.index(F.column("id"))
    score_col = F.COLUMNS.index(F.column("score"))
    changed = sorted({item for item, *_ in ret.revisions if item in rows}, key=list(rows).index)
    for item_id in changed:
        fields = "、".join(dict.fromkeys(f for i, f, *_ in ret.revisions if i == item_id))
        _note(form, rows[item_id], id_col, f"本項的{fields}已修訂，請確認填寫內容是否仍適用。")
        if item_id in ret.capped:
            _note(form, rows[item_id], score_col, f"配分已修訂，原自評 {ret.capped[item_id]:g} 分"
                                                  "超過新配分，請重新評分。")
    new = [i for i in rows if i not in ret.rows]
    for item_id in new:
        _note(form, rows[item_id], id_col, "本項為計畫修訂後新增（或新交由本單位主辦）的項目，請填寫。")
    guide = book.sheet(F.GUIDE_SHEET)
    r = guide.max_row + 2
    guide.put(r, 0, "預填說明", "title")
    lines = [f"本表已預先填入貴單位先前回傳的「{ret.name}」內容，請檢查並更新後回傳。"]
    if changed:
        lines.append(f"內容已修訂的項目（編號儲存格有說明）：{'、'.join(changed)}。")
    if new:
        lines.append(f"新增的項目（尚未填寫）：{'、'.join(new)}。")
    for n, line in enumerate(lines, start=1):
        guide.put(r + n, 0, f"{n}.", "label")
        guide.put(r + n, 1, line, "wrap")
        guide.heights[r + n] = row_height([(line, 90)])
    return book


def _note(form: Sheet, r: int, c: int, text: str) -> None:
    value, style = form.cells.get((r, c), (None, "input"))
    form.put(r, c, value, "revised_input" if style.startswith("input") else "revised_locked")
    previous = form.notes.get((r, c))
    form.notes[(r, c)] = f"{previous}\n{text}" if previous else text


def _filled(plan, ret: Return, created: datetime):
    """A fresh template of the unit's, holding what the return holds, and where each
    input cell of the return landed in it (return A1 → (row, col, field))."""
    assert ret.unit is not None  # only usable returns are filled in, and those know their unit
    book = build_template(plan, ret.unit, created)
    book.created = created
    form = book.sheet(F.FORM_SHEET)
    cols = {c.name: i for i, c in enumerate(F.COLUMNS)}
    fields = {f.name: (f, c) for f, c in zip(F.FORM_FIELDS, F.FORM_LABEL_COLS)}
    for name, value in ret.header.items():
        if value is not None and name in fields:
            field, c = fields[name]
            form.put(F.FORM_ROW, c + 1, value, F.form_field_style(field))
    moved: dict[str, tuple[int, int, str]] = {}
    positions = {item.id: F.FIRST_ITEM_ROW + n for n, item in enumerate(plan.items_for(ret.unit))}
    for item_id, row in ret.rows.items():
        r = positions[item_id]
        for col in (c for c in F.INPUT_COLUMNS if c.name in ret.cols):
            moved[ret.cell_ref(row, col.name)] = (r, cols[col.name], col.name)
            value = (row.raw or {}).get(col.name)
            if value is not None:
                form.put(r, cols[col.name], value, col.input_style)
    for field, c in zip(F.FORM_FIELDS, F.FORM_LABEL_COLS):
        moved.setdefault(a1(F.FORM_ROW, c + 1), (F.FORM_ROW, c + 1, field.name))
    return book, form, moved


def _mark_issues(form: Sheet, moved: dict, ret: Return) -> list[tuple[Issue, str]]:
    """Every issue with the cell it names in the fresh copy; cells in error made red,
    with the message as their comment."""
    out = []
    for issue in ret.issues:
        target = moved.get(issue.cell) if issue.sheet in (ret.sheet, "") else None
        cell = f"{F.FORM_SHEET}!{a1(target[0], target[1])}" if target else issue.cell
        if target and issue.is_error:
            r, c, _ = target
            value, _style = form.cells.get((r, c), (None, "input"))
            form.put(r, c, value, "input_bad")
            previous = form.notes.get((r, c))
            form.notes[(r, c)] = f"{previous}\n{issue.message}" if previous else issue.message
        out.append((issue, cell))
    return out
