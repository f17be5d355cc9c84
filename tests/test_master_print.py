"""What the clerk reads in the master: every text whole on screen and on paper, in
words rather than codes, with ROC dates (issue 14).

The master is built from the second plan's returns with long, multi-line results
and a few errors, then read back three ways: cell by cell (openpyxl), by
LibreOffice Calc's own optimal row heights (UNO), and as LibreOffice prints it
(pdftotext)."""
from __future__ import annotations

import json
import re
import subprocess
from datetime import datetime

import openpyxl
import pytest
from conftest import convert
from lo_pdf import poppler
from lo_run import HERE, uno_python
from returns import fill, set_saved
from test_merge_e2e import FILLED

from xltool.codes import CATALOGUE as CODES
from xltool.forms.template import template_filename, write_templates
from xltool.master.run import run_merge
from xltool.plan import load_plan

LONG = ("本年度推動線上申辦，完成 12 項服務流程簡化，並於 115/03/01 上線 https://example.gov.tw/apply "
        "新系統；另辦理說明會 3 場，參加人數計 240 人次，滿意度 92.5%。") * 3
RESULTS = {
    ("甲組", "A01"): LONG + "\n第二段：後續將持續檢討流程，並納入民眾意見。",
    ("乙組", "A01"): "第一行\n第二行：" + "流程改造與數位服務整合" * 12 + "\n第三行",
    ("北區服務站", "A02"): "平均等候 8 分鐘（含尖峰時段），" * 10,
}
BAD = {("南區服務站", "B02"): {"執行狀態": "做了一半"}, ("甲組", "B02"): {"自評分數": 999}}
SHEETS = ("總表", "明細", "繳交狀態", "檢核結果")


@pytest.fixture(scope="module")
def printed(tmp_path_factory, second_plan_file):
    tmp = tmp_path_factory.mktemp("print")
    plan = load_plan(second_plan_file)
    write_templates(plan, tmp / "tpl", generated=datetime(2024, 1, 2))
    inbox = tmp / "in"
    inbox.mkdir()
    for unit, rows in FILLED.items():
        if unit == "資訊中心":
            continue  # one unit does not return
        rows = {item: dict(values) for item, values in rows.items()}
        for (who, item), text in RESULTS.items():
            if who == unit:
                rows[item]["執行績效與成果"] = text
        for (who, item), values in BAD.items():
            if who == unit:
                rows[item].update(values)
        name = template_filename(plan, unit, "xlsx")
        fill(tmp / "tpl" / name, inbox / name, rows, {"填報日期": datetime(2024, 1, 5)})
        set_saved(inbox / name, datetime(2024, 1, 6, 9, 30))
    older = inbox / "甲組-舊版.xlsx"  # sent before: 已取代（未採用）, a status wider than its column
    fill(tmp / "tpl" / template_filename(plan, "甲組", "xlsx"), older, FILLED["甲組"])
    set_saved(older, datetime(2024, 1, 4, 9, 30))
    master = tmp / "master.xlsx"
    result = run_merge(plan, [inbox], master).result
    return plan, result, master, tmp


@pytest.fixture(scope="module")
def second_plan_file(tmp_path_factory):
    from plans import second_plan, write_plan
    return write_plan(tmp_path_factory.mktemp("plan") / "plan.xlsx", second_plan())


def test_a_text_wider_than_its_column_wraps(printed):
    """A cell that does not wrap shows one line: what is wider than its column runs on
    over the empty cells to its right, and is cut off at the first one that is not
    empty. So every such text needs no more room than it has, or wraps."""
    from openpyxl.utils import get_column_letter

    from xltool import textfit
    from xltool.master.statuses import listing

    _, result, master, _ = printed
    assert "已取代（未採用）" in {entry.label for entry in listing(result)}
    wb = openpyxl.load_workbook(master)
    cut = []
    for name in SHEETS:
        ws = wb[name]
        merged = {(r.min_row, r.min_col): r.max_col for r in ws.merged_cells.ranges}

        def width(col: int, ws=ws) -> float:
            return ws.column_dimensions[get_column_letter(col)].width or 8.43
        for cell in _visible_cells(ws):
            if not isinstance(cell.value, str) or cell.alignment.wrap_text:
                continue
            last = merged.get((cell.row, cell.column), cell.column)
            room = sum(width(c) for c in range(cell.column, last + 1))
            for c in range(last + 1, ws.max_column + 1):  # runs on over empty cells
                if ws.cell(cell.row, c).value is not None:
                    break
                room += width(c)
            if "\n" in cell.value or textfit.lines_needed(cell.value, room) > 1:
                cut.append(f"{name}!{cell.coordinate}: {cell.value}")
    assert not cut


def _visible_cells(ws):
    hidden = {k for k, d in ws.column_dimensions.items() if d.hidden}
    for row in ws.iter_rows():
        for cell in row:
            if cell.value is not None and cell.column_letter not in hidden:
                yield cell


def test_no_visible_cell_holds_a_code_word(printed):
    plan, result, master, _ = printed
    assert {i.code for i in result.issues} >= {"not-in-list", "out-of-range", "missing-return"}
    words = re.compile(r"\b(" + "|".join(sorted(map(re.escape, CODES), key=len, reverse=True)) + r")\b")
    wb = openpyxl.load_workbook(master)
    found = [f"{ws.title}!{c.coordinate}: {c.value}" for ws in wb.worksheets
             if ws.sheet_state == "visible" for c in _visible_cells(ws)
             if isinstance(c.value, str) and words.search(c.value)]
    assert not found
    issues = wb["檢核結果"]
    head = [c.value for c in issues[1]]
    codes = head.index("代碼") + 1
    assert issues.column_dimensions[openpyxl.utils.get_column_letter(codes)].hidden
    labels = {issues.cell(r, codes).value: issues.cell(r, 2).value for r in range(2, issues.max_row + 1)}
    assert labels["not-in-list"] == CODES["not-in-list"].label  # the catalogue's words


def test_every_cell_of_a_table_prints_its_border(printed):
    """A table prints as a grid: a cell left empty (the unit that sent nothing, a
    field a return left out, an empty count) is still a cell of it, with its border,
    rather than a hole in the printed lines. Every sheet that lists records, every
    row below its header, every visible column up to the header's last."""
    from openpyxl.utils import get_column_letter

    plan, result, master, _ = printed
    wb = openpyxl.load_workbook(master)
    holes, empty = [], 0
    for name in ("明細", "繳交狀態", "檢核結果"):
        ws = wb[name]
        head = [c.value for c in ws[1]]
        hidden = {k for k, d in ws.column_dimensions.items() if d.hidden}
        columns = [c for c in range(1, len(head) + 1) if get_column_letter(c) not in hidden]
        for r in range(2, ws.max_row + 1):
            for c in columns:
                cell = ws.cell(r, c)
                empty += cell.value in (None, "")
                sides = (cell.border.left, cell.border.right, cell.border.top, cell.border.bottom)
                if not all(side is not None and side.style for side in sides):
                    holes.append(f"{name}!{cell.coordinate}")
    assert empty > 20  # the unit that sent nothing: its rows are mostly empty cells
    assert not holes, holes[:20]
    status = wb["繳交狀態"]
    head = [c.value for c in status[1]]
    missing = next(r for r in range(2, status.max_row + 1) if status.cell(r, 1).value == "資訊中心")
    assert status.cell(missing, head.index("填表人") + 1).value is None  # nothing in it


def test_dates_are_shown_in_the_roc_calendar(printed):
    plan, result, master, _ = printed
    ws = openpyxl.load_workbook(master)["繳交狀態"]
    head = [c.value for c in ws[1]]
    saved = [ws.cell(r, head.index("存檔時間") + 1).value for r in range(2, ws.max_row + 1)]
    assert all(re.fullmatch(r"1\d\d/\d\d/\d\d \d\d:\d\d:\d\d", s) for s in saved if s), saved
    filled = [ws.cell(r, head.index("填報日期") + 1) for r in range(2, ws.max_row + 1)]
    assert {c.value for c in filled} == {datetime(2024, 1, 5), None}
    assert {c.number_format for c in filled if c.value is not None} == {"[$-404]e/mm/dd"}


def test_every_row_is_as_tall_as_libreoffice_needs(printed, soffice):
    """Calc's own optimal height for each row's wrapped text, with the fonts it has,
    is never more than the height the master sets (so nothing is cut off)."""
    _, _, master, tmp = printed
    proc = subprocess.run([uno_python(), str(HERE / "lo_heights.py"), str(master), str(tmp / "profile"),
                           *SHEETS], capture_output=True, text=True, encoding="utf-8", timeout=600,
                          cwd=HERE)
    assert proc.returncode == 0, proc.stderr
    found = json.loads(proc.stdout)
    assert set(found) == set(SHEETS)
    short = {sheet: bad for sheet, rows in found.items()
             if (bad := [r for r in rows if r[2] > r[1] + 10])}  # 0.1 mm of rounding
    assert not short


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", "", text)


def test_the_printed_master_holds_every_result_and_every_issue_whole(printed, soffice):
    plan, result, master, tmp = printed
    pdf = convert(soffice, master, "pdf", tmp / "pdf")
    text = _squeezed(subprocess.run([poppler("pdftotext"), str(pdf), "-"], capture_output=True,
                                    text=True, check=True, timeout=120).stdout)
    for (unit, _item), result_text in RESULTS.items():
        for paragraph in result_text.split("\n"):
            assert _squeezed(paragraph) in text, (unit, paragraph[:30])
    for issue in result.issues:
        assert _squeezed(issue.message) in text, issue.message
        if issue.expected:
            assert _squeezed(issue.expected) in text, issue.expected
    listed = next(i for i in result.issues if i.code == "not-in-list")
    assert all(option in listed.expected for option in plan.lists["執行狀態"]), listed.expected
