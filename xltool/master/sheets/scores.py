"""The 評分 sheet: each item's lead units' scores, 自評, 複評 and 採計分數 as live
formulas with the values computed in Python as their cache, the secretariat's
複評說明 beside its 複評; the 構面 subtotals, the total and the grade below them,
and below those the reviews of items the plan no longer has, kept as typed. A 複評
counts (in the formulas as in Python) only when it is a number within 0 … 配分.
Other stages find these columns by their headers (review.py, documents/outcome.py)."""
from __future__ import annotations

from dataclasses import dataclass
from itertools import groupby

from ... import textfit
from ...cells import a1, abs_ref, col_letter, fmt_number, formula_string
from ...forms.book import FONT
from ..layout import (
    ISSUE_SHEET,
    MAX_CELL_TEXT,
    MAX_UNIT_COLUMNS,
    REVIEW_HEADER,
    REVISION_SHEET,
    SCORE_SHEET,
    dimension_header,
)
from ..review import NOTE_HEADER, Unusable, removed_items, unusable_reviews
from .context import Context

NOTE_WIDTH = 16  # 複評說明's column
REMOVED_TITLE = "已不在計畫中的項目"
REMOVED_NOTE = ("以下項目已不在計畫中：先前填寫的複評與複評說明照原樣保留於此，未採計；"
                "確認不需要後可清除，項目恢復時會重新採計。")


@dataclass(frozen=True)
class _Columns:
    """Where things go on 評分: one column per unit between 配分 and 自評."""

    units: list[str]
    header_row: int = 3
    points: int = 3
    first_unit: int = 4

    @property
    def self_score(self) -> int:
        return self.first_unit + len(self.units)

    @property
    def review(self) -> int:
        return self.self_score + 1

    @property
    def note(self) -> int:
        return self.self_score + 2

    @property
    def adopted(self) -> int:
        return self.self_score + 3

    @property
    def first_item_row(self) -> int:
        return self.header_row + 1

    def removed_row(self, plan, k: int) -> int:
        """The row of the ``k``-th item no longer in the plan: below the grade, a
        blank row and the list's title."""
        grade = self.first_item_row + len(plan.items) + len(plan.dimensions) + 3  # see _totals
        return grade + 3 + k


def _columns(plan) -> _Columns:
    # One column per unit while that stays readable (and within Excel's 16,384 columns);
    # beyond, 自評 is written as its value and each unit's score is in 明細.
    return _Columns([u.name for u in plan.units] if len(plan.units) <= MAX_UNIT_COLUMNS else [])


def note_cell(plan, n: int) -> str:
    """The A1 cell of the ``n``-th item's (from 0) 複評說明 on 評分."""
    cols = _columns(plan)
    return a1(cols.first_item_row + n, cols.note)


def review_cell(plan, n: int) -> str:
    """The A1 cell of the ``n``-th item's (from 0) 複評 on 評分."""
    cols = _columns(plan)
    return a1(cols.first_item_row + n, cols.review)


def removed_review_cell(plan, k: int) -> str:
    """The A1 cell of the 複評 of the ``k``-th item no longer in the plan (see :func:`removed_items`)."""
    cols = _columns(plan)
    return a1(cols.removed_row(plan, k), cols.review)


def removed_note_cell(plan, k: int) -> str:
    """The A1 cell of the 複評說明 of the ``k``-th item no longer in the plan."""
    cols = _columns(plan)
    return a1(cols.removed_row(plan, k), cols.note)


def _when(plan) -> str:
    """When a 複評 needs a 複評說明, in words."""
    margin = plan.info.review_note_margin
    return f"相差超過 {margin:g} 分" if margin else "不同"


def write(ctx: Context) -> None:
    plan = ctx.plan
    ws = ctx.ws[SCORE_SHEET]
    cols = _columns(plan)
    head = ["編號", "構面", "執行方法", "配分", *cols.units, "自評", REVIEW_HEADER, NOTE_HEADER, "採計分數"]
    widths = [9, 10, 30, 7, *[8] * len(cols.units), 8, 8, NOTE_WIDTH, 9]
    ctx.f.setdefault("review_note", ctx.wb.add_format({
        "font_name": FONT, "font_size": 11, "valign": "top", "text_wrap": True, "border": 1,
        "bg_color": "#FFF2CC", "locked": False}))
    ctx.title(ws, 0, f"{plan.info.name}　評分表")
    ctx.note(ws, 1, "自評＝主辦單位自評分數的平均（不適用且未評分者不列入，未繳以 0 分計）；"
                    f"複評欄（黃色）可由秘書單位填寫，複評與自評{_when(plan)}時請在複評說明欄寫明理由；"
                    "採計分數＝有複評取複評，否則取自評。", widths)
    ctx.header(ws, cols.header_row, head, widths)
    unusable = unusable_reviews(ctx.r)
    for n, res in enumerate(ctx.r.items):
        _item_row(ctx, ws, cols, cols.first_item_row + n, res, unusable.get(res.item.id))
    last = cols.first_item_row + len(ctx.r.items) - 1
    _review_validations(ctx, ws, cols)
    _totals(ctx, ws, cols, last)
    _removed(ctx, ws, cols)
    ws.freeze_panes(cols.first_item_row, 1)
    ws.autofilter(cols.header_row, 0, last, cols.adopted)
    ws.protect("", {"autofilter": True, "sort": False, "format_columns": True,
                    "format_rows": True})
    ctx.print_setup(ws, cols.header_row)


METHOD_CHARS = 60  # of 執行方法's last line: the sheet is for scores; 明細 and 總表 hold it whole


def _shortened(method: str) -> str:
    """``method`` cut to :data:`METHOD_CHARS`, ending in "…" where it was cut, so that
    a printed page does not read as if the sentence stopped there."""
    return method if len(method) <= METHOD_CHARS else method[:METHOD_CHARS - 1] + "…"


def _item_row(ctx: Context, ws, cols: _Columns, r: int, res, unusable: Unusable | None) -> None:
    """One item: its units' scores, 自評 (their average, live), 複評 and 採計分數;
    ``unusable``: the previous master's 複評 of it that could not be adopted."""
    f, item = ctx.f, res.item
    dim_name, method = ctx.plan.dimension(item.dimension).name, _shortened(item.method.split("\n")[-1])
    # Heights set directly: this sheet's comments are placed by them when the book closes.
    note = ctx.r.review_notes.get(item.id, "")
    ws.set_row(r, textfit.row_height([(item.id, 9), (dim_name, 10), (method, 30), (note, NOTE_WIDTH)]))
    ws.write_string(r, 0, item.id, f["wrap"])
    ws.write_string(r, 1, dim_name, f["wrap"])
    ws.write_string(r, 2, method, f["wrap"])
    ws.write_number(r, cols.points, item.points, f["num"])
    for k, unit in enumerate(cols.units):
        _unit_score(ctx, ws, r, cols.first_unit + k, unit, res.entries.get(unit))
    changed = ctx.r.self_changes.get(item.id)
    shown = f["revised"] if changed else f["num"]
    if cols.units:
        span = f"{a1(r, cols.first_unit)}:{a1(r, cols.self_score - 1)}"
        ws.write_formula(r, cols.self_score, f"=IFERROR(ROUND(AVERAGE({span}),2),0)", shown,
                         res.self_score)
    else:
        ws.write_number(r, cols.self_score, res.self_score, shown)
    if changed:
        was, now = (fmt_number(v) for v in changed)
        what = "與".join([*([REVIEW_HEADER] if res.review is not None or unusable is not None else []),
                         *([NOTE_HEADER] if note else [])])
        ws.write_comment(r, cols.self_score, f"自評已由 {was} 變為 {now}（主辦單位的回傳已更新）；"
                                             f"右側的{what}是在自評為 {was} 時填寫的，已照原樣保留，"
                                             "請確認是否仍適用。", {"font_name": FONT, "x_scale": 2})
    if res.review is None and unusable is not None:
        _unusable_review(ctx, ws, r, cols.review, unusable)
    elif res.review is None:
        ws.write_blank(r, cols.review, None, f["review"])
    else:
        ws.write_number(r, cols.review, res.review, f["review"])
    if note:
        ws.write_string(r, cols.note, note, f["review_note"])
    else:
        ws.write_blank(r, cols.note, None, f["review_note"])
    review, self_score, points = a1(r, cols.review), a1(r, cols.self_score), a1(r, cols.points)
    # Only a number within 0 … 配分 counts, as in Python (review.py): a 999 typed (or
    # pasted, past the validation) into 複評 must not change the totals when recalculated.
    ws.write_formula(r, cols.adopted, f"=IF(ISNUMBER({review}),IF(AND({review}>=0,{review}<={points}),"
                                      f"{review},{self_score}),{self_score})", f["score"], res.adopted)


def _unusable_review(ctx: Context, ws, r: int, c: int, bad: Unusable, comment: str = "") -> None:
    """A 複評 of the previous master that cannot be adopted, kept exactly as typed
    (a number as that number, which 採計分數 does not count as it is out of range;
    a text as that text), red, and explained."""
    if "review_unusable" not in ctx.f:  # only in masters that have one
        ctx.f["review_unusable"] = ctx.wb.add_format({
            "font_name": FONT, "font_size": 11, "valign": "top", "border": 1, "align": "center", "bg_color": "#FFC7CE",
            "font_color": "#9C0006", "locked": False})
    if isinstance(bad.value, str):
        ws.write_string(r, c, bad.value, ctx.f["review_unusable"])
    else:
        ws.write_number(r, c, bad.value, ctx.f["review_unusable"])
    ws.write_comment(r, c, comment or f"複評「{bad.typed}」{bad.reason}，未採計，本項暫以自評計；"
                                      "請改為正確的分數（或清除）後重新彙整。", {"font_name": FONT, "x_scale": 2})


def _removed(ctx: Context, ws, cols: _Columns) -> None:
    """The 複評 and 複評說明 of items the plan no longer has, below the grade, as typed:
    not counted, but never dropped; the next merge reads them back from here."""
    ids = removed_items(ctx.plan, unusable_reviews(ctx.r), ctx.r.review_notes)
    if not ids:
        return
    f, title = ctx.f, cols.removed_row(ctx.plan, 0) - 1
    ws.write_string(title, 0, REMOVED_TITLE, f["header"])
    ws.set_row(title, textfit.row_height([(REMOVED_NOTE, 30)]))
    ws.write_string(title, 2, REMOVED_NOTE, f["wrap"])
    for k, item_id in enumerate(ids):
        r, note = cols.removed_row(ctx.plan, k), ctx.r.review_notes.get(item_id, "")
        ws.set_row(r, textfit.row_height([(item_id, 9), (note, NOTE_WIDTH)]))
        ws.write_string(r, 0, item_id, f["wrap"])
        ws.write_string(r, 2, "（已不在計畫中，未採計）", f["wrap"])
        bad = ctx.r.unusable_reviews.get(item_id)
        if bad is not None:
            _unusable_review(ctx, ws, r, cols.review, bad, f"項目「{item_id}」已不在計畫中，其複評「{bad.typed}」"
                                                         "照原樣保留、未採計；確認不需要後可清除。")
        else:
            ws.write_blank(r, cols.review, None, f["review"])
        if note:
            ws.write_string(r, cols.note, note, f["review_note"])
        else:
            ws.write_blank(r, cols.note, None, f["review_note"])


def _unit_score(ctx: Context, ws, r: int, c: int, unit: str, entry) -> None:
    """One unit's score for one item, marked (and explained in a comment) when it
    was not simply the unit's own number."""
    f = ctx.f
    note = {"font_name": FONT, "x_scale": 2}
    if entry is None:  # not a lead of this item
        ws.write_blank(r, c, None, f["grey"])
    elif entry.excluded:
        ws.write_string(r, c, ctx.plan.info.not_applicable, f["num"])
    elif entry.new:
        ws.write_number(r, c, 0, f["revised"])
        ws.write_comment(r, c, f"計畫修訂後新增的項目，{unit}尚未填報（見「{REVISION_SHEET}」），"
                               "暫以 0 分計。", note)
    elif entry.capped_from is not None:
        ws.write_number(r, c, entry.score or 0, f["revised"])
        ws.write_comment(r, c, f"{unit}依修訂前的配分自評 {entry.capped_from:g} 分，"
                               f"已依新配分以 {entry.score:g} 分計；請填寫複評確認。", note)
    elif entry.invalid:  # counted 0, but the unit did not give itself 0
        ws.write_number(r, c, 0, f["invalid"])
        ws.write_comment(r, c, f"{unit}的自評分數無效或未填（原因見「{ISSUE_SHEET}」），"
                               "本項以 0 分計入平均。", note)
    else:
        missing = ctx.r.status_of(unit).ret is None
        ws.write_number(r, c, entry.score or 0, f["missing"] if missing else f["num"])


def _review_validations(ctx: Context, ws, cols: _Columns) -> None:
    """複評 accepts 0 … the item's 配分: one validation per run of rows with equal points."""
    r = cols.first_item_row
    for points, run in groupby(res.item.points for res in ctx.r.items):
        size = len(list(run))
        ws.data_validation(r, cols.review, r + size - 1, cols.review, {
            "validate": "decimal", "criteria": "between", "minimum": 0, "maximum": points,
            "input_title": "複評", "input_message": f"秘書單位的複評分數（0 到 {points:g}）；"
                                                    "空白時採計自評。",
            "error_title": "複評", "error_message": f"請輸入 0 到 {points:g} 之間的數字。"})
        r += size
    ws.data_validation(cols.first_item_row, cols.note, r - 1, cols.note, {
        "validate": "length", "criteria": "<=", "value": MAX_CELL_TEXT,
        "input_title": NOTE_HEADER, "input_message": f"複評與自評{_when(ctx.plan)}時，請寫明複評的理由。",
        "error_title": NOTE_HEADER, "error_message": "文字過長。"})


def _totals(ctx: Context, ws, cols: _Columns, last: int) -> None:
    """構面 subtotals, the total and the grade below the items: all formulas over the rows."""
    f, first = ctx.f, cols.first_item_row
    r = last + 2
    ws.write_string(r, 0, "構面小計", f["header"])
    dim_col = f"${col_letter(1)}${first + 1}:${col_letter(1)}${last + 1}"
    adopted_col = f"${col_letter(cols.adopted)}${first + 1}:${col_letter(cols.adopted)}${last + 1}"
    for i, (dim, value) in enumerate(ctx.r.dimensions):
        rr = r + 1 + i
        ws.write_string(rr, 1, dim.name, f["cell"])
        ws.write_string(rr, 2, dimension_header(i + 1, dim.name, dim.points), f["cell"])
        ws.write_number(rr, cols.points, dim.points, f["num"])
        # Not SUMIF: it reads * ? ~ in a 構面 name as wildcards and a leading = < > as an
        # operator, and matches case-insensitively; the name is matched exactly.
        ws.write_formula(rr, cols.adopted,
                         f"=ROUND(SUMPRODUCT(--EXACT({dim_col},{a1(rr, 1)}),{adopted_col}),2)",
                         f["score"], value)
        ctx.score_cells[dim.code] = f"'{SCORE_SHEET}'!{abs_ref(rr, cols.adopted)}"
    tr = r + 1 + len(ctx.r.dimensions)
    subtotals = f"{a1(r + 1, cols.adopted)}:{a1(tr - 1, cols.adopted)}"
    ws.write_string(tr, 2, "總分", f["label"])
    ws.write_number(tr, cols.points, ctx.plan.total_points, f["num"])
    ws.write_formula(tr, cols.adopted, f"=ROUND(SUM({subtotals}),2)", f["score"], ctx.r.total)
    ws.write_string(tr + 1, 2, "等第", f["label"])
    ws.write_formula(tr + 1, cols.adopted, grade_formula(ctx, a1(tr, cols.adopted)), f["score"],
                     ctx.r.grade)
    ctx.total_cell = f"'{SCORE_SHEET}'!{abs_ref(tr, cols.adopted)}"


def grade_formula(ctx: Context, total_ref: str) -> str:
    bands = sorted(ctx.plan.grades, key=lambda b: -b.minimum)
    formula = '""'
    for band in reversed(bands):
        formula = f"IF({total_ref}>={band.minimum:g},{formula_string(band.grade)},{formula})"
    return "=" + formula
