"""Build the example workbooks from their readable data (``make examples``).

Deterministic: the same data gives byte-identical files, so a test can tell
when a committed workbook is stale.
"""
from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime
from pathlib import Path

from xltool.book import row_height
from xltool.starter import build_starter
from xltool.xlsx_writer import write_xlsx

HERE = Path(__file__).resolve().parent


def load_data(folder: Path):
    spec = importlib.util.spec_from_file_location(f"{folder.name}_data", folder / "plan_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def plan_book(data):
    """The starter plan (instructions, lists) filled with the example's data."""
    book = build_starter()
    book.created = datetime(2020, 1, 22)
    info = book.sheet("計畫")
    labels = {value: r for (r, c), (value, _) in info.cells.items() if c == 0 and r > 0}
    for label, value in data.INFO.items():
        if isinstance(value, tuple):
            value = date(*value)
        style = info.cells[(labels[label], 1)][1]
        info.put(labels[label], 1, value, style)
    points = data.allocate_points(data.ITEMS, data.DIMENSIONS)
    names = {code: name for code, name, _ in data.DIMENSIONS}
    tables = {
        "構面": [list(d) for d in data.DIMENSIONS],
        "單位": [[n, cat, "、".join(g), "、".join(a), mail] for n, cat, g, a, mail in data.UNITS],
        "項目": [[i["id"], names[i["dimension"]], i["strategy"], i["method"], i["lead"],
                 i["practice"], i["target"], i["measure"] or None, points[i["id"]]]
                for i in data.ITEMS],
        "等第": [list(g) for g in data.GRADES],
    }
    for name, rows in tables.items():
        sheet = book.sheet(name)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row):
                sheet.put(r, c, value, "wrap")
            sheet.heights[r] = row_height([(str(v), sheet.widths[c])
                                           for c, v in enumerate(row) if v is not None])
    lists = book.sheet("選項")
    for c, (name, values) in enumerate(data.LISTS.items()):
        lists.put(0, c, name, "header")
        for r, value in enumerate(values, start=1):
            lists.put(r, c, value, "text")
    return book


def build(folder: Path, out: Path | None = None) -> list[Path]:
    """Write the example's plan.xlsx into ``out`` (default: the example folder)."""
    out = out or folder
    data = load_data(folder)
    target = out / "plan.xlsx"
    write_xlsx(plan_book(data), target)
    return [target]


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else None
    for path in build(HERE / "kaohsiung-109", out):
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
