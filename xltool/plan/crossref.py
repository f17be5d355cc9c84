"""What the plan sheets say about one another, and the checks across them.

A fault in one cell must cost only what depends on that cell. A 構面 whose 配分
is wrong is still a 構面 its items may name; a unit whose 電子郵件 is wrong is
still a unit 主辦單位 may name; an item whose 主辦單位 (or 編號, or 執行策略) is
wrong still counts towards its 構面's points. What cannot be known is not
checked: the points of a 構面 whose own 配分, or one of whose items' 配分, is
wrong; a reference that matches nothing while some row's 代碼 or 名稱 is itself
unreadable (it may be that row). Each such fault is reported where it is, once.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from ..cells import a1, fmt_number, norm_text
from ..errors import WARNING
from ..quoting import quote
from .book import PlanBook, Row
from .filenames import NAME_BYTES, file_name_twins, plan_short_name, template_stem, unit_stem
from .model import Dimension, PlanInfo
from .rules import DIM_SHEET, INFO_SHEET, ITEM_SHEET, UNIT_SHEET, key
from .units import Unit, UnitDirectory

_EXPLAINED_SUMS = 4096  # past this many subset sums, any shortfall counts as explained
_NAMED_STRAYS = 5  # at most this many stray items are named in a points message


@dataclass(frozen=True)
class DimRow:
    """One 構面 row as far as it could be read ("" or None where its cell is wrong)."""

    index: int  # 0-based row in the sheet
    code: str
    name: str
    points: float | None

    @property
    def complete(self) -> bool:
        return bool(self.code and self.name) and self.points is not None


@dataclass
class Dimensions:
    """The 構面 sheet: the complete rows (the model) and every row items may name."""

    model: list[Dimension] = field(default_factory=list)
    rows: list[DimRow] = field(default_factory=list)
    unsure: bool = False  # the sheet, a column, or some row's 代碼 or 名稱 is unreadable
    ambiguous: set[int] = field(default_factory=set)  # rows sharing a 代碼 or 名稱

    def find(self, text: str) -> DimRow | None:
        """The row whose 代碼 or 名稱 is ``text`` (already normalised)."""
        return next((d for d in self.rows if text in (d.code, key(d.name)) and text), None)

    def knows_every_name(self) -> bool:
        """Whether a 構面 that matches no row is surely not in the sheet."""
        return bool(self.rows) and not self.unsure


@dataclass
class Units:
    """The 單位 sheet: the complete rows (the model) and every unit 主辦單位 may name."""

    model: list[Unit] = field(default_factory=list)
    named: list[Unit] = field(default_factory=list)  # every row whose 名稱 is readable
    rows: dict[str, int] = field(default_factory=dict)  # 名稱 → 0-based row
    unsure: bool = False  # the sheet, its 名稱, 群組 or 別名 column, or some row's 名稱 is unreadable

    def directory(self) -> UnitDirectory:
        return UnitDirectory(self.named)

    def knows_every_name(self) -> bool:
        """Whether a 主辦單位 that matches no unit is surely not in the sheet."""
        return bool(self.named) and not self.unsure


@dataclass
class Tally:
    """Every typed item's points, by the 構面 row it names; duplicates and items with
    other faults included, so that a sum is the sum the sheet shows."""

    blind: bool = False  # the 項目 sheet has no 構面 or no 配分 column: no sum is known
    sums: dict[int, float] = field(default_factory=dict)  # 構面 row → points
    unknown: set[int] = field(default_factory=set)  # 構面 rows with an item whose 配分 is wrong
    strays: list[tuple[str, float | None]] = field(default_factory=list)  # 構面 not known
    leading: set[str] = field(default_factory=set)  # every unit some item's 主辦單位 names

    def add(self, row: Row, dim: DimRow | None, leads: list[str]) -> None:
        self.leading.update(leads)
        points = row["配分"] if row.ok("配分") else None
        if dim is None:
            label = row["編號"] if row.ok("編號") else f"第 {row.index + 1} 列"
            self.strays.append((label, points))
        elif points is None:
            self.unknown.add(dim.index)
        else:
            self.sums[dim.index] = self.sums.get(dim.index, 0.0) + points


def check_points(book: PlanBook, dims: Dimensions, tally: Tally) -> None:
    """Each 構面's points equal the sum of its items' points, where both are known.
    A shortfall that items whose 構面 is not known could make up is not reported:
    their own fault says what to fix, and the sum may well be right after it."""
    for d in [] if tally.blind else dims.rows:
        if not d.complete or d.index in tally.unknown or d.index in dims.ambiguous:
            continue
        assert d.points is not None
        total = tally.sums.get(d.index, 0.0)
        shortfall = d.points - total
        if abs(shortfall) <= 1e-6 or (shortfall > 0 and _explained(shortfall, tally.strays)):
            continue
        book.fault(f"構面「{d.name}」配分 {fmt_number(d.points)}，但其項目配分合計 {fmt_number(total)}"
                   f"{_strays_note(tally.strays)}。", DIM_SHEET, d.index,
                   book.header_col(DIM_SHEET, "配分"), value=d.points, code="points-mismatch",
                   field="配分")


def _explained(shortfall: float, strays: list[tuple[str, float | None]]) -> bool:
    """Whether some of the items whose 構面 is not known add up to ``shortfall``."""
    if any(points is None for _, points in strays):
        return True
    sums = {0.0}
    for _, points in strays:
        assert points is not None
        sums |= {round(s + points, 6) for s in sums}
        if len(sums) > _EXPLAINED_SUMS:
            return True
    return round(shortfall, 6) in sums


def _strays_note(strays: list[tuple[str, float | None]]) -> str:
    if not strays:
        return ""
    labels = "、".join(label for label, _ in strays[:_NAMED_STRAYS])
    more = f" 等 {len(strays)} 項" if len(strays) > _NAMED_STRAYS else ""
    return f"（未計入構面無法對應的項目 {labels}{more}）"


def check_leads(book: PlanBook, units: Units, tally: Tally) -> None:
    """A warning for a unit that no item's 主辦單位 names: it gets no form."""
    if book.has_faults(ITEM_SHEET, errors_only=True):
        return  # a bad 主辦單位 cell would make this warning misleading
    for u in units.named:
        if u.name not in tally.leading:
            book.fault(f"單位「{u.name}」沒有主辦任何項目，將不會產生填報表。", UNIT_SHEET,
                       units.rows[u.name], book.header_col(UNIT_SHEET, "名稱"),
                       value=u.name, severity=WARNING, code="unit-without-items", field="名稱")


def check_file_names(book: PlanBook, info: PlanInfo | None, units: Units) -> None:
    """Units whose files would have one name (甲/組 and 甲:組; names alike but for case,
    or for what is cut from a long one): one unit's file would overwrite the other's.
    The 填報表 names need the 計畫 sheet's 年度 and 簡稱; the names made from the unit
    name alone (mail drafts, collected returns, 佐證資料 folders) do not."""
    col = book.header_col(UNIT_SHEET, "名稱") if units.named else 0
    reported: set[str] = set()
    if info is not None:
        short = plan_short_name(info.name, info.agency, info.short_name)
        too_long = _short_name_too_long(book, info, short)  # then the 簡稱 is the fault, not each unit
        twins = [] if too_long else file_name_twins(
            (u.name, template_stem(info.year, short, u.name)) for u in units.named)
        for unit, earlier, stem in twins:
            reported.add(unit)
            _twin_fault(book, units, col, unit, earlier, f"填報表的檔名都是「{stem}.xlsx」（.ods 亦同）")
    for unit, earlier, stem in file_name_twins((u.name, unit_stem(u.name)) for u in units.named):
        if unit not in reported:
            _twin_fault(book, units, col, unit, earlier,
                        f"郵件草稿、收回的回傳檔與佐證資料夾都會以「{stem}」為名")


SHORT_NAME_BYTES = NAME_BYTES - 30  # 年度_簡稱_ leaves the unit at least 10 Chinese characters


def _short_name_too_long(book: PlanBook, info: PlanInfo, short: str) -> bool:
    """Whether the 簡稱 (given, or made from the 計畫名稱) leaves the unit's name too
    little of a file name: every template name would be cut, most to one name."""
    if len(f"{info.year}_{short}_".encode()) <= SHORT_NAME_BYTES:
        return False
    label = "簡稱" if info.short_name else "計畫名稱"
    sheet = book.sheets.get(INFO_SHEET)
    row = next((r for r in range(len(sheet.rows)) if norm_text(sheet.cell(r, 0)) == label), None) \
        if sheet is not None else None
    given = "" if info.short_name else "（沒有填寫「簡稱」，因此由計畫名稱產生）"
    book.fault(f"檔名用的簡稱「{quote(short)}」{given}過長：填報表的檔名是「年度_簡稱_單位名稱」，"
               "單位名稱會被截短，各單位的檔名會相同。請在「計畫」工作表填寫較短的「簡稱」"
               "（例如 10 個字以內）。", INFO_SHEET, row, 1 if row is not None else None,
               code="file-name-collision", value=short, field=label)
    return True


def _twin_fault(book: PlanBook, units: Units, col: int, unit: str, earlier: str, what: str) -> None:
    book.fault(f"單位「{quote(unit)}」與「{quote(earlier)}」（儲存格 {a1(units.rows[earlier], col)}）的檔名相同："
               f"{what}，後寫的檔案會蓋掉先寫的。檔名中的 \\ / : * ? \" < > | 與控制字元都會改為 _、"
               "英文字母不分大小寫、過長的名稱會截短；請修改其中一個單位名稱。", UNIT_SHEET,
               units.rows[unit], col, value=unit, code="file-name-collision", field="名稱")
