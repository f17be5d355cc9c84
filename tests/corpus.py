"""A corpus of hostile and broken returns, built in code from the worked example.

Each case writes one file into a folder and says what the merge must make of
it: the issue code it must raise, and whether the file is skipped (its unit
gets nothing from it) or read with its bad rows flagged. Every case that looks
like a unit's return is dated before the good returns, so that in a merge of
the whole corpus with the example returns the good ones win.
"""
from __future__ import annotations

import io
import os
import shutil
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import openpyxl
from conftest import ROOT
from returns import rewrite, set_saved

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
RETURNS = EXAMPLE / "returns"
OLD = datetime(2020, 6, 25, 8, 0)  # before every good return
R0 = 6  # sheet row of a template's first item
BOMB_BYTES = 2 * 1024 ** 3


def good(unit: str) -> Path:
    return RETURNS / f"109_提升服務效能_{unit}.xlsx"


@dataclass
class Case:
    name: str  # file name written into the corpus folder
    build: Callable[[Path], None]
    code: str  # an issue code the merge must raise for this file ("" = read cleanly alone)
    skipped: bool  # True: nothing is taken from the file
    unit: str = ""  # the unit the file belongs to, when it is read


def _copy(unit: str, target: Path) -> Path:
    shutil.copy(good(unit), target)
    return target


def _edit(unit: str, target: Path, change: Callable) -> None:
    wb = openpyxl.load_workbook(good(unit))
    change(wb["填報表"], wb)
    wb.save(target)
    set_saved(target, OLD)


def _cells(**values):
    def change(ws, wb):
        for ref, value in values.items():
            ws[ref] = value
            if isinstance(value, str) and value[:1] in "=+-@":
                ws[ref].data_type = "s"  # typed as text ('=…), the way a paste lands
    return change


def _sheet_xml(target: Path, change: Callable[[bytes], bytes], unit: str = "第一課") -> None:
    _copy(unit, target)
    set_saved(target, OLD)
    rewrite(target, "xl/worksheets/sheet2.xml", change)


def _formulas(target: Path) -> None:
    # A HYPERLINK in the result text and =1+1 in the score with a forged cache of 9.
    def change(xml: bytes) -> bytes:
        import re
        xml = re.sub(rb'<c r="L6"([^>]*?)(?: t="[^"]*")?>.*?</c>',
                     rb'<c r="L6"\1><f>1+1</f><v>9</v></c>', xml, count=1, flags=re.S)
        xml = re.sub(rb'<c r="K6"([^>]*?)(?: t="[^"]*")?>.*?</c>',
                     rb'<c r="K6"\1 t="str"><f>HYPERLINK("http://attacker.example/x","click")</f>'
                     rb'<v>click</v></c>', xml, count=1, flags=re.S)
        return xml
    _sheet_xml(target, change)


def _drop_member(unit: str, member: str) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        with zipfile.ZipFile(good(unit)) as zin, zipfile.ZipFile(target, "w") as zout:
            for info in zin.infolist():
                if info.filename != member:
                    zout.writestr(info, zin.read(info.filename))
    return build


def _zip_bomb(target: Path, honest: bool = True) -> None:
    """A tiny file whose one entry inflates to 2 GB of zeros. ``honest`` says so in
    the directory; otherwise the directory claims 1 KB and only inflating tells.
    (The CRC is left 0: an honest bomb must be refused before anything is inflated.)"""
    size = BOMB_BYTES if honest else 1024
    with zipfile.ZipFile(target, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "<workbook/>")
    _append_raw_entry(target, "xl/worksheets/sheet1.xml", _zeros_deflated(BOMB_BYTES), 0, size)


def _zeros_deflated(n: int) -> bytes:
    """A raw deflate stream of ``n`` zero bytes, built from one fully flushed 1 MB
    block repeated (a full flush makes blocks independent), then a final block."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = comp.compress(bytes(1 << 20)) + comp.flush(zlib.Z_FULL_FLUSH)
    return block * (n >> 20) + comp.flush(zlib.Z_FINISH)


def _append_raw_entry(path: Path, name: str, raw: bytes, crc: int, size: int) -> None:
    """Append a pre-compressed entry with the given CRC and declared size."""
    import struct

    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
        bodies = {i.filename: zf.read(i.filename) for i in infos}
    out = io.BytesIO()
    central = []
    entries = [(i.filename, zlib.compress(bodies[i.filename])[2:-4], zlib.crc32(bodies[i.filename]),
                len(bodies[i.filename])) for i in infos] + [(name, raw, crc, size)]
    for fname, comp, c, usize in entries:
        offset = out.tell()
        fn = fname.encode()
        zsize = min(usize, 0xFFFFFFFF)
        out.write(struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0x21, c & 0xFFFFFFFF,
                              len(comp), zsize, len(fn), 0))
        out.write(fn)
        out.write(comp)
        central.append(struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0x21,
                                   c & 0xFFFFFFFF, len(comp), zsize, len(fn), 0, 0, 0, 0, 0,
                                   offset) + fn)
    start = out.tell()
    for rec in central:
        out.write(rec)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central),
                          out.tell() - start, start, 0))
    path.write_bytes(out.getvalue())


def _billion_laughs(target: Path) -> None:
    lol = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
           + b"".join(b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
                      for i in range(1, 10))
           + b']><sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="1" '
             b'uniqueCount="1"><si><t>&lol9;</t></si></sst>')
    _copy("第一課", target)
    set_saved(target, OLD)
    with zipfile.ZipFile(target) as zf:
        names = zf.namelist()
    member = "xl/sharedStrings.xml" if "xl/sharedStrings.xml" in names else "xl/worksheets/sheet2.xml"
    rewrite(target, member, lambda _: lol)


def _xxe(target: Path) -> None:
    secret = Path(target).parent.parent / "secret.txt"
    secret.write_text("TOP-SECRET-XLTOOL", encoding="utf-8")

    def change(xml: bytes) -> bytes:
        head = (b'<?xml version="1.0"?><!DOCTYPE w [<!ENTITY x SYSTEM "'
                + secret.as_uri().encode() + b'">]>')
        body = xml.split(b"?>", 1)[1] if xml.startswith(b"<?xml") else xml
        return head + body.replace(b"<v>", b"<v>&x;", 1)
    _sheet_xml(target, change)


def _lying_dimension(target: Path) -> None:
    import re
    _sheet_xml(target, lambda xml: re.sub(rb'<dimension ref="[^"]*"/>',
                                          b'<dimension ref="A1:XFD1048576"/>', xml))


def _far_cell(target: Path) -> None:
    _sheet_xml(target, lambda xml: xml.replace(
        b"</sheetData>", b'<row r="1048576"><c r="XFD1048576"><v>1</v></c></row></sheetData>'))


def _encrypted(target: Path) -> None:
    from msoffcrypto.format.ooxml import OOXMLFile

    with good("第一課").open("rb") as src, target.open("wb") as out:
        OOXMLFile(src).encrypt("secret", out)


def _macro(target: Path) -> None:
    shutil.copy(good("第三課"), target)
    set_saved(target, OLD)
    with zipfile.ZipFile(target, "a") as zf:
        zf.writestr("xl/vbaProject.bin", b"\xd0\xcf\x11\xe0Attribute VB_Name = \"Module1\"\nShell \"calc\"")


def _rows(change: str) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        def edit(ws, wb):
            if change == "deleted":
                ws.delete_rows(R0 + 1)
            elif change == "inserted":
                ws.insert_rows(R0 + 1)
                ws.cell(R0 + 1, 1).value = "9-9-9"
                ws.cell(R0 + 1, 12).value = 5
            else:  # sorted
                a = [c.value for c in ws[R0]]
                b = [c.value for c in ws[R0 + 1]]
                for col, (x, y) in enumerate(zip(a, b), start=1):
                    ws.cell(R0, col).value, ws.cell(R0 + 1, col).value = y, x
        _edit("第四課", target, edit)
    return build


def _rename_form(delete: bool) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        wb = openpyxl.load_workbook(good("第五課"))
        if delete:
            del wb["填報表"]
        else:
            wb["填報表"].title = "我們的表"
        wb.save(target)
        set_saved(target, OLD)
    return build


def _merged(target: Path) -> None:
    _edit("第六課", target, lambda ws, wb: ws.merge_cells(f"K{R0}:L{R0 + 1}"))


def _last_year_template(target: Path) -> None:
    """Last year's template of the same unit: the plan of 108 drawn by xltool itself."""
    from dataclasses import replace

    from xltool.forms.template import build_template
    from xltool.forms.xlsx_writer import write_xlsx
    from xltool.plan import load_plan

    plan = load_plan(EXAMPLE / "plan.xlsx")
    old = replace(plan, info=replace(plan.info, year=108, name=plan.info.name.replace("109", "108")))
    write_xlsx(build_template(old, "人事室", datetime(2019, 6, 20)), target)


def _long_and_control(long_text: str) -> Callable[[Path], None]:
    """Over-long text, and control characters the way Excel escapes them (_x0007_)."""
    def build(target: Path) -> None:
        _edit("政風室", target, _cells(K6="LONGMARK", K7="含控制字元CTRLA與CTRLB跳脫"))
        with zipfile.ZipFile(target) as zf:  # wherever the writer put its strings
            members = [n for n in zf.namelist() if b"LONGMARK" in zf.read(n)]
        for member in members:
            rewrite(target, member,
                    lambda xml: xml.replace(b"CTRLA", b"_x0007_").replace(b"CTRLB", b"_x001B_")
                    .replace(b"LONGMARK", long_text.encode("utf-8")))
    return build


def _write(data: bytes) -> Callable[[Path], None]:
    return lambda target: target.write_bytes(data)


def _truncated(target: Path) -> None:
    data = good("第二課").read_bytes()
    target.write_bytes(data[: len(data) // 2])


# ---------------------------------------------------------------- issue 10: gaps in the gate

def _append_rows(xml_rows: bytes, unit: str = "第一課") -> Callable[[Path], None]:
    return lambda t: _sheet_xml(t, lambda xml: xml.replace(b"</sheetData>", xml_rows + b"</sheetData>"),
                                unit)


def _set_cell(xml: bytes, ref: str, inner: bytes, kind: bytes = b"") -> bytes:
    """Replace cell ``ref``'s content (and type) in sheet XML written by XlsxWriter."""
    import re

    attrs = b' t="' + kind + b'"' if kind else b""
    pattern = rb'<c r="' + ref.encode() + rb'"( s="\d+")?(?: t="[^"]*")?(?:/>|>.*?</c>)'
    return re.sub(pattern, lambda m: b'<c r="' + ref.encode() + b'"' + (m.group(1) or b"") + attrs
                  + b">" + inner + b"</c>", xml, count=1, flags=re.S)


def _moved_form(target: Path) -> None:
    """The form sheet stored outside xl/worksheets/, with a formula in it."""
    _copy("第二課", target)
    set_saved(target, OLD)
    with zipfile.ZipFile(target) as zf:
        form = zf.read("xl/worksheets/sheet2.xml")
    form = _set_cell(form, "L6", b"<f>1+1</f><v>9</v>")
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(target) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "xl/worksheets/sheet2.xml":
                zout.writestr("evil/form.xml", form)
                continue
            if info.filename == "xl/_rels/workbook.xml.rels":
                data = data.replace(b'Target="worksheets/sheet2.xml"', b'Target="/evil/form.xml"')
            if info.filename == "[Content_Types].xml":
                data = data.replace(b"/xl/worksheets/sheet2.xml", b"/evil/form.xml")
            zout.writestr(info, data)
    shutil.move(tmp, target)


def _prefixed(xml: bytes) -> bytes:
    """The same sheet with every element under an x: prefix, as some writers do."""
    import re

    main = b"http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    xml = _set_cell(xml, "L6", b"<f>1+1</f><v>9</v>")
    xml = re.sub(rb"<(/?)([A-Za-z]+)(?=[\s>/])", rb"<\1x:\2", xml)
    return xml.replace(b'xmlns="' + main + b'"', b'xmlns:x="' + main + b'"', 1)


def _shared_string_bomb(target: Path) -> None:
    """200,000 cells that all point at one 2,000-character shared string."""
    _copy("第一課", target)
    set_saved(target, OLD)
    with zipfile.ZipFile(target) as zf:
        count = zf.read("xl/sharedStrings.xml").count(b"<si>")
    rewrite(target, "xl/sharedStrings.xml",
            lambda xml: xml.replace(b"</sst>", b"<si><t>" + "長".encode() * 2000 + b"</t></si></sst>"))
    cells = b"".join(b'<c t="s"><v>%d</v></c>' % count for _ in range(100))
    rows = b"".join(b'<row r="%d">%s</row>' % (r, cells) for r in range(40, 2040))
    rewrite(target, "xl/worksheets/sheet2.xml", lambda xml: xml.replace(b"</sheetData>", rows + b"</sheetData>"))


def _formula_then_many_elements(target: Path) -> None:
    """One formula, then 50,000 small elements: a scan must stay linear in the file."""
    def change(xml: bytes) -> bytes:
        xml = _set_cell(xml, "L6", b"<f>9</f><v>9</v>")
        tail = b"".join(b'<row r="%d"/>' % r for r in range(100, 50_100))
        return xml.replace(b"</sheetData>", tail + b"</sheetData>")
    _sheet_xml(target, change)


def _not_finite(target: Path) -> None:
    """NaN and an overflowing number in number cells and in the 填報日期 cell."""
    def change(xml: bytes) -> bytes:
        xml = _set_cell(xml, "L6", b"<v>NaN</v>")
        xml = _set_cell(xml, "J6", b"<v>1e999</v>")
        return _set_cell(xml, "K3", b"<v>NaN</v>")  # 填報日期
    _sheet_xml(target, change, "第三課")


def _saved_in(year: str, unit: str, edit: dict | None = None) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        if edit:
            _edit(unit, target, _cells(**edit))
        else:
            _copy(unit, target)
        rewrite(target, "docProps/core.xml", lambda xml: __import__("re").sub(
            rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
            rb"\g<1>" + year.encode() + rb"-12-31T00:00:00Z\g<2>", xml))
    return build


def _identity_conflict(target: Path) -> None:
    """第二課's return whose document properties claim it is 第一課's."""
    _copy("第二課", target)
    set_saved(target, OLD)
    rewrite(target, "docProps/custom.xml", lambda xml: xml.replace(
        "<vt:lpwstr>第二課</vt:lpwstr>".encode(), "<vt:lpwstr>第一課</vt:lpwstr>".encode()))


def _forged_fingerprint(target: Path) -> None:
    """A locked cell edited, and a made-up fingerprint to pass it off as a plan change."""
    _edit("第四課", target, _cells(E6="改過的具體作法"))
    import re

    fake = b"0123456789abcdef01234567"
    _replace_everywhere(target, lambda xml: re.sub(rb"[0-9a-f]{24}(?=</)", fake, xml))
    set_saved(target, OLD)


def _replace_everywhere(target: Path, change: Callable[[bytes], bytes]) -> None:
    """Apply ``change`` to every XML member (wherever the writer put its strings)."""
    with zipfile.ZipFile(target) as zf:
        members = [n for n in zf.namelist() if n.endswith(".xml") and change(zf.read(n)) != zf.read(n)]
    for member in members:
        rewrite(target, member, change)


def _long_ids(target: Path) -> None:
    """Rows whose 編號 is 200,000 characters: messages must quote a few of them only."""
    long_id = "9-9-" + "9" * 200_000
    rows = {f"A{r}": long_id for r in range(40, 60)}
    rows.update({f"L{r}": 1 for r in range(40, 60)})
    _edit("第五課", target, _cells(**rows))


def _control_id(target: Path) -> None:
    """An extra row whose 編號 holds terminal escapes and a carriage return, the way
    Excel stores control characters (_x001B_)."""
    _edit("第六課", target, _cells(A40="CTRLID", L40=1))
    _replace_everywhere(target, lambda xml: xml.replace(
        b"CTRLID", "_x001B_[2J_x001B_[31m假編號_x000D_OK".encode()))


def _ods_content(unit: str, change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        shutil.copy(RETURNS / f"109_提升服務效能_{unit}.ods", target)
        _rewrite_ods(target, change)
        _ods_saved(target, OLD)
    return build


def _rewrite_ods(target: Path, change: Callable[[bytes], bytes]) -> None:
    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(target) as zin, zipfile.ZipFile(tmp, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "content.xml":
                data = change(data)
            zout.writestr(info, data, zipfile.ZIP_STORED if info.filename == "mimetype"
                          else zipfile.ZIP_DEFLATED)
    shutil.move(tmp, target)


def _ods_saved(target: Path, when: datetime) -> None:
    import re

    tmp = target.with_suffix(".tmp")
    with zipfile.ZipFile(target) as zin, zipfile.ZipFile(tmp, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "meta.xml":
                data = re.sub(rb"<dc:date>[^<]*</dc:date>",
                              b"<dc:date>" + when.isoformat().encode() + b"</dc:date>", data)
            zout.writestr(info, data, zipfile.ZIP_STORED if info.filename == "mimetype"
                          else zipfile.ZIP_DEFLATED)
    shutil.move(tmp, target)


def _after_form_table(extra: bytes) -> Callable[[bytes], bytes]:
    """Append rows at the end of the 填報表 table (the second table of content.xml)."""
    def change(xml: bytes) -> bytes:
        head, sep, rest = xml.partition("table:name=\"填報表\"".encode())
        body, end, tail = rest.partition(b"</table:table>")
        return head + sep + body + extra + end + tail
    return change


def _ods_formula(xml: bytes) -> bytes:
    """=1+1 with a cached 9 in the first item's 自評分數 (L6), as LibreOffice stores it."""
    import xml.etree.ElementTree as ET

    namespaces = dict(ns for _, ns in ET.iterparse(io.BytesIO(xml), events=["start-ns"]))
    for prefix, uri in namespaces.items():
        ET.register_namespace(prefix, uri)
    root = ET.fromstring(xml)
    t = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
    o = "{urn:oasis:names:tc:opendocument:xmlns:office:1.0}"
    table = next(e for e in root.iter(t + "table") if e.get(t + "name") == "填報表")
    rows = [e for e in table.iter(t + "table-row")]
    cell = [c for c in rows[5] if c.tag == t + "table-cell"][11]
    cell.set(t + "formula", "of:=1+1")
    cell.set(o + "value-type", "float")
    cell.set(o + "value", "9")
    for child in list(cell):
        cell.remove(child)
    ET.SubElement(cell, "{urn:oasis:names:tc:opendocument:xmlns:text:1.0}p").text = "9"
    return b"<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(root)


def _xls(unit: str, **options) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        from xls import to_xls

        to_xls(good(unit), target, **options)
    return build


def _xls_records(unit: str, change: Callable[[list], None]) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        from xls import assemble, records, save_stream, xls_stream

        recs = records(xls_stream(good(unit)))
        change(recs)
        save_stream(assemble(recs), target)
    return build


def _xls_far(recs: list) -> None:
    """A number at row 60,001, column GS of 填報表 (the third substream: after the
    globals and 填報說明)."""
    import struct

    form_eof = [i for i, (k, _) in enumerate(recs) if k == 0x000A][2]
    recs.insert(form_eof, [0x0203, struct.pack("<HHHd", 60000, 200, 15, 1.0)])


def _xls_dimensions(recs: list) -> None:
    import struct

    dims = [r for r in recs if r[0] == 0x0200][1]  # the 填報表 sheet's
    dims[1] = struct.pack("<IIHHH", 0, 0x7FFFFFF0, 0, 0xFF00, 0)


def _xls_sst_count(recs: list) -> None:
    import struct

    sst = next(r for r in recs if r[0] == 0x00FC)
    sst[1] = sst[1][:4] + struct.pack("<I", 0xFFFFFFF0) + sst[1][8:]


def _xls_fuzz_find(name: str) -> Callable[[Path], None]:
    """A file the fuzzer found (tests/fuzz_finds.json), rebuilt from its recipe."""
    def build(target: Path) -> None:
        import fuzzing

        fuzzing.rebuild(fuzzing.find(name), target)
    return build


def _big5_name() -> str:
    """A return whose name is Big5 bytes, as unzipped from an old Windows archive."""
    return os.fsdecode("109_提升服務效能_第三課_舊檔.xlsx".encode("cp950"))


def gate_cases() -> list[Case]:
    """Issue 10: every way past the gate that was seen, in .xlsx, .ods and .xls."""
    far = b'<row r="99999999"><c r="A99999999"><v>1</v></c></row>'
    wide = b'<row r="40"><c r="AAAA40"><v>1</v></c></row>'
    unnumbered = b"<row><c><v>1</v></c></row>" * 6000
    ods_extent = (b'<table:table-row table:number-rows-repeated="5500"><table:table-cell '
                  b'office:value-type="float" office:value="1" table:number-columns-repeated="16384">'
                  b"<text:p>1</text:p></table:table-cell></table:table-row>")
    ods_column = (b'<table:table-row table:number-rows-repeated="4900000"><table:table-cell '
                  b'office:value-type="string"><text:p>x</text:p></table:table-cell></table:table-row>')
    cases = [
        Case("109_提升服務效能_第一課_遠列.xlsx", _append_rows(far), "too-large", True),
        Case("109_提升服務效能_第一課_遠欄.xlsx", _append_rows(wide), "too-large", True),
        Case("109_提升服務效能_第一課_無列號.xlsx", _append_rows(unnumbered), "too-large", True),
        Case("109_提升服務效能_第二課_搬表.xlsx", _moved_form, "formula", False, "第二課"),
        Case("109_提升服務效能_第一課_前綴.xlsx", lambda t: _sheet_xml(t, _prefixed), "formula", False,
             "第一課"),
        Case("109_提升服務效能_第一課_共用字串.xlsx", _shared_string_bomb, "too-large", True),
        Case("109_提升服務效能_第一課_長尾.xlsx", _formula_then_many_elements, "formula", False, "第一課"),
        Case("109_提升服務效能_第三課_非數.xlsx", _not_finite, "type-error", False, "第三課"),
        Case("109_提升服務效能_第三課_西元一年.xlsx", _saved_in("0001", "第三課"), "implausible-time",
             False, "第三課"),
        Case("109_提升服務效能_第一課_未來.xlsx", _saved_in("9999", "第一課", {"L6": 0, "L7": 0}),
             "implausible-time", False, "第一課"),
        Case("109_提升服務效能_第二課_身分矛盾.xlsx", _identity_conflict, "identity-conflict", True),
        Case("109_提升服務效能_第四課_偽造.xlsx", _forged_fingerprint, "fingerprint-mismatch", False,
             "第四課"),
        Case("109_提升服務效能_第五課_長編號.xlsx", _long_ids, "foreign-row", False, "第五課"),
        Case("109_提升服務效能_第六課_控制字元.xlsx", _control_id, "foreign-row", False, "第六課"),
        Case("109_提升服務效能_金門辦事處_重複格.ods",
             _ods_content("金門辦事處", _after_form_table(ods_extent)), "too-large", True),
        Case("109_提升服務效能_澎湖辦事處_重複列.ods",
             _ods_content("澎湖辦事處", _after_form_table(ods_column)), "too-large", True),
        Case("109_提升服務效能_金門辦事處_公式.ods", _ods_content("金門辦事處", _ods_formula), "formula",
             False, "金門辦事處"),
        Case("109_提升服務效能_第二課.xls", _xls("第二課"), "", False, "第二課"),
        Case("109_提升服務效能_第二課_公式.xls", _xls("第二課", formulas={("填報表", "L6"): "H6-1"}),
             "formula", False, "第二課"),
        Case("109_提升服務效能_第二課_遠格.xls", _xls_records("第二課", _xls_far), "too-large", True),
        Case("109_提升服務效能_第二課_範圍.xls", _xls_records("第二課", _xls_dimensions), "too-large",
             True),
        Case("109_提升服務效能_第二課_字串表.xls", _xls_records("第二課", _xls_sst_count), "too-large",
             True),
        Case("109_提升服務效能_第二課_崩潰.xls", _xls_fuzz_find("xls-panic"), "unreadable", True),
        Case("109_提升服務效能_第二課_配置.xls", _xls_fuzz_find("xls-alloc-abort"), "too-large", True),
    ]
    if os.name != "nt":  # NTFS names are always Unicode
        cases.append(Case(_big5_name(), lambda t: (_copy("第三課", t), set_saved(t, OLD)), "", False,
                          "第三課"))
    return cases


# ---------------------------------------------------------------- where gate and reader disagreed
# An attempt to break the gate (the formula's cached 9 must never be taken as a typed 9):
# each of these once made the gate measure one thing while the reader read another.

def _with_formula(unit: str, change_parts: Callable[[dict[str, bytes]], None]) -> Callable[[Path], None]:
    def build(target: Path) -> None:
        with zipfile.ZipFile(good(unit)) as zf:
            parts = {i.filename: zf.read(i.filename) for i in zf.infolist()}
        parts["xl/worksheets/sheet2.xml"] = _set_cell(parts["xl/worksheets/sheet2.xml"], "L6",
                                                      b"<f>1+1</f><v>9</v>")
        change_parts(parts)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
            for name, data in parts.items():
                zout.writestr(name, data)
        set_saved(target, OLD)
    return build


def _target_case(parts: dict[str, bytes]) -> None:
    """The form's relationship names its part in another letter case."""
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = parts[rels].replace(b'Target="worksheets/sheet2.xml"', b'Target="Worksheets/sheet2.xml"')


def _two_ids(parts: dict[str, bytes]) -> None:
    """A second, unprefixed id on the form's sheet entry, pointing at another sheet."""
    book = "xl/workbook.xml"
    parts[book] = parts[book].replace('name="填報表" sheetId="2" r:id="rId2"'.encode(),
                                      'name="填報表" sheetId="2" id="rId1" r:id="rId2"'.encode())


def _tab_in_name(parts: dict[str, bytes]) -> None:
    """A tab in the sheet's name, which an XML parser turns into a space and a reader keeps."""
    book = "xl/workbook.xml"
    parts[book] = parts[book].replace('name="填報表"'.encode(), 'name="填報表\t"'.encode())


def _shifted_ods(change: Callable[[bytes], bytes]) -> Callable[[Path], None]:
    """The 金門辦事處 .ods with a formula (cached 9) in its first item's 自評分數, and a
    change meant to move that cell for one reader and not the other."""
    def build(target: Path) -> None:
        _ods_content("金門辦事處", lambda xml: change(_ods_formula(xml)))(target)
    return build


def _zero_repeats(xml: bytes) -> bytes:
    """Four cells repeated zero times before the formula cell."""
    head, sep, rest = xml.partition(b'table:formula="of:=1+1"')
    start = head.rindex(b"<table:table-cell")
    return head[:start] + b'<table:table-cell table:number-columns-repeated="0"/>' * 4 + \
        head[start:] + sep + rest


def _foreign_name(xml: bytes) -> bytes:
    """A foreign namespace's name attribute before the table's own."""
    return xml.replace('<table:table table:name="填報表"'.encode(),
                       '<table:table xmlns:x="urn:x" x:name="X" table:name="填報表"'.encode(), 1)


def _xls_form_formula(recs: list) -> None:
    """=1+1 in 填報表!L6, cached 9 (a FORMULA record in place of the NUMBER)."""
    import struct

    sheet = [i for i, (k, _) in enumerate(recs) if k == 0x0809][2]
    end = next(i for i in range(sheet, len(recs)) if recs[i][0] == 0x000A)
    for i in range(sheet, end):
        kind, body = recs[i]
        if kind in (0x0203, 0x027E) and struct.unpack_from("<HH", body) == (5, 11):
            xf = struct.unpack_from("<H", body, 4)[0]
            tokens = b"\x1e\x01\x00\x1e\x01\x00\x03"  # 1 1 +
            recs[i] = [0x0006, struct.pack("<HHHdHI", 5, 11, xf, 9.0, 0, 0)
                       + struct.pack("<H", len(tokens)) + tokens]
            return
    raise AssertionError("no L6 in 填報表")


def _xls_two_entries(recs: list) -> None:
    """A second sheet-list entry named X at the form sheet's offset."""
    _xls_form_formula(recs)
    entries = [i for i, (k, _) in enumerate(recs) if k == 0x0085]
    recs.insert(entries[-1] + 1, [0x0085, recs[entries[1]][1][:6] + bytes([1, 0]) + b"X"])


def _xls_hidden_sheet(target: Path) -> None:
    """The form sheet's records wrapped inside one unknown record, its sheet-list entry
    pointing into that record: read from its offset, invisible to a record-by-record walk."""
    import struct

    from xls import records, save_stream, xls_stream

    recs = records(xls_stream(good("第二課")))
    _xls_form_formula(recs)
    bofs = [i for i, (k, _) in enumerate(recs) if k == 0x0809]
    start, end = bofs[2], next(i for i in range(bofs[2], len(recs)) if recs[i][0] == 0x000A)
    inner = b"".join(struct.pack("<HH", k, len(b)) + b for k, b in recs[start:end + 1])
    recs[start:end + 1] = [[0x1234, inner]]
    positions, pos = [], 0
    for _kind, body in recs:
        positions.append(pos)
        pos += 4 + len(body)
    sheets = [positions[i] for i, (k, _) in enumerate(recs) if k == 0x0809][1:]
    targets = [sheets[0], positions[start] + 4] + sheets[1:]
    entries = [i for i, (k, _) in enumerate(recs) if k == 0x0085]
    for n, i in enumerate(entries):
        recs[i][1] = struct.pack("<I", targets[n]) + recs[i][1][4:]
    save_stream(b"".join(struct.pack("<HH", k, len(b)) + b for k, b in recs), target)


def _xls_records_raw(unit: str, change: Callable[[list], None]) -> Callable[[Path], None]:
    """Like _xls_records, keeping the offsets ``change`` set (no re-assembly)."""
    def build(target: Path) -> None:
        import struct

        from xls import assemble, records, save_stream, xls_stream

        recs = records(assemble(records(xls_stream(good(unit)))))
        change(recs)
        stream = assemble(recs[:-1] + [recs[-1]])
        fixed = records(stream)
        entries = [i for i, (k, _) in enumerate(fixed) if k == 0x0085]
        fixed[entries[-1]][1] = fixed[entries[1]][1][:4] + fixed[entries[-1]][1][4:]
        save_stream(b"".join(struct.pack("<HH", k, len(b)) + b for k, b in fixed), target)
    return build


def _shadow_column(target: Path) -> None:
    """The 具體作法 title made different by an invisible character, every E cell rewritten,
    and a hidden column titled 具體作法 holding the plan's text."""
    def change(ws, wb):
        ws["E5"] = "具體作法\u200b"
        ws["N5"] = "具體作法"
        for r in range(6, 6 + 12):
            ws.cell(r, 14).value = ws.cell(r, 5).value
            if ws.cell(r, 5).value:
                ws.cell(r, 5).value = "改寫過的具體作法"
        ws.column_dimensions["N"].hidden = True
    _edit("第四課", target, change)


def _generated_in_year_one(target: Path) -> None:
    _copy("第三課", target)
    set_saved(target, OLD)
    import re

    rewrite(target, "docProps/custom.xml", lambda xml: re.sub(
        rb"(xltool_generated\"><vt:lpwstr>)[^<]*", rb"\g<1>0001-01-01T00:00:00+00:00", xml))


def _saved_tomorrow(target: Path) -> None:
    from datetime import timedelta

    _edit("第一課", target, _cells(L6=0, L7=0))
    set_saved(target, datetime.utcnow() + timedelta(hours=20))


def _hyphen_r(xml: bytes) -> bytes:
    return xml.replace(b"</sheetData>", b'<row r="40"><c x-r="A40" r="M1000000"><v>1</v></c></row>'
                       b"</sheetData>")


def _unclosed_cells(xml: bytes) -> bytes:
    return xml.replace(b"</sheetData>", b"<c " * 1_300_000 + b"</sheetData>")


def attack_cases() -> list[Case]:
    return [
        Case("109_提升服務效能_第二課_大小寫.xlsx", _with_formula("第二課", _target_case), "formula",
             False, "第二課"),
        Case("109_提升服務效能_第二課_兩個id.xlsx", _with_formula("第二課", _two_ids), "formula", False,
             "第二課"),
        Case("109_提升服務效能_第二課_名稱定位.xlsx", _with_formula("第二課", _tab_in_name), "formula",
             False, "第二課"),
        # Zero repeats are invalid ODF; read as one cell each, they move the formula out of
        # the input columns: the score is then missing, and the cached 9 is still not taken.
        Case("109_提升服務效能_金門辦事處_零重複.ods", _shifted_ods(_zero_repeats), "missing-value",
             False, "金門辦事處"),
        Case("109_提升服務效能_金門辦事處_外來名稱.ods", _shifted_ods(_foreign_name), "formula", False,
             "金門辦事處"),
        Case("109_提升服務效能_第二課_兩個表目.xls", _xls_records_raw("第二課", _xls_two_entries),
             "formula", False, "第二課"),
        Case("109_提升服務效能_第二課_藏表.xls", _xls_hidden_sheet, "formula", False, "第二課"),
        Case("109_提升服務效能_第四課_影子欄.xlsx", _shadow_column, "locked-cell-edited", False, "第四課"),
        Case("109_提升服務效能_第三課_元年.xlsx", _generated_in_year_one, "", False, "第三課"),
        Case("109_提升服務效能_第一課_明日.xlsx", _saved_tomorrow, "implausible-time", False, "第一課"),
        Case("109_提升服務效能_第一課_連字號.xlsx", lambda t: _sheet_xml(t, _hyphen_r), "too-large", True),
        Case("109_提升服務效能_第一課_未閉合.xlsx", lambda t: _sheet_xml(t, _unclosed_cells),
             "corrupt-file", True),
    ]


def cases() -> list[Case]:
    long_text = "很長的說明" * 7000  # 35,000 characters, over Excel's 32,767
    return [
        Case("109_提升服務效能_第一課_空檔.xlsx", _write(b""), "empty-file", True),
        Case("109_提升服務效能_第一課.pdf.xlsx", _write(b"%PDF-1.4\n1 0 obj<<>>endobj\n%%EOF\n"),
             "wrong-format", True),
        Case("109_提升服務效能_第二課.csv.xlsx", _write("編號,自評分數\n1-1-1,9\n".encode()),
             "wrong-format", True),
        Case("109_提升服務效能_第二課_截斷.xlsx", _truncated, "corrupt-file", True),
        Case("109_提升服務效能_第一課_加密.xlsx", _encrypted, "encrypted", True),
        Case("109_提升服務效能_第三課.xlsm", _macro, "macro-removed", False, "第三課"),
        Case("109_提升服務效能_第一課_bomb.xlsx", _zip_bomb, "zip-bomb", True),
        Case("109_提升服務效能_第一課_bomb2.xlsx", lambda t: _zip_bomb(t, honest=False),
             "corrupt-file", True),
        Case("109_提升服務效能_第一課_lol.xlsx", _billion_laughs, "xml-rejected", True),
        Case("109_提升服務效能_第一課_xxe.xlsx", _xxe, "xml-rejected", True),
        Case("109_提升服務效能_第一課_dim.xlsx", _lying_dimension, "", False, "第一課"),
        Case("109_提升服務效能_第一課_far.xlsx", _far_cell, "too-large", True),
        Case("109_提升服務效能_第二課_無類型.xlsx", _drop_member("第二課", "[Content_Types].xml"),
             "corrupt-file", True),
        Case("109_提升服務效能_第二課_缺表.xlsx", _drop_member("第二課", "xl/worksheets/sheet2.xml"),
             "unreadable", True),
        Case("109_提升服務效能_第一課_公式.xlsx", _formulas, "formula", False, "第一課"),
        Case("109_提升服務效能_第二課_貼上.xlsx",
             lambda t: _edit("第二課", t, _cells(I6="做完了", I7="已 完 成")), "not-in-list", False,
             "第二課"),
        Case("109_提升服務效能_第三課_他課.xlsx", lambda t: (_copy("第六課", t), set_saved(t, OLD)),
             "name-mismatch", False, "第六課"),
        Case("109_提升服務效能_人事室_去年.xlsx", _last_year_template, "wrong-plan", True),
        Case("109_提升服務效能_第五課_更名.xlsx", _rename_form(False), "sheet-renamed", False,
             "第五課"),
        Case("109_提升服務效能_第五課_刪表.xlsx", _rename_form(True), "form-sheet-missing", False,
             "第五課"),
        Case("109_提升服務效能_第六課_改字.xlsx",
             lambda t: _edit("第六課", t, _cells(E6="我們改過的具體作法")), "locked-cell-edited", False,
             "第六課"),
        Case("109_提升服務效能_第四課_刪列.xlsx", _rows("deleted"), "row-deleted", False, "第四課"),
        Case("109_提升服務效能_第四課_插列.xlsx", _rows("inserted"), "foreign-row", False, "第四課"),
        Case("109_提升服務效能_第四課_排序.xlsx", _rows("sorted"), "rows-reordered", False, "第四課"),
        Case("109_提升服務效能_秘書室_舊版.xlsx", lambda t: (_copy("秘書室", t), set_saved(t, OLD)),
             "", False, "秘書室"),
        Case("109_提升服務效能_主計室_注入.xlsx", lambda t: _edit("主計室", t, _cells(
            K6="=HYPERLINK(\"http://attacker.example\")", K7="+886 專線", K8="-1 件", K9="@SUM(A1)",
            K10="\t以 Tab 開頭", K11="\r以 CR 開頭")), "", False, "主計室"),
        Case("109_提升服務效能_政風室_超長.xlsx", _long_and_control(long_text), "too-long", False,
             "政風室"),
        Case("109_提升服務效能_人事室_全形.xlsx", lambda t: _edit("人事室", t, _cells(
            L6="２５", J6="１２", L7="26.5 ")), "normalized", False, "人事室"),
        Case("109_提升服務效能_人事室_NA.xlsx", lambda t: _edit("人事室", t, _cells(
            L6="N/A", J6="N/A")), "type-error", False, "人事室"),
        Case("109_提升服務效能_第六課_合併.xlsx", _merged, "merged-input-cells", False, "第六課"),
    ] + ([] if os.name == "nt" else [  # Windows cannot even hold such a name
        Case("..\\..\\109_提升服務效能_主計室<:?*>.xlsx",
             lambda t: _edit("主計室", t, _cells(L6=999)), "out-of-range", False, "主計室"),
    ]) + gate_cases() + attack_cases()


def build(folder: Path) -> list[Case]:
    folder.mkdir(parents=True, exist_ok=True)
    built = cases()
    for case in built:
        case.build(folder / case.name)
    return built
