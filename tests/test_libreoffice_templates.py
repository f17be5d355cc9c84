"""Templates opened by real LibreOffice keep their lists, input messages and protection.

Each template is converted headless by LibreOffice and read back. One known
LibreOffice limit: it ignores workbook-structure protection in .xlsx files
(Excel honours it; the .xlsx asserts it in test_template.py). The .ods keeps
it in LibreOffice, which is asserted here.
"""
import zipfile
from datetime import datetime

import openpyxl
import pytest
from conftest import convert

from xltool.forms import fields as F
from xltool.forms.template import write_templates
from xltool.plan import load_plan

pytestmark = pytest.mark.libreoffice
INPUT_COLS = [i for i, c in enumerate(F.COLUMNS) if c.input]


@pytest.fixture(scope="module")
def converted(soffice, tmp_path_factory):
    from plans import second_plan, write_plan

    tmp = tmp_path_factory.mktemp("lo")
    plan = load_plan(write_plan(tmp / "plan.xlsx", second_plan()))
    written = write_templates(plan, tmp / "tpl", units=["甲組"], formats=("xlsx", "ods"),
                              generated=datetime(2024, 1, 2))
    out = {}
    for w in written:
        out[w.path.suffix] = convert(soffice, w.path, "xlsx:Calc MS Excel 2007 XML",
                                     tmp / f"from{w.path.suffix.replace('.', '_')}")
    ods = next(w.path for w in written if w.path.suffix == ".ods")
    out["ods_roundtrip"] = convert(soffice, ods, "ods", tmp / "ods_again")
    return plan, out


@pytest.mark.parametrize("source", [".xlsx", ".ods"])
def test_lists_messages_and_protection_survive(converted, source):
    plan, out = converted
    wb = openpyxl.load_workbook(out[source])
    ws = wb[F.FORM_SHEET]
    assert ws.protection.sheet
    n = len(plan.items_for("甲組"))
    first = F.FIRST_ITEM_ROW + 1
    rows = range(first, first + n)
    assert [ws.cell(r, 1).value for r in rows] == ["A01", "B01", "B02"]

    unlocked = {(c.row, c.column) for row in ws.iter_rows() for c in row
                if c.has_style and not c.protection.locked}
    expected = {(r, c + 1) for r in rows for c in INPUT_COLS}
    expected |= {(F.FORM_ROW + 1, c + 2) for c in F.FORM_LABEL_COLS}
    assert unlocked >= expected
    plan_cells = {(r, c + 1) for r in rows for c, col in enumerate(F.COLUMNS) if not col.input}
    assert not unlocked & plan_cells

    dvs = {str(dv.sqref): dv for dv in ws.data_validations.dataValidation}
    status = dvs[f"I{first}:I{first + n - 1}"]
    assert status.type == "list" and status.formula1 == "選項_執行狀態"
    assert wb.defined_names["選項_執行狀態"].attr_text.endswith("$A$2:$A$4")
    assert [wb[F.LIST_SHEET].cell(r, 1).value for r in (2, 3, 4)] == ["完成", "進行中", "免填"]
    score = dvs[f"L{first}"]
    assert score.type == "decimal" and {score.formula1, score.formula2} == {"0", "20.25"}
    for dv in dvs.values():
        assert dv.prompt and dv.showInputMessage and dv.showErrorMessage
        assert dv.errorStyle in (None, "stop")
    assert wb[F.LIST_SHEET].sheet_state != "visible"
    assert wb[F.META_SHEET].sheet_state != "visible"
    assert ws.page_setup.orientation == "landscape"


def test_ods_structure_protection_survives_libreoffice(converted):
    _, out = converted
    with zipfile.ZipFile(out["ods_roundtrip"]) as zf:
        content = zf.read("content.xml").decode("utf-8")
    assert 'table:structure-protected="true"' in content
    assert content.count('table:protected="true"') == 4
