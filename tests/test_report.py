"""`xltool report PLAN MASTER -o OUTPUT`: the 執行成果 document (.odt, .docx, .html).

Asserted on the written files, read back here with their own readers: every
item's 具體作法, every returned unit's text (as the returns hold it), 未繳 where
due, and 附表2's figures, also after a 複評 is typed into the master (openpyxl,
which drops every cached formula value, and LibreOffice Calc). The .odt is valid
ODF 1.3 and the .docx prints to PDF in LibreOffice.
"""
import re
import shutil
import subprocess
import zipfile
from html.parser import HTMLParser
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_PLAN, ROOT, convert
from defusedxml import ElementTree as ET
from odfcheck import validate
from python_calamine import CalamineWorkbook

from xltool.cli import cli
from xltool.plan import load_plan

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
TABLE2 = ["180", "275", "185", "180", "90", "910", "優", "109.07"]
FORMATS = ("odt", "docx", "html")


def merge(plan: Path, returns: Path, master: Path):
    res = CliRunner().invoke(cli, ["merge", str(plan), str(returns), "-o", str(master)])
    assert master.exists(), res.output
    return res


def report(plan: Path, master: Path, *targets: Path):
    args = ["report", str(plan), str(master)]
    for t in targets:
        args += ["-o", str(t)]
    return CliRunner().invoke(cli, args)


# ------------------------------------------------------------------ reading the outputs back


def odt_tables(path: Path) -> list[list[list[str]]]:
    ns = {"text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
          "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0"}
    with zipfile.ZipFile(path) as zf:
        root = ET.fromstring(zf.read("content.xml"))

    def text(p) -> str:
        out = [p.text or ""]
        for child in p:
            tag = child.tag.split("}")[1]
            if tag == "s":
                out.append(" " * int(child.get(f"{{{ns['text']}}}c", "1")))
            elif tag == "tab":
                out.append("\t")
            elif tag == "line-break":
                out.append("\n")
            else:
                out.append(text(child))
            out.append(child.tail or "")
        return "".join(out)

    tables = []
    for t in root.iter(f"{{{ns['table']}}}table"):
        rows = []
        for tr in t.iter(f"{{{ns['table']}}}table-row"):
            rows.append(["\n".join(text(p) for p in td.iter(f"{{{ns['text']}}}p"))
                         for td in tr if td.tag.endswith("}table-cell")])
        tables.append(rows)
    return tables


def docx_tables(path: Path) -> list[list[list[str]]]:
    import docx

    out = []
    for t in docx.Document(str(path)).tables:
        rows = []
        for row in t.rows:
            cells, seen = [], set()
            for cell in row.cells:  # a merged cell appears once per place it covers
                if id(cell._tc) not in seen:
                    seen.add(id(cell._tc))
                    cells.append(cell.text)
            rows.append(cells)
        out.append(rows)
    return out


class _Html(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tables, self.cell, self.tags = [], None, []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag == "table":
            self.tables.append([])
        elif tag == "tr":
            self.tables[-1].append([])
        elif tag in ("td", "th"):
            self.cell = []
        elif tag == "br" and self.cell is not None:
            self.cell.append("\n")

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.tables[-1][-1].append("".join(self.cell))
            self.cell = None

    def handle_data(self, data):
        if self.cell is not None:
            self.cell.append(data)


def html_tables(path: Path) -> list[list[list[str]]]:
    parser = _Html()
    parser.feed(path.read_text(encoding="utf-8"))
    return parser.tables


READERS = {"odt": odt_tables, "docx": docx_tables, "html": html_tables}


def table2_figures(tables) -> list[str]:
    t = next(t for t in tables if t[0][0] == "實施考核機關")
    return t[2][3:]


def item_rows(tables) -> list[list[str]]:
    """Each item's row (the last three cells: 主辦單位, 具體作法, 執行績效與成果)."""
    return [row[-3:] for t in tables if t[0][0] == "執行策略" for row in t[1:]]


def returned_texts(returns: Path) -> dict[tuple[str, str], str]:
    """(unit, 編號) → 執行績效與成果, read from the returns themselves."""
    out = {}
    for path in sorted(returns.iterdir()):
        unit = path.stem.split("_")[-1]
        rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name("填報表").to_python()
        head = [str(v).split("\n")[0].replace("（必填）", "") for v in rows[4]]
        for row in rows[5:]:
            if row[0]:
                out[(unit, row[0])] = row[head.index("執行績效與成果")].replace("\r\n", "\n").strip()
    return out


# ------------------------------------------------------------------ the worked example


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    master = tmp / "master.xlsx"
    merge(EXAMPLE_PLAN, EXAMPLE / "returns", master)
    outputs = [tmp / f"成果.{f}" for f in FORMATS]
    res = report(EXAMPLE_PLAN, master, *outputs)
    assert res.exit_code == 0, res.output
    return tmp, master, outputs, res


def test_cli_writes_every_format_and_shows_the_figures(example):
    tmp, _, outputs, res = example
    for path in outputs:
        assert path.exists() and f"已產生執行成果：{path}" in res.output
    assert "總分：910　等第：優　考核年月：109.07" in res.output and "下一步：" in res.output


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_item_and_every_returned_text_is_in_the_document(example, fmt):
    tmp, master, outputs, _ = example
    tables = READERS[fmt](outputs[FORMATS.index(fmt)])
    plan = load_plan(EXAMPLE_PLAN)
    rows = item_rows(tables)
    assert [r[1] for r in rows] == [i.practice for i in plan.items]  # every 具體作法, in order
    assert [r[0] for r in rows] == [i.lead_text for i in plan.items]
    texts = returned_texts(EXAMPLE / "returns")
    for item, (_, _, result) in zip(plan.items, rows):
        want = [f"【{u}】{texts[(u, item.id)]}" if len(item.leads) > 1 else texts[(u, item.id)]
                for u in item.leads]
        assert result == "\n".join(want), item.id
    assert table2_figures(tables) == TABLE2


def test_the_odt_is_valid_odf_and_the_output_is_reproducible(example, tmp_path):
    _, master, outputs, _ = example
    assert validate([outputs[0]]) == []
    again = [tmp_path / p.name for p in outputs]
    assert report(EXAMPLE_PLAN, master, *again).exit_code == 0
    for first, second in zip(outputs, again):
        assert first.read_bytes() == second.read_bytes(), first.suffix


def test_the_web_page_is_self_contained_and_accessible(example):
    page = example[2][2].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and '<html lang="zh-Hant-TW">' in page
    assert '<meta charset="utf-8">' in page and 'name="viewport"' in page and "@media (max-width" in page
    assert "<script" not in page.lower() and "javascript:" not in page.lower()
    assert not re.search(r"""(src|href)\s*=|@import|url\(""", page)  # nothing fetched from elsewhere
    parser = _Html()
    parser.feed(page)
    tags = parser.tags
    assert sum(1 for t, _ in tags if t == "table") == sum(1 for t, _ in tags if t == "caption") == 6
    ths = [a for t, a in tags if t == "th"]
    assert ths and all(a.get("scope") in ("col", "colgroup", "row", "rowgroup") for a in ths)
    assert all("data-label" in a for t, a in tags if t == "td")  # the phone layout names each value


@pytest.mark.libreoffice
def test_the_docx_prints_to_a4_pdf_with_headers_repeated(example, soffice, tmp_path):
    pdf = convert(soffice, example[2][1], "pdf", tmp_path / "pdf")
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True).stdout
    pages = int(re.search(r"Pages:\s+(\d+)", info).group(1))
    assert pages > 3 and re.search(r"Page size:\s+595\.\d+ x 841\.\d+", info)
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    page_texts = text.split("\f")
    # The 構面一 table runs over several pages, its header on top of each.
    assert all("執行策略" in page_texts[n] for n in range(2)), page_texts[1][:300]
    assert re.search(r"180\s+275\s+185\s+180\s+90\s+910\s+優\s+109\.07", page_texts[pages - 1])


# ------------------------------------------------------------------ 未繳, 複評 and the wrong master


@pytest.fixture
def without_ethics(tmp_path):
    inbox = tmp_path / "returns"
    shutil.copytree(EXAMPLE / "returns", inbox)
    (inbox / "109_提升服務效能_政風室.xlsx").unlink()
    master = tmp_path / "master.xlsx"
    merge(EXAMPLE_PLAN, inbox, master)
    return inbox, master


def cached_table2(master: Path) -> list[str]:
    """附表2 as the merge computed it (the master was just written: its cache is Python's)."""
    from xltool.cells import fmt_number

    ws = openpyxl.load_workbook(master, data_only=True)["附表2"]
    return [fmt_number(v) if isinstance(v, (int, float)) else v for v in
            [c.value for c in ws[7]][3:]]


def test_units_that_did_not_return_read_unpaid(without_ethics, tmp_path):
    inbox, master = without_ethics
    out = tmp_path / "成果.docx"
    res = report(EXAMPLE_PLAN, master, out)
    assert res.exit_code == 0, res.output
    assert "未繳：政風室" in res.output
    tables = docx_tables(out)
    plan = load_plan(EXAMPLE_PLAN)
    texts = returned_texts(inbox)
    for item, (_, _, result) in zip(plan.items, item_rows(tables)):
        parts = result.split("\n")
        if "政風室" in item.leads:
            assert "【政風室】未繳" in parts, item.id
        for unit in item.leads:
            if unit != "政風室":
                tag = f"【{unit}】" if len(item.leads) > 1 else ""
                assert tag + texts[(unit, item.id)].split("\n")[0] in parts, (item.id, unit)
    assert table2_figures(tables) == cached_table2(master)
    assert table2_figures(tables) != TABLE2  # 政風室 counts 0 in the items it leads
    import docx

    assert any(p.text == "未繳單位：政風室" for p in docx.Document(str(out)).paragraphs)


def type_review(master: Path, reviews: dict) -> None:
    """複評 typed with openpyxl: every formula's cached value is gone from the file."""
    wb = openpyxl.load_workbook(master)
    ws = wb["評分"]
    col = [c.value for c in ws[4]].index("複評") + 1
    for r in range(5, ws.max_row + 1):
        if ws.cell(r, 1).value in reviews:
            ws.cell(r, col).value = reviews[ws.cell(r, 1).value]
    wb.save(master)


def test_a_review_typed_into_the_master_is_applied_by_recomputing(example, tmp_path):
    master = tmp_path / "master.xlsx"
    shutil.copyfile(example[1], master)
    type_review(master, {"1-1-1": 9, "5-2-1": 40})  # 8 → 9 (points 9); 45 → 40 (points 50)
    wb = openpyxl.load_workbook(master)
    for ws, cell in ((wb["附表2"], "D7"), (wb["評分"], "Q5")):  # stale or forged values, typed over
        ws[cell] = 999
    wb.save(master)
    outputs = [tmp_path / f"r.{f}" for f in FORMATS]
    res = report(EXAMPLE_PLAN, master, *outputs)
    assert res.exit_code == 0, res.output
    for fmt, path in zip(FORMATS, outputs):
        assert table2_figures(READERS[fmt](path)) == ["181", "275", "185", "180", "85", "906", "優",
                                                      "109.07"], fmt


@pytest.mark.libreoffice
def test_a_review_typed_in_libreoffice_calc(example, tmp_path, soffice):
    python = shutil.which("python3", path="/usr/bin") or "python3"
    saved = tmp_path / "master-lo.xlsx"
    out = subprocess.run([python, str(ROOT / "tests" / "lo_review.py"), str(example[1]), str(saved),
                          str(tmp_path / "lo-profile"), "1-1-1=8.5", "2-1-1=20"],
                         capture_output=True, text=True, timeout=240)
    assert out.returncode == 0, out.stderr
    target = tmp_path / "成果.odt"
    res = report(EXAMPLE_PLAN, saved, target)
    assert res.exit_code == 0, res.output
    points = {i.id: i.points for i in load_plan(EXAMPLE_PLAN).items}
    assert points["2-1-1"] == 20  # its 自評 is 18: the review raises 服務遞送 by 2, 1-1-1 基礎服務 by 0.5
    assert table2_figures(odt_tables(target)) == ["180.5", "277", "185", "180", "90", "912.5", "優", "109.07"]


def test_a_review_out_of_range_stops_the_document(example, tmp_path):
    master = tmp_path / "master.xlsx"
    shutil.copyfile(example[1], master)
    type_review(master, {"1-1-1": 50})
    target = tmp_path / "成果.odt"
    res = report(EXAMPLE_PLAN, master, target)
    assert res.exit_code == 1 and not target.exists()
    assert "1-1-1" in res.output and "複評" in res.output and "評分" in res.output


def test_a_master_of_another_plan_is_refused(example, tmp_path, second_plan_path):
    res = report(second_plan_path, example[1], tmp_path / "成果.odt")
    assert res.exit_code == 2 and "總表與計畫檔不符" in res.output and "xltool merge" in res.output
    assert not (tmp_path / "成果.odt").exists()


def test_a_master_of_the_plan_before_a_revision_is_refused(example, tmp_path):
    revised = tmp_path / "plan.xlsx"
    wb = openpyxl.load_workbook(EXAMPLE_PLAN)
    ws = wb["項目"]
    ws["I2"], ws["I3"] = ws["I2"].value + 1, ws["I3"].value - 1  # 1-1-1 and 1-1-2 swap a point
    wb.save(revised)
    res = report(revised, example[1], tmp_path / "成果.html")
    assert res.exit_code == 2 and "項目「1-1-1」在總表的配分是 9，計畫檔是 10" in res.output


def test_outputs_are_checked_before_anything_is_read(example, tmp_path):
    res = report(EXAMPLE_PLAN, example[1], tmp_path / "成果.pdf")
    assert res.exit_code == 2 and ".odt、.docx 或 .html" in res.output
    res = report(EXAMPLE_PLAN, example[1], example[1].with_suffix(".html"), example[1])
    assert res.exit_code == 2 and "就是輸入的計畫檔或總表" not in res.output  # .xlsx: refused by extension
    html = tmp_path / "總表.html"
    html.write_text("<p>", encoding="utf-8")
    res = report(EXAMPLE_PLAN, html, html)
    assert res.exit_code == 2 and "就是輸入的計畫檔或總表" in res.output and html.read_text(encoding="utf-8") == "<p>"


# ------------------------------------------------------------------ the second plan


def test_the_second_plan_with_a_unit_missing_and_not_applicable_rows(tmp_path, second_plan_path):
    from returns import fill
    from test_merge_e2e import FILLED

    from xltool.forms.template import template_filename, write_templates

    plan = load_plan(second_plan_path)
    write_templates(plan, tmp_path / "tpl")
    inbox = tmp_path / "in"
    inbox.mkdir()
    for unit, rows in FILLED.items():  # 丙組 sends nothing
        name = template_filename(plan, unit, "xlsx")
        fill(tmp_path / "tpl" / name, inbox / name, rows)
    master = tmp_path / "master.xlsx"
    merge(second_plan_path, inbox, master)
    target = tmp_path / "成果.html"
    res = report(second_plan_path, master, target)
    assert res.exit_code == 0, res.output
    tables = html_tables(target)
    results = {i.id: r[2] for i, r in zip(plan.items, item_rows(tables))}
    assert results["A01"] == "【甲組】新增 5 項\n【乙組】新增 3 項\n另 2 項規劃中\n【丙組】未繳"
    assert results["A03"] == "開放 12 個"  # one lead: no 【】
    assert "【資訊中心】承辦單位" in results["B02"] and "【丙組】未繳" in results["B02"]
    assert results["A02"] == "【北區服務站】平均 8 分鐘\n【南區服務站】=1+1 平均 9 分鐘"
    assert table2_figures(tables) == cached_table2(master)
    head = next(t for t in tables if t[0][0] == "實施考核機關")
    assert head[1] == ["一、便民服務(60.5 分)", "二、數位創新(39.5 分)"]


@pytest.mark.parametrize("fmt", FORMATS)
def test_text_no_xml_document_can_hold_is_left_out_not_a_crash(example, tmp_path, fmt):
    """A master written from an older plan may hold a control character (ESC, kept in
    .xlsx as _x001B_): python-docx refused the whole document, odfpy wrote U+FFFD."""
    from returns import rewrite

    _, master, _, _ = example
    old = tmp_path / "old.xlsx"
    shutil.copyfile(master, old)
    with zipfile.ZipFile(old) as zf:
        sheets = [n for n in zf.namelist() if n.startswith("xl/worksheets/sheet")]
    marked = []
    def mark(xml: bytes) -> bytes:
        new = xml.replace("場次".encode(), "場_x001B_次".encode(), 1)
        marked.append(new != xml)
        return new

    for name in sheets:
        rewrite(old, name, mark)
    assert any(marked), "some text of the master was marked"
    out = tmp_path / f"r.{fmt}"
    res = report(EXAMPLE_PLAN, old, out)
    assert res.exit_code == 0, res.output
    data = b"".join(zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist()) \
        if fmt != "html" else out.read_bytes()
    assert b"\x1b" not in data and "\ufffd".encode() not in data
    if fmt == "odt":
        assert validate([out]) == []
