"""A 複評 (or 複評說明) kept by a re-merge after the 自評 beside it changed is said:
the secretariat typed it against the 自評 評分 showed then (the lead units'
average, as the sheet shows it), a unit's corrected return has moved that 自評
since, so the review is kept exactly as typed, the 自評 is marked on 評分 and a
warning names the item, the old and the new 自評. Nothing is said when the 自評 is
the same, however it reads back (10.15 as 10.150000000000002, or as text), in an
.xlsx typed as Excel saves it, one LibreOffice saved as .xlsx or as .ods (the newer
copy read, see review.newer_copy), for an item of two units, and of an item the
plan no longer has."""
import json
import os
import re
import shutil
import subprocess
import zipfile

import openpyxl
import pytest
from click.testing import CliRunner
from conftest import ROOT
from plans import second_plan, write_plan
from returns import Kit, rewrite

from xltool.cli import cli

NOTE = "佐證照片不足，酌減"
NOTE_ONLY = "資料集已上架，自評合理"
# A02 is led by 北區服務站 and 南區服務站: its 自評 is their average, 10.15 (10.1 and 10.2).
NORTH, SOUTH = "北區服務站", "南區服務站"


def kit_for(tmp_path, plan=None):
    kit = Kit(tmp_path, plan or write_plan(tmp_path / "plan2.xlsx", second_plan()))
    for unit in kit.plan.units:
        send(kit, unit.name)
    return kit


def send(kit, unit, a02=None, a03=10):
    """``unit``'s return (every 自評 10; A02 10.1 in the north, 10.2 in the south unless
    ``a02``; A03 ``a03``), replacing the one it sent before."""
    a02 = a02 if a02 is not None else {NORTH: 10.1, SOUTH: 10.2}.get(unit, 10)
    ids = {i.id for i in kit.plan.items_for(unit)}
    rows = {k: {"自評分數": v} for k, v in (("A02", a02), ("A03", a03)) if k in ids}
    kit.ret(unit, rows)


def merge(kit, master, plan=None):
    res = CliRunner().invoke(cli, ["merge", str(plan or kit.plan.source), str(kit.inbox), "-o", str(master),
                                   "--report", str(master.parent / "report.json")])
    assert res.exit_code == 0, res.output
    return res


def changed(master):
    report = json.loads((master.parent / "report.json").read_text(encoding="utf-8"))
    return {i["cell"]: i for i in report["issues"] if i["code"] == "review-self-changed"}


def row(master, item):
    """評分's row of ``item``: {header: cell}."""
    ws = openpyxl.load_workbook(master)["評分"]
    head = {c.column: c.value for c in ws[4] if c.value}
    r = next(r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value == item)
    return {h: ws.cell(r, c) for c, h in head.items()}


def unmarked(master, *items):
    for item in items:
        cell = row(master, item)["自評"]
        assert cell.comment is None and cell.fill.fgColor.rgb != "FFFFEB9C", (item, cell.comment)
    return True


def first_master(tmp_path):
    kit = kit_for(tmp_path)
    master = tmp_path / "out" / "總表.xlsx"
    master.parent.mkdir()
    merge(kit, master)
    assert row(master, "A02")["自評"].value == "=IFERROR(ROUND(AVERAGE(E6:J6),2),0)"
    return kit, master


# ---------------------------------------------------------------- typed as Excel saves it

def _sheet_member(path, name):
    """The zip member of sheet ``name`` in an .xlsx."""
    with zipfile.ZipFile(path) as z:
        book, rels = z.read("xl/workbook.xml").decode(), z.read("xl/_rels/workbook.xml.rels").decode()
    rid = re.search(rf'<sheet name="{name}" sheetId="\d+" r:id="(rId\d+)"', book).group(1)
    return "xl/" + re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"',
                             rels).group(1)


def typed_like_excel(master, values, cached=None):
    """Type into 評分 as Excel saves it (every formula's cached result kept, unlike
    openpyxl): {(編號, header): value}; ``cached``: {編號: 自評's cached result as saved}."""
    ws = openpyxl.load_workbook(master)["評分"]
    head = {c.value: c.column_letter for c in ws[4] if c.value}
    rows = {ws.cell(r, 1).value: r for r in range(5, ws.max_row + 1) if ws.cell(r, 1).value}

    def change(xml: bytes) -> bytes:
        text = xml.decode()
        for (item, header), value in values.items():
            ref = f"{head[header]}{rows[item]}"
            body = (f'><v>{value}</v></c>' if not isinstance(value, str) else
                    f' t="inlineStr"><is><t>{value}</t></is></c>')
            text, n = re.subn(rf'(<c r="{ref}"(?: s="\d+")?)/>', lambda m, body=body: m.group(1) + body, text)
            assert n == 1, ref
        for item, value in (cached or {}).items():
            ref = f"{head['自評']}{rows[item]}"
            text, n = re.subn(rf'(<c r="{ref}"[^>]*>.*?<v>)[^<]*(</v>)', rf"\g<1>{value}\g<2>", text)
            assert n == 1, ref
        return text.encode()

    rewrite(master, _sheet_member(master, "評分"), change)


def test_a_review_kept_after_its_self_score_changed_is_said_and_marked(tmp_path):
    kit, master = first_master(tmp_path)
    typed_like_excel(master, {("A02", "複評"): 18, ("A02", "複評說明"): NOTE, ("A03", "複評說明"): NOTE_ONLY,
                              ("B01", "複評"): 12}, cached={"A02": "10.150000000000002"})
    # The same 自評 again (the two units' scores swapped: the average is the same): nothing said.
    send(kit, NORTH, 10.2)
    send(kit, SOUTH, 10.1)
    merge(kit, master)
    assert not changed(master) and unmarked(master, "A02", "A03", "B01")
    a02 = row(master, "A02")
    assert (a02["複評"].value, a02["複評說明"].value) == (18, NOTE)
    # A corrected return: 南區服務站 moves A02's 自評 to 15.1, 資訊中心 its A03 to 15.
    send(kit, SOUTH, 20)
    send(kit, "資訊中心", a03=15)
    res = merge(kit, master)
    said = changed(master)
    assert set(said) == {"L6", "M7"}  # A02's 複評, A03's 複評說明 (it has no 複評)
    a02, a03 = said["L6"], said["M7"]
    assert a02["level"] == "warning" and a02["file"] == "總表.xlsx" and a02["sheet"] == "評分"
    assert "「A02」" in a02["message"] and "10.15 變為 15.1" in a02["message"]
    assert "複評已照原樣保留（仍為 18" in a02["message"] and "複評 18 與複評說明" in a02["message"]
    assert a02["value"] == "自評 10.15 → 15.1"
    assert "「A03」" in a03["message"] and "10 變為 15" in a03["message"] and "複評說明已照原樣保留" in a03["message"]
    assert "B01" not in json.dumps(said, ensure_ascii=False)  # its 自評 did not move
    a02 = row(master, "A02")
    assert (a02["複評"].value, a02["複評說明"].value, a02["自評"].value) == (
        18, NOTE, "=IFERROR(ROUND(AVERAGE(E6:J6),2),0)")  # kept exactly as typed
    assert "10.15 變為 15.1" in a02["自評"].comment.text and "複評與複評說明" in a02["自評"].comment.text
    assert a02["自評"].fill.fgColor.rgb == "FFFFEB9C"
    assert "10 變為 15" in row(master, "A03")["自評"].comment.text
    assert unmarked(master, "B01")
    assert "警告" in res.output
    # Merged again, as the master now shows the new 自評 beside the review: nothing more to say.
    merge(kit, master)
    assert not changed(master) and unmarked(master, "A02", "A03")
    assert row(master, "A02")["複評"].value == 18


def test_a_self_score_read_back_as_text_is_the_same_score(tmp_path):
    kit, master = first_master(tmp_path)
    typed_like_excel(master, {("A02", "複評"): 18}, cached={"A02": "10.15"})

    def as_text(xml: bytes) -> bytes:  # 自評 saved as the text 10.15 (as a copy might hold it)
        return re.sub(rb'<c r="K6"( s="\d+")?>.*?</c>', rb'<c r="K6"\1 t="inlineStr"><is><t>10.15</t></is></c>',
                      xml, count=1)
    rewrite(master, _sheet_member(master, "評分"), as_text)
    merge(kit, master)
    assert not changed(master) and unmarked(master, "A02")
    typed_like_excel(master, {}, cached={"A02": "10.15"})
    rewrite(master, _sheet_member(master, "評分"), as_text)
    send(kit, NORTH, 0)
    merge(kit, master)
    [said] = changed(master).values()
    assert "10.15 變為 5.1" in said["message"] and row(master, "A02")["複評"].value == 18


def test_a_review_of_an_item_the_plan_no_longer_has_is_not_said_to_have_moved(tmp_path):
    kit, master = first_master(tmp_path)
    typed_like_excel(master, {("A03", "複評"): 12, ("A03", "複評說明"): NOTE, ("A02", "複評"): 18})
    data = second_plan()
    data["項目"] = [r for r in data["項目"] if r[0] != "A03"]
    data["構面"][1][2] = 40.5
    revised = write_plan(tmp_path / "plan-revised.xlsx", data)
    send(kit, "資訊中心", a03=15)  # A03's 自評 moves as it leaves the plan
    send(kit, SOUTH, 20)  # and A02's
    merge(kit, master, revised)
    report = json.loads((master.parent / "report.json").read_text(encoding="utf-8"))
    assert [i["code"] for i in report["issues"] if "A03" in i["message"]] == ["orphan-review"]
    [said] = changed(master).values()
    assert "「A02」" in said["message"]
    ws = openpyxl.load_workbook(master)["評分"]
    kept = next(r for r in ws.iter_rows(min_row=10) if r[0].value == "A03")
    assert (kept[11].value, kept[12].value, kept[10].value) == (12, NOTE, None)  # below the totals, as typed
    # Merged again under the revised plan, and back under the plan that has A03 (its row
    # below the totals shows no 自評, so there is nothing it was typed against).
    merge(kit, master, revised)
    assert not changed(master)
    merge(kit, master)
    assert not changed(master) and row(master, "A03")["複評"].value == 12


# ---------------------------------------------------------------- typed in LibreOffice

def type_in_libreoffice(tmp_path, master, fmt, *pairs):
    """Open ``master`` in LibreOffice, type ``pairs`` (編號=複評, 編號@複評說明=…) into 評分 and
    save it as ``fmt`` beside it (總表.xlsx over itself, or 總表.ods saved after it)."""
    python = shutil.which("python3", path="/usr/bin") or "python3"
    saved = tmp_path / f"lo-saved.{fmt}"
    out = subprocess.run([python, str(ROOT / "tests" / "lo_review.py"), str(master), str(saved),
                          str(tmp_path / "lo-profile"), *pairs], capture_output=True, text=True, timeout=300,
                         cwd=ROOT / "tests")
    assert out.returncode == 0, out.stderr
    target = master.with_suffix(f".{fmt}")
    shutil.move(saved, target)
    if fmt != "xlsx":  # the copy was saved after the master
        earlier = target.stat().st_mtime - 60
        os.utime(master, (earlier, earlier))
    return target


@pytest.mark.libreoffice
@pytest.mark.parametrize("fmt", ["xlsx", "ods"])
def test_a_review_typed_in_libreoffice_is_said_when_its_self_score_moved(tmp_path, soffice, fmt):
    kit, master = first_master(tmp_path)
    saved = type_in_libreoffice(tmp_path, master, fmt, "A02=18", f"A02@複評說明={NOTE}", f"A03@複評說明={NOTE_ONLY}")
    merge(kit, master)  # nothing changed: LibreOffice's 10.15 is the 10.15 of this merge
    assert not changed(master) and unmarked(master, "A02", "A03")
    a02 = row(master, "A02")
    assert (a02["複評"].value, a02["複評說明"].value) == (18, NOTE)
    if fmt == "ods":  # the master is now the newer: typed in the .ods again, after it
        saved.unlink()
    saved = type_in_libreoffice(tmp_path, master, fmt, "B01=12")
    send(kit, SOUTH, 20)
    send(kit, "資訊中心", a03=15)
    merge(kit, master)
    report = json.loads((master.parent / "report.json").read_text(encoding="utf-8"))
    assert [i["file"] for i in report["issues"] if i["code"] == "review-other-file"] == (
        ["總表.ods"] if fmt == "ods" else [])  # the reviews were read from the copy LibreOffice saved
    said = changed(master)
    assert set(said) == {"L6", "M7"}, said
    assert "10.15 變為 15.05" in said["L6"]["message"] and "仍為 18" in said["L6"]["message"]
    assert "10 變為 15" in said["M7"]["message"]
    a02 = row(master, "A02")
    assert (a02["複評"].value, a02["複評說明"].value) == (18, NOTE)
    assert "10.15 變為 15.05" in a02["自評"].comment.text
    assert row(master, "B01")["複評"].value == 12 and unmarked(master, "B01")
