"""Rows written straight into XlsxWriter's row stream (master/sheets/xmlrows.py) are
byte for byte what XlsxWriter's own calls write, for awkward texts and numbers, and
the master written either way is the same file."""
import random
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT

from xltool.forms import fields as F
from xltool.master.merge import merge
from xltool.master.sheets import xmlrows
from xltool.master.writer import write_master
from xltool.plan import load_plan
from xltool.xlsx_text import LiteralWorksheet

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
ALPHABET = ("中文字，。「」（）、 \t\n\r&<>\"'_x0041_\x00\x01\x0b\x1f\ufffe\uffff😀abcXYZ019-/%"
            "\u3000\u00a0")


def _sheet(path: Path, rows, raw: bool, styles=("a", "b", None)) -> bytes:
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_numbers": False,
                                         "strings_to_formulas": False, "strings_to_urls": False})
    ws = wb.add_worksheet(None, LiteralWorksheet)
    ws.set_default_row(18.75)
    formats = {"a": wb.add_format({"text_wrap": True, "border": 1}), "b": wb.add_format({"bold": True})}
    ws.write_string(0, 0, "表頭", formats["b"])
    writer = xmlrows.RowXml(ws, formats) if raw else xmlrows.Cells(ws, formats, lambda w, r, h: w.set_row(r, h))
    for r, (cells, height) in enumerate(rows, start=1):
        assert writer.row(r, cells, height)
    wb.close()
    with zipfile.ZipFile(path) as zf:
        return zf.read("xl/worksheets/sheet1.xml") + zf.read("xl/styles.xml")


def _random_rows(seed: int, count: int):
    rnd = random.Random(seed)
    rows = []
    for _ in range(count):
        cells = []
        for _ in range(rnd.randint(0, 14)):
            kind = rnd.random()
            if kind < 0.1:
                value = None
            elif kind < 0.15:
                value = xmlrows.BLANK  # an empty cell that shows its format
            elif kind < 0.35:
                value = rnd.choice([0, 1, -7, 0.1, 1 / 3, 2.5e-12, 9.99e307, 12345678901234567, -0.0,
                                    rnd.uniform(-1e6, 1e6), rnd.randint(-10 ** 12, 10 ** 12)])
            else:
                value = "".join(rnd.choice(ALPHABET) for _ in range(rnd.randint(0, 30)))
                if kind > 0.9:  # what XlsxWriter would take for its own markup
                    value = f"<r>{value}</r>"
            cells.append((value, rnd.choice(["a", "b", None])))
        rows.append((cells, rnd.choice([None, 18.75, 35.25, 51.5, 409.0, 12.3])))
    return rows


def test_the_installed_xlsxwriter_is_supported():
    """Otherwise every master would be written the slow way without a word."""
    assert xmlrows.supported()


@pytest.mark.parametrize("seed", range(4))
def test_raw_rows_are_xlsxwriters_own(tmp_path, seed):
    rows = _random_rows(seed, 300)
    assert _sheet(tmp_path / "raw.xlsx", rows, True) == _sheet(tmp_path / "native.xlsx", rows, False)


@pytest.mark.parametrize("limit", [xmlrows._TAILS_LIMIT, 3])
def test_texts_met_again_are_written_as_the_first_time(tmp_path, monkeypatch, limit):
    """A short text's cell is kept, by text and style, for the rows that repeat it:
    the same bytes whether it is found kept, kept in another style, or made again
    after the kept ones were emptied (a limit of 3 empties them every few cells)."""
    monkeypatch.setattr(xmlrows, "_TAILS_LIMIT", limit)
    texts = [t for t in _texts() if len(t) <= xmlrows._TAIL_KEPT_UP_TO] + ["x" * xmlrows._TAIL_KEPT_UP_TO]
    rnd = random.Random(limit)
    rows = [([(rnd.choice(texts), rnd.choice(["a", "b", None])) for _ in range(rnd.randint(1, 12))],
             rnd.choice([None, 35.25])) for _ in range(400)]
    assert len({v for cells, _ in rows for v, _ in cells}) < 40  # every text met many times
    assert _sheet(tmp_path / "raw.xlsx", rows, True) == _sheet(tmp_path / "native.xlsx", rows, False)


def _texts() -> list[str]:
    return [*xmlrows.PROBE_TEXTS, *AWKWARD, "單位00001", "已完成", "填報表!6", "<r>單位</r>"]


def test_a_text_over_excels_limit_is_left_to_xlsxwriter(tmp_path):
    """XlsxWriter cuts a text at 32,767 UTF-16 units; the raw writer does not try."""
    import xlsxwriter

    wb = xlsxwriter.Workbook(str(tmp_path / "long.xlsx"), {"constant_memory": True})
    ws = wb.add_worksheet()
    assert not xmlrows.RowXml(ws, {}).row(0, [("字" * 20_000, None)])
    assert not xmlrows.RowXml(ws, {}).row(0, [(object(), None)])
    wb.close()


def test_the_master_is_the_same_without_raw_rows(tmp_path, monkeypatch):
    plan = load_plan(EXAMPLE / "plan.xlsx")
    result = merge(plan, [EXAMPLE / "returns"], workers=1)
    write_master(result, tmp_path / "raw.xlsx")
    monkeypatch.setattr(xmlrows, "supported", lambda: False)
    write_master(result, tmp_path / "native.xlsx")
    assert (tmp_path / "raw.xlsx").read_bytes() == (tmp_path / "native.xlsx").read_bytes()


AWKWARD = [" 前後有空白 ", "a&b<c>d\"e'f", "字面 _x0041_ 與 _X00ff_", "行一\n行二\r\n行三",
           "尾端換行\n", "\t定位", "😀 表情", "全形　空白　", "=SUM(A1:A9)", "長" * 20_000, "", "0.1"]


def test_a_master_of_awkward_returns_is_the_same_without_raw_rows(tmp_path, monkeypatch):
    """Texts as units type them (spaces, control characters, XML's specials, Excel's own
    escapes, one over half Excel's limit) reach the master the same either way."""
    from plans import second_plan, write_plan
    from returns import fill

    from xltool.forms.template import template_filename, write_templates

    path = write_plan(tmp_path / "plan.xlsx", second_plan())
    plan = load_plan(path)
    write_templates(plan, tmp_path / "tpl", formats=("xlsx",))
    inbox = tmp_path / "in"
    inbox.mkdir()
    for k, unit in enumerate(plan.units):
        template = tmp_path / "tpl" / template_filename(plan, unit.name, "xlsx")
        rows = {item.id: {F.column("result").name: AWKWARD[(k + n) % len(AWKWARD)],
                          F.column("evidence").name: AWKWARD[(k + n + 3) % len(AWKWARD)],
                          F.column("score").name: [1, 0.1, 1 / 3, 2.5][(k + n) % 4]}
                for n, item in enumerate(plan.items_for(unit.name))}
        fill(template, inbox / template.name, rows)
    result = merge(plan, [inbox], workers=1)
    for status in result.units:  # what no office program saves, but a reader may pass on
        row = next(iter(status.ret.rows.values()))
        row.values[F.column("result").name] = "控制\x01字元\x1f\ufffe 與字面的 _x0041_"
    write_master(result, tmp_path / "raw.xlsx")
    monkeypatch.setattr(xmlrows, "supported", lambda: False)
    write_master(result, tmp_path / "native.xlsx")
    assert (tmp_path / "raw.xlsx").read_bytes() == (tmp_path / "native.xlsx").read_bytes()
    with zipfile.ZipFile(tmp_path / "raw.xlsx") as zf:
        assert b"_x005F_x0041_" in zf.read("xl/worksheets/sheet2.xml")  # the literal kept literal
