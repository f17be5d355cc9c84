"""退件補正: one correction copy per unit whose return has errors.

The copy is the unit's template drawn afresh from the plan (so protection,
lists and metadata are intact, whatever happened to the return) holding what
the unit typed. Every bad cell is red with a comment saying what to fix, and
a first sheet 待修正事項 lists every issue. The unit corrects the copy and
sends it back as its next return.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..cells import a1, col_index, local_text, roc_prose_date
from ..errors import WARNING, Issue, XltoolError
from ..files import real_path, short_filename
from ..forms import fields as F
from ..forms.book import PrintSetup, Sheet, row_height
from ..forms.identity import KEYS, correction_copies
from ..forms.template import build_template, template_filename
from ..forms.todo import TODO_COLUMNS, TODO_HEADER_ROW, TODO_SHEET
from ..intake import Return, read_returns
from ..plan.filenames import same_file
from ..quoting import quote
from .merge import MergeResult

# About the returned file as a whole (its name, its identity, its clock), not about a
# cell of the copy: for the secretariat's 檢核結果, not for the unit's to-do list.
NOT_TO_FIX = {"name-mismatch", "no-metadata", "implausible-time"}
# Rows that are read into no item: the fresh copy has no such row.
ROW_NOT_KEPT = {"row-without-id", "foreign-row", "duplicate-row"}


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
    an issue; the other copies are still written.

    Only the copies xltool wrote and nobody saved since are rewritten or removed
    (:func:`~xltool.forms.identity.untouched_copy`): a copy a unit fixed and somebody saved into the folder, a
    file of a copy's name that xltool never wrote, and any file the merge read are
    kept, said, and the new copy takes a free name beside them."""
    from ..forms.ods_writer import write_ods
    from ..forms.xlsx_writer import write_xlsx

    out_dir = Path(out_dir)
    due = [s.ret for s in result.units if s.ret is not None and s.ret.errors]
    done = Feedback()
    folder = _Folder.scan(result, out_dir)
    # Read the files again, keeping every value as typed (the merge keeps only checked ones).
    for ret, full in zip(due, read_returns(result.plan, [r.path for r in due], keep_raw=True)):
        if not full.usable:
            continue
        book = feedback_book(result, full, _made(created, ret, result))
        fmt = "ods" if ret.path.suffix.lower() == ".ods" else "xlsx"
        target = folder.claim(_names(result.plan, ret, fmt), ret, done.problems)
        try:
            (write_ods if fmt == "ods" else write_xlsx)(book, target)
        except XltoolError as exc:
            done.problems.append(Issue("write-failed", f"「{ret.unit}」的退件補正檔未寫出：{exc}",
                                       unit=ret.unit or "", file=ret.name))
            continue
        done.written.append(target)
    done.removed = folder.remove_stale(set(done.written), done.problems)
    return done


def _made(created: datetime | None, ret: Return, result: MergeResult) -> datetime:
    """When a copy says it was made: the return's own save time, so that the copy's
    bytes change only when its return does (`send --corrections` mails a changed copy
    again), and the unit's next save, by the same clock, is later. Whole seconds: an
    untouched copy is told by this time equalling, to the second, the save time its
    writer stamps (:func:`~xltool.forms.identity.untouched_copy`)."""
    return (created or ret.saved or result.newest_input or datetime(2000, 1, 1)).replace(microsecond=0)


def _names(plan, ret: Return, fmt: str):
    """The names a unit's copy may take, best first: its return's name with the
    suffix (the unit knows it), then its template's, then that numbered (2), (3) …"""
    yield short_filename(f"{_base_stem(ret.name)}{COPY_SUFFIX}") + f".{fmt}"
    stem = Path(template_filename(plan, ret.unit or "", fmt)).stem + COPY_SUFFIX
    yield f"{stem}.{fmt}"
    n = 2
    while True:
        yield f"{stem}({n}).{fmt}"
        n += 1


@dataclass
class _Folder:
    """The feedback folder as found: which names are taken, and by what."""

    out_dir: Path
    present: dict[str, Path]  # same_file(name) → the file there
    rewritable: set[Path]  # this plan's copies, as xltool wrote them, and no input
    copies: set[Path]  # every file that says it is a copy of this plan
    inputs: set[Path]  # the files the merge read (resolved)
    taken: set[str] = field(default_factory=set)  # same_file(name) of this run's copies

    @classmethod
    def scan(cls, result: MergeResult, out_dir: Path) -> _Folder:
        files = sorted(p for p in out_dir.iterdir() if p.is_file()) if out_dir.is_dir() else []
        inputs = {real_path(r.path) for s in result.units for r in (s.ret, *s.superseded) if r is not None}
        inputs |= {real_path(r.path) for r in result.rejected}
        candidates = [p for p in files if p.suffix.lower() in (".xlsx", ".ods") and real_path(p) not in inputs]
        copies, untouched = correction_copies(result.plan.plan_id, candidates)
        return cls(out_dir, {same_file(p.name): p for p in files}, untouched, set(copies), inputs)

    def claim(self, names, ret: Return, problems: list[Issue]) -> Path:
        """The first of ``names`` that is free: no file of that name, or a copy xltool
        may rewrite. A kept file passed over is said, once."""
        kept = None
        for name in names:
            key = same_file(name)
            if key in self.taken:
                continue
            there = self.present.get(key)
            if there is None or there in self.rewritable:
                self.taken.add(key)
                if kept is not None:
                    problems.append(_kept_issue(kept, ret, name, self._what(kept)))
                return self.out_dir / name
            kept = kept or there
        raise AssertionError("unreachable: _names never ends")

    def _what(self, path: Path) -> str:
        if real_path(path) in self.inputs:
            return _INPUT
        if path in self.copies:
            return _EDITED
        return "不是 xltool 寫出的退件補正檔"

    def remove_stale(self, keep: set[Path], problems: list[Issue]) -> list[Path]:
        """Remove this plan's copies xltool wrote that are not in ``keep``: a unit that is
        clean now must not be mailed an outdated copy. A copy saved since it was
        written is kept and said (it may be a unit's correction); one that cannot be
        removed is said too."""
        removed = []
        for path in sorted(self.copies - keep):
            if path not in self.rewritable:
                problems.append(Issue("feedback-file-kept", f"補正資料夾中的「{path.name}」{_EDITED}，"
                                      "未刪除；若是單位的修正檔，請移到回收資料夾"
                                      "後重新彙整，否則請自行刪除，以免再寄給該單位。", file=path.name))
                continue
            try:
                path.unlink()
            except OSError as exc:
                problems.append(Issue("feedback-file-kept", f"補正資料夾中已不需要的「{path.name}」無法刪除"
                                      f"（{exc.strerror or exc}）；請關閉開啟它的程式後自行刪除，以免再寄給該單位。",
                                      file=path.name))
                continue
            removed.append(path)
        return removed


def _kept_issue(kept: Path, ret: Return, name: str, what: str) -> Issue:
    advice = "請勿把補正資料夾設為回傳資料夾。" if what == _INPUT else \
        f"若「{kept.name}」是單位的修正檔，請移到回收資料夾後重新彙整，否則請自行刪除或改名。"
    return Issue("feedback-file-kept", f"補正資料夾中的「{kept.name}」{what}，未覆蓋；「{ret.unit}」新的退件補正檔"
                 f"寫為「{name}」。{advice}", unit=ret.unit or "", file=kept.name)


_INPUT = "是本次彙整讀取的回傳檔"
_EDITED = "是退件補正檔，但在 xltool 寫出後被修改過（可能是單位寄回的修正檔）"


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


def feedback_book(result: MergeResult, ret: Return, created: datetime):
    """The correction copy: the return in a fresh template, bad cells red, and a first
    sheet 待修正事項 listing what to fix (the correction mail lists the same, read back)."""
    plan = result.plan
    book, form, where = _filled(plan, ret, created)
    book.custom[KEYS["feedback"]] = "1"
    meta = book.sheet(F.META_SHEET)
    meta.put(meta.max_row + 1, 0, KEYS["feedback"])
    meta.put(meta.max_row, 1, "1")
    # 123 characters wide, about 27.4 cm: within A4 landscape's 27.7 cm between the margins,
    # so that the list prints at full size.
    widths: list[float] = [5, 14, 12, 26, 48, 18]
    listing = Sheet(TODO_SHEET, widths=widths, protect=True,
                    print_setup=PrintSetup(repeat_rows=(TODO_HEADER_ROW, TODO_HEADER_ROW)))
    listing.put(0, 0, f"{plan.info.name}　{ret.unit}　待修正事項", "title")
    to = f"回傳{plan.info.contact_unit}" if plan.info.contact_unit else "回傳"
    intro = (f"本檔依{as_sent(result, ret)}產生。請修正「{F.FORM_SHEET}」中紅色的儲存格"
             f"（游標移到儲存格上可看說明），修正後直接存檔，{to}"
             f"（繳交期限：{roc_prose_date(plan.info.deadline)}）。")
    # Wrapped across the table's width: one long line would widen the printed page, and
    # fitting it to one page wide would print the table small.
    listing.put(1, 0, intro, "wrap")
    listing.merges.append((1, 0, 1, len(widths) - 1))
    listing.heights[1] = row_height([(intro, sum(widths))])
    for c, name in enumerate(TODO_COLUMNS):
        listing.put(TODO_HEADER_ROW, c, name, "header")
    for n, values in enumerate(todo_entries(ret, _mark_issues(form, where, ret)), start=1):
        r = TODO_HEADER_ROW + n
        for c, v in enumerate([n, *values]):
            listing.put(r, c, v, "locked" if c else "locked_number")
        listing.heights[r] = row_height(list(zip(map(str, values), widths[1:])))
    book.sheets.insert(0, listing)
    book.active = TODO_SHEET
    _record_own_notes(meta, form)
    return book


def _record_own_notes(meta: Sheet, form: Sheet) -> None:
    """The notes xltool wrote, recorded in the hidden sheet: returned, the copy's notes
    are then not said as the unit's own (see intake/notes.py)."""
    from ..intake.notes import own_notes

    if form.notes:
        meta.put(meta.max_row + 1, 0, KEYS["notes"])
        meta.put(meta.max_row, 1, own_notes(list(form.notes.values())))


def as_sent(result: MergeResult, ret: Return) -> str:
    """The return as its unit knows it: the attachment it mailed, and when it arrived,
    where `xltool collect` stored it under another name; else the file's own name."""
    from ..intake.log import SENT_NAME_CHARS, as_mailed

    mailed = as_mailed(result.received.returns.get(ret.name), ret.name)
    if mailed is None:
        return f"「{ret.name}」"
    sent, at = mailed
    # As the stored name says it (collect names by the time where it arrived).
    when = local_text(at, result.plan.zone or at.tzinfo) if at else ""
    # The name came in a mail: shown visible (no control characters) and bounded.
    return f"貴單位{when + ' ' if when else ''}寄來的「{quote(sent, SENT_NAME_CHARS)}」（收件後存為「{ret.name}」）"


def todo_entries(ret: Return, located: list[tuple[Issue, str]]) -> list[list[str]]:
    """The 待修正事項 entries, in TODO_COLUMNS' order after 項次: only what the unit
    must act on (automatic corrections, 說明, and remarks on the file are not listed)."""
    out = []
    for issue, cell in located:
        if issue.level == "info" or issue.code in NOT_TO_FIX:
            continue
        out.append([cell, issue.field, issue.value, f"[{issue.severity}] {issue.message}",
                    issue.expected])
    return out


def prefilled_book(plan, ret: Return, created: datetime):
    """The unit's current template holding what it returned before (for the items that
    still exist), with the changed and the new items marked and listed in 填報說明."""
    book, form, where = _filled(plan, ret, created)
    _mark_issues(form, where, ret)
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
    _record_own_notes(book.sheet(F.META_SHEET), form)
    return book


def _note(form: Sheet, r: int, c: int, text: str) -> None:
    value, style = form.cells.get((r, c), (None, "input"))
    form.put(r, c, value, "revised_input" if style.startswith("input") else "revised_locked")
    previous = form.notes.get((r, c))
    form.notes[(r, c)] = f"{previous}\n{text}" if previous else text


@dataclass
class _Where:
    """Where the return's content landed in the fresh copy."""

    inputs: dict[str, tuple[int, int, str]] = field(default_factory=dict)  # return A1 → (r, c, field)
    rows: dict[int, int] = field(default_factory=dict)  # an item's row in the return → in the copy
    cols: dict[int, int] = field(default_factory=dict)  # a form column in the return → in the copy
    items: dict[str, int] = field(default_factory=dict)  # item id → its row in the copy


def _filled(plan, ret: Return, created: datetime):
    """A fresh template of the unit's, holding what the return holds, and where the
    return's cells landed in it."""
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
    where = _Where(cols={ret.cols[name]: c for name, c in cols.items() if name in ret.cols})
    where.items = {item.id: F.FIRST_ITEM_ROW + n for n, item in enumerate(plan.items_for(ret.unit))}
    for item_id, row in ret.rows.items():
        r = where.rows[row.row] = where.items[item_id]
        for col in (c for c in F.INPUT_COLUMNS if c.name in ret.cols):
            where.inputs[ret.cell_ref(row, col.name)] = (r, cols[col.name], col.name)
            value = (row.raw or {}).get(col.name)
            if value is not None:
                form.put(r, cols[col.name], value, col.input_style)
    for field, c in zip(F.FORM_FIELDS, F.FORM_LABEL_COLS):
        where.inputs.setdefault(a1(F.FORM_ROW, c + 1), (F.FORM_ROW, c + 1, field.name))
    return book, form, where


def _mark_issues(form: Sheet, where: _Where, ret: Return) -> list[tuple[Issue, str]]:
    """Every issue with the cell it names (see _locate); input cells in error made
    red, with the message as their comment."""
    out = []
    for issue in ret.issues:
        cell, target = _locate(issue, where, ret)
        if target and issue.is_error:
            r, c = target
            value, _style = form.cells.get((r, c), (None, "input"))
            form.put(r, c, value, "input_bad")
            previous = form.notes.get((r, c))
            form.notes[(r, c)] = f"{previous}\n{issue.message}" if previous else issue.message
        out.append((issue, cell))
    return out


_A1 = re.compile(r"([A-Z]{1,3})([1-9][0-9]*)")
ID_COL = F.COLUMNS.index(F.column("id"))


def _locate(issue: Issue, where: _Where, ret: Return) -> tuple[str, tuple[int, int] | None]:
    """The cell an issue is about, as the to-do list names it, and the input cell of
    the copy to mark (or None). A cell whose content the copy holds is named where it
    is in the copy; any other cell is the returned file's, and said so (原檔): a row
    read into no item is not in the copy (nobody can tell which item it belongs to,
    and a row added to the template would be an error again), said plainly, its
    content quoted by the issue."""
    on_form = issue.sheet in (ret.sheet, "")
    if on_form and issue.cell in where.inputs:
        r, c, _ = where.inputs[issue.cell]
        return f"{F.FORM_SHEET}!{a1(r, c)}", (r, c)
    if issue.code == "row-deleted" and issue.expected in where.items:
        return f"{F.FORM_SHEET}!{a1(where.items[issue.expected], ID_COL)}", None
    if not issue.cell:
        return "", None
    found = _A1.fullmatch(issue.cell) if on_form else None
    if found and issue.code not in ROW_NOT_KEPT:
        r, c = int(found[2]) - 1, col_index(found[1])
        if r in where.rows and c in where.cols:
            return f"{F.FORM_SHEET}!{a1(where.rows[r], where.cols[c])}", None
    kept = "（本檔未保留此列）" if issue.code in ROW_NOT_KEPT else ""
    return f"原檔 {issue.sheet or ret.sheet}!{issue.cell}{kept}", None

