"""Fuzzing: random damage to a valid return, outside and inside its zip entries,
yields xltool's own issue records only: never an unhandled exception or a hang."""
import io
import zipfile

import pytest

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import ROOT  # noqa: E402
from xltool.intake import read_return  # noqa: E402
from xltool.merge import score  # noqa: E402
from xltool.plan import load_plan  # noqa: E402

EXAMPLE = ROOT / "examples" / "kaohsiung-109"
GOOD = (EXAMPLE / "returns" / "109_提升服務效能_第二課.xlsx").read_bytes()
GOOD_ODS = (EXAMPLE / "returns" / "109_提升服務效能_金門辦事處.ods").read_bytes()
PLAN = load_plan(EXAMPLE / "plan.xlsx")
SETTINGS = settings(max_examples=150, deadline=None, derandomize=True,
                    suppress_health_check=list(HealthCheck))

edits = st.lists(st.tuples(st.floats(0, 1), st.integers(0, 255), st.sampled_from(
    ["flip", "insert", "delete", "truncate"])), min_size=1, max_size=8)


def damage(data: bytes, changes) -> bytes:
    buf = bytearray(data)
    for where, byte, how in changes:
        if not buf:
            break
        i = min(int(where * len(buf)), len(buf) - 1)
        if how == "flip":
            buf[i] = byte
        elif how == "insert":
            buf[i:i] = bytes([byte]) * (byte % 7 + 1)
        elif how == "delete":
            del buf[i:i + byte % 64 + 1]
        else:
            del buf[i:]
    return bytes(buf)


def damage_inside(data: bytes, member_pick: float, changes) -> bytes:
    with zipfile.ZipFile(io.BytesIO(data)) as zin:
        infos = zin.infolist()
        victim = infos[min(int(member_pick * len(infos)), len(infos) - 1)].filename
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zout:
            for info in infos:
                body = zin.read(info.filename)
                if info.filename == victim:
                    body = damage(body, changes)
                zout.writestr(info.filename, body)
    return out.getvalue()


def survive(tmp_path_factory, data: bytes, suffix: str):
    path = tmp_path_factory.mktemp("fuzz") / f"109_提升服務效能_第二課{suffix}"
    path.write_bytes(data)
    ret = read_return(PLAN, path)
    for issue in ret.issues:
        assert issue.code and issue.message
    result = score(PLAN, [ret], [], {})
    assert result.total >= 0


@SETTINGS
@given(changes=edits)
def test_damaged_bytes(tmp_path_factory, changes):
    survive(tmp_path_factory, damage(GOOD, changes), ".xlsx")


@SETTINGS
@given(member=st.floats(0, 1), changes=edits)
def test_damaged_zip_entries(tmp_path_factory, member, changes):
    survive(tmp_path_factory, damage_inside(GOOD, member, changes), ".xlsx")


@SETTINGS
@given(member=st.floats(0, 1), changes=edits)
def test_damaged_ods_entries(tmp_path_factory, member, changes):
    survive(tmp_path_factory, damage_inside(GOOD_ODS, member, changes), ".ods")
