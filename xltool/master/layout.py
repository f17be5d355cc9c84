"""The master workbook's layout: its sheets, in reading order, and the names and
numbering other stages need to find their way in it (the re-merge reads 複評
back from 評分 by these names)."""
from __future__ import annotations

from ..cells import fmt_number
from ..forms import fields as F

SCORE_SHEET, SUMMARY_SHEET, DETAIL_SHEET, TABLE2_SHEET = "評分", "總表", "明細", "附表2"
STATUS_SHEET, ISSUE_SHEET, CHART_SHEET = "繳交狀態", "檢核結果", "構面圖"
REVISION_SHEET = "計畫修訂"
SHEET_ORDER = (SUMMARY_SHEET, DETAIL_SHEET, SCORE_SHEET, TABLE2_SHEET, STATUS_SHEET,
               ISSUE_SHEET, REVISION_SHEET, CHART_SHEET)
REVIEW_HEADER = "複評"
SCORE_HEADER_ROW = 3  # 0-based row of 評分's header
MAX_UNIT_COLUMNS = 250  # 評分 has one column per unit up to this many
MAX_CELL_TEXT = F.TEXT_LIMIT  # Excel holds 32,767 characters in a cell
CN_NUMERALS = "一二三四五六七八九十"
# Column widths the workers need too: they work out the rows' heights (master/fit.py).
SUMMARY_WIDTHS = (9, 13, 26, 11, 32, 52, 8, 12)
SUMMARY_RESULT_COLUMN = 5  # 總表's 執行績效與成果: every lead unit's result, one paragraph each


def detail_widths() -> tuple[float, ...]:
    """明細's columns: 單位, 編號, 構面, the input columns (fields.py says which), 來源檔案,
    工作表列, 檢核 and the hidden 檢核代碼."""
    return (11, 9, 10, *(c.width for c in F.INPUT_COLUMNS), 30, 10, 18, 18)


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二: the numbering plans use for 構面."""
    if n <= 10:
        return CN_NUMERALS[n - 1]
    tens, ones = divmod(n, 10)
    return (CN_NUMERALS[tens - 1] if tens > 1 else "") + "十" + (CN_NUMERALS[ones - 1] if ones else "")


def dimension_header(index: int, name: str, points: float) -> str:
    return f"{cn_number(index)}、{name}({fmt_number(points)} 分)"


def capped(lines: list[str]) -> str:
    """Join unit results for one cell, stopping before Excel's per-cell limit."""
    out, size = [], 0
    for n, line in enumerate(lines):
        if size + len(line) + 1 > MAX_CELL_TEXT - 40:
            out.append(f"…（其餘 {len(lines) - n} 個單位的內容請見「明細」）")
            break
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)
