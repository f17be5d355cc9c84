"""Build the example workbooks from their readable data (``make examples``).

Deterministic: the same data gives byte-identical files, so a test can tell
when a committed workbook is stale.
"""
from __future__ import annotations

import importlib.util
import sys
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from xltool.forms import fields as F
from xltool.forms.book import row_height
from xltool.forms.ods_writer import write_ods
from xltool.forms.starter import build_starter
from xltool.forms.template import build_template, template_filename
from xltool.forms.xlsx_writer import write_xlsx
from xltool.master.documents.content import write_plan_document
from xltool.plan import load_plan

HERE = Path(__file__).resolve().parent
TAIPEI = timezone(timedelta(hours=8))  # the example's times, whatever the machine's zone


# The worked example first, then the branches generated from it (same 109 scheme,
# other units and items), which `make demo` rolls up with it.
EXAMPLES = ("kaohsiung-109", "taichung-109", "tainan-109")


def load_data(folder: Path):
    spec = importlib.util.spec_from_file_location(f"{folder.name}_data", folder / "plan_data.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    if hasattr(module, "BASE"):
        _derive(module, load_data(folder.parent / module.BASE))
    return module


def _derive(module, base) -> None:
    """A generated plan: the base plan's scheme, and the base items it names
    (``ITEMS_FROM_BASE``: id → its lead text here), in the base plan's order."""
    for name in ("DIMENSIONS", "GRADES", "LISTS", "allocate_points"):
        if not hasattr(module, name):
            setattr(module, name, getattr(base, name))
    module.ITEMS = [dict(i, lead=module.ITEMS_FROM_BASE[i["id"]]) for i in base.ITEMS
                    if i["id"] in module.ITEMS_FROM_BASE]
    missing = set(module.ITEMS_FROM_BASE) - {i["id"] for i in module.ITEMS}
    assert not missing, f"not items of {module.BASE}: {sorted(missing)}"


def plan_book(data):
    """The starter plan (instructions, lists) filled with the example's data."""
    book = build_starter()
    book.created = datetime(2020, 1, 22, tzinfo=TAIPEI)
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


def unit_scores(plan, data) -> dict[tuple[str, str], float]:
    """自評分數 per (item, unit), chosen so that the merge reproduces the seed's 附表2.

    Each 構面 loses (配分 - 附表2 score) points, spread over its items in whole
    points as evenly as possible (earlier items first). Where several units lead
    an item they score around that figure, +1/-1 in pairs, so the mean is exact.
    """
    scores = {}
    for code, name, points in data.DIMENSIONS:
        items = [i for i in plan.items if i.dimension == code]
        base, extra = divmod(points - data.TABLE2[name], len(items))
        for n, item in enumerate(items):
            score = item.points - base - (1 if n < extra else 0)
            leads = list(item.leads)
            deltas = [0] * len(leads)
            if 0 < score < item.points:
                for k in range(0, len(leads) - 1, 2):
                    deltas[k], deltas[k + 1] = 1, -1
            for unit, delta in zip(leads, deltas):
                scores[(item.id, unit)] = score + delta
    return scores


def split_result(text: str, leads: list[str]) -> dict[str, str]:
    """Share a result among its lead units: paragraph by paragraph, round robin.
    A unit left without a paragraph says that it took part and where the result is."""
    paragraphs = [p for p in text.split("\n") if p.strip()]
    shares = {u: [] for u in leads}
    for n, paragraph in enumerate(paragraphs):
        shares[leads[n % len(leads)]].append(paragraph)
    return {u: "\n".join(p) if p else f"配合辦理，成果併入【{leads[0]}】填報。"
            for u, p in shares.items()}


def return_book(plan, data, unit: str, scores, order: int):
    """The unit's template, filled in as the unit would, saved on its own day."""
    generated = datetime(2020, 6, 20, 9, 0, 0, tzinfo=TAIPEI)
    book = build_template(plan, unit, generated)
    book.created = datetime(2020, 7, 1 + order % 8, 9 + order % 7, 10 + order, 0, tzinfo=TAIPEI)
    form = book.sheet(F.FORM_SHEET)
    cols = {c.name: i for i, c in enumerate(F.COLUMNS)}
    labels = dict(zip((f.name for f in F.FORM_FIELDS), F.FORM_LABEL_COLS))
    form.put(F.FORM_ROW, labels["填表人"] + 1, f"{unit}承辦人", "input_text")
    form.put(F.FORM_ROW, labels["聯絡電話"] + 1, f"(07)000-0000 分機 {100 + order}", "input_text")
    form.put(F.FORM_ROW, labels["填報日期"] + 1, book.created.date(), "input_date")
    source = {i["id"]: i for i in data.ITEMS}
    for offset, item in enumerate(plan.items_for(unit)):
        r = F.FIRST_ITEM_ROW + offset
        src = source[item.id]
        first = item.leads[0] == unit
        form.put(r, cols["執行狀態"], src["status"], "input")
        if src["actual"] is not None and first:
            form.put(r, cols["實際值"], src["actual"], "input_number")
        form.put(r, cols["執行績效與成果"], split_result(src["result"], list(item.leads))[unit], "input")
        form.put(r, cols["自評分數"], scores[(item.id, unit)], "input_number")
        texts = [(str(v), F.COLUMNS[c].width) for (rr, c), (v, _) in form.cells.items()
                 if rr == r and v is not None]
        form.heights[r] = max(form.heights.get(r, 0), row_height(texts))
    return book


def build(folder: Path, out: Path | None = None) -> list[Path]:
    """Write the example's plan.xlsx and filled returns into ``out`` (default: the
    example folder)."""
    out = out or folder
    data = load_data(folder)
    target = out / "plan.xlsx"
    write_xlsx(plan_book(data), target)
    written = [target]
    plan = load_plan(target)
    # The plan as its document, which `xltool init --from` reads back.
    for name in ("計畫.docx", "計畫.odt"):
        write_plan_document(plan, out / name)
        written.append(out / name)
    scores = unit_scores(plan, data)
    returns = out / "returns"
    returns.mkdir(parents=True, exist_ok=True)
    for order, unit in enumerate(u.name for u in plan.units):
        fmt = data.RETURN_FORMATS.get(unit, "xlsx")
        path = returns / template_filename(plan, unit, fmt)
        (write_ods if fmt == "ods" else write_xlsx)(return_book(plan, data, unit, scores, order), path)
        written.append(path)
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else None
    for name in EXAMPLES:
        for path in build(HERE / name, out / name if out else None):
            print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
