"""The 執行成果 as the master holds it: each lead unit's text, and the scores
recomputed with the plan's rules.

The master is a file people edit, so it is read through the reading layer (in
an isolated worker) and only its values are used, never a formula's cached
result: the units' texts, 執行狀態 and 自評分數 come from 明細 (what the merge
recorded from each return), the 複評 from 評分 (checked as a re-merge checks
them, :func:`~.review.read_reviews`), and 自評, 構面 scores, the total and the
grade are computed here again (:mod:`.scoring`, the plan's 等第). A master that
does not belong to the plan (another plan, or the plan since revised) is
refused: :class:`MasterMismatch`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ...cells import a1, fmt_number, header_name, kept_text, norm_text, prose, to_number
from ...errors import INFO, WARNING, Issue, XltoolError
from ...files import display_name
from ...forms import fields as F
from ...plan import Dimension, Item, Plan
from ...quoting import NOT_TEXT
from ...reading.bounds import Bounds
from ...reading.workbook import SheetData, read_workbook
from ..layout import DETAIL_SHEET, SCORE_HEADER_ROW, SCORE_SHEET
from ..scoring import Entry, adopted_score, dimension_score, item_self_score

MISSING = "未繳"  # 明細's 檢核 for a unit that returned nothing usable
NO_ROW = ("列已刪除", "新增項目未填報")  # the unit's return has no row for the item
RESULT, STATUS, SCORE = F.column("result").name, F.column("status").name, F.column("score").name
DETAIL_COLUMNS = ("單位", "編號", STATUS, RESULT, SCORE, "檢核")


@dataclass(frozen=True)
class UnitText:
    unit: str
    text: str  # as the unit wrote it; empty when it wrote nothing
    missing: bool = False  # the unit did not return
    status: str = ""  # 執行狀態


@dataclass
class ItemOutcome:
    item: Item
    texts: list[UnitText]
    self_score: float
    review: float | None
    adopted: float
    entries: list[tuple[str, Entry]] = field(default_factory=list)  # lead unit → its contribution


@dataclass
class Outcome:
    plan: Plan
    master: str  # the master's file name
    items: list[ItemOutcome] = field(default_factory=list)
    dimensions: list[tuple[Dimension, float]] = field(default_factory=list)
    total: float = 0.0
    grade: str = ""
    missing: list[str] = field(default_factory=list)  # units that did not return
    issues: list[Issue] = field(default_factory=list)


class MasterMismatch(XltoolError):
    """The master does not belong to this plan; ``issues`` say where."""

    def __init__(self, issues: list[Issue], missing_sheet: str = ""):
        self.issues = issues
        self.missing_sheet = missing_sheet  # the master has no sheet of this name
        super().__init__(f"總表與計畫檔不符（{len(issues)} 處）；請以目前的計畫檔重新執行 xltool merge 後再產生成果。")


def read_outcome(plan: Plan, master: Path) -> Outcome:
    """The master's results for ``plan``, scored again. Raises :class:`MasterMismatch`,
    or :class:`~xltool.reading.gate.Rejected` for a file that cannot be read."""
    from ..review import read_reviews

    master = Path(master)
    expected = sum(len(i.leads) for i in plan.items)
    rows = max(20_000, 2 * expected + 100)
    wb = read_workbook(master, only={DETAIL_SHEET, SCORE_SHEET}, max_rows=rows,
                       bounds=Bounds(rows=rows, cells=rows * 32, text=max(16_000_000, expected * 4_000)))
    name = display_name(master)
    details = _details(wb.sheets.get(DETAIL_SHEET), name)
    _check_matches(plan, wb.sheets.get(SCORE_SHEET), details, name)
    reviews, issues = read_reviews(master, plan)
    outcome = Outcome(plan, name, issues=_newer_masters(master) + issues)
    order: dict[str, int] = {}  # a unit's first place, as a search finds it (not one per unit)
    for k, u in enumerate(plan.units):
        order.setdefault(u.name, k)
    outcome.missing = sorted({unit for (unit, _), row in details.items() if MISSING in row["flags"]},
                             key=order.__getitem__)
    for item in plan.items:
        outcome.items.append(_item(plan, item, details, reviews.get(item.id), outcome))
    outcome.dimensions = [(d, dimension_score(r.adopted for r in outcome.items if r.item.dimension == d.code))
                          for d in plan.dimensions]
    outcome.total = dimension_score(s for _, s in outcome.dimensions)
    outcome.grade = plan.grade_for(outcome.total)
    return outcome


def _newer_masters(master: Path) -> list[Issue]:
    """A file of the master's name in another format saved after it (總表.xlsx beside
    the 總表.ods given, written by a later merge): the document would show results older
    than the secretariat's latest, so it is said."""
    from ..review import newer_copies

    name = display_name(master)
    return [Issue("newer-master", f"「{display_name(copy)}」比指定的「{name}」晚存檔；成果文件依「{name}」"
                  f"產生，可能不是最新的彙整結果（例如另存的總表在重新彙整之後未再更新）。"
                  f"請確認要用哪一個檔案。", WARNING, file=name) for copy in newer_copies(master)]


def _mismatch(name: str, message: str, sheet: str, cell: str = "") -> Issue:
    return Issue("master-mismatch", message, file=name, sheet=sheet, cell=cell)


def _details(sheet: SheetData | None, name: str) -> dict[tuple[str, str], dict[str, Any]]:
    """明細's rows by (unit, 編號): the values, where they are, and the 檢核 flags."""
    if sheet is None or not sheet.rows:
        raise MasterMismatch([_mismatch(name, f"「{name}」沒有「{DETAIL_SHEET}」工作表，不是 xltool merge 產生的總表。",
                                        DETAIL_SHEET)], DETAIL_SHEET)
    head = [header_name(v) for v in sheet.rows[0]]
    absent = [c for c in DETAIL_COLUMNS if c not in head]
    if absent:
        raise MasterMismatch([_mismatch(name, f"工作表「{DETAIL_SHEET}」第 1 列缺少欄位「{'、'.join(absent)}」。",
                                        DETAIL_SHEET, "A1")])
    col = {c: head.index(c) for c in DETAIL_COLUMNS}
    out: dict[tuple[str, str], dict[str, Any]] = {}
    for r in range(1, len(sheet.rows)):
        unit, item_id = norm_text(sheet.cell(r, col["單位"])), norm_text(sheet.cell(r, col["編號"]))
        if unit and item_id and (unit, item_id) not in out:
            out[(unit, item_id)] = {
                "row": r, "score_col": col[SCORE], "status": norm_text(sheet.cell(r, col[STATUS])),
                "text": _text(sheet.cell(r, col[RESULT])), "text_cell": a1(r, col[RESULT]),
                "score": sheet.cell(r, col[SCORE]),
                "flags": set(filter(None, norm_text(sheet.cell(r, col["檢核"])).split("、")))}
    return out


def _text(value: Any) -> str:
    """A unit's text in 明細 as the merge kept it, its first line's indent too."""
    return kept_text(value) if isinstance(value, str) else prose(value)


def _check_matches(plan: Plan, scores: SheetData | None, details: dict, name: str) -> None:
    """Refuse a master of another plan, or of this plan before a revision."""
    problems: list[Issue] = []
    if scores is None:
        raise MasterMismatch([_mismatch(name, f"「{name}」沒有「{SCORE_SHEET}」工作表，不是 xltool merge 產生的總表。",
                                        SCORE_SHEET)], SCORE_SHEET)
    title = norm_text(scores.cell(0, 0))
    if not title.startswith(norm_text(plan.info.name)):
        problems.append(_mismatch(name, f"總表的計畫「{title[:60]}」不是計畫檔的「{plan.info.name}」。",
                                  SCORE_SHEET, "A1"))
    head = [header_name(v) for v in (scores.rows[SCORE_HEADER_ROW] if len(scores.rows) > SCORE_HEADER_ROW else [])]
    if "編號" in head and "配分" in head:
        found = {}
        for r in range(SCORE_HEADER_ROW + 1, len(scores.rows)):
            item_id = norm_text(scores.cell(r, head.index("編號")))
            if not item_id:
                break  # the items end at the first blank row; the subtotals follow
            found[item_id] = (r, scores.cell(r, head.index("配分")))
        for item in plan.items:
            if item.id not in found:
                problems.append(_mismatch(name, f"總表沒有項目「{item.id}」。", SCORE_SHEET))
                continue
            r, points = found[item.id]
            if not _same_number(points, item.points):
                problems.append(_mismatch(name, f"項目「{item.id}」在總表的配分是 {norm_text(points)}，計畫檔是 "
                                                f"{fmt_number(item.points)}。", SCORE_SHEET,
                                          a1(r, head.index("配分"))))
        for item_id in [i for i in found if i not in {x.id for x in plan.items}]:
            problems.append(_mismatch(name, f"總表的項目「{item_id}」不在計畫檔中。", SCORE_SHEET,
                                      a1(found[item_id][0], head.index("編號"))))
    else:
        problems.append(_mismatch(name, f"工作表「{SCORE_SHEET}」找不到標題列（編號、配分）。", SCORE_SHEET))
    for item in plan.items:
        absent = [u for u in item.leads if (u, item.id) not in details]
        if absent:
            problems.append(_mismatch(name, f"「{DETAIL_SHEET}」沒有 {'、'.join(absent)} 的項目「{item.id}」"
                                            "（主辦單位與計畫檔不同）。", DETAIL_SHEET))
    if problems:
        raise MasterMismatch(problems[:30])


def _same_number(value: Any, points: float) -> bool:
    try:
        return abs(float(to_number(value)) - points) < 1e-9
    except ValueError:
        return False


def _item(plan: Plan, item: Item, details: dict, review: float | None, outcome: Outcome) -> ItemOutcome:
    entries, texts = [], []
    for unit in item.leads:
        row = details[(unit, item.id)]
        missing = MISSING in row["flags"]
        text = "" if missing else row["text"]
        if NOT_TEXT.search(text):  # a master edited by hand: what no text xltool keeps may hold
            text = NOT_TEXT.sub("", text)
            outcome.issues.append(Issue("normalized", f"總表「{DETAIL_SHEET}」中 {unit} 項目「{item.id}」的{RESULT}"
                                        "含有控制字元，成果文件中已略去（其他文字照原文）。",
                                        INFO, file=outcome.master, sheet=DETAIL_SHEET, cell=row["text_cell"],
                                        field=RESULT))
        texts.append(UnitText(unit, text, missing, row["status"]))
        entries.append(_entry(plan, item, row, outcome))
    self_score, _ = item_self_score(entries)
    return ItemOutcome(item, texts, self_score, review, adopted_score(self_score, review),
                       list(zip(item.leads, entries)))


def _entry(plan: Plan, item: Item, row: dict[str, Any], outcome: Outcome) -> Entry:
    """One unit's contribution to an item, by the merge's rules (README, 評分規則)."""
    if MISSING in row["flags"] or row["flags"] & set(NO_ROW):
        return Entry(0.0)
    value = row["score"]
    if value is None or norm_text(value) == "":
        if row["status"] == plan.info.not_applicable:
            return Entry(None, excluded=True)
        return Entry(None, invalid=True)
    try:
        number = float(to_number(value))
    except ValueError:
        number = -1.0
    if not 0 <= number <= item.points:
        outcome.issues.append(Issue("out-of-range", f"總表「{DETAIL_SHEET}」中項目「{item.id}」的自評分數"
                                    f"「{norm_text(value)[:20]}」不在 0 到配分 {fmt_number(item.points)} 之間，"
                                    "以 0 分計。",
                                    WARNING, file=outcome.master, sheet=DETAIL_SHEET,
                                    cell=a1(row["row"], row["score_col"]), field=SCORE))
        return Entry(None, invalid=True)
    return Entry(number)
