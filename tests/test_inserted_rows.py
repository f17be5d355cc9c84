"""A row a unit inserted between its item rows: what it typed there is kept in the
issue (檢核結果, the JSON report), and the correction copy, drawn afresh without that
row, says plainly that the row is not kept and quotes it, while every other entry of
its 待修正事項 sheet names the cell of the copy where that content now is."""
import json
import re

import openpyxl
from click.testing import CliRunner
from returns import Kit

from xltool.cells import a1
from xltool.cli import cli
from xltool.forms import fields as F

TEXT = "補充：本課另辦理櫃臺人員教育訓練 2 場。"
COL = {c.name: i for i, c in enumerate(F.COLUMNS)}  # 0-based, as the template places them


def with_inserted_row(kit, texts, unit="甲組", score=99):
    """甲組's return: A01's score over its points, B02's result left blank, and a row
    inserted under A01 holding ``texts`` ({column name: value})."""
    path = kit.ret(unit, {"A01": {"自評分數": score}, "B02": {"執行績效與成果": None}})
    wb = openpyxl.load_workbook(path)
    ws = wb[F.FORM_SHEET]
    inserted = F.FIRST_ITEM_ROW + 2  # 1-based: the row under A01
    ws.insert_rows(inserted)
    for name, value in texts.items():
        ws.cell(inserted, COL[name] + 1).value = value
    wb.save(path)
    return inserted - 1  # 0-based


def merge(kit, tmp_path):
    res = CliRunner().invoke(cli, ["merge", str(kit.plan.source), str(kit.inbox), "-o",
                                   str(tmp_path / "總表.xlsx"), "--report", str(tmp_path / "r.json"),
                                   "--feedback", str(tmp_path / "補正")])
    assert res.exit_code == 1, res.output
    return json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))


def test_what_an_inserted_row_holds_is_kept_and_the_copy_says_where_everything_is(
        tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    row = with_inserted_row(kit, {"實際值": 3, "執行績效與成果": TEXT})
    report = merge(kit, tmp_path)
    (issue,) = [i for i in report["issues"] if i["code"] == "row-without-id"]
    content = f"實際值：3；執行績效與成果：{TEXT}"
    assert issue["cell"] == a1(row, 0) and issue["sheet"] == F.FORM_SHEET
    assert issue["value"] == content

    # 檢核結果 of the master quotes it.
    checks = openpyxl.load_workbook(tmp_path / "總表.xlsx")["檢核結果"]
    cells = [c.value for r in checks.iter_rows() for c in r if isinstance(c.value, str)]
    assert content in cells

    (copy,) = (tmp_path / "補正").iterdir()
    book = openpyxl.load_workbook(copy)
    todo = [[c.value for c in r] for r in book["待修正事項"].iter_rows(min_row=5)
            if r[0].value is not None]
    assert [c.value for c in book["待修正事項"][4]][:6] == \
        ["項次", "儲存格", "欄位", "填寫內容", "問題與修正方式", "應填內容"]
    (kept,) = [e for e in todo if "沒有編號" in e[4]]
    assert kept[1] == f"原檔 {F.FORM_SHEET}!{a1(row, 0)}（本檔未保留此列）"
    assert kept[3] == content
    # Every other entry names a cell of the copy, in the row of the item it is about.
    form = book[F.FORM_SHEET]
    others = [e for e in todo if e is not kept]
    assert len(others) == 2
    for entry in others:
        ref = re.fullmatch(rf"{F.FORM_SHEET}!([A-Z]+)([0-9]+)", entry[1])
        assert ref, entry
        item = re.search(r"編號 (\w+)", entry[4])[1]
        assert form[f"A{ref[2]}"].value == item, entry
        assert form[f"{ref[1]}{F.HEADER_ROW + 1}"].value.startswith(entry[2]), entry
    score = next(e for e in others if e[2] == "自評分數")
    assert score[1] == f"{F.FORM_SHEET}!{a1(F.FIRST_ITEM_ROW, COL['自評分數'])}" and score[3] == "99"
    blank = next(e for e in others if "未填" in e[4])
    # B02 is 3 rows under A01 in the return, 2 in the copy.
    assert blank[1] == f"{F.FORM_SHEET}!{a1(F.FIRST_ITEM_ROW + 2, COL['執行績效與成果'])}"
    # The inserted text was not put into any item's row of the copy.
    assert not [c for r in form.iter_rows() for c in r if c.value and TEXT in str(c.value)]


def test_the_content_of_an_inserted_row_is_bounded_and_names_untitled_columns(
        tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    long = "很長的說明" * 60  # 300 characters
    row = with_inserted_row(kit, {"執行績效與成果": long}, score=10)
    wb = openpyxl.load_workbook(kit.inbox / kit.template("甲組").name)
    ws = wb[F.FORM_SHEET]
    ws.cell(row + 1, len(F.COLUMNS) + 2).value = "欄外的字"  # right of the table, no title
    ws.cell(row + 1, COL["執行績效與成果"] + 1).value = "短的說明"
    wb.save(kit.inbox / kit.template("甲組").name)
    result = kit.run()
    ret = result.status_of("甲組").ret
    (issue,) = [i for i in ret.issues if i.code == "row-without-id"]
    extra = f"{chr(ord('A') + len(F.COLUMNS) + 1)} 欄"
    assert issue.value == f"執行績效與成果：短的說明；{extra}：欄外的字"

    wb = openpyxl.load_workbook(kit.inbox / kit.template("甲組").name)
    wb[F.FORM_SHEET].cell(row + 1, COL["執行績效與成果"] + 1).value = long
    wb.save(kit.inbox / kit.template("甲組").name)
    (issue,) = [i for i in kit.run().status_of("甲組").ret.issues if i.code == "row-without-id"]
    assert issue.value.startswith("執行績效與成果：很長的說明") and issue.value.endswith("…")
    assert len(issue.value) <= 201


def test_text_typed_only_in_a_grey_column_of_an_inserted_row_is_kept_too(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    with_inserted_row(kit, {"具體作法": "另增辦理項目：夜間服務"})
    report = merge(kit, tmp_path)
    (issue,) = [i for i in report["issues"] if i["code"] == "row-without-id"]
    assert issue["value"] == "具體作法：另增辦理項目：夜間服務"


def test_a_copied_row_and_a_foreign_row_keep_what_was_typed_in_them(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    with_inserted_row(kit, {"編號": "A01", "具體作法": "複製的灰色文字", "執行績效與成果": "第二份成果"})
    with_inserted_row(kit, {"編號": "A02", "執行績效與成果": "他組的項目"}, unit="乙組")
    report = merge(kit, tmp_path)
    found = {i["code"]: i["value"] for i in report["issues"] if i["code"] in ("duplicate-row", "foreign-row")}
    assert found == {"duplicate-row": "編號：A01；執行績效與成果：第二份成果",
                     "foreign-row": "編號：A02；執行績效與成果：他組的項目"}
