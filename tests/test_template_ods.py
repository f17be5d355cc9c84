"""`--format ods`: a real OpenDocument spreadsheet with the same lists, messages and protection."""
import zipfile
from datetime import datetime

import pytest
from odfcheck import NS, page_of, q, validate
from plans import SECOND_PLAN_LEADS
from python_calamine import CalamineWorkbook

from xltool.cells import header_name
from xltool.forms import fields as F
from xltool.forms.identity import fingerprint_of
from xltool.forms.template import write_templates
from xltool.plan import load_plan


@pytest.fixture
def ods(second_plan_path, tmp_path):
    plan = load_plan(second_plan_path)
    written = write_templates(plan, tmp_path, formats=("xlsx", "ods"),
                              generated=datetime(2024, 1, 2))
    return plan, {w.unit: w.path for w in written if w.path.suffix == ".ods"}


from odfcheck import xml  # noqa: E402


def test_ods_is_a_real_opendocument_with_the_units_items(ods):
    plan, paths = ods
    assert set(paths) == set(SECOND_PLAN_LEADS)
    for unit, ids in SECOND_PLAN_LEADS.items():
        with zipfile.ZipFile(paths[unit]) as zf:
            assert zf.read("mimetype") == b"application/vnd.oasis.opendocument.spreadsheet"
        wb = CalamineWorkbook.from_path(str(paths[unit]))
        assert wb.sheet_names == [F.GUIDE_SHEET, F.FORM_SHEET, F.LIST_SHEET, F.META_SHEET]
        rows = wb.get_sheet_by_name(F.FORM_SHEET).to_python(skip_empty_area=False)
        got = [r[0] for r in rows[F.FIRST_ITEM_ROW:] if r and r[0]]
        assert got == ids
        header = rows[F.HEADER_ROW][:len(F.COLUMNS)]
        assert header == [c.header for c in F.COLUMNS]
        assert [header_name(h) for h in header] == [c.name for c in F.COLUMNS]


def test_ods_validations_protection_and_names(ods):
    plan, paths = ods
    root = xml(paths["甲組"], "content.xml")
    body = root.find("office:body/office:spreadsheet", NS)
    assert body.get(q("table:structure-protected")) == "true"
    vals = {v.get(q("table:name")): v for v in body.iter(q("table:content-validation"))}
    conditions = [v.get(q("table:condition")) for v in vals.values()]
    assert "of:cell-content-is-in-list(選項_執行狀態)" in conditions
    assert any(c.startswith("of:cell-content-is-decimal-number() and cell-content-is-between(0,20.25)")
               for c in conditions)
    # 填報日期: a date, or text, or LibreOffice's date of typed ROC years 100-288
    assert "of:is-true-formula(OR(ISTEXT([.K3]);AND(ISNUMBER([.K3]);[.K3]>=4384;[.K3]<=109574);" \
           "AND(ISNUMBER([.K3]);[.K3]>=-657437;[.K3]<=-588401)))" in conditions
    for v in vals.values():
        help_msg = v.find("table:help-message", NS)
        err = v.find("table:error-message", NS)
        assert help_msg.get(q("table:display")) == "true" and "".join(help_msg.itertext())
        assert err.get(q("table:message-type")) == "stop" and "".join(err.itertext())
    names = {n.get(q("table:name")): n.get(q("table:cell-range-address"))
             for n in body.iter(q("table:named-range"))}
    assert names["選項_執行狀態"] == "$清單.$A$2:.$A$4"
    tables = {t.get(q("table:name")): t for t in body.findall("table:table", NS)}
    for name in (F.GUIDE_SHEET, F.FORM_SHEET, F.LIST_SHEET, F.META_SHEET):
        assert tables[name].get(q("table:protected")) == "true"

    styles = {s.get(q("style:name")): s for s in root.iter(q("style:style"))}

    def unlocked(cell):
        st = styles.get(cell.get(q("table:style-name")))
        props = st.find("style:table-cell-properties", NS) if st is not None else None
        return props is not None and props.get(q("style:cell-protect")) == "none"

    form = tables[F.FORM_SHEET]
    grid, validated = {}, set()
    for r, row in enumerate(form.iter(q("table:table-row"))):
        for c, cell in enumerate(row.findall("table:table-cell", NS)):
            grid[(r, c)] = unlocked(cell)
            if cell.get(q("table:content-validation-name")):
                validated.add((r, c))
    n = len(SECOND_PLAN_LEADS["甲組"])
    inputs = {(F.FIRST_ITEM_ROW + i, c) for i in range(n)
              for c, col in enumerate(F.COLUMNS) if col.input}
    inputs |= {(F.FORM_ROW, c + 1) for c in F.FORM_LABEL_COLS}
    assert {k for k, v in grid.items() if v} == inputs
    assert validated == inputs
    header = form.find("table:table-header-rows", NS)
    assert header is not None and "編號" in "".join(header.itertext())
    hidden_style = styles[tables[F.LIST_SHEET].get(q("table:style-name"))]
    assert hidden_style.find("style:table-properties", NS).get(q("table:display")) == "false"


def test_ods_metadata_and_page_layout(ods):
    plan, paths = ods
    meta = xml(paths["資訊中心"], "meta.xml")
    fields = {m.get(q("meta:name")): m.text for m in meta.iter(q("meta:user-defined"))}
    assert fields["xltool_unit"] == "資訊中心"
    assert fields["xltool_plan_id"] == plan.plan_id
    assert fields["xltool_fingerprint"] == fingerprint_of(plan, "資訊中心")
    props, master = page_of(paths["資訊中心"], F.FORM_SHEET)
    assert props.get(q("style:print-orientation")) == "landscape"
    assert (props.get(q("fo:page-width")), props.get(q("fo:page-height"))) == ("29.7cm", "21cm")
    assert props.get(q("style:scale-to-X")) == "1"
    footer = master.find("style:footer", NS)
    left, center = (footer.find(f"style:region-{side}", NS) for side in ("left", "center"))
    assert "".join(left.itertext()) == "資訊中心"  # whose form a loose page is
    assert "".join(center.itertext()).startswith("第 ") and "頁，共" in "".join(center.itertext())


def test_every_ods_template_is_valid_odf_1_3(ods):
    plan, paths = ods
    assert validate(list(paths.values())) == []


def test_ods_cells_hold_line_breaks_and_no_replacement_characters(second_plan_path, tmp_path):
    """A CR LF or a lone CR ends a line, as a LF does (a raw CR in the XML would read as a
    second break); what XML cannot hold (ESC, U+FFFF) is left out, not written as U+FFFD."""
    from xltool.forms.ods_writer import write_ods
    from xltool.forms.template import build_template

    plan = load_plan(second_plan_path)
    unit = next(iter(SECOND_PLAN_LEADS))
    book = build_template(plan, unit, datetime(2024, 1, 2))
    form = book.sheet(F.FORM_SHEET)
    result = next(k for k, c in enumerate(F.COLUMNS) if c.name == "執行績效與成果")
    texts = ["第一行\r\n第二行", "甲\r乙", "前\x1b後\uffff"]
    for n, value in enumerate(texts):
        form.put(F.FIRST_ITEM_ROW + n, result, value, "input")
    path = tmp_path / "t.ods"
    write_ods(book, path)
    rows = CalamineWorkbook.from_path(str(path)).get_sheet_by_name(F.FORM_SHEET).to_python(
        skip_empty_area=False)
    got = [rows[F.FIRST_ITEM_ROW + n][result] for n in range(len(texts))]
    assert got == ["第一行\n第二行", "甲\n乙", "前後"]
    content = zipfile.ZipFile(path).read("content.xml")
    assert "\ufffd".encode() not in content and b"\r" not in content
    assert validate([path]) == []


def test_an_ods_saved_again_by_libreoffice_still_prints_its_cells(ods, soffice, tmp_path):
    """LibreOffice 7.4 gives a master page without a header an empty one when it saves
    the file, and then prints pages with no cells on them: a unit could not print the
    template it filled in. The header is switched off instead, and survives the save."""
    from conftest import convert
    from lo_pdf import pages, to_pdf

    _, templates = ods
    saved = convert(soffice, next(iter(templates.values())), "ods", tmp_path / "saved")
    words = [w for page in pages(to_pdf(soffice, saved, tmp_path / "pdf")) for w in page.texts]
    text = "".join(words)
    assert "填報說明" in text or "執行績效與成果" in text, words[:20]
    assert len(words) > 20
