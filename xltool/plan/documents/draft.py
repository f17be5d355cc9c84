"""What a plan document says, found in its blocks (see :mod:`.document_files`).

- 計畫名稱, 機關名稱 and 年度 from the title (the first paragraph naming a year
  and a 計畫);
- the units, in order, from the 實施對象 sentence (「本分局第一課、…及政風室。」);
- each 構面 from its heading (「構面一：基礎服務(200 分)」, with full-width
  brackets and colons, 構面 1, 200分, a numbering such as 一、 before it), as a
  paragraph or as a merged row inside the table;
- the items from every table whose header row names 執行策略, 執行方法, 主辦單位
  and 具體作法 (white space, line breaks included, is ignored in headers): one
  row is one item; a blank or vertically merged 執行策略 or 執行方法 is carried
  down; a 執行方法 that continues a numbered list under a heading (「(2) …」 after
  「1.提升服務設施合宜度\\n(1) …」, or after a row holding only the heading) gets
  the heading in front, as the first row of the list has it;
- 填報期間 from the brackets of the 執行績效與成果 header;
- 等第 from the bands sentence (「優=900 分以上；甲=899-800 分；…；丁=599 分以下」);
- 考核年月 from a 附表2-style table, when it is filled in;
- points from a 配分 column where there is one.

Cell text is kept exactly (paragraphs joined with line breaks). Nothing here
knows any particular plan; what the document does not say stays empty.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from ...errors import Issue
from ..units import split_names
from .files import Block, Cell, Paragraph, Table

NUMERAL = "一二三四五六七八九十"
_NUM = r"[0-9０-９]+(?:[.．][0-9０-９]+)?"
DIMENSION_HEADING = re.compile(
    r"^\s*(?:[(（]?\s*[一二三四五六七八九十0-9０-９]+\s*[)）、.．]\s*)?構面\s*([一二三四五六七八九十0-9０-９]+)"
    r"\s*[:：、.．]?\s*(.+?)\s*(?:[(（]\s*(" + _NUM + r")\s*分\s*[)）]|(" + _NUM + r")\s*分)?\s*$", re.S)
SUB_ITEM = re.compile(r"^\s*[(（]\s*[0-9０-９]+\s*[)）]")
SECTION = re.compile(r"^\s*[壹貳參肆伍陸柒捌玖拾]+\s*[、.．]")
YEAR = re.compile(r"([0-9０-９]{2,3})\s*年度")
AGENCY_PREFIX = re.compile(r"^本(?:分局|局|府|部|署|處|會|院|所|館|校|中心|公司|機關)(?:所屬|之)?")
# The last character of a unit's name (課, 室, 辦事處, 中心 …): a listed name without
# one borrows the next name's tail, as in 金門、澎湖辦事處.
UNIT_ENDINGS = set("課組室處科股站局所館隊心部會院署府區廠場班中司團")
REQUIRED_ROLES = ("strategy", "method", "lead", "practice")
ROLES = {
    "strategy": ("執行策略",),
    "method": ("執行方法",),
    "lead": ("主辦單位", "主(協)辦單位", "主協辦單位", "辦理單位", "負責單位"),
    "practice": ("具體作法", "具體做法"),
    "result": ("執行績效與成果", "執行成果", "辦理情形"),
    "points": ("配分",),
    "id": ("編號",),
    "target": ("目標值",),
    "measure": ("計量單位",),
}


@dataclass
class DraftDimension:
    code: str
    name: str
    points: float | None
    heading: str  # as the document wrote it


@dataclass
class DraftItem:
    id: str
    dimension: str  # 構面 代碼
    strategy: str
    method: str
    lead_text: str
    practice: str
    points: float | None = None
    target: str = ""
    measure: str = ""


@dataclass
class PlanDraft:
    """What the document says, to become a plan workbook. Empty where it says nothing."""

    source: str
    name: str = ""
    agency: str = ""
    year: int | None = None
    period: str = ""
    review_month: str = ""
    units: list[str] = field(default_factory=list)
    dimensions: list[DraftDimension] = field(default_factory=list)
    items: list[DraftItem] = field(default_factory=list)
    grades: list[tuple[str, float]] = field(default_factory=list)
    points_column: bool = False  # the tables have a 配分 column
    split: dict[str, tuple[float, int]] = field(default_factory=dict)  # 構面 → (points, items) split evenly


class NoPlanTable(Exception):
    """The document has no table with the plan's header row."""


def squash(text: str) -> str:
    """Text for matching headers and labels: NFKC, without any white space."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def number(text: str) -> float | None:
    text = squash(text).removesuffix("分")
    try:
        value = float(text)
    except ValueError:
        return None
    return int(value) if value.is_integer() else value


def roman(text: str) -> int | None:
    """一 … 九十九 or digits, as an int."""
    text = squash(text)
    if text.isdigit():
        return int(text)
    if not text or any(ch not in NUMERAL for ch in text):
        return None
    if "十" not in text:
        return NUMERAL.index(text) + 1 if len(text) == 1 else None
    tens, _, ones = text.partition("十")
    return (NUMERAL.index(tens) + 1 if tens else 1) * 10 + (NUMERAL.index(ones) + 1 if ones else 0)


def dimension_heading(text: str) -> tuple[int | None, str, float | None] | None:
    """(number, name, points) of a 構面 heading, or None."""
    if len(text) > 80 or "。" in text:
        return None
    m = DIMENSION_HEADING.match(text)
    if not m:
        return None
    name = m.group(2).strip().rstrip(":：、").strip()
    if not name:
        return None
    points = m.group(3) or m.group(4)
    return roman(m.group(1)), name, number(points) if points else None


def read_draft(blocks: list[Block], source: str) -> PlanDraft:
    """Everything the document says about the plan; raises :class:`NoPlanTable`."""
    from .tables import read_items

    draft = PlanDraft(source=source)
    read_items(blocks, draft)
    if not draft.items:
        raise NoPlanTable()
    paragraphs = [b.text for b in blocks if isinstance(b, Paragraph)]
    _title(paragraphs, draft)
    draft.units = units_sentence(paragraphs)
    draft.grades = bands(paragraphs) or bands(_cell_texts(blocks))
    draft.review_month = review_month(blocks)
    allocate_points(draft)
    return draft


def allocate_points(draft: PlanDraft) -> None:
    """Items without points share what their 構面 has left, evenly: two decimals,
    the remainder on the last item. A 構面 without points of its own takes the sum
    of its items' points when every item has them."""
    for dim in draft.dimensions:
        items = [i for i in draft.items if i.dimension == dim.code]
        given = sum(i.points for i in items if i.points is not None)
        blank = [i for i in items if i.points is None]
        if dim.points is None and items and not blank:
            dim.points = round(given, 6)
        if not blank or dim.points is None or dim.points - given <= 0:
            continue
        cents = round((dim.points - given) * 100)
        base, extra = divmod(cents, len(blank))
        if base <= 0:
            continue
        for n, item in enumerate(blank):
            value = (base + (extra if n == len(blank) - 1 else 0)) / 100
            item.points = int(value) if value.is_integer() else value
        draft.split[dim.code] = (round(dim.points - given, 6), len(blank))


def _cell_texts(blocks: list[Block]) -> list[str]:
    return [c.text for b in blocks if isinstance(b, Table) for row in b.rows for c in row]


def _title(paragraphs: list[str], draft: PlanDraft) -> None:
    texts = [t.replace("\n", "").strip() for t in paragraphs[:40]]
    texts = [t for t in texts if t]
    for n, text in enumerate(texts):
        m = YEAR.search(text)
        if m and "計畫" in text[m.end():] and len(text) <= 120:
            agency = text[:m.start()].strip()
            if not agency and n and len(texts[n - 1]) <= 40 and "。" not in texts[n - 1]:
                agency = texts[n - 1]
                text = agency + text
            draft.name, draft.agency = text, agency
            draft.year = int(unicodedata.normalize("NFKC", m.group(1)))
            return
    first = next((t for t in texts if not SECTION.match(t)), "")
    draft.name = first if len(first) <= 120 else ""


def units_sentence(paragraphs: list[str]) -> list[str]:
    """The units listed after 實施對象, in order."""
    for n, text in enumerate(paragraphs):
        where = squash(text).find("實施對象")
        if where < 0:
            continue
        rest = re.sub(r"^[^實]*實施對象\s*[:：]?\s*", "", text.strip(), count=1)
        parts = [rest] if rest.strip() else []
        for later in paragraphs[n + 1:n + 6]:
            if "。" in "".join(parts) or SECTION.match(later):
                break
            if later.strip():
                parts.append(later.strip())
        sentence = "".join(parts).split("。")[0]
        names = split_units(sentence)
        if names:
            return names
    return []


def split_units(sentence: str) -> list[str]:
    """「本分局第一課、…、金門、澎湖辦事處、人事室及政風室」 → the unit names."""
    sentence = AGENCY_PREFIX.sub("", re.sub(r"\s+", "", sentence))
    names = split_names(sentence)
    if not names:
        return []
    last = re.split(r"[及與和]", names[-1])
    if len(last) == 2 and all(len(p) >= 2 and p[-1] in UNIT_ENDINGS for p in last):
        names[-1:] = last
    out: list[str] = []
    for i, name in enumerate(names):
        later = names[i + 1] if i + 1 < len(names) else ""
        if name[-1] not in UNIT_ENDINGS and later[-1:] in UNIT_ENDINGS and len(later) > len(name):
            name = name + later[len(name):]  # 金門、澎湖辦事處: the tail the next name has
        if name not in out:
            out.append(name)
    return out


def bands(texts: list[str]) -> list[tuple[str, float]]:
    """Grade bands from the first sentence that lists them, highest first."""
    for text in texts:
        found = _bands_in(text)
        if found:
            return sorted(found, key=lambda b: -b[1])
    return []


_BAND = re.compile(r"^\s*([^\s=＝:：;；,，、0-9０-９]{1,6})\s*[=＝:：]\s*(.+?)\s*$")


def _bands_in(text: str) -> list[tuple[str, float]] | None:
    if len(text) > 300:
        return None
    for separators in (r"[；;]", r"[，,、]"):
        segments = [s for s in re.split(separators, text.strip().rstrip("。")) if s.strip()]
        if len(segments) < 2:
            continue
        out = []
        for segment in segments:
            m = _BAND.match(segment)
            minimum = _band_minimum(m.group(2)) if m else None
            if m is None or minimum is None:
                break
            out.append((m.group(1), minimum))
        else:
            return out
    return None


def _band_minimum(rule: str) -> float | None:
    rule = unicodedata.normalize("NFKC", rule)
    if "分" not in rule:
        return None
    numbers = [float(x) for x in re.findall(r"\d+(?:\.\d+)?", rule)]
    if not numbers:
        return None
    if "以上" in rule:
        value = numbers[0]
    elif re.search(r"以下|未滿|不滿|不及", rule) and len(numbers) == 1:
        value = 0.0
    else:
        value = min(numbers)
    return int(value) if value.is_integer() else value


def review_month(blocks: list[Block]) -> str:
    """考核年月 (109.07) from the table whose header names it, when a row fills it in."""
    for block in blocks:
        if not isinstance(block, Table):
            continue
        col = None
        for row in block.rows:
            if col is None:
                col = next((c for c, cell in _grid(row) if squash(cell.text) == "考核年月"), None)
                continue
            cell = dict(_grid(row)).get(col)
            value = _month(cell.text) if cell and not cell.continued else ""
            if value:
                return value
    return ""


def _month(text: str) -> str:
    text = squash(text)
    m = re.fullmatch(r"(\d{2,3})\.(\d{1,2})", text) or re.fullmatch(r"(\d{2,3})年(\d{1,2})月", text)
    if not m or not 1 <= int(m.group(2)) <= 12:
        return ""
    return f"{int(m.group(1))}.{int(m.group(2)):02d}"


def _grid(row: list[Cell]) -> list[tuple[int, Cell]]:
    """(first grid column, cell) of each cell in a row."""
    out, col = [], 0
    for cell in row:
        out.append((col, cell))
        col += cell.span
    return out


def no_table_issue(source: str) -> Issue:
    return Issue("no-plan-table", f"「{source}」中找不到計畫的表格：需要標題列含「執行策略」「執行方法」"
                                  "「主辦單位」「具體作法」的表格（每個構面一個表格，或一個表格內以構面標題列分隔）。"
                                  "請確認文件內容，或以 xltool init 產生空白計畫檔後自行填寫。", file=source)
