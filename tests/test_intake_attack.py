"""Hostile and odd returns against the intake's newer behaviours: cell notes (a notes
part broken, huge or odd costs the return nothing but its notes, and what a unit wrote
in one is said as Excel and LibreOffice show it), and blank returns (a file is blank
only when nothing at all was entered in it). Read back from the master written."""
from __future__ import annotations

import shutil
import zipfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import convert
from openpyxl.comments import Comment
from python_calamine import CalamineWorkbook
from returns import Kit, fill, filled_book, rewrite, set_saved

from xltool.cli import cli
from xltool.forms import fields as F

UNIT = "甲組"
BLANK_LABEL = "空白（未填寫）"
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
FORM_RELS = "xl/worksheets/_rels/sheet2.xml.rels"  # openpyxl's part for 填報表, the book's second sheet
COMMENTS = "xl/comments/comment1.xml"


# ------------------------------------------------------------------ helpers

def merged(kit: Kit, tmp_path: Path, plan=None):
    """The merge of ``kit``'s returns, and the master it wrote."""
    from xltool.master.merge import merge
    from xltool.master.writer import write_master

    result = merge(plan or kit.plan, [kit.inbox], workers=1)
    master = tmp_path / "總表.xlsx"
    write_master(result, master)
    return result, master


def sheet(master: Path, name: str) -> list[dict]:
    """A sheet of the master as Excel reads it (calamine reads Excel's _xHHHH_ escapes)."""
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name(name).to_python()
    return [dict(zip(rows[0], (None if v == "" else v for v in row))) for row in rows[1:]]


def checks(master: Path, *codes: str) -> list[dict]:
    """The issues of ``codes`` in 檢核結果, a long 填寫內容 joined from its （續上列） rows."""
    out: list[dict] = []
    for row in sheet(master, "檢核結果"):
        if row["問題"] == "（續上列）" and out and row["代碼"] == out[-1]["代碼"]:
            out[-1]["填寫內容"] += row["填寫內容"] or ""
        else:
            out.append(row)
    return [r for r in out if r["代碼"] in codes]


def status_rows(master: Path, unit: str = UNIT) -> list[dict]:
    return [r for r in sheet(master, "繳交狀態") if r["單位"] == unit]


def noted(kit: Kit, notes: dict[str, str], sheet_name: str = F.FORM_SHEET) -> Path:
    """甲組's filled return with notes ({cell: text}) as openpyxl (like Excel) writes them."""
    path = kit.ret(UNIT)
    wb = openpyxl.load_workbook(path)
    for ref, text in notes.items():
        wb[sheet_name][ref].comment = Comment(text, "王小明")
    wb.save(path)
    return path


def comments_xml(comments: str, authors: str = "<author>王小明</author>") -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><comments xmlns="{MAIN}"><authors>{authors}</authors>'
            f"<commentList>{comments}</commentList></comments>").encode()


def comment(ref: str, text: str) -> str:
    return f'<comment ref="{ref}" authorId="0"><text><t xml:space="preserve">{text}</t></text></comment>'


def with_members(path: Path, members: dict[str, bytes]) -> None:
    """Add (or replace) zip members, as another program would have written them."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename not in members:
                zout.writestr(info, zin.read(info.filename))
        for name, data in members.items():
            zout.writestr(name, data)
    shutil.move(tmp, path)


def rels(*relationships: tuple[str, str, str]) -> bytes:
    """A sheet's relationships part: (type, target, mode) each."""
    body = "".join(f'<Relationship Id="rId{n}" Type="{kind}" Target="{target}"'
                   f'{f" TargetMode={chr(34)}{mode}{chr(34)}" if mode else ""}/>'
                   for n, (kind, target, mode) in enumerate(relationships, start=1))
    return (f'<?xml version="1.0" encoding="UTF-8"?><Relationships '
            f'xmlns="http://schemas.openxmlformats.org/package/2006/relationships">{body}</Relationships>').encode()


def used(result, master: Path) -> None:
    """甲組's return is the one used, its cells read, whatever its notes."""
    status = result.status_of(UNIT)
    assert status.ret is not None and status.status == "已繳", [i.message for i in result.issues]
    assert {r.values["執行績效與成果"] for r in status.ret.rows.values()} == {"已完成"}
    assert not checks(master, "corrupt-file", "too-large", "xml-rejected", "timeout")


# ------------------------------------------------------------------ cell notes

BROKEN = {
    "not well formed (cut short)": lambda xml: xml[:-20],
    "an HTML entity no XML knows": lambda xml: xml.replace("原始註解".encode(), b"a&nbsp;b"),
    "a character XML 1.0 cannot hold": lambda xml: xml.replace("原始註解".encode(), b"a&#7;b"),
    "larger than the gate reads": lambda xml: comments_xml(comment("M6", "字" * 3_000_000)),
}


@pytest.mark.parametrize("how", list(BROKEN))
def test_a_broken_notes_part_is_one_warning_and_the_cells_are_read(tmp_path, second_plan_path, how):
    kit = Kit(tmp_path, second_plan_path)
    path = noted(kit, {"M6": "原始註解"})
    rewrite(path, COMMENTS, BROKEN[how])
    result, master = merged(kit, tmp_path)
    used(result, master)
    (told,) = checks(master, "cell-notes-unreadable", "cell-note")
    assert (told["代碼"], told["嚴重度"], told["檔案"], told["工作表"]) == (
        "cell-notes-unreadable", "警告", path.name, F.FORM_SHEET)
    assert "註解" in told["說明"] and "無法讀取" in told["說明"] and "照常讀取" in told["說明"]


def test_thousands_of_notes_are_said_and_counted_not_refused(tmp_path, second_plan_path):
    """More note text than the gate keeps (30,000 notes, 1.2 million characters)."""
    kit = Kit(tmp_path, second_plan_path)
    path = noted(kit, {"M6": "原始註解"})
    many = "".join(comment(f"N{n + 10}", f"第 {n} 則：" + "說明" * 18) for n in range(30_000))
    rewrite(path, COMMENTS, lambda _: comments_xml(many))
    result, master = merged(kit, tmp_path)
    used(result, master)
    notes = checks(master, "cell-note")
    assert len(notes) == 21 and notes[0]["儲存格"] == "N10" and notes[0]["填寫內容"].startswith("第 0 則：說明")
    assert "另有 29980 個註解" in notes[-1]["說明"]


def test_a_note_of_many_tiny_runs_costs_linear_work():
    """No timing: the work is counted. Each piece of a note used to sum all the pieces
    before it, so a note of 400,000 one-letter runs (a 6 MB part) took half a minute."""
    from xltool.reading.notes import NOTE_TEXT, NoteText

    class Counted(list):
        visits = 0

        def __iter__(self):
            Counted.visits += len(self)
            return super().__iter__()

    budget, parts, author = NoteText(), Counted(), Counted()
    for n in range(20_000):
        budget.add(parts, "a")
        if n % 1_000 == 0:
            budget.add(author, "王")  # the author and the text arrive interleaved (ODF)
    assert "".join(parts) == "a" * NOTE_TEXT and "".join(author) == "王" * 20
    assert Counted.visits < 50_000


def test_a_note_is_quoted_as_excel_shows_it(tmp_path, second_plan_path):
    """Rich-text runs joined, the phonetic guide (rPh, kana) left out, Excel's _xHHHH_
    escapes read, line breaks as one line in the message and kept in the value."""
    kit = Kit(tmp_path, second_plan_path)
    path = noted(kit, {"M6": "原始註解"})
    rich = ('<comment ref="M6" authorId="0"><text><r><rPr><b/></rPr><t>粗體</t></r>'
            '<r><t xml:space="preserve"> 一般_x000D_\n第二行 _x005F_x0041_</t></r>'
            '<rPh sb="0" eb="2"><t>そたい</t></rPh></text></comment>')
    rewrite(path, COMMENTS, lambda _: comments_xml(rich))
    result, master = merged(kit, tmp_path)
    used(result, master)
    (note,) = checks(master, "cell-note")
    assert note["填寫內容"].replace("\r", "") == "粗體 一般\n第二行 _x0041_"
    assert "「粗體 一般 第二行 _x0041_」" in note["說明"] and "そたい" not in note["說明"]


def _threaded_parts(legacy_author: str = "tc={7A3D7E4F-0000-4000-8000-000000000001}") -> dict[str, bytes]:
    preamble = ("[Threaded comment]\n\nYour version of Excel allows you to read this threaded comment; "
                "however, any edits to it will get removed if the file is opened in a newer version of "
                "Excel. Learn more: https://go.microsoft.com/fwlink/?linkid=870924\n\n")
    legacy = comment("M6", preamble + "Comment:\n    本項延後至下半年辦理\nReply:\n    已知悉，請附公文")
    threaded = (
        '<?xml version="1.0" encoding="UTF-8"?><ThreadedComments '
        'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
        '<threadedComment ref="M6" dT="2024-01-05T09:00:00.00" personId="{P1}" id="{C1}">'
        '<text>本項延後至下半年辦理</text></threadedComment>'
        '<threadedComment ref="M6" dT="2024-01-05T10:00:00.00" personId="{P2}" id="{C2}" parentId="{C1}">'
        '<text>已知悉，請附公文</text></threadedComment></ThreadedComments>').encode()
    persons = ('<?xml version="1.0" encoding="UTF-8"?><personList '
               'xmlns="http://schemas.microsoft.com/office/spreadsheetml/2018/threadedcomments">'
               '<person displayName="王小明" id="{P1}" providerId="None"/>'
               '<person displayName="李主任" id="{P2}" providerId="None"/></personList>').encode()
    return {COMMENTS: comments_xml(legacy, f"<author>{legacy_author}</author>"),
            "xl/threadedComments/threadedComment1.xml": threaded, "xl/persons/person.xml": persons,
            FORM_RELS: rels((f"{REL}/comments", "/xl/comments/comment1.xml", ""),
                            ("http://schemas.microsoft.com/office/2017/10/relationships/threadedComment",
                             "../threadedComments/threadedComment1.xml", ""))}


def test_an_excel_365_threaded_comment_is_said_once_with_its_replies(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    with_members(noted(kit, {"M6": "原始註解"}), _threaded_parts())
    result, master = merged(kit, tmp_path)
    used(result, master)
    (note,) = checks(master, "cell-note")
    assert note["填寫內容"] == "本項延後至下半年辦理\n回覆（李主任）：已知悉，請附公文"
    assert "（王小明）" in note["說明"] and "tc=" not in note["說明"] and "Threaded" not in note["說明"]


def test_the_legacy_copy_of_a_threaded_comment_is_said_without_its_preamble(tmp_path, second_plan_path):
    """As LibreOffice keeps it (it knows no threads): the legacy copy alone."""
    kit = Kit(tmp_path, second_plan_path)
    parts = _threaded_parts()
    with_members(noted(kit, {"M6": "原始註解"}), {COMMENTS: parts[COMMENTS]})
    result, master = merged(kit, tmp_path)
    (note,) = checks(master, "cell-note")
    assert note["填寫內容"] == "本項延後至下半年辦理\nReply:\n已知悉，請附公文"
    assert "tc=" not in note["說明"] and "Your version of Excel" not in note["說明"]


def test_notes_are_found_by_the_relationships_whatever_the_targets(tmp_path, second_plan_path):
    """A notes part is wherever the sheet's relationships say, under any name (here none
    with "comments" in it); a target missing, or External (outside the package), is
    nothing to read and no harm; two sheets pointing at one part each have its notes."""
    kit = Kit(tmp_path, second_plan_path)
    path = noted(kit, {"M6": "原始註解"})
    with zipfile.ZipFile(path) as zf:
        data = zf.read(COMMENTS)
    kind = f"{REL}/comments"
    with_members(path, {
        FORM_RELS: rels((kind, "../n/註解一.xml", ""), (kind, "../comments/missing.xml", ""),
                        (kind, "file:///C:/secret.xml", "External"), (kind, "/xl/n/two.xml", "")),
        "xl/worksheets/_rels/sheet1.xml.rels": rels((kind, "/xl/n/註解一.xml", "")),
        "xl/n/註解一.xml": data, "xl/n/two.xml": comments_xml(comment("N12", "另一個部分的註解")),
    })
    without = path.with_suffix(".cut")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(without, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename != COMMENTS:
                zout.writestr(info, zin.read(info.filename))
    shutil.move(without, path)
    result, master = merged(kit, tmp_path)
    used(result, master)
    notes = sorted((r["工作表"], r["儲存格"], r["填寫內容"]) for r in checks(master, "cell-note"))
    assert notes == [(F.FORM_SHEET, "M6", "原始註解"), (F.FORM_SHEET, "N12", "另一個部分的註解"),
                     (F.GUIDE_SHEET, "M6", "原始註解")]


def test_a_huge_note_in_an_ods_return_is_said_not_refused(tmp_path, second_plan_path):
    """1.2 million characters in one annotation: more than the notes of a file keep."""
    from xltool.forms.ods_writer import write_ods

    kit = Kit(tmp_path, second_plan_path)
    book = filled_book(kit.plan, UNIT, {i.id: {"執行狀態": "完成", "執行績效與成果": "已完成", "自評分數": 5}
                                        for i in kit.plan.items_for(UNIT)}, datetime(2024, 1, 2))
    book.sheet(F.FORM_SHEET).notes[(F.FIRST_ITEM_ROW, 12)] = "長" * 1_200_000
    write_ods(book, kit.inbox / "甲組.ods")
    result, master = merged(kit, tmp_path)
    used(result, master)
    (note,) = checks(master, "cell-note")
    assert note["儲存格"] == f"M{F.FIRST_ITEM_ROW + 1}" and note["填寫內容"].startswith("長" * 1000)


@pytest.mark.libreoffice
def test_a_note_saved_again_by_libreoffice_reads_as_typed(tmp_path, second_plan_path, soffice):
    """LibreOffice writes a literal _x0041_ as _x005F_x0041_ (Excel's escape): read, it
    is what the unit typed; its blank author is no author."""
    kit = Kit(tmp_path, second_plan_path)
    text = "第一行\n第二行 _x0041_ 結尾"
    path = noted(kit, {"M6": text})
    saved = convert(soffice, path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    path.unlink()
    shutil.move(saved, kit.inbox / saved.name)
    result, master = merged(kit, tmp_path)
    used(result, master)
    (note,) = checks(master, "cell-note")
    assert note["填寫內容"] == text and "「第一行 第二行 _x0041_ 結尾」" in note["說明"]


def test_the_notes_of_a_prefilled_template_are_not_said_as_the_units(tmp_path):
    from plans import second_plan, write_plan
    from test_plan_revision import revised_second_plan, values

    from xltool.forms.template import template_filename, write_templates
    from xltool.master.merge import merge
    from xltool.plan import load_plan

    old = load_plan(write_plan(tmp_path / "plan_v1.xlsx", second_plan()))
    new = load_plan(write_plan(tmp_path / "plan_v2.xlsx", revised_second_plan()))
    write_templates(old, tmp_path / "tpl1", generated=datetime(2024, 1, 2))
    first = tmp_path / "first"
    first.mkdir()
    name = template_filename(old, UNIT, "xlsx")
    fill(tmp_path / "tpl1" / name, first / name, values(old, UNIT, {}))
    run = CliRunner().invoke(cli, ["template", str(new.source), "-o", str(tmp_path / "pre"),
                                   "--from-returns", str(first)])
    assert run.exit_code == 0, run.output
    back = tmp_path / "back"
    back.mkdir()
    shutil.copy(tmp_path / "pre" / template_filename(new, UNIT, "xlsx"), back / name)
    ret = merge(new, [back]).status_of(UNIT).ret
    assert ret is not None and [i.message for i in ret.issues if i.code == "cell-note"] == []


def test_the_spaces_of_an_ods_note_are_kept(tmp_path, second_plan_path):
    from xltool.forms.ods_writer import write_ods

    kit = Kit(tmp_path, second_plan_path)
    book = filled_book(kit.plan, UNIT, {i.id: {"執行狀態": "完成", "執行績效與成果": "已完成", "自評分數": 5}
                                        for i in kit.plan.items_for(UNIT)}, datetime(2024, 1, 2))
    book.sheet(F.FORM_SHEET).notes[(F.FIRST_ITEM_ROW, 12)] = "MARK"
    path = kit.inbox / "甲組.ods"
    write_ods(book, path)
    rewrite(path, "content.xml", lambda xml: xml.replace(
        b">MARK<", '>代號<text:span>A<text:s text:c="3"/>B</text:span><text:tab/>C<'.encode()))
    result, master = merged(kit, tmp_path)
    (note,) = checks(master, "cell-note")
    assert note["填寫內容"] == "代號A   B\tC"


def test_a_sheet_the_unit_added_is_said(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret(UNIT)
    wb = openpyxl.load_workbook(path)
    wb.create_sheet("補充說明")["A1"] = "本單位另有成果：辦理說明會 3 場"
    wb.save(path)
    result, master = merged(kit, tmp_path)
    assert [r for r in sheet(master, "檢核結果") if r["檔案"] == path.name and "補充說明" in (r["說明"] or "")]


# ------------------------------------------------------------------ blank returns

def blank_copy(kit: Kit, name: str) -> Path:
    path = kit.inbox / name
    shutil.copy(kit.template(UNIT), path)
    return path


def test_a_blank_template_saved_on_a_fast_clock_is_still_blank(tmp_path, second_plan_path):
    """Its untrusted time is said of the file, not of anything typed in it."""
    kit = Kit(tmp_path, second_plan_path)
    empty = blank_copy(kit, "甲組_空白.xlsx")
    set_saved(empty, datetime.now(timezone.utc).replace(tzinfo=None) + timedelta(hours=3))
    result, master = merged(kit, tmp_path)
    assert result.status_of(UNIT).status == "未繳" and result.status_of(UNIT).ret is None
    unit_row, file_row = status_rows(master)
    assert unit_row["狀態"] == "未繳" and "只收到空白表" in unit_row["說明"]
    assert file_row["檔案"] == empty.name and file_row["狀態"] == BLANK_LABEL
    out = CliRunner().invoke(cli, ["status", str(kit.plan.source), str(kit.inbox)]).output
    assert BLANK_LABEL in out


def test_a_return_filled_only_in_rows_the_plan_removed_is_not_blank(tmp_path):
    """A template of the plan before a revision, filled only in the row of an item the
    revision removed: that was typed, and is kept for the record, not 「沒有填寫任何內容」."""
    from plans import second_plan, write_plan
    from test_plan_revision import revised_second_plan

    from xltool.forms.template import template_filename
    from xltool.plan import load_plan

    old = load_plan(write_plan(tmp_path / "plan_v1.xlsx", second_plan()))
    new = load_plan(write_plan(tmp_path / "plan_v2.xlsx", revised_second_plan()))
    assert "B01" in [i.id for i in old.items_for(UNIT)] and "B01" not in [i.id for i in new.items]
    kit = Kit(tmp_path, old.source)
    name = template_filename(old, UNIT, "xlsx")
    fill(kit.template(UNIT), kit.inbox / name, {"B01": {"執行狀態": "完成", "執行績效與成果": "B01 已辦理",
                                                        "自評分數": 10}})
    result, master = merged(kit, tmp_path, new)
    status = result.status_of(UNIT)
    assert status.ret is not None and status.ret.removed["B01"].values["執行績效與成果"] == "B01 已辦理"
    rows = status_rows(master)
    assert BLANK_LABEL not in {r["狀態"] for r in rows} and rows[0]["狀態"] != "未繳"
    assert not checks(master, "blank-return")
