"""A text shaped like XlsxWriter's rich-text markup (``<r>…</r>``) is written as the
text it is, in templates (shared strings) and in the master (inline strings):
it reads back as typed, and no formula can be planted with it (xlsx_text.py)."""
import openpyxl
from plans import second_plan, write_plan
from python_calamine import CalamineWorkbook
from returns import fill

from xltool.forms import fields as F
from xltool.forms.template import template_filename, write_templates
from xltool.master.run import run_merge
from xltool.plan import load_plan
from xltool.xlsx_text import cut_to_limit, looks_rich, rich_run

PLANTED = ('<r><t>x</t></r></is></c><c r="F2"><f>HYPERLINK("http://example.invalid/","點此")</f>'
           '<v>0</v></c><c r="F3" t="inlineStr"><is><r><t>y</t></r>')
SHARED = '<r><t>x</t></r></si><si><t>y</t></r>'


def _cells(path, sheet):
    return [v for row in CalamineWorkbook.from_path(str(path)).get_sheet_by_name(sheet).to_python()
            for v in row if isinstance(v, str) and v]


def test_the_helpers():
    assert looks_rich("<r>a</r>") and not looks_rich("<r>a") and not looks_rich("a</r>")
    assert rich_run("<r>&</r>") == "<r><t>&lt;r&gt;&amp;&lt;/r&gt;</t></r>"
    assert cut_to_limit("字" * 40_000) == "字" * 32_767 and cut_to_limit("😀" * 20_000) == "😀" * 16_383


def test_plan_text_in_a_template_is_kept_as_typed(tmp_path):
    data = second_plan()
    data["項目"][1][5] = "<r>申辦案件七日內辦結</r>"
    data["項目"][2][5] = SHARED
    plan = load_plan(write_plan(tmp_path / "plan.xlsx", data))
    write_templates(plan, tmp_path / "tpl", formats=("xlsx",))
    texts = []
    for unit in plan.units:
        path = tmp_path / "tpl" / template_filename(plan, unit.name, "xlsx")
        texts += _cells(path, F.FORM_SHEET)
        assert openpyxl.load_workbook(path)[F.FORM_SHEET]  # the file stays well-formed
    assert "<r>申辦案件七日內辦結</r>" in texts and SHARED in texts


def test_a_units_markup_reaches_the_master_as_text(tmp_path):
    plan = load_plan(write_plan(tmp_path / "plan.xlsx", second_plan()))
    write_templates(plan, tmp_path / "tpl", formats=("xlsx",))
    inbox = tmp_path / "in"
    inbox.mkdir()
    typed = {}
    for k, unit in enumerate(plan.units):
        template = tmp_path / "tpl" / template_filename(plan, unit.name, "xlsx")
        text = [PLANTED, "<r>成果</r>", "<r>" + "長" * 20_000 + "</r>"][k % 3]
        rows = {i.id: {F.column("result").name: text, F.column("score").name: 1}
                for i in plan.items_for(unit.name)}
        typed[unit.name] = text
        fill(template, inbox / template.name, rows)
    run_merge(plan, [inbox], tmp_path / "master.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "master.xlsx")
    formulas = [c.coordinate for c in wb["明細"]["F"] if isinstance(c.value, str) and c.value.startswith("=")]
    assert not formulas
    details = {(r[0].value, r[5].value) for r in wb["明細"].iter_rows(min_row=2)}
    assert all((unit, text) in details for unit, text in typed.items())
    summary = "\n".join(_cells(tmp_path / "master.xlsx", "總表"))
    assert all(f"【{unit}】{text}" in summary for unit, text in typed.items() if len(text) < 100)
