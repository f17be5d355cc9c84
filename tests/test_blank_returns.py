"""A blank return is no return, and nothing a unit typed is lost: text typed beside
the form is told (a warning quoting it) and makes the return not blank; a blank file
never beats a filled one, whatever the save times; 繳交狀態 labels a blank file for
what it is; the reminder to a unit that sent only a blank form says so; `status`
lists the units that sent nothing as `merge` does; and 繳交狀態 prints at a size
people can read. Everything is read back from the files written."""
from __future__ import annotations

import email
import re
import shutil
from datetime import datetime, timedelta, timezone
from email import policy
from pathlib import Path

import openpyxl
import pytest
from click.testing import CliRunner
from returns import Kit, fill, rewrite, set_saved

from xltool.cells import a1
from xltool.cli import cli
from xltool.forms import fields as F

BLANK_LABEL = "空白（未填寫）"


def filled(kit: Kit, unit: str, name: str | None = None) -> Path:
    ids = [i.id for i in kit.plan.items_for(unit)]
    return kit.ret(unit, {i: {"執行績效與成果": f"{unit} 辦理 {i}"} for i in ids}, name=name)


def blank_copy(kit: Kit, unit: str, name: str) -> Path:
    path = kit.inbox / name
    shutil.copy(kit.template(unit), path)
    return path


def merged(kit: Kit, tmp_path: Path, name: str = "總表.xlsx", spill_from: int | None = None):
    """The merge of ``kit``'s returns, and the master it wrote (``spill_from`` 0:
    with every row kept on disk, as a large merge keeps them)."""
    from xltool.master.merge import merge
    from xltool.master.writer import write_master

    result = merge(kit.plan, [kit.inbox], workers=1, spill_from=spill_from)
    master = tmp_path / name
    write_master(result, master)
    return result, master


def sheet(master: Path, name: str) -> list[dict]:
    rows = list(openpyxl.load_workbook(master)[name].iter_rows(values_only=True))
    return [dict(zip(rows[0], row)) for row in rows[1:]]


def checks(master: Path, code: str) -> list[dict]:
    return [r for r in sheet(master, "檢核結果") if r["代碼"] == code]


def status_rows(master: Path, unit: str) -> list[dict]:
    return [r for r in sheet(master, "繳交狀態") if r["單位"] == unit]


def type_at(template: Path, out: Path, row: int, col: int, text: str) -> Path:
    """``template`` with ``text`` typed at the 0-based (row, col) of 填報表."""
    wb = openpyxl.load_workbook(template)
    wb[F.FORM_SHEET].cell(row + 1, col + 1).value = text
    wb.save(out)
    return out


LAST = len(F.COLUMNS) - 1  # the form's last column
BESIDE = {  # where a unit may type beside the form: (row, col), 0-based
    "right of an item row": (F.FIRST_ITEM_ROW, LAST + 2),
    "far right of an item row": (F.FIRST_ITEM_ROW + 1, LAST + 30),
    "in the header area": (F.TITLE_ROW + 1, 4),
    "beside the header row": (F.HEADER_ROW, LAST + 1),
}


@pytest.mark.parametrize("where", list(BESIDE))
def test_text_typed_only_beside_the_form_is_told_and_the_return_is_not_blank(tmp_path, second_plan_path,
                                                                              where):
    kit = Kit(tmp_path, second_plan_path)
    row, col = BESIDE[where]
    note = "本單位本期無新增資料集，詳見公文 113 字第 5 號"
    path = type_at(kit.template("資訊中心"), kit.inbox / "資訊中心.xlsx", row, col, note)
    result, master = merged(kit, tmp_path)
    assert result.status_of("資訊中心").ret is not None  # not taken for no return
    (told,) = checks(master, "text-outside-form")
    assert (told["嚴重度"], told["檔案"], told["工作表"], told["儲存格"]) == (
        "警告", path.name, F.FORM_SHEET, a1(row, col))
    assert told["填寫內容"] == note and note in told["說明"] and "未納入彙整" in told["說明"]
    assert not checks(master, "blank-return")
    assert BLANK_LABEL not in {r["狀態"] for r in status_rows(master, "資訊中心")}


def test_text_beside_a_filled_form_is_a_warning_and_the_rest_is_read(tmp_path, second_plan_path):
    """Only that text is told: the title, the labels and a filled header are the form's
    own, and a template as it went out has nothing beside its form."""
    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    fill(path, path, {}, {"填表人": "王小明", "聯絡電話": "03-1234567", "填報日期": datetime(2024, 1, 5)})
    type_at(path, path, F.FIRST_ITEM_ROW + 2, LAST + 1, "B02 另有附件寄送")
    blank_copy(kit, "資訊中心", "資訊中心.xlsx")
    result, master = merged(kit, tmp_path)
    assert result.status_of("乙組").status == "已繳" and result.status_of("資訊中心").status == "未繳"
    (told,) = checks(master, "text-outside-form")
    assert told["儲存格"] == a1(F.FIRST_ITEM_ROW + 2, LAST + 1) and "B02 另有附件寄送" in told["說明"]
    assert "最後一欄「佐證資料」的右側" in told["說明"]


def _untimed(path: Path) -> Path:
    rewrite(path, "docProps/core.xml",
            lambda x: re.sub(rb"<dcterms:modified[^>]*>[^<]*</dcterms:modified>", b"", x))
    return path


@pytest.mark.parametrize("spill_from", [None, 0])
@pytest.mark.parametrize("case", ["blank saved later", "filled records no save time"])
def test_a_blank_file_never_beats_a_filled_one(tmp_path, second_plan_path, case, spill_from):
    kit = Kit(tmp_path, second_plan_path)
    done = filled(kit, "北區服務站", "北區服務站.xlsx")
    empty = blank_copy(kit, "北區服務站", "北區服務站_空白.xlsx")
    set_saved(empty, datetime(2024, 1, 10, 7, 0))
    if case == "blank saved later":
        set_saved(done, datetime(2024, 1, 10, 4, 0))
    else:
        _untimed(done)
    result, master = merged(kit, tmp_path, spill_from=spill_from)
    assert (result.store is not None) == (spill_from == 0)
    status = result.status_of("北區服務站")
    assert status.ret is not None and status.ret.name == done.name and status.status == "已繳"
    rows = {r["檔案"]: r for r in status_rows(master, "北區服務站")}
    assert rows[done.name]["狀態"] == "已繳"
    shown = rows[empty.name]
    assert shown["狀態"] == BLANK_LABEL and shown["錯誤數"] is None and shown["警告數"] is None
    assert "沒有填寫任何內容" in shown["說明"] and f"「{done.name}」" in shown["說明"]
    assert not checks(master, "same-save-time")
    assert not [r for r in sheet(master, "檢核結果") if r["檔案"] == empty.name and r["嚴重度"] == "錯誤"]


def test_the_streamed_master_uses_the_filled_file_too(tmp_path, second_plan_path):
    from xltool.master.merge import merge
    from xltool.master.streaming import StreamedMaster

    kit = Kit(tmp_path, second_plan_path)
    done = filled(kit, "北區服務站", "北區服務站.xlsx")
    set_saved(done, datetime(2024, 1, 10, 4, 0))
    set_saved(blank_copy(kit, "北區服務站", "北區服務站_空白.xlsx"), datetime(2024, 1, 10, 7, 0))
    with StreamedMaster(kit.plan, tmp_path / "streamed.xlsx") as master:
        result = merge(kit.plan, [kit.inbox], master=master)
        master.commit(result)
    assert result.status_of("北區服務站").ret.name == done.name and not master.rewritten


def test_a_unit_with_only_a_blank_file_is_listed_as_missing_with_the_reason(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    empty = blank_copy(kit, "資訊中心", "資訊中心_收到.xlsx")
    _, master = merged(kit, tmp_path)
    unit_row, file_row = status_rows(master, "資訊中心")
    assert unit_row["狀態"] == "未繳" and unit_row["檔案"] in (None, "") and "只收到空白表" in unit_row["說明"]
    assert file_row["檔案"] == empty.name and file_row["狀態"] == BLANK_LABEL
    assert file_row["錯誤數"] is None and file_row["警告數"] is None
    out = CliRunner().invoke(cli, ["status", str(kit.plan.source), str(kit.inbox)]).output
    assert BLANK_LABEL in out and "已取代" not in out


def _bodies(outbox: Path) -> dict[str, str]:
    """The text of each .eml written, by the unit in its file name."""
    out = {}
    for path in outbox.glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        unit = path.name.split("_")[0]
        out[unit] = msg.get_body(("plain",)).get_content()
    return out


def test_the_reminder_to_a_unit_that_sent_a_blank_form_says_so(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    for unit in ("乙組", "丙組", "北區服務站", "南區服務站"):
        filled(kit, unit)  # 甲組 sends nothing; 資訊中心 a blank form
    empty = blank_copy(kit, "資訊中心", "資訊中心_收到.xlsx")
    outbox = tmp_path / "寄件匣"
    run = CliRunner().invoke(cli, ["send", str(kit.plan.source), "--remind", str(kit.inbox), "-o", str(outbox)])
    assert run.exception is None or isinstance(run.exception, SystemExit), run.output
    bodies = _bodies(outbox)
    assert set(bodies) == {"甲組", "資訊中心"}
    assert "尚未收到貴單位的回傳" in bodies["甲組"] and "空白" not in bodies["甲組"]
    sent_blank = bodies["資訊中心"]
    assert "尚未收到" not in sent_blank and "未收到" not in sent_blank
    assert f"「{empty.name}」" in sent_blank and "空白" in sent_blank and "填妥" in sent_blank


def test_status_lists_a_unit_that_sent_nothing_as_merge_does(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    for unit in ("乙組", "丙組", "資訊中心", "北區服務站", "南區服務站"):
        filled(kit, unit)  # 甲組 sends nothing
    merge_out = CliRunner().invoke(cli, ["merge", str(kit.plan.source), str(kit.inbox), "-o",
                                         str(tmp_path / "總表.xlsx")]).output
    (line,) = [ln for ln in merge_out.splitlines() if "「甲組」未繳交填報表" in ln]
    status_out = CliRunner().invoke(cli, ["status", str(kit.plan.source), str(kit.inbox)]).output
    assert line in status_out.splitlines()


def test_the_status_sheet_prints_at_a_readable_size(tmp_path, soffice):
    """A4 landscape, one page wide, the header on every page, type of 9 pt or more
    (measured on the PDF LibreOffice prints) for a plan of 12 units."""
    from lo_pdf import pages, to_pdf
    from plans import second_plan, write_plan

    data = second_plan()
    data["單位"] += [[f"第{n}服務中心", "服務站", "全體", "", f"s{n}@hsinchu.example"] for n in range(1, 7)]
    kit = Kit(tmp_path, write_plan(tmp_path / "plan12.xlsx", data))
    assert len(kit.plan.units) == 12
    for n, unit in enumerate(u.name for u in kit.plan.units if u.name != "甲組"):
        set_saved(filled(kit, unit), datetime(2024, 1, 10, 4, n))
    set_saved(blank_copy(kit, "乙組", "乙組_空白.xlsx"), datetime(2024, 1, 10, 7, 0))
    _, master = merged(kit, tmp_path)
    printed = [p for p in pages(to_pdf(soffice, master, tmp_path / "pdf")) if "繳交狀態" in p.texts]
    assert printed
    for page in printed:
        assert page.width > page.height  # landscape
        assert {"單位", "說明", "檔案摘要碼"} <= set(page.texts)  # the header, whole, on every page
        assert page.min_cjk_points() >= 9.0


@pytest.mark.libreoffice
def test_a_blank_template_saved_unchanged_by_libreoffice_is_still_blank(tmp_path, soffice):
    """LibreOffice keeps a template's own save time (xltool's, true UTC) when it saves
    the file unchanged; read as LibreOffice's usual "local time labelled Z" it fell
    hours before the template was made, the file was no longer blank, and its unit
    was 有誤 with every empty cell an error rather than 未繳 and reminded."""
    from conftest import convert
    from plans import second_plan, write_plan

    from xltool.forms.template import write_templates

    sheets = second_plan()
    sheets["計畫"].append(["時區", "+08:00"])  # where the units are: not this machine's UTC
    kit = Kit(tmp_path, write_plan(tmp_path / "plan.xlsx", sheets))
    # Made as `xltool template` makes it: at a time with its zone (Taipei, 09:00).
    made = write_templates(kit.plan, tmp_path / "made", units=["甲組"],
                           generated=datetime(2024, 1, 2, 9, 0, tzinfo=timezone(timedelta(hours=8))))
    saved = convert(soffice, made[0].path, "xlsx:Calc MS Excel 2007 XML", tmp_path / "lo")
    shutil.copy(saved, kit.inbox / saved.name)
    for unit in ("乙組", "丙組"):
        filled(kit, unit)
    res = CliRunner().invoke(cli, ["status", str(kit.plan.source), str(kit.inbox)])
    line = next(x for x in res.output.splitlines() if x.strip().startswith("甲組"))
    assert "未繳" in line, res.output
    assert "執行狀態」未填" not in res.output
    # And its time is the true one, not a time "before the template was made".
    from xltool.intake import read_returns

    (ret,) = read_returns(kit.plan, [kit.inbox / saved.name])
    assert ret.saved == datetime(2024, 1, 2, 1, 0, tzinfo=timezone.utc)
    assert [i.code for i in ret.issues if i.code == "implausible-time"] == []


@pytest.mark.parametrize("col", [0, 4, LAST])  # under 編號, 具體作法, the last column
def test_a_remark_typed_under_the_form_is_a_warning_not_an_added_row(tmp_path, second_plan_path, col):
    """A lone text a few rows under the last item (「填表人請假中，由代理人填寫」) is a
    remark beside the form, quoted as typed; it is not read as a 編號 nor as an item row
    added, which would make the return 有誤 and send it back for correction."""
    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    below = F.FIRST_ITEM_ROW + len(kit.plan.items_for("乙組")) + 2
    remark = "填表人請假中，由代理人填寫"
    type_at(path, path, below, col, remark)
    result, master = merged(kit, tmp_path)
    assert result.status_of("乙組").status == "已繳"
    (told,) = checks(master, "text-outside-form")
    assert told["儲存格"] == a1(below, col) and told["填寫內容"] == remark
    assert "表格最後一列的下方" in told["說明"] and f"「{remark}」" in told["說明"]
    assert not checks(master, "foreign-row") and not checks(master, "row-without-id")


def test_a_row_added_under_the_form_with_an_item_in_it_is_still_an_error(tmp_path, second_plan_path):
    kit = Kit(tmp_path, second_plan_path)
    path = filled(kit, "乙組")
    below = F.FIRST_ITEM_ROW + len(kit.plan.items_for("乙組")) + 1
    type_at(path, path, below, 0, "B09")
    type_at(path, path, below, LAST - 2, "新增的成果")
    result, master = merged(kit, tmp_path)
    assert result.status_of("乙組").status == "有誤"
    assert checks(master, "foreign-row") and not checks(master, "text-outside-form")


def test_a_blank_template_with_more_empty_cells_than_are_listed_is_still_blank(tmp_path):
    """A unit leading 110 items sends its template back untouched: past the 300 issues
    listed per file the rest are counted (too-many-issues), and what was counted is only
    empty cells, so the file is still blank, and its unit 未繳."""
    from plans import second_plan, write_plan

    sheets = second_plan()
    head, *_ = sheets["項目"]
    sheets["項目"] = [head] + [[f"A{n:03d}", "A", "策略", f"方法 {n}", "甲組", "作法", None, None, 0.55]
                               for n in range(1, 111)] + [
        ["B01", "B", "策略", "方法", "全體", "作法", None, None, 39.5]]
    kit = Kit(tmp_path, write_plan(tmp_path / "plan.xlsx", sheets))
    blank_copy(kit, "甲組", "甲組.xlsx")
    result, master = merged(kit, tmp_path)
    (file,) = [r for r in status_rows(master, "甲組") if r["檔案"]]
    assert file["狀態"] == BLANK_LABEL
    assert result.status_of("甲組").status == "未繳"
