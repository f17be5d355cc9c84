"""Plan documents are files from outside: gated, parsed in a worker, refused in
plain words, never a traceback; .doc goes through LibreOffice when it is there.

Hostile and odd documents are built in code."""
import io
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_PLAN, convert

from xltool.cli import cli
from xltool.master.documents.content import write_plan_document
from xltool.plan import load_plan
from xltool.plan.documents import DocumentRefused, read_plan_document


@pytest.fixture(scope="module")
def plan_docx(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("doc") / "計畫.docx"
    write_plan_document(load_plan(EXAMPLE_PLAN), path)
    return path


def rewrite(source: Path, target: Path, member: str, change) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            zout.writestr(info, change(data) if info.filename == member else data)
    return target


def refused(path: Path) -> DocumentRefused:
    with pytest.raises(DocumentRefused) as info:
        read_plan_document(path)
    return info.value


def init(document: Path, target: Path):
    return CliRunner().invoke(cli, ["init", str(target), "--from", str(document)])


def test_a_document_without_a_plan_table_is_refused_clearly(tmp_path):
    import docx

    d = docx.Document()
    d.add_paragraph("○○局 112 年度會議紀錄")
    table = d.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "案由"
    d.save(str(tmp_path / "紀錄.docx"))
    res = init(tmp_path / "紀錄.docx", tmp_path / "plan.xlsx")
    assert res.exit_code == 2
    assert "no-plan-table" not in res.output  # the label and message, in words
    assert "找不到計畫的表格" in res.output and "執行策略" in res.output and "具體作法" in res.output
    assert "Traceback" not in res.output and not (tmp_path / "plan.xlsx").exists()


@pytest.mark.parametrize("case", ["entity", "renamed", "truncated", "encrypted", "bomb", "spreadsheet"])
def test_hostile_and_broken_documents(tmp_path, plan_docx, case):
    bad = tmp_path / "bad.docx"
    if case == "entity":
        rewrite(plan_docx, bad, "word/document.xml", lambda x: x.replace(
            b"?>", b'?><!DOCTYPE w [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]>', 1))
        expect = ("xml-rejected", "實體宣告")
    elif case == "renamed":
        bad.write_text("執行策略,執行方法\n", encoding="utf-8")
        expect = ("wrong-format", "不是 .docx 格式")
    elif case == "truncated":
        bad.write_bytes(plan_docx.read_bytes()[:3000])
        expect = ("corrupt-file", "已損毀")
    elif case == "encrypted":
        bad.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4000)
        expect = ("encrypted", "密碼")
    elif case == "bomb":
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as zf:
            for n in range(5_001):
                zf.writestr(f"word/media/{n}.bin", b"")
        bad.write_bytes(buffer.getvalue())
        expect = ("zip-bomb", "超過安全上限")
    else:
        from plans import second_plan, write_plan

        write_plan(tmp_path / "p.xlsx", second_plan())
        (tmp_path / "p.xlsx").rename(bad)  # a workbook named .docx
        expect = ("wrong-format", "不是 Word 文件")
    issue = refused(bad).issue
    assert (issue.code, expect[1] in issue.message) == (expect[0], True), issue
    res = init(bad, tmp_path / "plan.xlsx")
    assert res.exit_code == 2 and expect[1] in res.output and "Traceback" not in res.output


def test_an_odt_that_is_a_spreadsheet_is_named_so(tmp_path):
    from xltool.forms.starter import write_starter

    write_starter(tmp_path / "p.ods")
    (tmp_path / "p.ods").rename(tmp_path / "p.odt")
    issue = refused(tmp_path / "p.odt").issue
    assert issue.code == "wrong-format" and "不是 ODF 文字文件" in issue.message


def test_a_worker_that_dies_costs_only_the_document(tmp_path, plan_docx, monkeypatch):
    from xltool.reading.isolation import Limits

    with pytest.raises(DocumentRefused) as info:
        read_plan_document(plan_docx, limits=Limits(wall_seconds=0.001))
    assert info.value.issue.code == "timeout"


def test_doc_without_libreoffice_says_how_to_convert(tmp_path, monkeypatch, plan_docx):
    import xltool.plan.documents as document

    monkeypatch.setattr(document, "find_soffice", lambda: None)
    old = tmp_path / "計畫.doc"
    old.write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100)
    res = init(old, tmp_path / "plan.xlsx")
    assert res.exit_code == 2
    assert "另存新檔" in res.output and ".docx" in res.output and "LibreOffice" in res.output
    assert "Traceback" not in res.output


@pytest.mark.libreoffice
def test_doc_through_libreoffice(tmp_path, soffice, plan_docx):
    old = convert(soffice, plan_docx, "doc", tmp_path / "doc")
    assert old.read_bytes()[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # a real Word 97 file
    res = init(old, tmp_path / "plan.xlsx")
    assert res.exit_code == 0, res.output
    draft = read_plan_document(old)
    plan = load_plan(EXAMPLE_PLAN)
    assert draft.source == "計畫.doc" and draft.units == [u.name for u in plan.units]
    assert [(i.id, i.strategy, i.method, i.lead_text, i.practice) for i in draft.items] == [
        (i.id, i.strategy, i.method, i.lead_text, i.practice) for i in plan.items]
