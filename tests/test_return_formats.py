"""Returns saved by LibreOffice as .xls and .ods, and a macro-enabled .xlsm, are read."""
import shutil
from datetime import datetime

import pytest
from conftest import convert
from returns import fill

from xltool.forms.template import template_filename, write_templates
from xltool.master.merge import merge
from xltool.plan import load_plan

ROWS = {"A01": {"執行狀態": "完成", "實際值": 4, "執行績效與成果": "第一行\n第二行", "自評分數": 17.25},
        "B01": {"執行狀態": "進行中", "執行績效與成果": "辦理中", "自評分數": 9},
        "B02": {"執行狀態": "完成", "執行績效與成果": "提案", "自評分數": 19.75}}


@pytest.fixture
def filled(second_plan_path, tmp_path):
    plan = load_plan(second_plan_path)
    write_templates(plan, tmp_path / "tpl", units=["甲組"], generated=datetime(2024, 1, 2))
    name = template_filename(plan, "甲組", "xlsx")
    return plan, fill(tmp_path / "tpl" / name, tmp_path / name, ROWS)


def check_values(plan, inbox):
    result = merge(plan, [inbox])
    ret = result.status_of("甲組").ret
    assert ret is not None, [i.message for i in result.issues]
    assert not [i for i in ret.issues if i.is_error], [i.message for i in ret.issues]
    for item_id, values in ROWS.items():
        got = ret.rows[item_id].values
        for name, value in values.items():
            assert got[name] == value, (item_id, name)
    return result


def test_xlsm_is_read(filled, tmp_path):
    plan, path = filled
    inbox = tmp_path / "in"
    inbox.mkdir()
    shutil.copy(path, inbox / (path.stem + ".xlsm"))
    check_values(plan, inbox)


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xls:MS Excel 97", "ods"])
def test_saved_by_libreoffice_as_xls_and_ods(filled, tmp_path, soffice, fmt):
    plan, path = filled
    inbox = tmp_path / "in"
    converted = convert(soffice, path, fmt, inbox)
    assert converted.suffix in (".xls", ".ods")
    for leftover in inbox.iterdir():
        if leftover.is_dir():
            shutil.rmtree(leftover)
    check_values(plan, inbox)


# ------------------------------------------------------- returns re-saved by other producers

def other_producer_ods(source, target):
    """The same .ods as another producer writes it: content.xml indented (white space
    between every element, which ODF allows and python-calamine 0.x refuses) and
    carrying a foreign namespace's attributes and empty elements."""
    import io
    import xml.etree.ElementTree as ET
    import zipfile

    foreign = "urn:example:other-office:1.0"
    with zipfile.ZipFile(source) as zin:
        parts = [(i, zin.read(i.filename)) for i in zin.infolist()]
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zout:
        for info, data in parts:
            if info.filename == "content.xml":
                namespaces = dict(ns for _, ns in ET.iterparse(io.BytesIO(data), events=["start-ns"]))
                for prefix, uri in {**namespaces, "oo": foreign}.items():
                    ET.register_namespace(prefix, uri)
                root = ET.fromstring(data)
                table = "{urn:oasis:names:tc:opendocument:xmlns:table:1.0}"
                for cell in root.iter(table + "table-cell"):
                    cell.set(f"{{{foreign}}}hint", "kept")
                for row in root.iter(table + "table-row"):
                    row.insert(0, ET.Element(f"{{{foreign}}}row-meta", {f"{{{foreign}}}n": "1"}))
                ET.indent(root, space="  ")
                data = b"<?xml version='1.0' encoding='UTF-8'?>\n" + ET.tostring(root)
            zout.writestr(info, data, zipfile.ZIP_STORED if info.filename == "mimetype"
                          else zipfile.ZIP_DEFLATED)
    target.write_bytes(out.getvalue())
    return target


def dates_for_numbers_xlsx(source, target):
    """The same .xlsx with every number cell under a date format, as a careless
    re-save leaves it: readers then return 1900-01-07 for a 7."""
    import openpyxl

    wb = openpyxl.load_workbook(source)
    for ws in wb.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    cell.number_format = "m/d/yy"
    wb.save(target)
    return target


def test_returns_resaved_by_other_producers_score_exactly_as_the_originals(tmp_path):
    from conftest import ROOT
    from xls import to_xls

    example = ROOT / "examples" / "kaohsiung-109"
    plan = load_plan(example / "plan.xlsx")
    original = merge(plan, [example / "returns"])
    inbox = tmp_path / "in"
    shutil.copytree(example / "returns", inbox)
    ods = inbox / "109_提升服務效能_金門辦事處.ods"
    other_producer_ods(ods, ods)
    second = inbox / "109_提升服務效能_第二課.xlsx"
    to_xls(second, second.with_suffix(".xls"), number_format="m/d/yy")
    second.unlink()
    third = inbox / "109_提升服務效能_第三課.xlsx"
    dates_for_numbers_xlsx(third, third)
    resaved = merge(plan, [inbox])
    for unit in ("金門辦事處", "第二課", "第三課"):
        status = resaved.status_of(unit)
        assert status.status == "已繳", (unit, [i.message for i in status.ret.issues])
    assert [r.adopted for r in resaved.items] == [r.adopted for r in original.items]
    assert resaved.total == original.total == 910
    for unit in ("金門辦事處", "第二課", "第三課"):
        before, after = original.status_of(unit).ret, resaved.status_of(unit).ret
        assert {k: r.values for k, r in after.rows.items()} == \
            {k: r.values for k, r in before.rows.items()}, unit
