"""`xltool init PLAN --from DOCUMENT`: the plan workbook read from the plan's own
document (.docx, .odt), checked cell by cell against the plan it came from.

Documents are built in code (tests/plan_documents.py, and xltool's own plan
document writer) for the 109 plan and for the second plan, with merged and
blank-carried cells, headers broken across lines, full-width brackets, the 構面
heading inside or outside the table and numbered prefixes such as (一).
"""
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import EXAMPLE_PLAN
from odfcheck import validate
from plan_documents import Spec, spec_from_plan, write_docx, write_odt
from plans import SECOND_PLAN_LEADS, second_plan, write_plan
from python_calamine import CalamineWorkbook

from xltool.cli import cli
from xltool.master.documents.content import write_plan_document
from xltool.plan import check_plan, load_plan


def sheets(path: Path) -> dict[str, list[list]]:
    """Every sheet's rows, trailing blanks dropped (xlsx with openpyxl, ods with calamine)."""
    if path.suffix == ".xlsx":
        wb = openpyxl.load_workbook(path)
        out = {ws.title: [list(r) for r in ws.iter_rows(values_only=True)] for ws in wb.worksheets}
    else:
        book = CalamineWorkbook.from_path(str(path))
        out = {n: [[None if v == "" else v for v in r] for r in book.get_sheet_by_name(n).to_python()]
               for n in book.sheet_names}
    for rows in out.values():
        for row in rows:
            while row and row[-1] is None:
                row.pop()
        while rows and not rows[-1]:
            rows.pop()
    return out


def even_split(points: float, n: int) -> list[float]:
    """What the import must give without a 配分 column: two decimals, the rest on the last."""
    cents = round(points * 100)
    base, rest = divmod(cents, n)
    return [base / 100] * (n - 1) + [(base + rest) / 100]


def info(rows) -> dict:
    return {r[0]: (r[1] if len(r) > 1 else None) for r in rows[1:]}


def run_init(document: Path, target: Path, *more: str):
    return CliRunner().invoke(cli, ["init", str(target), "--from", str(document), *more])


def assert_109(target: Path, with_month: bool = True):
    got, want = sheets(target), sheets(EXAMPLE_PLAN)
    plan = load_plan(EXAMPLE_PLAN)
    fields = info(got["計畫"])
    assert fields["計畫名稱"] == plan.info.name
    assert fields["機關名稱"] == plan.info.agency == "經濟部標準檢驗局高雄分局"
    assert fields["年度"] == 109 and fields["填報期間"] == "1-6月"
    assert fields["考核年月"] == ("109.07" if with_month else None)
    assert all(fields[k] is None for k in ("繳交期限", "承辦單位", "承辦人", "聯絡電話", "電子郵件", "簡稱"))
    assert got["構面"][1:] == [r[:3] for r in want["構面"][1:]]  # code, name, points
    assert [r[0] for r in got["單位"][1:]] == [r[0] for r in want["單位"][1:]]
    assert all(r[1:] == [None, "各單位"] for r in got["單位"][1:])  # 各單位 is every unit; the rest unsaid
    assert len(got["項目"]) == len(want["項目"])
    for mine, theirs in zip(got["項目"][1:], want["項目"][1:]):
        assert mine[:6] == theirs[:6], theirs[0]  # 編號, 構面, 執行策略, 執行方法, 主辦單位, 具體作法
        assert mine[6:8] in ([], [None], [None, None])  # 目標值, 計量單位: not in the document
    for dim in plan.dimensions:
        points = [r[8] for r in got["項目"][1:] if r[1] == dim.name]
        assert points == pytest.approx(even_split(dim.points, len(points)))
    assert got["等第"][1:] == [list(g) for g in [("優", 900), ("甲", 800), ("乙", 700), ("丙", 600), ("丁", 0)]]
    assert got["選項"] == want["選項"]


@pytest.mark.parametrize("suffix", ["docx", "odt"])
def test_the_examples_plan_document_reproduces_the_109_plan(tmp_path, suffix):
    document = EXAMPLE_PLAN.parent / f"計畫.{suffix}"  # as the examples script wrote it
    if suffix == "odt":
        assert validate([document]) == []
    target = tmp_path / "plan.xlsx"
    res = run_init(document, target)
    assert res.exit_code == 0, res.output
    assert_109(target)


@pytest.mark.parametrize("variant", [
    dict(writer=write_docx, heading_in_table=frozenset({2, 4}), banner="一、整體服務類"),
    dict(writer=write_docx, heading_in_table=frozenset({1, 3, 5}), blank_carry=True, header_as_break=True),
    dict(writer=write_odt, heading_in_table=frozenset({1, 3})),
    dict(writer=write_odt, heading_in_table=frozenset({2, 5}), blank_carry=True, header_as_break=True),
], ids=["docx-merged", "docx-blank-carry", "odt-merged", "odt-blank-carry"])
def test_plan_documents_with_the_usual_variations(tmp_path, variant):
    variant = dict(variant)
    writer = variant.pop("writer")
    suffix = "docx" if writer is write_docx else "odt"
    document = writer(spec_from_plan(load_plan(EXAMPLE_PLAN)), tmp_path / f"計畫.{suffix}", **variant)
    if suffix == "odt":
        assert validate([document]) == []
    target = tmp_path / ("plan.ods" if suffix == "odt" else "plan.xlsx")
    res = run_init(document, target)
    assert res.exit_code == 0, res.output
    assert_109(target)


def test_the_next_things_to_fill_in_are_listed_by_sheet_and_cell_and_then_check_passes(tmp_path):
    document = write_docx(spec_from_plan(load_plan(EXAMPLE_PLAN)), tmp_path / "計畫.docx")
    target = tmp_path / "plan.xlsx"
    res = run_init(document, target)
    out = res.output
    assert "工作表「計畫」，儲存格 B7：文件未載明「繳交期限」" in out
    assert "工作表「單位」，儲存格 E2:E13" in out and "電子郵件" in out
    assert "群組「各業務課」的成員文件未載明" in out and "工作表「單位」，儲存格 C2:C13" in out
    assert "「研考」不是「實施對象」所列的單位" in out and "儲存格 D2:D13" in out
    first = sum(1 for i in load_plan(EXAMPLE_PLAN).items if i.dimension == "1")  # 基礎服務's items
    assert (f"[警告] plan.xlsx，工作表「項目」，儲存格 I2:I{first + 1}：文件沒有配分欄：構面「基礎服務」的 200 分"
            f"已平均分配給 {first} 個項目（每項 8.69 分，餘數併入最後一項為 8.82 分）") in out
    assert "下一步：" in out and "xltool check" in out
    model, issues = check_plan(target)
    assert any(i.cell == "B7" for i in issues) and any("各業務課" in i.message for i in issues)

    # Fill in what was listed, as the secretariat would; the plan then passes xltool check.
    wb = openpyxl.load_workbook(target)
    wb["計畫"]["B7"] = "2020-07-10"
    units = wb["單位"]
    for r in range(2, 14):
        if units.cell(r, 1).value.startswith("第"):
            units.cell(r, 3).value = "各單位、各業務課"
        if units.cell(r, 1).value == "秘書室":
            units.cell(r, 4).value = "研考"
    wb.save(target)
    model, issues = check_plan(target)
    assert model is not None and not [i for i in issues if i.is_error], issues
    want = load_plan(EXAMPLE_PLAN)
    assert [i.leads for i in model.items] == [i.leads for i in want.items]
    res = CliRunner().invoke(cli, ["check", str(target)])
    assert res.exit_code == 0, res.output


def second_spec(plan) -> Spec:
    spec = spec_from_plan(plan, points_column=True, prefix="本府")
    spec.units = "本府甲組、乙組、丙組、資訊中心、北區服務站及南區服務站。"
    return spec


@pytest.mark.parametrize("writer", [write_docx, write_odt], ids=["docx", "odt"])
def test_the_second_plan_with_a_points_column(tmp_path, second_plan_path, writer):
    plan = load_plan(second_plan_path)
    suffix = "docx" if writer is write_docx else "odt"
    document = writer(second_spec(plan), tmp_path / f"plan2.{suffix}", heading_in_table=frozenset({1}))
    target = tmp_path / "imported.xlsx"
    res = run_init(document, target)
    assert res.exit_code == 0, res.output
    assert "平均分配" not in res.output  # every item has its points
    got = sheets(target)
    fields = info(got["計畫"])
    assert (fields["計畫名稱"], fields["機關名稱"], fields["年度"], fields["填報期間"], fields["考核年月"]) == (
        "新竹縣政府 112 年度數位轉型推動計畫", "新竹縣政府", 112, "1-12月", "113.01")
    assert got["構面"][1:] == [["1", "便民服務", 60.5], ["2", "數位創新", 39.5]]
    assert [r[0] for r in got["單位"][1:]] == ["甲組", "乙組", "丙組", "資訊中心", "北區服務站", "南區服務站"]
    assert all(len(r) == 1 for r in got["單位"][1:])  # no 各單位 in this plan's leads
    source = second_plan()["項目"][1:]
    assert [r[0] for r in got["項目"][1:]] == ["1-1-1", "1-2-1", "1-3-1", "2-1-1", "2-2-1"]
    names = {"A": "便民服務", "B": "數位創新"}
    for mine, theirs in zip(got["項目"][1:], source):
        assert mine[1] == names.get(theirs[1], theirs[1])
        assert mine[2:6] == theirs[2:6]
        assert mine[8] == theirs[8]
    assert got["等第"][1:] == [["特優", 95], ["優良", 85], ["普通", 0]]

    # The groups and the alias the document leaves to the secretariat, then check.
    wb = openpyxl.load_workbook(target)
    wb["計畫"]["B7"] = "2024-01-15"
    units = wb["單位"]
    for r in range(2, 8):
        name = units.cell(r, 1).value
        units.cell(r, 3).value = "全體、各組" if name.endswith("組") else "全體"
        if name == "資訊中心":
            units.cell(r, 4).value = "資訊室"
    wb.save(target)
    model = load_plan(target)
    leads = {u.name: [i.id for i in model.items if u.name in i.leads] for u in model.units}
    renumber = dict(zip(["A01", "A02", "A03", "B01", "B02"], [r[0] for r in got["項目"][1:]]))
    assert leads == {u: [renumber[i] for i in ids] for u, ids in SECOND_PLAN_LEADS.items()}


def test_points_split_where_only_some_items_have_them(tmp_path, second_plan_path):
    plan = load_plan(second_plan_path)
    spec = second_spec(plan)
    heading, rows = spec.dimensions[0]
    rows[0][-1] = type(rows[0][-1])("")  # A01 without points: it gets what A02 and A03 leave
    document = write_docx(spec, tmp_path / "p.docx")
    res = run_init(document, tmp_path / "p.xlsx")
    assert res.exit_code == 0, res.output
    assert "部分項目沒有配分" in res.output
    items = sheets(tmp_path / "p.xlsx")["項目"][1:]
    assert [r[8] for r in items[:3]] == pytest.approx([60.5 - 20.25 - 20, 20.25, 20])


def test_an_ods_plan_and_an_existing_target(tmp_path):
    document = tmp_path / "計畫.odt"
    write_plan_document(load_plan(EXAMPLE_PLAN), document)
    target = tmp_path / "plan.ods"
    assert run_init(document, target).exit_code == 0
    assert_109(target)
    again = run_init(document, target)
    assert again.exit_code == 2 and "已存在" in again.output and "--force" in again.output
    assert run_init(document, target, "--force").exit_code == 0


def test_units_sentence_variants():
    from xltool.plan.documents.draft import split_units

    assert split_units("本分局第一課、第二課、金門、澎湖辦事處、人事室及政風室") == [
        "第一課", "第二課", "金門辦事處", "澎湖辦事處", "人事室", "政風室"]
    assert split_units("本府甲組，乙組、資訊中心與北區服務站") == ["甲組", "乙組", "資訊中心", "北區服務站"]
    assert split_units("研究發展及考核處、秘書處") == ["研究發展及考核處", "秘書處"]


def test_bands_and_headings_in_their_variants():
    from xltool.plan.documents.draft import bands, dimension_heading

    assert bands(["優：90 分以上；甲：80 分以上未滿 90 分；乙：70-79 分；丙：未滿 70 分"]) == [
        ("優", 90), ("甲", 80), ("乙", 70), ("丙", 0)]
    assert bands(["說明：本表依規定辦理。"]) == []
    assert dimension_heading("構面一：基礎服務(200 分)") == (1, "基礎服務", 200)
    assert dimension_heading("構面２：服務遞送（３００分）") == (2, "服務遞送", 300)
    assert dimension_heading("（三）構面三、服務量能 200分") == (3, "服務量能", 200)
    assert dimension_heading("構面十一：其他（12.5 分）") == (11, "其他", 12.5)
    assert dimension_heading("在服務遞送構面，可參酌運用資通訊科技。") is None


def test_the_plan_workbook_is_written_only_after_the_document_is_read(tmp_path):
    (tmp_path / "empty.docx").write_bytes(b"")
    res = run_init(tmp_path / "empty.docx", tmp_path / "plan.xlsx")
    assert res.exit_code == 2 and "空檔案" in res.output
    assert not (tmp_path / "plan.xlsx").exists()
    second = write_plan(tmp_path / "p2.xlsx", second_plan())
    res = run_init(second, tmp_path / "plan.xlsx")
    assert res.exit_code == 2 and "不是計畫文件" in res.output
