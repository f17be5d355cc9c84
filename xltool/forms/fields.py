"""The 填報表 declarations: one source for the template, the intake and the master.

Each column says what it holds (its role), whether the unit may type in it and
what a valid value is. ``template`` draws cells, styles, validations and input
messages from these; intake finds the header by the roles and builds its
``schema`` rules from the same objects; the master's detail columns, the
correction copies' cell styles and the scoring fields are derived from them.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..plan import STATUS_LIST

TEMPLATE_VERSION = "2"  # 2: the hidden sheet carries each locked cell's digest
ACCEPTED_TEMPLATE_VERSIONS = ("1", "2")

FORM_SHEET = "填報表"
GUIDE_SHEET = "填報說明"
LIST_SHEET = "清單"
META_SHEET = "_xltool"

TITLE_ROW = 0
FORM_ROW = 2  # 填表人 / 聯絡電話 / 填報日期 labels and their inputs
HEADER_ROW = 4
FIRST_ITEM_ROW = HEADER_ROW + 1
TEXT_LIMIT = 32_767  # Excel's maximum characters in one cell
EARLIEST_DATE = date(1912, 1, 1)  # ROC year 1
LATEST_DATE = date(2199, 12, 31)  # far enough; later dates are typing slips


@dataclass(frozen=True)
class Column:
    name: str
    width: float  # in Excel's width units; of an input column, its width in the master's 明細
    kind: str  # "text" | "number" | "list" | "date"
    input: bool = False
    attr: str = ""  # Item attribute, for plan columns
    list_name: str = ""  # plan list, for list columns
    minimum: float | None = None
    maximum_attr: str = ""  # Item attribute that bounds the value, e.g. 配分
    required: bool = False  # required unless the row's status is 不適用
    note: str = ""  # shown under the name in the header, e.g. （必填）
    prompt: str = ""
    role: str = ""  # what the rest of xltool knows the column by (see ROLES)
    form_width: float | None = None  # in the 填報表, where narrower than width

    @property
    def template_width(self) -> float:
        """The column's width in the 填報表, which is printed (see PLAN_COLUMNS)."""
        return self.width if self.form_width is None else self.form_width

    @property
    def header(self) -> str:
        """The header cell: the name, and the note on a line of its own, so that the
        header breaks there and nowhere else (the width fits each line). Returns keep
        being read by ``cells.header_name``, which drops the note with or without
        the line break, so templates with「執行狀態（必填）」on one line still match."""
        return f"{self.name}\n{self.note}" if self.note else self.name

    @property
    def input_style(self) -> str:
        """The book style of this column's input cells (see book.STYLES)."""
        return {"number": "input_number", "date": "input_date"}.get(self.kind, "input")

    @property
    def locked_style(self) -> str:
        return "locked_number" if self.kind == "number" else "locked"


# In the 填報表 the widths add up to 139 units, so that it prints one A4 landscape page
# wide at type of 9 pt or more (its 11 pt scaled to about 86 %): each header line fits
# its column, and long plan text wraps in the narrower columns instead of shrinking the
# page. tests/test_template_print.py measures it in LibreOffice's PDF. The input
# columns keep their wider width in the master's 明細, which shows text on one line.
PLAN_COLUMNS = (
    Column("編號", 7, "text", attr="id", role="id"),
    Column("構面", 7, "text", attr="dimension", role="dimension"),
    Column("執行策略", 9, "text", attr="strategy", role="strategy"),
    Column("執行方法", 17, "text", attr="method", role="method"),
    Column("具體作法", 24, "text", attr="practice", role="practice"),
    Column("目標值", 6, "number", attr="target", role="target"),
    Column("計量單位", 9, "text", attr="measure", role="measure"),
    Column("配分", 5, "number", attr="points", role="points"),
)

INPUT_COLUMNS = (
    Column("執行狀態", 10, "list", input=True, list_name=STATUS_LIST, note="（必填）",
           required=True, prompt="請由下拉清單選擇本項目的執行狀態。", role="status",
           form_width=9),
    Column("實際值", 9, "number", input=True, minimum=0,
           prompt="請填入實際達成的數量（0 以上的數字），單位同「計量單位」。", role="actual",
           form_width=7),
    Column("執行績效與成果", 40, "text", input=True, required=True, note="（必填）",
           prompt="請具體說明執行情形與成果，可按 Alt+Enter 換行。", role="result",
           form_width=20),
    Column("自評分數", 9, "number", input=True, minimum=0, maximum_attr="points",
           required=True, note="（必填）", prompt="請填入 0 到本項配分之間的分數，可有小數。",
           role="score"),
    Column("佐證資料", 20, "text", input=True, prompt="可填佐證資料名稱或說明（選填）。",
           role="evidence", form_width=10),
)

COLUMNS = PLAN_COLUMNS + INPUT_COLUMNS

FORM_FIELDS = (
    Column("填表人", 0, "text", input=True, prompt="請填入填表人姓名。", role="filled_by"),
    Column("聯絡電話", 0, "text", input=True, prompt="請填入聯絡電話（含分機）。", role="phone"),
    # {roc} and {gregorian}: an example date from the plan, filled in by the template.
    Column("填報日期", 0, "date", input=True, minimum=None,
           prompt="請填入填報日期（民國年），例如 {roc}；也可填西元日期，例如 {gregorian}。",
           role="filed_on"),
)


def column(role: str) -> Column:
    """The column (or form field) that plays ``role``, read from the declarations now,
    so that a column added above is seen everywhere."""
    return next(c for c in COLUMNS + FORM_FIELDS if c.role == role)


def form_field_style(field: Column) -> str:
    """The style of a 填表人／聯絡電話／填報日期 input cell: text stays text."""
    return "input_date" if field.kind == "date" else "input_text"


def header_signature() -> set[str]:
    """The column names that identify a 填報表 header row, wherever the sheet moved it."""
    return {column("id").name, column("score").name}


# Column index of each FORM_FIELDS label; its input cell is directly to the right.
FORM_LABEL_COLS = (0, 2, 9)

