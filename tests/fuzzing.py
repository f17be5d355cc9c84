"""A structure-aware mutation fuzzer for returns in .xlsx, .ods and .xls.

Each mutation is a recipe: a list of edits to one of three base files built in
code from the worked example (a return as xltool writes it, and its .xls copy).
The xlsx and ods edits work on single zip members, so they reach the parsers
behind the zip layer; the xls edits work on single BIFF records, so they reach
calamine's record parsers behind the compound-file layer.

Recipes are deterministic: the same seed gives the same edits, and every find
is kept in ``fuzz_finds.json`` as the edits themselves, so the corpus of finds
is rebuilt by code (``rebuild``) and replayed as regression tests.

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


def base(fmt: str):
    """The file a recipe edits: zip members (name → bytes) or BIFF records."""
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


def random_recipe(fmt: str, rng: random.Random) -> dict:
    """A few edits of one kind the format's parsers care about."""
    parts = base(fmt)
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
    return {"format": fmt, "edits": edits}


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
    parts = [list(p) for p in base(fmt)]
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


def recipes(fmt: str, seed: int, count: int) -> list[dict]:
    rng = random.Random(f"{fmt}-{seed}")
    return [random_recipe(fmt, rng) for _ in range(count)]


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
            batch = recipes(fmt, seed, iterations)
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
