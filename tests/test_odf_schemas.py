"""The ODF schemas the tests validate against are the shared OASIS ones.

(Every ODF file written during a run is validated at its end: see conftest.py.)"""
import os
import subprocess
import sys

import pytest
from conftest import ODF_LOG, ROOT


def test_the_schemas_here_are_the_shared_ones():
    from odfcheck import SCHEMAS, SHARED_SCHEMAS

    if not SHARED_SCHEMAS.exists():
        pytest.skip("../shared/odf-schema is not beside this checkout")
    for name in ("OpenDocument-v1.3-schema.rng", "OpenDocument-v1.3-manifest-schema.rng"):
        assert (SCHEMAS / name).read_bytes() == (SHARED_SCHEMAS / name).read_bytes()


INNER = """
import zipfile
from datetime import datetime
from plans import second_plan, write_plan
from xltool.forms.template import write_templates
from xltool.plan import load_plan


def test_writes_an_ods(tmp_path):
    plan = load_plan(write_plan(tmp_path / "plan.xlsx", second_plan()))
    write_templates(plan, tmp_path / "tpl", units=["甲組"], formats=("ods",), generated=datetime(2024, 1, 2))
    (ods,) = (tmp_path / "tpl").glob("*.ods")
    {tamper}
"""
# An element no schema allows, put into the written file's content.
TAMPER = """parts = {}
    with zipfile.ZipFile(ods) as zf:
        parts = {i: zf.read(i) for i in zf.infolist()}
    with zipfile.ZipFile(ods, "w") as zf:
        for info, data in parts.items():
            if info.filename == "content.xml":
                data = data.replace(b"</office:spreadsheet>", b"<table:no-such-element/></office:spreadsheet>")
            zf.writestr(info, data)"""


@pytest.mark.parametrize("tamper", ["pass", TAMPER], ids=["valid", "tampered"])
def test_a_run_that_writes_an_invalid_odf_fails(tmp_path, tamper):
    """The check at the end of a run (conftest.py) fails the run on a schema error,
    with the file named, and passes it otherwise: a run of its own, in pytest."""
    from odfcheck import jing

    jing()  # skips without jing (CI requires it)
    test = tmp_path / "test_inner.py"
    test.write_text(INNER.format(tamper=tamper), encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != ODF_LOG}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "tests"), str(ROOT)])
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "conftest", "-p", "no:cacheprovider",
                          "--rootdir", str(tmp_path), "-c", os.devnull, str(test)],
                         capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    if tamper == "pass":
        assert out.returncode == 0, out.stdout + out.stderr
        assert "1 ODF files this run wrote are valid" in out.stdout
    else:
        assert out.returncode == 1, out.stdout + out.stderr
        assert "1 failed, 1 passed" in out.stdout and "no-such-element" in out.stdout
        assert ".ods" in out.stdout  # the file is named
