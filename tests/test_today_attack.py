"""Today's changes attacked (helper attackG): early dates looked up in the sheet's XML,
and write_keeping's backup of a different file at a report/rollup output. Each test
reads back the files really written."""
from __future__ import annotations

import re
import zipfile
from datetime import date
from pathlib import Path

import pytest
from returns import Kit

from xltool.cells import a1
from xltool.errors import XltoolError
from xltool.forms import fields as F
from xltool.master.writer import write_keeping
from xltool.reading.workbook import read_here

UNIT = "甲組"  # second_plan
DATE_CELL = a1(F.FORM_ROW, F.FORM_LABEL_COLS[2] + 1)  # 填報日期's input
SHEET = "xl/worksheets/sheet2.xml"  # 填報表 in a template
ROC_116_01_05 = "-651588"  # what LibreOffice stores for 116/01/05 typed into a date cell


def _return_with(tmp_path: Path, second_plan_path: Path, edit) -> tuple[Kit, Path]:
    """甲組's filled return with its 填報表 XML changed by ``edit`` (the date cell's
    empty element is given as the first argument to replace)."""
    kit = Kit(tmp_path, second_plan_path)
    path = kit.ret(UNIT)
    with zipfile.ZipFile(path) as zf:
        members = [(i, zf.read(i.filename)) for i in zf.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for info, data in members:
            if info.filename == SHEET:
                xml = data.decode("utf-8")
                empty = re.search(rf'<c r="{DATE_CELL}"[^>]*?(?:/>|></c>)', xml).group(0)
                style = re.search(r'\bs="(\d+)"', empty).group(1)
                data = edit(xml, empty, style).encode("utf-8")
            zf.writestr(info, data)
    return kit, path


def _date_read(path: Path):
    return read_here(path).sheets[F.FORM_SHEET].cell(F.FORM_ROW, F.FORM_LABEL_COLS[2] + 1)


@pytest.mark.parametrize("cell", [
    '<c s="{s}"><v>{v}</v></c>',                # no r: placed after the cell before it
    '<c r="{lower}" s="{s}"><v>{v}</v></c>',     # r in lower case, which calamine reads
    '<c r="{ref}" s="{s}"><v>0.25</v></c><c r="{ref}" s="{s}"><v>{v}</v></c>',  # twice: the last
], ids=["no-ref", "lower-case-ref", "written-twice"])
def test_an_early_date_is_found_wherever_the_reader_placed_it(tmp_path, second_plan_path, cell):
    """The number was looked up by r="K3" as written: a cell the reader placed at K3
    some other way kept its 00:00:00 (or took the number of another element)."""
    def edit(xml, empty, style):
        return xml.replace(empty, cell.format(s=style, v=ROC_116_01_05, ref=DATE_CELL, lower=DATE_CELL.lower()))

    kit, path = _return_with(tmp_path, second_plan_path, edit)
    assert _date_read(path) == float(ROC_116_01_05)
    from xltool.master.merge import merge

    (unit,) = [u for u in merge(kit.plan, [kit.inbox], workers=1).units if u.unit == UNIT]
    assert unit.ret.header["填報日期"] == date(2027, 1, 5)


def test_a_number_written_once_more_after_the_early_date_is_the_one_read(tmp_path, second_plan_path):
    """K3 twice, the date first: the reader shows the second (a time of day), and the
    first element's number must not be taken for it."""
    def edit(xml, empty, style):
        return xml.replace(empty, f'<c r="{DATE_CELL}" s="{style}"><v>{ROC_116_01_05}</v></c>'
                                  f'<c r="{DATE_CELL}" s="{style}"><v>-5</v></c>')

    _, path = _return_with(tmp_path, second_plan_path, edit)
    assert _date_read(path) == -5


def test_an_early_date_in_a_sheet_written_with_a_prefix_is_read(tmp_path, second_plan_path):
    """<x:c> and <x:v>, the main namespace under a prefix: calamine reads it, and so
    must the lookup of the number."""
    def edit(xml, empty, style):
        xml = xml.replace(empty, f'<c r="{DATE_CELL}" s="{style}"><v>{ROC_116_01_05}</v></c>')
        start, end = xml.index("<sheetData"), xml.index("</sheetData>") + len("</sheetData>")
        body = re.sub(r"<(/?)(sheetData|row|c|v|is|t|f)\b", r"<\1x:\2", xml[start:end])
        xml = xml[:start] + body + xml[end:]
        return xml.replace("<worksheet ", '<worksheet xmlns:x="http://schemas.openxmlformats.org/'
                                          'spreadsheetml/2006/main" ', 1)

    _, path = _return_with(tmp_path, second_plan_path, edit)
    assert _date_read(path) == float(ROC_116_01_05)


def _zip(path: Path, core: str, body: bytes = b"<a/>") -> None:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("[Content_Types].xml", b"<Types/>")
        zf.writestr("docProps/core.xml", core)
        zf.writestr("xl/workbook.xml", body)


CORE = ('<cp:coreProperties xmlns:cp="c" xmlns:dcterms="d"><dc:title>附表2</dc:title>{extra}'
        '<dcterms:created xsi:type="dcterms:W3CDTF">{t}</dcterms:created>'
        '<dcterms:modified xsi:type="dcterms:W3CDTF">{t}</dcterms:modified></cp:coreProperties>')


def test_properties_typed_into_the_old_file_are_kept_aside(tmp_path):
    """A re-run writes the same content at another time, and keeps no copy; but a
    keyword someone typed into the old file's properties (Windows' file properties
    write only docProps/core.xml) was taken for a time stamp and lost unsaid."""
    target = tmp_path / "附表2.xlsx"
    _zip(target, CORE.format(extra="", t="2026-01-01T00:00:00Z"))
    write = lambda path: _zip(path, CORE.format(extra="", t="2026-12-02T09:00:00Z"))  # noqa: E731
    assert write_keeping(target, write) is None  # only the times differ

    _zip(target, CORE.format(extra="<cp:keywords>秘書室已核定</cp:keywords>", t="2026-01-01T00:00:00Z"))
    backup = write_keeping(target, write)
    assert backup is not None and backup.is_file()
    assert "秘書室已核定" in zipfile.ZipFile(backup).read("docProps/core.xml").decode("utf-8")
    assert "秘書室已核定" not in zipfile.ZipFile(target).read("docProps/core.xml").decode("utf-8")


def test_an_output_that_is_a_link_to_itself_is_refused_in_words(tmp_path):
    target = tmp_path / "成果.odt"
    target.symlink_to(target.name)
    with pytest.raises(XltoolError, match="連結"):
        write_keeping(target, lambda path: path.write_bytes(b"x"))
    assert target.is_symlink() and not list(tmp_path.glob(".~xltool-*"))


def test_an_output_that_is_a_link_to_itself_is_a_message_in_the_commands(tmp_path):
    """report and rollup both look at their outputs before writing: a link loop there is
    the zh-TW refusal, not an internal error."""
    import subprocess
    import sys

    from conftest import ROOT

    example = ROOT / "examples" / "kaohsiung-109"
    master = tmp_path / "總表.xlsx"
    subprocess.run([sys.executable, "-m", "xltool", "merge", str(example / "plan.xlsx"), str(example / "returns"),
                    "-o", str(master)], capture_output=True, check=False)
    for name, command in (("loop.odt", ["report", str(example / "plan.xlsx"), str(master)]),
                          ("loop.xlsx", ["rollup", str(master)])):
        loop = tmp_path / name
        loop.symlink_to(loop.name)
        proc = subprocess.run([sys.executable, "-m", "xltool", *command, "-o", str(loop)], capture_output=True,
                              text=True, encoding="utf-8")
        assert proc.returncode == 2, proc.stdout + proc.stderr
        assert "迴圈" in proc.stderr and "internal-error" not in proc.stderr + proc.stdout
