"""`xltool init --from`: the plan workbook written from a plan document.

The document is read by :func:`xltool.plan.document.read_plan_document`; this
module fills the starter plan (the same sheets, notes and drop-down lists as a
blank `xltool init`) with what it says, and lists what it does not say as the
next things to fill in, each by sheet and cell (``to-fill``), with the points it
had to share out evenly (``points-split``) as values to review.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..cells import a1, fmt_number
from ..errors import Issue, XltoolError
from ..plan import INFO_SHEET, Unit, UnitDirectory
from ..plan.documents import read_plan_document
from ..plan.documents.draft import PlanDraft
from ..plan.rules import DIM_SHEET, GRADE_SHEET, ITEM_SHEET, UNIT_SHEET
from .book import Book, row_height

ALL_UNITS = "各單位"  # a group every unit is in, whatever the plan


@dataclass
class Imported:
    target: Path
    draft: PlanDraft
    notes: list[Issue] = field(default_factory=list)


def import_plan_document(source: Path, target: Path, overwrite: bool = False) -> Imported:
    """Read ``source`` and write the plan workbook ``target`` (.xlsx or .ods)."""
    target = Path(target)
    if target.suffix.lower() not in (".xlsx", ".ods"):
        raise XltoolError(f"計畫檔須為 .xlsx 或 .ods：{target.name}")
    if target.exists() and not overwrite:
        raise XltoolError(f"「{target}」已存在；若要覆寫請加上 --force。")
    if Path(source).resolve() == target.resolve():
        raise XltoolError("計畫檔不可與計畫文件同一個檔案。")
    draft = read_plan_document(Path(source))
    book, notes = plan_book(draft, target.name)
    if target.suffix.lower() == ".xlsx":
        from ..forms.xlsx_writer import write_xlsx

        write_xlsx(book, target)
    else:
        from ..forms.ods_writer import write_ods

        write_ods(book, target)
    return Imported(target, draft, notes)


def plan_book(draft: PlanDraft, file: str) -> tuple[Book, list[Issue]]:
    """The starter plan filled with the draft, and the notes on what is left to fill."""
    from ..forms.starter import build_starter

    book = build_starter()
    notes: list[Issue] = []
    _info(book, draft, file, notes)
    _dimensions(book, draft, file, notes)
    groups = _units(book, draft, file, notes)
    _items(book, draft, file, notes, groups)
    _grades(book, draft, file, notes)
    return book, notes


def _note(file: str, sheet: str, cell: str, message: str, code: str = "to-fill") -> Issue:
    return Issue(code, message, file=file, sheet=sheet, cell=cell)


def _info(book: Book, draft: PlanDraft, file: str, notes: list[Issue]) -> None:
    sheet = book.sheet(INFO_SHEET)
    rows = {value: r for (r, c), (value, _) in sheet.cells.items() if c == 0 and r > 0}
    values = {"計畫名稱": draft.name, "機關名稱": draft.agency, "年度": draft.year,
              "填報期間": draft.period, "考核年月": draft.review_month}
    examples = {"計畫名稱": "○○局 109 年度提升服務效能執行計畫", "機關名稱": "○○局", "年度": "109",
                "填報期間": "1-6月", "考核年月": "109.07（文字）", "繳交期限": "109/07/10"}
    for label, value in values.items():
        if value not in (None, ""):
            sheet.put(rows[label], 1, value, sheet.cells[(rows[label], 1)][1])
    for label, example in examples.items():
        if values.get(label) in (None, ""):
            notes.append(_note(file, INFO_SHEET, a1(rows[label], 1),
                               f"文件未載明「{label}」，請填寫（必填，例如 {example}）。"))
    optional = ["承辦單位", "承辦人", "聯絡電話", "電子郵件"]
    first, last = min(rows[k] for k in optional), max(rows[k] for k in optional)
    notes.append(_note(file, INFO_SHEET, f"{a1(first, 1)}:{a1(last, 1)}",
                       f"選填：{'、'.join(optional)}（填報說明與寄給各單位的郵件會列出）。"))


def _dimensions(book: Book, draft: PlanDraft, file: str, notes: list[Issue]) -> None:
    sheet = book.sheet(DIM_SHEET)
    for r, dim in enumerate(draft.dimensions, start=1):
        sheet.put(r, 0, dim.code, "text")
        if dim.name:
            sheet.put(r, 1, dim.name, "text")
        else:
            notes.append(_note(file, DIM_SHEET, a1(r, 1), f"構面 {dim.code} 的名稱文件未載明，請填寫。"))
        if dim.points is not None:
            sheet.put(r, 2, dim.points, "wrap")
        else:
            notes.append(_note(file, DIM_SHEET, a1(r, 2),
                               f"構面「{dim.name or dim.code}」的配分文件未載明，請填寫，"
                               f"並填寫其項目的配分（工作表「{ITEM_SHEET}」配分欄）。"))


def _units(book: Book, draft: PlanDraft, file: str, notes: list[Issue]) -> set[str]:
    """The 單位 sheet; returns the groups filled in (各單位, when the items use it)."""
    sheet = book.sheet(UNIT_SHEET)
    used = any(ALL_UNITS in item.lead_text for item in draft.items)
    groups = {ALL_UNITS} if used else set()
    for r, name in enumerate(draft.units, start=1):
        sheet.put(r, 0, name, "text")
        if used:
            sheet.put(r, 2, ALL_UNITS, "text")
    n = len(draft.units)
    if not n:
        notes.append(_note(file, UNIT_SHEET, "A2", "文件中找不到「實施對象」所列的單位，請逐列填寫單位名稱。"))
    else:
        notes.append(_note(file, UNIT_SHEET, f"E2:E{n + 1}",
                           "各單位的電子郵件文件未載明；以 xltool send 寄送填報表前請填寫。"))
    return groups


def _items(book: Book, draft: PlanDraft, file: str, notes: list[Issue], groups: set[str]) -> None:
    sheet = book.sheet(ITEM_SHEET)
    cols = {value: c for (r, c), (value, _) in sheet.cells.items() if r == 0}
    names = {d.code: d.name or d.code for d in draft.dimensions}
    for r, item in enumerate(draft.items, start=1):
        target = _number(item.target)
        row = {"編號": item.id, "構面": names.get(item.dimension, item.dimension), "執行策略": item.strategy,
               "執行方法": item.method, "主辦單位": item.lead_text, "具體作法": item.practice,
               "目標值": target, "計量單位": item.measure or None, "配分": item.points}
        for name, value in row.items():
            if value not in (None, ""):
                sheet.put(r, cols[name], value, "wrap")
        sheet.heights[r] = row_height([(str(v), sheet.widths[cols[k]]) for k, v in row.items()
                                       if v is not None])
    _split_notes(draft, file, notes, cols["配分"])
    _lead_notes(draft, file, notes, groups, cols["主辦單位"])


def _number(text: str):
    from ..cells import to_number

    try:
        return to_number(text) if text else None
    except ValueError:
        return None


def _split_notes(draft: PlanDraft, file: str, notes: list[Issue], col: int) -> None:
    for dim in draft.dimensions:
        if dim.code not in draft.split:
            continue
        points, count = draft.split[dim.code]
        rows = [r for r, i in enumerate(draft.items, start=1) if i.dimension == dim.code and i.points]
        shares = [i.points for i in draft.items if i.dimension == dim.code and i.points][-2:]
        how = f"每項 {fmt_number(shares[-1])} 分" if len(set(shares)) == 1 else \
            f"每項 {fmt_number(shares[0])} 分，餘數併入最後一項為 {fmt_number(shares[-1])} 分"
        reason = "文件沒有配分欄" if not draft.points_column else "部分項目沒有配分"
        notes.append(_note(file, ITEM_SHEET, f"{a1(rows[0], col)}:{a1(rows[-1], col)}",
                           f"{reason}：構面「{dim.name}」的 {fmt_number(points)} 分已平均分配給 {count} 個項目"
                           f"（{how}）；請確認或依實際配分修正。", code="points-split"))


def _lead_notes(draft: PlanDraft, file: str, notes: list[Issue], groups: set[str], col: int) -> None:
    """主辦單位 names that are no unit: groups and aliases the document does not define."""
    directory = UnitDirectory([Unit(name, groups=tuple(groups)) for name in draft.units])
    unknown: dict[str, list[str]] = {}
    for r, item in enumerate(draft.items, start=1):
        for token in directory.expand(item.lead_text)[1]:
            unknown.setdefault(token, []).append(a1(r, col))
    n = len(draft.units)
    for token, cells in unknown.items():
        where = "、".join(cells[:6]) + (f" 等 {len(cells)} 格" if len(cells) > 6 else "") + " "
        if token.startswith("各"):
            message = (f"群組「{token}」的成員文件未載明：請在屬於此群組的單位「群組」欄填入「{token}」"
                       f"（工作表「{ITEM_SHEET}」{where}使用）。")
            cell = f"C2:C{n + 1}"
        else:
            message = (f"「{token}」不是「實施對象」所列的單位：若是某單位的別名（例如由該單位辦理），請在該單位的"
                       f"「別名」欄填入「{token}」；若是群組，請填在「群組」欄；若是另一個單位，請新增一列"
                       f"（工作表「{ITEM_SHEET}」{where}使用）。")
            cell = f"D2:D{n + 1}"
        notes.append(_note(file, UNIT_SHEET, cell, message))


def _grades(book: Book, draft: PlanDraft, file: str, notes: list[Issue]) -> None:
    sheet = book.sheet(GRADE_SHEET)
    for r, (grade, minimum) in enumerate(draft.grades, start=1):
        sheet.put(r, 0, grade, "text")
        sheet.put(r, 1, minimum, "wrap")
    if not draft.grades:
        notes.append(_note(file, GRADE_SHEET, "A2:B6", "文件中找不到等第的說明（例如「優=900 分以上；"
                                                       "甲=899-800 分；…」），請由高到低逐列填寫等第與最低分。"))
