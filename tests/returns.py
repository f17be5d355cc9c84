"""Fill templates the way a person would: openpyxl writes only into unlocked cells."""
from __future__ import annotations

import re
import shutil
import zipfile
from datetime import datetime
from pathlib import Path

import openpyxl

from xltool import fields as F


def fill(template: Path, out: Path, rows: dict[str, dict[str, object]],
         header: dict[str, object] | None = None) -> Path:
    """Copy ``template`` to ``out`` with input values: {編號: {欄名: 值}}."""
    wb = openpyxl.load_workbook(template)
    ws = wb[F.FORM_SHEET]
    cols = {ws.cell(F.HEADER_ROW + 1, c).value.replace("（必填）", ""): c
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
