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
    width: float
    kind: str  # "text" | "number" | "list" | "date"
    input: bool = False
    attr: str = ""  # Item attribute, for plan columns
    list_name: str = ""  # plan list, for list columns
    minimum: float | None = None
    maximum_attr: str = ""  # Item attribute that bounds the value, e.g. 配分
    required: bool = False  # required unless the row's status is 不適用
    note: str = ""  # shown after the name in the header, e.g. （必填）
    prompt: str = ""
    role: str = ""  # what the rest of xltool knows the column by (see ROLES)

    @property
    def header(self) -> str:
        return self.name + self.note

    @property
    def input_style(self) -> str:
        """The book style of this column's input cells (see book.STYLES)."""
        return {"number": "input_number", "date": "input_date"}.get(self.kind, "input")

    @property
    def locked_style(self) -> str:
        return "locked_number" if self.kind == "number" else "locked"


PLAN_COLUMNS = (
    Column("編號", 8, "text", attr="id", role="id"),
    Column("構面", 10, "text", attr="dimension", role="dimension"),
    Column("執行策略", 14, "text", attr="strategy", role="strategy"),
    Column("執行方法", 28, "text", attr="method", role="method"),
    Column("具體作法", 40, "text", attr="practice", role="practice"),
    Column("目標值", 8, "number", attr="target", role="target"),
    Column("計量單位", 8, "text", attr="measure", role="measure"),
    Column("配分", 7, "number", attr="points", role="points"),
)

INPUT_COLUMNS = (
    Column("執行狀態", 10, "list", input=True, list_name=STATUS_LIST, note="（必填）",
           required=True, prompt="請由下拉清單選擇本項目的執行狀態。", role="status"),
    Column("實際值", 9, "number", input=True, minimum=0,
           prompt="請填入實際達成的數量（0 以上的數字），單位同「計量單位」。", role="actual"),
    Column("執行績效與成果", 40, "text", input=True, required=True, note="（必填）",
           prompt="請具體說明執行情形與成果，可按 Alt+Enter 換行。", role="result"),
    Column("自評分數", 9, "number", input=True, minimum=0, maximum_attr="points",
           required=True, note="（必填）", prompt="請填入 0 到本項配分之間的分數，可有小數。",
           role="score"),
    Column("佐證資料", 20, "text", input=True, prompt="可填佐證資料名稱或說明（選填）。",
           role="evidence"),
)

COLUMNS = PLAN_COLUMNS + INPUT_COLUMNS

FORM_FIELDS = (
    Column("填表人", 0, "text", input=True, prompt="請填入填表人姓名。", role="filled_by"),
    Column("聯絡電話", 0, "text", input=True, prompt="請填入聯絡電話（含分機）。", role="phone"),
    Column("填報日期", 0, "date", input=True, minimum=None,
           prompt="請填入填報日期，例如 2020/7/5。", role="filed_on"),
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

