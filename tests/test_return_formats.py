"""Returns saved by LibreOffice as .xls and .ods, and a macro-enabled .xlsm, are read."""
import shutil
from datetime import datetime

import pytest

from conftest import convert
from returns import fill
from xltool.merge import merge
from xltool.plan import load_plan
from xltool.template import template_filename, write_templates

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
