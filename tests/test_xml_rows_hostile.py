"""Hostile rows for the raw row writer (master/sheets/xmlrows.py) and the workers'
line counts (master/fit.py), found by an attempt to break them:

- a text shaped like rich-text XML, ``<r>…</r>``, which XlsxWriter would copy into
  the file unescaped (xlsx_text.py): it reads back as typed, and never plants a
  formula, whichever writer writes its row;
- a value only XlsxWriter writes (a date) leaves the formats' numbers as they are;
- rows past Excel's last row and NaN or infinities are XlsxWriter's to refuse;
- edge numbers, heights, astral and long texts, plan revisions, spilled and
  streamed merges: raw and native, fitted and counted, write the same bytes.
"""
import copy
import math
import zipfile
from datetime import date
from pathlib import Path

import pytest

from xltool.forms import fields as F
from xltool.master.merge import merge
from xltool.master.sheets import xmlrows
from xltool.master.writer import write_master
from xltool.plan import load_plan
from xltool.xlsx_text import LiteralWorksheet

RESULT, EVIDENCE, SCORE = F.column("result").name, F.column("evidence").name, F.column("score").name
LONG = "\n".join(f"第 {n} 段：辦理說明會、訪視與教育訓練，計 {n * 3} 場次，參加 {n * 41} 人次（含線上）。"
                 for n in range(1, 60))
# Well-formed once XlsxWriter writes it unescaped: it closes its own cell and adds a formula cell.
PLANTED = ('<r><t>x</t></r></is></c><c r="F2"><f>HYPERLINK("http://example.invalid/","點此")</f>'
           '<v>0</v></c><c r="F3" t="inlineStr"><is><r><t>y</t></r>')


def _sheet(path: Path, rows, raw: bool) -> bytes:
    """One constant-memory sheet of ``rows`` (row, cells, height), by RowXml or by Cells."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet(None, LiteralWorksheet)
    formats = {"a": wb.add_format({"text_wrap": True}), "b": wb.add_format({"bold": True})}
    ws.write_string(0, 0, "表頭", formats["b"])
    writer = xmlrows.RowXml(ws, formats) if raw else xmlrows.Cells(ws, formats, lambda w, r, h: w.set_row(r, h))
    for r, cells, height in rows:
        writer.row(r, cells, height)
    wb.close()
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml") + zf.read("xl/styles.xml")


def _returns(tmp_path: Path, texts, plan_rows=None, templates_plan=None):
    """Returns of every unit of the second plan, filled in turn with ``texts``
    (成果, then 佐證資料), as a person would type them."""
    from plans import second_plan, write_plan
    from returns import fill

    from xltool.forms.template import template_filename, write_templates

    made = load_plan(write_plan(tmp_path / "plan0.xlsx", templates_plan or second_plan()))
    write_templates(made, tmp_path / "tpl", formats=("xlsx",))
    inbox = tmp_path / "in"
    inbox.mkdir()
    k = 0
    for unit in made.units:
        template = tmp_path / "tpl" / template_filename(made, unit.name, "xlsx")
        rows = {}
        for item in made.items_for(unit.name):
            rows[item.id] = {RESULT: texts[k % len(texts)], EVIDENCE: texts[(k + 1) % len(texts)], SCORE: 1}
            k += 1
        fill(template, inbox / template.name, rows)
    plan = made if plan_rows is None else load_plan(write_plan(tmp_path / "plan.xlsx", plan_rows))
    return plan, inbox


def _both(result, tmp_path: Path, monkeypatch) -> tuple[bytes, bytes]:
    write_master(result, tmp_path / "raw.xlsx")
    with monkeypatch.context() as m:
        m.setattr(xmlrows, "supported", lambda: False)
        write_master(result, tmp_path / "native.xlsx")
    return (tmp_path / "raw.xlsx").read_bytes(), (tmp_path / "native.xlsx").read_bytes()


# ---------------------------------------------------------------- found, fixed

@pytest.mark.parametrize("text", ["<r>成果</r>", "<r><t>x</t></r>", PLANTED])
def test_a_text_shaped_like_rich_text_is_written_the_same_both_ways(tmp_path, text):
    """XlsxWriter would write a string "<r>…</r>" unescaped; both writers give it
    as one escaped run."""
    rows = [(1, [(text, "a")], None)]
    assert _sheet(tmp_path / "raw.xlsx", rows, True) == _sheet(tmp_path / "native.xlsx", rows, False)


def test_a_rich_looking_text_beside_a_long_one_reaches_the_master_as_typed(tmp_path):
    """With RowXml in use (the default), a 明細 row with a text over 16,383 characters
    goes through XlsxWriter's calls, and a unit's "<r>…</r>" in the same row goes into
    the sheet's XML unescaped: the cell read back empty, and PLANTED became a live
    formula in the master (the writer promises none can)."""
    import openpyxl

    plan, inbox = _returns(tmp_path, ["<r>成果</r>", "證" * 17_000, PLANTED, "證" * 17_000])
    result = merge(plan, [inbox], workers=1)
    write_master(result, tmp_path / "master.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "master.xlsx")["明細"]
    typed = []
    for status in result.units:
        for row in status.ret.rows.values():
            typed.append(row.values[RESULT])
    shown = [ws.cell(r, 6).value for r in range(2, 2 + len(typed))]
    assert not any(isinstance(v, str) and v.startswith("=") for v in shown)
    assert shown == typed


def test_a_value_raw_rows_leave_to_xlsxwriter_does_not_renumber_the_formats(tmp_path, monkeypatch):
    """RowXml.row numbers a cell's format (xmlrows.py: ``self._style(style)``) before it
    finds it cannot write the value; the fallback then writes that cell in another
    format: a date in the first row of 明細 gave other s= numbers and styles.xml."""
    plan, inbox = _returns(tmp_path, ["成果", "證"])
    result = merge(plan, [inbox], workers=1)
    row = next(iter(result.units[0].ret.rows.values()))
    row.values[RESULT] = date(2024, 1, 2)
    row.fit = None
    raw, native = _both(result, tmp_path, monkeypatch)
    assert raw == native


def test_rows_past_excels_last_row_are_what_xlsxwriter_writes(tmp_path):
    """XlsxWriter ignores a write past row 1,048,576 (``_check_dimensions`` → -1);
    RowXml wrote <row r="1048577">, which no office program opens."""
    rows = [(1_048_575, [("末列", "a")], None), (1_048_576, [("超出", "a")], None)]
    assert _sheet(tmp_path / "raw.xlsx", rows, True) == _sheet(tmp_path / "native.xlsx", rows, False)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_a_number_xlsxwriter_refuses_is_left_to_it(tmp_path, value):
    """write_number raises for NaN and infinities (the master does not set
    nan_inf_to_errors); RowXml wrote <v>NAN</v>, which is not a number."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(tmp_path / "nan.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet()
    try:
        with pytest.raises(TypeError):
            xmlrows.Cells(ws, {}, None).row(0, [(value, None)])
        assert not xmlrows.RowXml(ws, {}).row(1, [(value, None)])
    finally:
        wb.close()


# ---------------------------------------------------------------- held

@pytest.mark.parametrize("height", [None, 15.0, 18.75, 35.25, 409.0, 1000.0])
def test_edge_numbers_and_heights_are_xlsxwriters_own(tmp_path, height):
    numbers = [1e16, 1e17, 123456789.123456789, 2 ** 53 + 1, 5e-324, 1.7976931348623157e308,
               0.1 + 0.2, 1e-5, 1e15, 12345678901234567890, -0.0, 1e-300, 10 ** 20]
    texts = ["𪚥" * 16_383, "字" * 16_383, "\u202e反向\u202c", "\ufeff", "   ", "\u3000", "\r", "a\rb",
             "".join(map(chr, range(32))), "_x0041__X00ff_", "__x0041__", "_x004_", "]]>", "&amp;"]
    rows = [(1, [(v, "a") for v in numbers], height), (2, [(t, "b") for t in texts], height),
            (3, [(None, "a"), (None, None)], height), (4, [], height), (6, [(None, None), ("x", None)], height)]
    assert _sheet(tmp_path / "raw.xlsx", rows, True) == _sheet(tmp_path / "native.xlsx", rows, False)


def test_a_revised_plan_spilled_streamed_and_fitted_is_one_master(tmp_path, monkeypatch):
    """Rows the revision removed, new items, texts taller than a row (總表's continued
    rows), long and astral texts: raw and native, fitted and counted, in memory and
    spilled to the row store, sequential and streamed, all write the same bytes."""
    from plans import second_plan

    from xltool.master.run import run_merge

    revised = second_plan()
    items = revised["項目"]
    items[:] = [items[0]] + [r for r in items[1:] if r[0] != "B01"] + [
        ["B03", "B", "新策略", "新方法", "全體", "新作法", 1, "件", 19.75]]
    items[1][3] = "擴充線上申辦項目（修訂）"
    texts = [LONG[:4000] + "  ", " 前後空白 ", "𠀀" * 16_383, "字" * 16_384, "a&b<c>d", "_x0041_", "=SUM(A1)"]
    plan, inbox = _returns(tmp_path, texts, revised)
    result = merge(plan, [inbox], workers=2)
    assert any(s.ret.removed for s in result.units) and all(s.ret.new_items for s in result.units)
    raw, native = _both(result, tmp_path, monkeypatch)
    assert raw == native
    spilled = merge(plan, [inbox], workers=1, spill_from=0)
    assert spilled.store is not None
    write_master(spilled, tmp_path / "spilled.xlsx")
    assert (tmp_path / "spilled.xlsx").read_bytes() == raw
    run_merge(plan, [inbox], tmp_path / "streamed.xlsx")
    assert (tmp_path / "streamed.xlsx").read_bytes() == raw
    counted = copy.deepcopy(result)
    for status in counted.units:
        for row in [*status.ret.rows.values(), *status.ret.removed.values()]:
            row.fit = None
    write_master(counted, tmp_path / "counted.xlsx")
    assert (tmp_path / "counted.xlsx").read_bytes() == raw


def test_paragraph_lines_are_the_full_layouts_on_random_texts():
    """The shortcut (_dominant, the piece cache) against both renderings' full layouts."""
    import random

    from xltool import textfit as T

    rnd = random.Random(7)
    alphabet = list("中文字，。「」（）、 　abcXYZ019-/%.,;:!?()[]{}WMmwi il|\t") + [
        "😀", "𠀀", "é", "\u0301", "\u200b", "…", "○", "ー"]
    for _ in range(3000):
        text = "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 120)))
        width = rnd.choice([0.5, 1, 3, 7, 8.43, 12, 19, 28, 44, 60, rnd.uniform(0.3, 80)])
        bold, size = rnd.random() < 0.2, rnd.choice([9.0, 11.0, 12.0, 14.0])
        full = max(T._fill(text, T._widths(r, size, bold), T._room(r, width), False).count
                   for r in T.RENDERINGS)
        assert T.paragraph_lines(text, width, size, bold) == full, (text, width, size, bold)
