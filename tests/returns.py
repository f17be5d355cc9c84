"""Fill templates the way a person would: openpyxl writes only into unlocked cells."""
from __future__ import annotations

import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl

from xltool.cells import header_name
from xltool.forms import fields as F


def fill(template: Path, out: Path, rows: dict[str, dict[str, object]],
         header: dict[str, object] | None = None) -> Path:
    """Copy ``template`` to ``out`` with input values: {編號: {欄名: 值}}."""
    wb = openpyxl.load_workbook(template)
    ws = wb[F.FORM_SHEET]
    cols = {header_name(ws.cell(F.HEADER_ROW + 1, c).value): c
            for c in range(1, len(F.COLUMNS) + 1)}
    by_id = {ws.cell(r, 1).value: r for r in range(F.FIRST_ITEM_ROW + 1, ws.max_row + 1)}
    for item_id, values in rows.items():
        for name, value in values.items():
            cell = ws.cell(by_id[item_id], cols[name])
            assert not cell.protection.locked, f"{cell.coordinate} is locked: a person cannot type here"
            cell.value = value
            if isinstance(value, str) and value.startswith("="):
                cell.data_type = "s"  # typed as text ('=…), not a formula
    labels = {ws.cell(F.FORM_ROW + 1, c + 1).value: c + 2 for c in F.FORM_LABEL_COLS}
    for name, value in (header or {}).items():
        cell = ws.cell(F.FORM_ROW + 1, labels[name])
        assert not cell.protection.locked
        cell.value = value
    wb.save(out)
    return out


def set_saved(path: Path, when: datetime) -> None:
    """Set the time the workbook says it was saved (docProps/core.xml)."""
    stamp = when.strftime("%Y-%m-%dT%H:%M:%SZ")
    rewrite(path, "docProps/core.xml",
            lambda xml: re.sub(rb"(<dcterms:modified[^>]*>)[^<]*(</dcterms:modified>)",
                               rb"\g<1>" + stamp.encode() + rb"\g<2>", xml))


def rewrite(path: Path, member: str, change) -> None:
    """Rewrite one zip member in place (used to build hostile or odd files)."""
    tmp = path.with_suffix(".tmp")
    with zipfile.ZipFile(path) as zin, zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == member:
                data = change(data)
            zout.writestr(info, data)
    shutil.move(tmp, path)


def filled_book(plan, unit: str, values: dict[str, dict[str, object]], generated: datetime):
    """The unit's template as a book, filled with {編號: {欄名: 值}}; written with
    xltool's own writers, so the same filling can be saved as .xlsx and as .ods."""
    from xltool.forms.template import build_template

    book = build_template(plan, unit, generated)
    form = book.sheet(F.FORM_SHEET)
    cols = {c.name: i for i, c in enumerate(F.COLUMNS)}
    rows = {item.id: F.FIRST_ITEM_ROW + n for n, item in enumerate(plan.items_for(unit))}
    for item_id, row in values.items():
        for name, value in row.items():
            style = "input_number" if isinstance(value, (int, float)) else "input"
            form.put(rows[item_id], cols[name], value, style)
    return book


def set_saved_ods(path: Path, local: datetime) -> None:
    """Set an .ods file's dc:date, which ODF writes as local time without a zone."""
    stamp = local.strftime("%Y-%m-%dT%H:%M:%S").encode()
    rewrite(path, "meta.xml", lambda xml: re.sub(rb"<dc:date>[^<]*</dc:date>",
                                                 b"<dc:date>" + stamp + b"</dc:date>", xml))


def set_producer(path: Path, application: str) -> None:
    """Say which program saved an .xlsx (docProps/app.xml <Application>)."""
    def change(xml: bytes) -> bytes:
        if b"<Application>" in xml:
            return re.sub(rb"<Application>[^<]*</Application>",
                          b"<Application>" + application.encode() + b"</Application>", xml)
        return xml.replace(b"</Properties>", b"<Application>" + application.encode()
                           + b"</Application></Properties>")
    rewrite(path, "docProps/app.xml", change)


GOOD = {"執行狀態": "完成", "執行績效與成果": "已完成", "自評分數": 10}


class Kit:
    """Templates of a plan, and a returns folder to fill them into."""

    def __init__(self, tmp_path, plan_path):
        from xltool.forms.template import write_templates
        from xltool.plan import load_plan

        self.plan = load_plan(plan_path)
        self.tpl = tmp_path / "templates"
        self.inbox = tmp_path / "returns"
        self.inbox.mkdir()
        write_templates(self.plan, self.tpl, generated=datetime(2024, 1, 2))

    def template(self, unit):
        from xltool.forms.template import template_filename

        return self.tpl / template_filename(self.plan, unit, "xlsx")

    def ret(self, unit, rows=None, name=None):
        ids = [i.id for i in self.plan.items_for(unit)]
        rows = rows if rows is not None else {}
        full = {i: {**GOOD, **rows.get(i, {})} for i in ids}
        return fill(self.template(unit), self.inbox / (name or self.template(unit).name), full)

    def run(self):
        from xltool.master.merge import merge

        return merge(self.plan, [self.inbox])
