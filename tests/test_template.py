"""`xltool template`: the .xlsx files read back cell by cell with openpyxl."""
from datetime import datetime

import openpyxl
import pytest
from click.testing import CliRunner
from plans import SECOND_PLAN_LEADS

from xltool.cells import header_name
from xltool.cli import cli
from xltool.forms import fields as F
from xltool.forms.identity import cell_digest, fingerprint, fingerprint_of
from xltool.forms.template import template_filename, write_templates
from xltool.plan import load_plan

INPUT_COLS = [i for i, c in enumerate(F.COLUMNS) if c.input]
GENERATED = datetime(2024, 1, 2, 3, 4, 5)


@pytest.fixture
def second(second_plan_path, tmp_path):
    plan = load_plan(second_plan_path)
    written = write_templates(plan, tmp_path / "out", generated=GENERATED)
    return plan, {w.unit: w.path for w in written}


def item_rows(ws):
    rows = []
    r = F.FIRST_ITEM_ROW + 1
    while ws.cell(r, 1).value is not None:
        rows.append(r)
        r += 1
    return rows


def test_one_file_per_unit_with_exactly_its_items(second):
    plan, paths = second
    assert set(paths) == set(SECOND_PLAN_LEADS)
    for unit, ids in SECOND_PLAN_LEADS.items():
        assert paths[unit].name == f"112_數位轉型推動_{unit}.xlsx"
        ws = openpyxl.load_workbook(paths[unit])[F.FORM_SHEET]
        assert [ws.cell(r, 1).value for r in item_rows(ws)] == ids


def test_header_and_locked_plan_cells(second):
    plan, paths = second
    ws = openpyxl.load_workbook(paths["資訊中心"])[F.FORM_SHEET]
    header = [ws.cell(F.HEADER_ROW + 1, c + 1).value for c in range(len(F.COLUMNS))]
    assert header == [c.header for c in F.COLUMNS]
    assert [header_name(h) for h in header] == [c.name for c in F.COLUMNS]
    r = F.FIRST_ITEM_ROW + 1
    assert [ws.cell(r, c).value for c in range(1, 9)] == [
        "A03", "便民服務", "資料開放", "開放資料集", "開放 12 個資料集", 12, "個", 20]
    assert ws.cell(r + 1, 8).value == 19.75
    assert ws.cell(r + 1, 6).value == 1
    for c in INPUT_COLS:
        assert ws.cell(r, c + 1).value is None
    labels = {ws.cell(F.FORM_ROW + 1, c + 1).value: c for c in F.FORM_LABEL_COLS}
    assert set(labels) == {"填表人", "聯絡電話", "填報日期"}
    assert ws.cell(1, 1).value.startswith("新竹縣政府 112 年度數位轉型推動計畫")


def validations(ws):
    out = {}
    for dv in ws.data_validations.dataValidation:
        for rng in str(dv.sqref).split():
            out[rng] = dv
    return out


def test_validations_lists_and_messages(second):
    plan, paths = second
    wb = openpyxl.load_workbook(paths["甲組"])
    ws = wb[F.FORM_SHEET]
    dvs = validations(ws)
    rows = item_rows(ws)
    first, last = rows[0], rows[-1]
    status = dvs[f"I{first}:I{last}"]
    assert status.type == "list" and status.formula1 == "選項_執行狀態"
    named = wb.defined_names["選項_執行狀態"]
    assert named.attr_text == "'清單'!$A$2:$A$4"
    lists = wb[F.LIST_SHEET]
    assert lists.sheet_state == "hidden"
    assert [lists.cell(r, 1).value for r in range(2, 5)] == ["完成", "進行中", "免填"]
    assert wb.defined_names["選項_佐證類型"].attr_text == "'清單'!$B$2:$B$3"
    actual = dvs[f"J{first}:J{last}"]
    assert (actual.type, actual.operator, actual.formula1) == ("decimal", "greaterThanOrEqual", "0")
    # 自評分數: from 0 to each item's own 配分 (A01 20.25, B01 19.75, B02 19.75).
    assert (dvs[f"L{first}"].formula1, dvs[f"L{first}"].formula2) == ("0", "20.25")
    assert dvs[f"L{first + 1}:L{last}"].formula2 == "19.75"
    assert dvs[f"K{first}:K{last}"].type == "textLength"
    date_cell = f"{openpyxl.utils.get_column_letter(F.FORM_LABEL_COLS[2] + 2)}{F.FORM_ROW + 1}"
    # 填報日期: a date from ROC year 1 on, or text (115/07/01 typed in Excel stays text).
    d = date_cell
    assert (dvs[d].type, dvs[d].formula1) == (
        "custom", f"OR(ISTEXT({d}),AND(ISNUMBER({d}),{d}>=4384,{d}<=109574))")
    # The example is the plan's 繳交期限 (2024-01-15), in ROC and Gregorian form.
    assert "民國年），例如 113/01/15" in dvs[d].prompt and "2024/1/15" in dvs[d].prompt
    assert "113/01/15（民國年）" in dvs[d].error
    for dv in ws.data_validations.dataValidation:
        assert dv.showInputMessage and dv.prompt and dv.promptTitle
        assert dv.showErrorMessage and dv.error and dv.errorStyle in (None, "stop")


def test_protection_with_exactly_the_input_cells_unlocked(second):
    plan, paths = second
    wb = openpyxl.load_workbook(paths["北區服務站"])
    assert wb.security.lockStructure
    ws = wb[F.FORM_SHEET]
    assert ws.protection.sheet and not ws.protection.password
    # In OOXML a true flag means the action is *locked*; openpyxl reads absent as true.
    assert ws.protection.insertRows and ws.protection.deleteRows and ws.protection.sort
    rows = item_rows(ws)
    expected = {(r, c + 1) for r in rows for c in INPUT_COLS}
    expected |= {(F.FORM_ROW + 1, c + 2) for c in F.FORM_LABEL_COLS}
    unlocked = {(cell.row, cell.column) for row in ws.iter_rows() for cell in row
                if cell.has_style and not cell.protection.locked}
    assert unlocked == expected
    for name in (F.GUIDE_SHEET, F.LIST_SHEET, F.META_SHEET):
        assert wb[name].protection.sheet


def test_metadata_in_properties_and_very_hidden_sheet(second):
    plan, paths = second
    wb = openpyxl.load_workbook(paths["南區服務站"])
    props = {p.name: p.value for p in wb.custom_doc_props.props}
    meta_ws = wb[F.META_SHEET]
    assert meta_ws.sheet_state == "veryHidden"
    sheet_meta = {meta_ws.cell(r, 1).value: meta_ws.cell(r, 2).value
                  for r in range(1, meta_ws.max_row + 1)}
    expected = {"xltool_plan_id": plan.plan_id, "xltool_year": "112",
                "xltool_unit": "南區服務站", "xltool_template_version": F.TEMPLATE_VERSION,
                "xltool_generated": GENERATED.isoformat(),
                "xltool_fingerprint": fingerprint_of(plan, "南區服務站")}
    for key, value in expected.items():
        assert props[key] == value
        assert sheet_meta[key] == value
    assert sheet_meta["xltool_items"] == "A02,B02"
    # Each item's locked cells, as digests of exactly what the sheet shows them to be.
    form = wb[F.FORM_SHEET]
    digests = []
    for n, item_id in enumerate(("A02", "B02")):
        shown = [form.cell(F.FIRST_ITEM_ROW + 1 + n, c + 1).value for c in range(len(F.PLAN_COLUMNS))]
        assert shown[0] == item_id
        digests.append([cell_digest(v) for v in shown])
        assert sheet_meta[f"xltool_cell:{item_id}"] == ",".join(digests[-1])
        assert f"xltool_cell:{item_id}" not in props  # the sheet only: properties are short
    assert fingerprint(digests) == props["xltool_fingerprint"]
    assert wb.properties.created == GENERATED


def test_print_settings_font_and_freeze(second):
    plan, paths = second
    ws = openpyxl.load_workbook(paths["甲組"])[F.FORM_SHEET]
    assert ws.page_setup.orientation == "landscape"
    assert int(ws.page_setup.paperSize) == 9
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)  # absent = 1
    assert ws.print_title_rows == f"${F.HEADER_ROW + 1}:${F.HEADER_ROW + 1}"
    assert ws.oddFooter.center.text == "第 &P 頁，共 &N 頁"
    assert ws.oddFooter.left.text == "甲組"  # whose form a loose printed page is
    assert ws.freeze_panes == f"B{F.FIRST_ITEM_ROW + 1}"
    cell = ws.cell(F.FIRST_ITEM_ROW + 1, 5)
    assert cell.font.name == "標楷體" and cell.alignment.wrap_text
    assert ws.row_dimensions[F.FIRST_ITEM_ROW + 1].height >= 30
    assert ws.column_dimensions["E"].width > F.column("practice").template_width  # plus padding


def test_unit_selection_and_unknown_unit(second_plan_path, tmp_path):
    runner = CliRunner()
    out = tmp_path / "sel"
    res = runner.invoke(cli, ["template", str(second_plan_path), "-o", str(out),
                              "--unit", "乙組", "--unit", "資訊中心"])
    assert res.exit_code == 0, res.output
    assert sorted(p.name for p in out.iterdir()) == sorted(
        ["112_數位轉型推動_乙組.xlsx", "112_數位轉型推動_資訊中心.xlsx"])
    res = runner.invoke(cli, ["template", str(second_plan_path), "-o", str(out),
                              "--unit", "戊組"])
    assert res.exit_code != 0
    assert "戊組" in res.output


def test_kaohsiung_templates_cover_all_twelve_units(example_plan, tmp_path):
    plan = load_plan(example_plan)
    written = write_templates(plan, tmp_path, generated=GENERATED)
    assert [w.unit for w in written] == [u.name for u in plan.units]
    assert len(written) == 12

    def ids(unit):
        ws = openpyxl.load_workbook(tmp_path / template_filename(plan, unit, "xlsx"))[F.FORM_SHEET]
        return [ws.cell(r, 1).value for r in item_rows(ws)]

    assert "4-2-1-1" in ids("秘書室")  # 主辦單位 研考
    for office in ("金門辦事處", "澎湖辦事處"):
        assert {"1-2-1-1", "1-2-1-3", "2-1-2-1"} <= set(ids(office))  # 金門、澎湖辦事處
        assert "2-1-2-3" not in ids(office)  # 各業務課 means the six sections only
    assert ids("人事室") == [i.id for i in plan.items if i.lead_text == "各單位"
                          or i.lead_text == "人事室"]
