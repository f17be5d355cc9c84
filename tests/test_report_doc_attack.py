"""`xltool report` attacked: hostile texts in the returns, and hostile output paths.

Every unit's 執行績效與成果 is read back from the written .odt, .docx and .html and
compared character for character with what the return held (as merge keeps it:
line ends made \\n, the text's surrounding blanks and control characters removed,
with a note); the .odt is also read the way ODF says white space is read, and by
LibreOffice. An output open in an office program is refused before anything is
written; a different file already at an output path is kept as a backup.
"""
import re
import shutil
import zipfile

import pytest
from click.testing import CliRunner
from conftest import convert
from odfcheck import validate
from returns import fill, rewrite
from test_report import READERS, docx_tables, item_rows

from xltool.cli import cli
from xltool.file_locks import word_lock
from xltool.intake.rules import clean_text
from xltool.master.documents.content import write_document
from xltool.master.documents.model import DocCell, DocParagraph, DocTable, Document
from xltool.plan import load_plan

HOSTILE = [
    "第一段" + "長" * 30_000 + "結尾",
    "第一段\r\n第二段\n第三段\r\n\r\n第五段（前一段空）\n   縮排三格\n行尾空白   \n\t開頭定位\n定位\t結尾",
    "欄一\t欄二\t\t欄四 中間  兩個   三個",
    "   前後空白   ",
    "控制CTRL字元\x7f在\x85此",
    "<r>粗體</r> &amp; ]]> <![CDATA[x]]> &lt; \"'",
    "表情😀👨\u200d👩\u200d👧 𠀋𡃁 \U0001F1F9\U0001F1FC e\u0301 a\u0308 한\u1100\u1161",
    "零\u200b寬\u200d字\ufeff元\u2060 RTL\u202e反轉\u202c \u200f\u061c",
    "=SUM(A1:A2)",
    "+886-7-1234567\n-5 件\n@提及",
    "https://example.org/a?b=1&c=<2>#x",
    "行\u2028分隔\u2029段 不\u00a0斷\u3000全形",
]
FORMATS = ("odt", "docx", "html")


def _refs(text: str) -> bytes:
    """``text`` as openpyxl writes it in a sheet: character references."""
    return "".join(f"&#{ord(c)};" for c in text).encode()


def report(*args):
    return CliRunner().invoke(cli, ["report", *map(str, args)])


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    """The second plan's returns, each text one of HOSTILE, merged; the report in
    every format. Returns (plan path, master, outputs, {(unit, 編號): text held})."""
    from plans import second_plan, write_plan
    from test_merge_e2e import FILLED

    from xltool.forms.template import template_filename, write_templates

    tmp = tmp_path_factory.mktemp("hostile")
    plan_path = write_plan(tmp / "plan.xlsx", second_plan())
    plan = load_plan(plan_path)
    write_templates(plan, tmp / "tpl")
    inbox = tmp / "in"
    inbox.mkdir()
    held, k = {}, 0
    for unit, rows in FILLED.items():
        filled = {}
        for item_id, row in rows.items():
            text = HOSTILE[k % len(HOSTILE)]
            filled[item_id] = {**row, "執行績效與成果": text.replace("CTRL", "")
                               .replace("\x7f", "").replace("\x85", ""), "佐證資料": HOSTILE[(k + 5) % len(HOSTILE)]
                               .replace("\x7f", "").replace("\x85", "").replace("CTRL", "")}
            held[(unit, item_id)] = clean_text(text.replace("CTRL", "\x1b"))
            k += 1
        name = template_filename(plan, unit, "xlsx")
        fill(tmp / "tpl" / name, inbox / name, filled)
        # what openpyxl refuses to write, as a unit's spreadsheet program may: ESC, DEL, NEL
        for member in zipfile.ZipFile(inbox / name).namelist():
            if member.startswith("xl/") and member.endswith(".xml"):
                rewrite(inbox / name, member, lambda xml: xml.replace(_refs("控制字元在此"), _refs("控制") + b"_x001B_"
                                                                      + _refs("字元") + b"_x007F_" + _refs("在")
                                                                      + b"_x0085_" + _refs("此")))
    master = tmp / "master.xlsx"
    res = CliRunner().invoke(cli, ["merge", str(plan_path), str(inbox), "-o", str(master)])
    assert master.exists(), res.output
    assert "已移除控制字元" in res.output
    outputs = [tmp / f"成果.{f}" for f in FORMATS]
    res = report(plan_path, master, *[a for o in outputs for a in ("-o", o)])
    assert res.exit_code == 0, res.output
    return plan_path, master, outputs, held


def expected_results(plan, held) -> dict[str, str]:
    out = {}
    for item in plan.items:
        parts = [held.get((u, item.id), "未繳") for u in item.leads]
        out[item.id] = "\n".join(f"【{u}】{t}" if len(item.leads) > 1 else t for u, t in zip(item.leads, parts))
    return out


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_unit_text_reads_back_character_for_character(hostile, fmt):
    plan_path, _, outputs, held = hostile
    plan = load_plan(plan_path)
    tables = READERS[fmt](outputs[FORMATS.index(fmt)])
    got = {i.id: row[2] for i, row in zip(plan.items, item_rows(tables))}
    assert got == expected_results(plan, held)
    assert "控制字元在此" in "".join(got.values())  # the controls gone, nothing else
    assert "長" * 30_000 in "".join(got.values())


def odf_read(p) -> str:
    """A paragraph's text as ODF 1.3 part 3, 6.1.2 says it reads: in character data
    a run of white space is one space, none at the start of the paragraph, nor after
    another such space; text:s and text:tab are what they say."""
    ns = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
    out: list[str] = []
    literal_space = True  # at the start, as after a space: a leading space is ignored

    def data(text: str | None) -> None:
        nonlocal literal_space
        for ch in re.sub(r"[ \t\r\n]+", " ", text or ""):
            if ch == " " and literal_space:
                continue
            out.append(ch)
            literal_space = ch == " "

    data(p.text)
    for child in p:
        tag = child.tag.split("}")[1]
        out.append(" " * int(child.get(f"{{{ns}}}c", "1")) if tag == "s" else "\t" if tag == "tab" else "")
        literal_space = False
        data(child.tail)
    return "".join(out)


def test_the_odt_keeps_every_space_as_odf_reads_white_space(tmp_path):
    """odfpy wrote the first space of a run as itself, which ODF readers drop at the
    start of a paragraph: "   縮排" read back as "  縮排" in LibreOffice."""
    from defusedxml import ElementTree as ET

    texts = ["   縮排三格", "行尾空白   ", " 單一前導", "單一尾隨 ", "a b", "中間  兩個",
             "\t 定位後空白", "空白 \t定位前"]
    doc = Document("t", blocks=[DocParagraph(t) for t in texts])
    out = tmp_path / "s.odt"
    write_document(doc, out)
    root = ET.fromstring(zipfile.ZipFile(out).read("content.xml"))
    paragraphs = [odf_read(p) for p in root.iter("{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p")]
    assert paragraphs[-len(texts):] == texts
    assert validate([out]) == []


def test_libreoffice_reads_every_space_and_tab_of_the_odt(tmp_path, soffice):
    texts = ["   縮排三格\n行尾空白   \n\t開頭定位\n中間  兩個 \t 定位"]
    doc = Document("t", blocks=[DocTable("x", [1, 1], [[DocCell("h"), DocCell("v")]],
                                         [[DocCell(str(n)), DocCell(t)] for n, t in enumerate(texts)])])
    out = tmp_path / "s.odt"
    write_document(doc, out)
    back = convert(soffice, out, "docx", tmp_path / "lo")
    assert [r[1] for r in docx_tables(back)[0][1:]] == texts


def test_c1_controls_in_a_master_are_left_out_alike_everywhere_and_said(hostile, tmp_path):
    """A master edited by hand may hold DEL or a C1 control (NEL): odfpy wrote them as
    U+FFFD while .docx and .html kept them; now no format has them, and a note names
    the cell of 明細 they were in."""
    plan_path, master, _, _ = hostile
    edited = tmp_path / "edited.xlsx"
    shutil.copyfile(master, edited)
    with zipfile.ZipFile(edited) as zf:
        members = [n for n in zf.namelist() if n.startswith("xl/") and n.endswith(".xml")]
    marked = []

    def mark(xml: bytes) -> bytes:
        new = xml.replace(b"=SUM(A1:A2)", b"=SUM_x0085_(A1:A2_x007F_)")
        marked.append(new != xml)
        return new

    for name in members:
        rewrite(edited, name, mark)
    assert any(marked)
    outs = [tmp_path / f"r.{f}" for f in FORMATS]
    res = report(plan_path, edited, *[a for o in outs for a in ("-o", o)])
    assert res.exit_code == 0, res.output
    said = r"工作表「明細」，儲存格 [A-Z]+\d+：.*北區服務站 項目「A02」的執行績效與成果含有控制字元"
    assert re.search(said, res.output), res.output
    for out in outs:
        data = out.read_bytes() if out.suffix == ".html" else \
            b"".join(zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist())
        assert "\ufffd".encode() not in data and "\x85".encode() not in data and b"\x7f" not in data, out
        assert b"=SUM(A1:A2)" in data, out
    assert validate([outs[0]]) == []


# ------------------------------------------------------------------ the output paths


def test_a_result_document_open_in_word_or_libreoffice_is_refused_before_writing(hostile, tmp_path):
    plan_path, master, _, _ = hostile
    long_name = tmp_path / "成果-第一季定稿.docx"  # Word's lock: ~$ and the name less two characters
    assert word_lock(long_name).name == "~$-第一季定稿.docx"
    assert word_lock(tmp_path / "1234567.docx").name == "~$234567.docx"
    assert word_lock(tmp_path / "成果.odt").name == "~$成果.odt"
    word_lock(long_name).write_bytes(b"\x05user" + b"\x00" * 157)
    other = tmp_path / "成果.odt"
    res = report(plan_path, master, "-o", other, "-o", long_name)
    assert res.exit_code == 2 and "正在 Word 中開啟" in res.output and "~$-第一季定稿.docx" in res.output, res.output
    assert not other.exists() and not long_name.exists()  # checked before anything is written
    word_lock(long_name).unlink()
    (tmp_path / ".~lock.成果.odt#").write_text("someone,user,host,01.01.2025 10:00,file:///x;", encoding="utf-8")
    res = report(plan_path, master, "-o", other)
    assert res.exit_code == 2 and "正在 LibreOffice 中開啟" in res.output and not other.exists(), res.output


def test_a_different_file_at_the_output_path_is_kept_not_overwritten(hostile, tmp_path):
    plan_path, master, outputs, _ = hostile
    mine = tmp_path / "成果.docx"
    mine.write_bytes(b"PK my own edited document")
    res = report(plan_path, master, "-o", mine)
    assert res.exit_code == 0, res.output
    backups = list(tmp_path.glob("成果-備份-*.docx"))
    assert len(backups) == 1 and backups[0].read_bytes() == b"PK my own edited document"
    assert backups[0].name in res.output and "已另存為" in res.output
    assert mine.read_bytes() == outputs[1].read_bytes()
    res = report(plan_path, master, "-o", mine)  # the same document again: nothing to keep
    assert res.exit_code == 0 and "已另存為" not in res.output
    assert list(tmp_path.glob("成果-備份-*.docx")) == backups


def test_an_output_that_is_a_folder_or_under_a_file_is_said_not_a_traceback(hostile, tmp_path):
    plan_path, master, _, _ = hostile
    (tmp_path / "d.odt").mkdir()
    res = report(plan_path, master, "-o", tmp_path / "d.odt")
    assert res.exit_code == 2 and "是資料夾" in res.output and isinstance(res.exception, SystemExit), res.output
    (tmp_path / "afile").write_text("x", encoding="utf-8")
    res = report(plan_path, master, "-o", tmp_path / "afile" / "r.odt")
    assert res.exit_code == 2 and "無法寫入" in res.output and isinstance(res.exception, SystemExit), res.output
    assert (tmp_path / "afile").read_text(encoding="utf-8") == "x"


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_writes_the_same_text_of_one_with_c1_controls(tmp_path, fmt):
    """Any text of a document (a plan's, a unit's name from an edited master): odfpy
    wrote DEL and C1 controls as U+FFFD, python-docx and HTML kept them as they were."""
    doc = Document("t", blocks=[DocParagraph("前\x85中\x7f後\x9f")])
    out = tmp_path / f"c.{fmt}"
    write_document(doc, out)
    data = out.read_bytes() if fmt == "html" else \
        b"".join(zipfile.ZipFile(out).read(n) for n in zipfile.ZipFile(out).namelist())
    assert "前中後".encode() in data and "\ufffd".encode() not in data


@pytest.mark.parametrize("fmt", ["docx", "odt"])
def test_table2s_figures_do_not_break_across_lines(tmp_path, soffice, example_plan, fmt):
    """A total with two decimals (241.33) and 考核年月 stay whole on their lines when the
    results document prints (Word's cell margins made 總分 too narrow in the .docx)."""
    from lo_pdf import pages, to_pdf

    from xltool.master.documents.content import table2

    plan = load_plan(example_plan)  # five 構面: the narrowest columns
    n = len(plan.dimensions)
    figures = ["106.5", "74.5", "40.33", "20", "19.99", "88.88"][:n] + ["241.33", "優等"]
    document = Document("附表2", blocks=table2(plan, figures))
    target = tmp_path / f"t.{fmt}"
    write_document(document, target)
    words = [w.text for page in pages(to_pdf(soffice, target, tmp_path / "pdf")) for w in page.words]
    for figure in [*figures[:n], "241.33", plan.info.review_month]:
        assert figure in words, (figure, words)
    assert "考核年月" in "".join(words)


def test_a_report_from_a_copy_older_than_the_master_says_so(tmp_path, soffice, example_plan):
    """The reviewer's 總表.ods, saved before the last merge wrote 總表.xlsx again: the
    document made from it would show older results, and that is said."""
    import os

    from conftest import ROOT, convert

    master = tmp_path / "總表.xlsx"
    res = CliRunner().invoke(cli, ["merge", str(example_plan), str(ROOT / "examples" / "kaohsiung-109" / "returns"),
                                   "-o", str(master)])
    assert master.exists(), res.output
    copy = convert(soffice, master, "ods", tmp_path)
    later = copy.stat().st_mtime + 60
    os.utime(master, (later, later))  # merged again after the copy was saved
    res = report(example_plan, copy, "-o", tmp_path / "成果.odt")
    assert "總表.xlsx」比指定的「總表.ods」晚存檔" in res.output, res.output
    assert (tmp_path / "成果.odt").exists()
    os.utime(master, (later - 120, later - 120))  # the copy is the newer: nothing to say
    res = report(example_plan, copy, "-o", tmp_path / "成果2.odt")
    assert "晚存檔" not in res.output, res.output
