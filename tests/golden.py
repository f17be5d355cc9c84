"""The example's master as plain data, for the golden-master comparison.

In the spirit of XlsxWriter's comparison tests: the master xltool writes for the
worked example is read back cell by cell — cached value, formula, number format
— with every sheet's data validations, merged ranges and visibility, and
compared with ``tests/golden/kaohsiung-109-master.json``. A change to the master
shows up as a readable diff of that file.

Regenerate it on purpose (after checking the new master by eye) with
``make golden``, which runs ``python tests/golden.py``.
"""
from __future__ import annotations

import json
import sys
from datetime import date, datetime, time, timedelta
from pathlib import Path

import openpyxl

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "examples" / "kaohsiung-109"
GOLDEN = Path(__file__).resolve().parent / "golden" / "kaohsiung-109-master.json"


def write_example_master(target: Path) -> Path:
    """The worked example merged, as `xltool merge` writes it."""
    from xltool.master.run import run_merge
    from xltool.plan import load_plan

    run_merge(load_plan(EXAMPLE / "plan.xlsx"), [EXAMPLE / "returns"], target)
    return target


def _plain(value):
    if isinstance(value, (datetime, date, time)):
        return value.isoformat()
    if isinstance(value, timedelta):
        return value.total_seconds()
    return value


def dump(path: Path) -> dict:
    """Every non-empty cell of every sheet: [cached value, formula or None, number format]."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    out: dict = {}
    for ws in formulas.worksheets:
        cached = values[ws.title]
        cells = {}
        for row in ws.iter_rows():
            for cell in row:
                if cell.value is None:
                    continue
                formula = cell.value if cell.data_type == "f" else None
                value = cached[cell.coordinate].value
                cells[cell.coordinate] = [_plain(value), formula, cell.number_format]
        out[ws.title] = {
            "state": ws.sheet_state,
            "cells": cells,
            "merged": sorted(str(r) for r in ws.merged_cells.ranges),
            "validations": sorted(
                ({"range": str(dv.sqref), "type": dv.type, "operator": dv.operator,
                  "formula1": dv.formula1, "formula2": dv.formula2, "allow_blank": dv.allow_blank,
                  "error_style": dv.errorStyle, "prompt": dv.prompt, "error": dv.error}
                 for dv in ws.data_validations.dataValidation), key=lambda d: d["range"]),
        }
    return out


def to_text(data: dict) -> str:
    """JSON with one cell per line, so that a change reads as a one-line diff."""
    def line(value) -> str:
        return json.dumps(value, ensure_ascii=False)

    parts = ["{"]
    for n, (sheet, content) in enumerate(data.items()):
        parts.append(f" {line(sheet)}: {{")
        parts.append(f'  "state": {line(content["state"])},')
        parts.append(f'  "merged": {line(content["merged"])},')
        parts.append('  "validations": [' + ",".join(f"\n   {line(v)}" for v in content["validations"])
                     + ("\n  ]," if content["validations"] else "],"))
        cells = [f"   {line(ref)}: {line(cell)}" for ref, cell in content["cells"].items()]
        parts.append('  "cells": {' + ("\n" + ",\n".join(cells) + "\n  }" if cells else "}"))
        parts.append(" }" + ("," if n < len(data) - 1 else ""))
    parts.append("}")
    text = "\n".join(parts) + "\n"
    assert json.loads(text) == data
    return text


def differences(expected: dict, actual: dict, limit: int = 20) -> list[str]:
    """What changed, cell by cell, in words a reviewer can act on."""
    found = []
    if list(expected) != list(actual):
        found.append(f"sheets: {list(expected)} → {list(actual)}")
    for sheet in expected:
        if sheet not in actual:
            continue
        old, new = expected[sheet], actual[sheet]
        for key in ("state", "merged", "validations"):
            if old[key] != new[key]:
                found.append(f"{sheet} {key}: {old[key]!r} → {new[key]!r}")
        for ref in sorted(set(old["cells"]) | set(new["cells"])):
            a, b = old["cells"].get(ref), new["cells"].get(ref)
            if a != b:
                found.append(f"{sheet}!{ref}: {a!r} → {b!r}")
    return found[:limit] + ([f"… and {len(found) - limit} more"] if len(found) > limit else [])


def main() -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        data = dump(write_example_master(Path(tmp) / "master.xlsx"))
    GOLDEN.parent.mkdir(exist_ok=True)
    GOLDEN.write_text(to_text(data), encoding="utf-8")
    print(f"wrote {GOLDEN.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
