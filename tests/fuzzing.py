"""A structure-aware mutation fuzzer for returns in .xlsx, .ods and .xls.

Each mutation is a recipe: a list of edits to one of three base files built in
code from the worked example (a return as xltool writes it, and its .xls copy).
The xlsx and ods edits work on single zip members, so they reach the parsers
behind the zip layer; the xls edits work on single BIFF records, so they reach
calamine's record parsers behind the compound-file layer.

Recipes are deterministic: the same seed gives the same edits, and every find
is kept in ``fuzz_finds.json`` as the edits themselves, so the corpus of finds
is rebuilt by code (``rebuild``) and replayed as regression tests. Fresh
mutations edit the example's current returns; finds are kept against frozen
bases written here from literal cells, so that they still reproduce after the
templates change.

Search for more with ``python tests/fuzzing.py [iterations] [seed]``: a find is a
file whose worker crashed, ran out of memory or time, or that raised inside
xltool (an ``internal-error`` issue).
"""
from __future__ import annotations

import io
import json
import random
import struct
import sys
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
FINDS = HERE / "fuzz_finds.json"
RETURNS = HERE.parent / "examples" / "kaohsiung-109" / "returns"
FORMATS = ("xlsx", "ods", "xls")
_BASES: dict[str, object] = {}

SPECIAL = [0, 1, 0x7F, 0x80, 0xFF, 0x7FFF, 0xFFFF, 0x10000, 0x7FFFFFFF, 0xFFFFFFFF]
# Numbers an XML part may be made to carry: indexes, repeats, rows, values.
NUMBERS = [b"0", b"-1", b"65536", b"1048577", b"99999999", b"4294967296", b"1e999", b"NaN",
           b"-0", b"18446744073709551616", b"2.5", b"007"]


def base(fmt: str, which: str = "current"):
    """The file a recipe edits: zip members (name → bytes) or BIFF records."""
    if which == "frozen":
        return frozen_base(fmt)
    if fmt not in _BASES:
        if fmt == "xls":
            sys.path.insert(0, str(HERE))
            from xls import records, xls_stream

            _BASES[fmt] = records(xls_stream(RETURNS / "109_提升服務效能_第二課.xlsx"))
        else:
            name = "109_提升服務效能_第二課.xlsx" if fmt == "xlsx" else "109_提升服務效能_金門辦事處.ods"
            with zipfile.ZipFile(RETURNS / name) as zf:
                _BASES[fmt] = [(i.filename, zf.read(i.filename)) for i in zf.infolist()]
    return _BASES[fmt]


def random_recipe(fmt: str, rng: random.Random, which: str = "current") -> dict:
    """A few edits of one kind the format's parsers care about."""
    parts = base(fmt, which)
    edits = []
    for _ in range(rng.randint(1, 4)):
        k = rng.randrange(len(parts))
        size = len(parts[k][1])
        if not size:
            continue
        pos = rng.randrange(size)
        how = rng.choice(["byte", "digits", "digits", "digits", "repeat", "drop"] if fmt != "xls"
                         else ["byte", "word", "word", "cut", "repeat"])
        value = rng.choice(SPECIAL) if how == "word" else (
            rng.randrange(len(NUMBERS)) if how == "digits" else rng.randrange(256))
        edits.append([k, how, pos, value])
    return {"format": fmt, "base": which, "edits": edits}


def _edit(data: bytes, how: str, pos: int, value: int) -> bytes:
    buf = bytearray(data)
    if not buf:
        return data
    pos = min(pos, len(buf) - 1)
    if how == "byte":
        buf[pos] = value & 0xFF
    elif how == "word":
        buf[pos:pos + 4] = struct.pack("<I", value & 0xFFFFFFFF)
    elif how == "cut":
        del buf[pos:]
    elif how == "repeat":  # a slice copied many times: counts and nesting grow
        chunk = bytes(buf[pos:pos + 1 + value % 64])
        buf[pos:pos] = chunk * (1 + value % 40)
    elif how == "drop":
        del buf[pos:pos + 1 + value % 64]
    elif how == "digits":  # the next run of digits becomes another number: XML stays well formed
        import re

        m = re.compile(rb"\d+").search(bytes(buf), pos)
        if m:
            buf[m.start():m.end()] = NUMBERS[value % len(NUMBERS)]
    return bytes(buf)


def build(recipe: dict) -> bytes:
    fmt = recipe["format"]
    parts = [list(p) for p in base(fmt, recipe.get("base", "current"))]
    for k, how, pos, value in recipe["edits"]:
        if k < len(parts):
            parts[k][1] = _edit(parts[k][1], how, pos, value)
    if fmt == "xls":
        from xls import assemble
        from xlwt.CompoundDoc import XlsDoc

        out = io.BytesIO()
        XlsDoc().save(out, assemble(parts))
        return out.getvalue()
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, data in parts:
            zf.writestr(name, data, zipfile.ZIP_STORED if name == "mimetype" else zipfile.ZIP_DEFLATED)
    return out.getvalue()


def rebuild(recipe: dict, target: Path) -> Path:
    Path(target).write_bytes(build(recipe))
    return Path(target)


def finds() -> dict[str, dict]:
    return json.loads(FINDS.read_text(encoding="utf-8"))


def find(name: str) -> dict:
    return finds()[name]


def recipes(fmt: str, seed: int, count: int, which: str = "current") -> list[dict]:
    rng = random.Random(f"{fmt}-{seed}" + ("" if which == "current" else f"-{which}"))
    return [random_recipe(fmt, rng, which) for _ in range(count)]


# ------------------------------------------------------------------ frozen bases
# Literal cells, written with xlwt and zipfile alone: nothing here depends on how
# xltool writes its templates, so a recipe against these rebuilds the same bytes.

_CELLS = [["編號", "構面", "執行方法", "配分", "執行狀態", "實際值", "執行績效與成果", "自評分數"],
          ["1-1-1", "基礎服務", "訂定標準作業流程", 9, "已完成", 33, "檢討作業流程 33 件。", 7],
          ["1-1-2", "基礎服務", "提升服務一致性", 9, "執行中", 6.5, "辦理訓練 6 場，\n參加 120 人。", 8.25],
          ["1-2-1", "服務遞送", "簡化申辦流程", 20, "不適用", None, "本年度無申辦案件。", None]]
_FROZEN: dict[str, object] = {}


def frozen_base(fmt: str):
    if fmt not in _FROZEN:
        _FROZEN[fmt] = {"xls": _frozen_xls, "xlsx": _frozen_xlsx, "ods": _frozen_ods}[fmt]()
    return _FROZEN[fmt]


def _frozen_xls():
    import xlwt

    sys.path.insert(0, str(HERE))
    from xls import records

    book = xlwt.Workbook(encoding="utf-8")
    for name in ("填報說明", "填報表", "_xltool"):
        sheet = book.add_sheet(name)
        for r, row in enumerate(_CELLS if name == "填報表" else [["xltool_unit", "第二課"]]):
            for c, value in enumerate(row):
                if value is not None:
                    sheet.write(r + 4, c, value)
    return records(book.get_biff_data())


def _xml_cell(r: int, c: int, value, strings: list[str]) -> str:
    ref = f"{chr(65 + c)}{r}"
    if isinstance(value, str):
        strings.append(value)
        return f'<c r="{ref}" t="s"><v>{len(strings) - 1}</v></c>'
    return f'<c r="{ref}"><v>{value}</v></c>'


def _frozen_xlsx():
    from xml.sax.saxutils import escape

    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    strings: list[str] = []
    rows = "".join(f'<row r="{r}">' + "".join(_xml_cell(r, c, v, strings) for c, v in enumerate(row)
                                              if v is not None) + "</row>"
                   for r, row in enumerate(_CELLS, start=5))
    sheet = (f'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="{main}" xmlns:r="{rel}">'
             f'<dimension ref="A5:H8"/><sheetData>{rows}</sheetData></worksheet>')
    sst = (f'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="{main}" count="{len(strings)}" '
           f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{escape(t)}</t></si>" for t in strings)
           + "</sst>")
    types = ('<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
             'package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/>'
             '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.'
             'relationships+xml"/><Override PartName="/xl/workbook.xml" ContentType="application/'
             'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName='
             '"/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-'
             'officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/sharedStrings.xml"'
             ' ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.'
             'sharedStrings+xml"/></Types>')
    root_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                 'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="'
                 f'{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
    book = (f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{main}" xmlns:r="{rel}">'
            '<sheets><sheet name="填報表" sheetId="1" r:id="rId1"/></sheets></workbook>')
    book_rels = ('<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
                 'openxmlformats.org/package/2006/relationships">'
                 f'<Relationship Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/>'
                 f'<Relationship Id="rId2" Type="{rel}/sharedStrings" Target="sharedStrings.xml"/>'
                 "</Relationships>")
    return [(name, data.encode("utf-8")) for name, data in (
        ("[Content_Types].xml", types), ("_rels/.rels", root_rels), ("xl/workbook.xml", book),
        ("xl/_rels/workbook.xml.rels", book_rels), ("xl/worksheets/sheet1.xml", sheet),
        ("xl/sharedStrings.xml", sst))]


def _frozen_ods():
    from xml.sax.saxutils import escape

    ns = ('xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" '
          'xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0" '
          'xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" '
          'xmlns:meta="urn:oasis:names:tc:opendocument:xmlns:meta:1.0" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/"')

    def cell(value) -> str:
        if value is None:
            return "<table:table-cell/>"
        if isinstance(value, str):
            paras = "".join(f"<text:p>{escape(p)}</text:p>" for p in value.split("\n"))
            return f'<table:table-cell office:value-type="string">{paras}</table:table-cell>'
        return (f'<table:table-cell office:value-type="float" office:value="{value}">'
                f"<text:p>{value}</text:p></table:table-cell>")

    rows = "".join("<table:table-row>" + "".join(cell(v) for v in row) + "</table:table-row>"
                   for row in _CELLS)
    content = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-content {ns} '
               'office:version="1.3"><office:body><office:spreadsheet>'
               '<table:table table:name="填報表"><table:table-row table:number-rows-repeated="4">'
               '<table:table-cell/></table:table-row>' + rows +
               "</table:table></office:spreadsheet></office:body></office:document-content>")
    meta = (f'<?xml version="1.0" encoding="UTF-8"?><office:document-meta {ns} office:version="1.3">'
            "<office:meta><dc:date>2020-07-01T09:00:00</dc:date>"
            '<meta:user-defined meta:name="xltool_unit">第二課</meta:user-defined>'
            "</office:meta></office:document-meta>")
    manifest = ('<?xml version="1.0" encoding="UTF-8"?><manifest:manifest xmlns:manifest="urn:oasis:'
                'names:tc:opendocument:xmlns:manifest:1.0" manifest:version="1.3"><manifest:file-entry '
                'manifest:full-path="/" manifest:media-type="application/vnd.oasis.opendocument.'
                'spreadsheet"/><manifest:file-entry manifest:full-path="content.xml" manifest:media-'
                'type="text/xml"/></manifest:manifest>')
    return [("mimetype", b"application/vnd.oasis.opendocument.spreadsheet"),
            ("content.xml", content.encode("utf-8")), ("meta.xml", meta.encode("utf-8")),
            ("META-INF/manifest.xml", manifest.encode("utf-8"))]


def search(iterations: int, seed: int) -> None:  # pragma: no cover — a tool, run by hand
    """Mutate, read in isolated workers, and keep what crashed a worker or xltool."""
    import tempfile

    sys.path.insert(0, str(HERE.parent))
    from xltool.intake import read_returns
    from xltool.plan import load_plan

    plan = load_plan(HERE.parent / "examples" / "kaohsiung-109" / "plan.xlsx")
    known = finds()
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in FORMATS:
            batch = recipes(fmt, seed, iterations, "frozen")
            paths = [rebuild(r, Path(tmp) / f"{fmt}-{n}.{fmt}") for n, r in enumerate(batch)]
            for n, ret in enumerate(read_returns(plan, paths, workers=2)):
                codes = {i.code for i in ret.issues}
                if codes & {"internal-error", "timeout"} or (
                        "unreadable" in codes and any("異常結束" in i.message for i in ret.issues)):
                    key = f"{fmt}-seed{seed}-{n}"
                    known[key] = {**batch[n], "codes": sorted(codes)}
                    print(key, sorted(codes))
    FINDS.write_text(json.dumps(known, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    search(int(sys.argv[1]) if len(sys.argv) > 1 else 200, int(sys.argv[2]) if len(sys.argv) > 2 else 1)
