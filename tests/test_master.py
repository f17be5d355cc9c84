"""The master workbook: the worked example, live formulas, and review that survives a re-merge."""
import json
import shutil
import subprocess
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from plans import second_plan, write_plan
from python_calamine import CalamineWorkbook

from xltool.cli import cli

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
TABLE2 = [180, 275, 185, 180, 90, 910, "優", "109.07"]


def run_merge(*args):
    return CliRunner().invoke(cli, ["merge", *map(str, args)])


def table2_row(master: Path):
    rows = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("附表2").to_python()
    header = rows[4]
    return header, rows[6][3:]


def test_worked_example_reproduces_the_seeds_table2(tmp_path):
    master, report = tmp_path / "master.xlsx", tmp_path / "r.json"
    res = run_merge(EXAMPLE / "plan.xlsx", EXAMPLE / "returns", "-o", master, "--report", report)
    assert res.exit_code == 0, res.output
    header, figures = table2_row(master)
    assert figures == TABLE2
    assert header[:4] == ["實施考核機關", "編號", "受考核單位名稱", "考核項目成績（1000 分）"]
    dims = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("附表2").to_python()[5][3:8]
    assert dims == ["一、基礎服務(200 分)", "二、服務遞送(300 分)", "三、服務量能(200 分)",
                    "四、服務評價(200 分)", "五、開放創新(100 分)"]
    data = json.loads(report.read_text(encoding="utf-8"))
    assert [d["score"] for d in data["dimensions"]] + [data["total"], data["grade"],
                                                       data["plan"]["review_month"]] == TABLE2
    assert data["issues"] == []
    assert {u["status"] for u in data["units"]} == {"已繳"}
    assert "910" in res.output and "優" in res.output


def test_one_missing_and_one_invalid_return(tmp_path):
    inbox = tmp_path / "returns"
    shutil.copytree(EXAMPLE / "returns", inbox)
    (inbox / "109_提升服務效能_政風室.xlsx").unlink()
    first = inbox / "109_提升服務效能_第一課.xlsx"
    wb = openpyxl.load_workbook(first)
    wb["填報表"]["L6"] = 999
    wb.save(first)
    master = tmp_path / "master.xlsx"
    res = run_merge(EXAMPLE / "plan.xlsx", inbox, "-o", master)
    assert res.exit_code == 1
    book = CalamineWorkbook.from_path(str(master))
    status = {r[0]: r[1] for r in book.get_sheet_by_name("繳交狀態").to_python()[1:]}
    assert status["政風室"] == "未繳" and status["第一課"] == "有誤"
    assert list(status.values())[:2] == ["未繳", "有誤"]
    assert sum(1 for s in status.values() if s == "已繳") == 10
    issues = book.get_sheet_by_name("檢核結果").to_python()
    head = issues[0]
    rows = [dict(zip(head, r)) for r in issues[1:]]
    bad = next(r for r in rows if r["代碼"] == "out-of-range")
    assert (bad["檔案"], bad["工作表"], bad["儲存格"], bad["填寫內容"]) == (
        "109_提升服務效能_第一課.xlsx", "填報表", "L6", "999")
    assert any(r["代碼"] == "missing-return" and r["單位"] == "政風室" for r in rows)
    detail = book.get_sheet_by_name("明細").to_python()
    units = {r[0] for r in detail[1:]}
    assert len(units) == 12  # every unit still in the master


@pytest.fixture
def second_master(tmp_path, second_plan_path):
    from returns import fill
    from test_merge_e2e import FILLED

    from xltool.forms.template import template_filename, write_templates
    from xltool.plan import load_plan

    plan = load_plan(second_plan_path)
    write_templates(plan, tmp_path / "tpl")
    inbox = tmp_path / "in"
    inbox.mkdir()
    for unit, rows in FILLED.items():
        name = template_filename(plan, unit, "xlsx")
        fill(tmp_path / "tpl" / name, inbox / name, rows)
    master = tmp_path / "master.xlsx"
    run_merge(second_plan_path, inbox, "-o", master)
    return plan, inbox, master


def type_review(master: Path, reviews: dict):
    wb = openpyxl.load_workbook(master)
    ws = wb["評分"]
    head = [c.value for c in ws[4]]
    col = head.index("複評") + 1
    for r in range(5, ws.max_row + 1):
        if ws.cell(r, 1).value in reviews:
            ws.cell(r, col).value = reviews[ws.cell(r, 1).value]
    wb.save(master)


def test_review_survives_a_re_merge_with_a_late_return(second_master, tmp_path):
    plan, inbox, master = second_master
    type_review(master, {"A03": 20, "B01": 9})
    from returns import fill

    from xltool.forms.template import template_filename

    name = template_filename(plan, "丙組", "xlsx")
    fill(tmp_path / "tpl" / name, inbox / name, {
        i: {"執行狀態": "完成", "執行績效與成果": "補交", "自評分數": 10} for i in ("A01", "B01", "B02")})
    res = run_merge(plan.source, inbox, "-o", master)
    assert res.exit_code == 0, res.output
    backups = list(tmp_path.glob("master-備份-*.xlsx"))
    assert len(backups) == 1
    ws = openpyxl.load_workbook(master, data_only=True)["評分"]
    head = [c.value for c in ws[4]]
    rows = {ws.cell(r, 1).value: {h: ws.cell(r, c + 1).value for c, h in enumerate(head)}
            for r in range(5, 10)}
    assert rows["A03"]["複評"] == 20 and rows["A03"]["採計分數"] == 20
    assert rows["B01"]["複評"] == 9 and rows["B01"]["採計分數"] == 9
    assert rows["A01"]["丙組"] == 10  # the late return is in
    assert rows["A01"]["自評"] == 15.5  # (18 + 18.5 + 10) / 3


def test_review_of_an_item_no_longer_in_the_plan_is_reported(second_master, tmp_path):
    plan, inbox, master = second_master
    type_review(master, {"B02": 5})
    p = second_plan()
    del p["項目"][5]  # B02 leaves the plan
    p["項目"][4][8] = 39.5
    new_plan = write_plan(tmp_path / "plan_v2.xlsx", p)
    run_merge(new_plan, inbox, "-o", master)
    issues = CalamineWorkbook.from_path(str(master)).get_sheet_by_name("檢核結果").to_python()
    head = issues[0]
    orphan = [dict(zip(head, r)) for r in issues if r[-1] == "orphan-review"]
    assert orphan and "B02" in orphan[0]["說明"] and orphan[0]["填寫內容"] == "5"
    assert orphan[0]["問題"] and orphan[0]["問題"] != "orphan-review"


def test_cached_values_equal_what_libreoffice_computes(second_master, soffice, tmp_path):
    plan, inbox, master = second_master
    type_review(master, {"A03": 19.5})
    run_merge(plan.source, inbox, "-o", master)  # re-merge so the review is in the cache
    python = shutil.which("python3", path="/usr/bin") or "python3"
    out = subprocess.run([python, str(ROOT / "tests" / "lo_recalc.py"), str(master),
                          str(tmp_path / "lo-profile")], capture_output=True, text=True,
                         timeout=240)
    assert out.returncode == 0, out.stderr
    computed = json.loads(out.stdout)
    n_items, n_dims = len(plan.items), len(plan.dimensions)
    # 評分: 自評 and 採計 per item, subtotals, total, grade; 附表2: the same figures; chart
    assert len(computed) == 2 * n_items + n_dims + 2 + n_dims + 2 + n_dims
    cached = openpyxl.load_workbook(master, data_only=True)
    for key, value in computed.items():
        sheet, pos = key.split("!")
        r, c = map(int, pos.split(","))
        mine = cached[sheet].cell(r + 1, c + 1).value
        if isinstance(value, str):
            assert mine == value, key
        else:
            assert mine == pytest.approx(value, abs=1e-9), key
    ws = cached["附表2"]
    assert ws.cell(7, 6).value == pytest.approx(51.8 + 16.02 - 0.5)


@pytest.mark.parametrize("options", [{"spill_from": 0}, {"workers": 2}])
def test_rows_on_disk_and_worker_processes_change_nothing(tmp_path, options):
    """The paths large merges take (rows kept on disk, a process pool) write the same bytes."""
    from xltool.master.merge import merge
    from xltool.master.writer import write_master
    from xltool.plan import load_plan

    plan = load_plan(EXAMPLE / "plan.xlsx")
    inbox = tmp_path / "in"
    shutil.copytree(EXAMPLE / "returns", inbox)
    for n in range(30):  # enough files for the process pool to start
        shutil.copy(inbox / "109_提升服務效能_第一課.xlsx", inbox / f"dup{n:02d}.xlsx")
    plain = merge(plan, [inbox], workers=1, spill_from=10 ** 9)
    other = merge(plan, [inbox], **options)
    assert (plain.store is None) and ((other.store is not None) == ("spill_from" in options))
    write_master(plain, tmp_path / "a.xlsx")
    write_master(other, tmp_path / "b.xlsx")
    assert (tmp_path / "a.xlsx").read_bytes() == (tmp_path / "b.xlsx").read_bytes()
    assert _report_text(plain) == _report_text(other)


def test_row_store_gives_back_the_rows_it_was_given_for_the_files_asked():
    from xltool.intake import Row
    from xltool.master.store import RowStore

    store = RowStore()
    try:
        made = [{"A1": Row("A1", 5 + n, {"執行狀態": f"完成{n}", "自評分數": n / 3}, ["x"] * n, [], None, (n, (1,))),
                 "A2": Row("A2", 6, {})} for n in range(3)]
        kept = [store.put(dict(rows)) for rows in made]
        assert [f.file for f in kept] == [0, 1, 2]
        assert store.rows_of_item("A1") == {n: made[n]["A1"] for n in range(3)}
        assert store.rows_of_item("A1", {2, 0}) == {0: made[0]["A1"], 2: made[2]["A1"]}
        assert store.rows_of_item("A2", set()) == {} and store.rows_of_item("B9") == {}
        assert all(r.raw is None for r in store.rows_of_item("A1").values())
        empty = store.put({"A1": Row("A1", 5, {"執行狀態": None, "實際值": ""})})
        assert [k.entered for k in kept] == [True] * 3 and not empty.entered
        assert store.put({"A1": Row("A1", 5, {"執行狀態": None, "實際值": 0})}).entered
    finally:
        store.close()


@pytest.mark.parametrize("spill_from", [10 ** 9, 0])
def test_items_held_or_each_made_again_write_the_same_master(tmp_path, monkeypatch, spill_from):
    """Every item's rows and entries are held while (unit, item) pairs are few
    (ENTRIES_KEPT); past that, only the last item's are, and each is made again
    when asked: the same master and report, rows in memory or on disk."""
    from xltool.master import merge as merging
    from xltool.master.writer import write_master
    from xltool.plan import load_plan

    plan = load_plan(EXAMPLE / "plan.xlsx")
    held = merging.merge(plan, [EXAMPLE / "returns"], workers=1, spill_from=spill_from)
    write_master(held, tmp_path / "held.xlsx")
    assert held._held["entries"][1] and bool(held._held.get("rows")) == (spill_from > 0)
    monkeypatch.setattr(merging, "ENTRIES_KEPT", 0)
    each = merging.merge(plan, [EXAMPLE / "returns"], workers=1, spill_from=spill_from)
    write_master(each, tmp_path / "each.xlsx")
    assert not each._held
    assert (tmp_path / "held.xlsx").read_bytes() == (tmp_path / "each.xlsx").read_bytes()
    assert _report_text(held) == _report_text(each)


def test_a_review_above_the_points_is_an_error_and_not_adopted(second_master, tmp_path):
    plan, inbox, master = second_master
    ws = openpyxl.load_workbook(master)["評分"]
    head = [c.value for c in ws[4]]
    col = head.index("複評") + 1
    rules = {str(dv.sqref): (dv.type, dv.operator, dv.formula1, dv.formula2)
             for dv in ws.data_validations.dataValidation}
    letter = openpyxl.utils.get_column_letter(col)
    points = {ws.cell(r, 1).value: (r, ws.cell(r, 4).value) for r in range(5, 10)}
    for item, (r, pts) in points.items():  # 0 … 配分, row by row
        rule = next(v for k, v in rules.items() if any(
            f"{letter}{r}" == ref or (ref.startswith(letter) and ":" in ref and
                                      int(ref.split(":")[0][1:]) <= r <= int(ref.split(":")[1][1:]))
            for ref in k.split()))
        assert rule[0] == "decimal" and rule[1] in (None, "between") and float(rule[3]) == pts, item
    type_review(master, {"A01": 60, "A03": 15})  # A01 is worth 20.25 points
    res = run_merge(plan.source, inbox, "-o", master, "--report", tmp_path / "r.json")
    assert res.exit_code == 1
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    bad = next(i for i in report["issues"] if i["code"] == "review-out-of-range")
    assert "A01" in bad["message"] and bad["cell"] == f"{letter}{points['A01'][0]}"
    items = {i["id"]: i for i in report["items"]}
    assert items["A01"]["review"] is None and items["A01"]["adopted"] == items["A01"]["self_score"]
    assert items["A03"]["review"] == 15


def test_an_invalid_self_score_is_marked_and_told_apart_from_not_applicable(tmp_path):
    inbox = tmp_path / "returns"
    shutil.copytree(EXAMPLE / "returns", inbox)
    first = inbox / "109_提升服務效能_第一課.xlsx"
    wb = openpyxl.load_workbook(first)
    wb["填報表"]["L6"] = 999  # 1-1-1 is worth 9
    wb.save(first)
    master, report = tmp_path / "m.xlsx", tmp_path / "r.json"
    run_merge(EXAMPLE / "plan.xlsx", inbox, "-o", master, "--report", report)
    ws = openpyxl.load_workbook(master)["評分"]
    head = [c.value for c in ws[4]]
    row = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == "1-1-1")
    cell = ws.cell(row, head.index("第一課") + 1)
    assert cell.value == 0 and cell.fill.fgColor.rgb.endswith("FFC7CE")
    assert cell.comment is not None and "無效" in cell.comment.text
    item = next(i for i in json.loads(report.read_text(encoding="utf-8"))["items"]
                if i["id"] == "1-1-1")
    assert item["unit_scores"]["第一課"] == 0 and item["invalid_units"] == ["第一課"]


def test_a_review_settles_an_item_whose_leads_all_said_not_applicable(second_master, tmp_path):
    plan, inbox, master = second_master
    from returns import fill

    from xltool.forms.template import template_filename

    for unit in ("北區服務站", "南區服務站"):  # the leads of A02
        name = template_filename(plan, unit, "xlsx")
        fill(tmp_path / "tpl" / name, inbox / name, {"A02": {"執行狀態": "免填", "自評分數": None}})
    report = tmp_path / "r.json"
    run_merge(plan.source, inbox, "-o", master, "--report", report)
    codes = [i["code"] for i in json.loads(report.read_text(encoding="utf-8"))["issues"]]
    assert "all-not-applicable" in codes
    type_review(master, {"A02": 12})
    run_merge(plan.source, inbox, "-o", master, "--report", report)
    codes = [i["code"] for i in json.loads(report.read_text(encoding="utf-8"))["issues"]]
    assert "all-not-applicable" not in codes


def _report_text(result) -> str:
    import io

    from xltool.master.report import write_result_json

    out = io.StringIO()
    write_result_json(result, out)
    return out.getvalue()


def test_the_master_is_deflated_at_its_level_and_xlsxwriter_is_left_as_it_was(tmp_path, monkeypatch):
    """The master's parts are deflated at writer.DEFLATE_LEVEL (quicker than zlib's
    default, for a large 明細), and every other workbook keeps XlsxWriter's default."""
    import zipfile
    import zlib

    import xlsxwriter.workbook

    from xltool.master import packing
    from xltool.master.writer import DEFLATE_LEVEL

    monkeypatch.setattr(packing, "deflate_threads", lambda: 2)  # (as on one core or many)
    master = tmp_path / "master.xlsx"
    assert run_merge(EXAMPLE / "plan.xlsx", EXAMPLE / "returns", "-o", master).exit_code == 0
    assert xlsxwriter.workbook.ZipFile is zipfile.ZipFile
    with zipfile.ZipFile(master) as zf:
        info = zf.getinfo("xl/worksheets/sheet2.xml")  # 明細, the largest part
        data = zf.read(info)
        summary = zf.getinfo("xl/worksheets/sheet1.xml")
        summary_data = zf.read(summary)

    def deflated(level: int, *pieces: bytes) -> int:
        """Each piece deflated on its own, ending on a byte, then the final block."""
        size = 0
        for piece in pieces:
            packer = zlib.compressobj(level, zlib.DEFLATED, -15)
            size += len(packer.compress(piece) + packer.flush(zlib.Z_SYNC_FLUSH))
        return size + len(zlib.compressobj(level, zlib.DEFLATED, -15).flush())

    def whole(level: int, piece: bytes) -> int:
        packer = zlib.compressobj(level, zlib.DEFLATED, -15)
        return len(packer.compress(piece) + packer.flush())
    assert info.compress_type == summary.compress_type == zipfile.ZIP_DEFLATED
    assert summary.compress_size == whole(DEFLATE_LEVEL, summary_data) != whole(6, summary_data)
    # 明細's rows were deflated apart from its head and its tail (packing.EarlyRows)
    start, end = data.index(b"<sheetData>") + len(b"<sheetData>"), data.index(b"</sheetData>")
    pieces = data[:start], data[start:end], data[end:]
    assert info.compress_size == deflated(DEFLATE_LEVEL, *pieces) != deflated(6, *pieces)


def test_the_hidden_whole_hash_does_not_make_a_status_row_taller(tmp_path, second_plan_path):
    """繳交狀態's hashes do not wrap (the whole SHA-256, for --verify, is hidden too):
    a row whose other cells take one line stays one line tall."""
    import re
    from datetime import datetime

    from returns import filled_book, rewrite

    from xltool.forms.xlsx_writer import write_xlsx
    from xltool.master.merge import merge
    from xltool.master.writer import write_master
    from xltool.plan import load_plan

    plan = load_plan(second_plan_path)
    inbox = tmp_path / "in"
    inbox.mkdir()
    done = inbox / "甲.xlsx"  # a short name, and no save time: every shown cell one line
    write_xlsx(filled_book(plan, "甲組", {i: {"執行狀態": "完成", "執行績效與成果": "完成", "自評分數": 19}
                                        for i in ("A01", "B01", "B02")}, datetime(2024, 1, 2)), done)
    rewrite(done, "docProps/core.xml",
            lambda x: re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", x))
    result = merge(plan, [inbox], workers=1)
    write_master(result, tmp_path / "總表.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "總表.xlsx")["繳交狀態"]
    rows = {ws.cell(r, 1).value: r for r in range(2, ws.max_row + 1)}
    r = rows["甲組"]
    assert ws.cell(r, 3).value == "甲.xlsx" and ws.cell(r, 4).value == "（未記錄）"
    assert ws.cell(r, 2).value == "已繳" and not ws.cell(r, 10).value  # no 說明
    last = openpyxl.utils.get_column_letter(ws.max_column)
    assert len(ws.cell(r, ws.max_column).value) == 64 and ws.column_dimensions[last].hidden
    assert float(ws.row_dimensions[r].height) == float(ws.sheet_format.defaultRowHeight)  # one line
