"""The test side of lo_cells.py: find the Python that has LibreOffice's uno module and
run the typing jobs there."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def uno_python() -> str:
    for candidate in ("/usr/bin/python3", shutil.which("python3")):
        if candidate and subprocess.run([candidate, "-c", "import uno"],
                                        capture_output=True).returncode == 0:
            return candidate
    if os.environ.get("XLTOOL_REQUIRE_ALL"):
        pytest.fail("python3-uno is required here but `import uno` fails")
    pytest.skip("LibreOffice's Python bridge (python3-uno) is not installed")


def type_in_calc(jobs: list[dict], tmp: Path) -> list[dict]:
    """Run lo_cells.py on ``jobs`` in one office; its results, one per job."""
    spec = tmp / "cells.json"
    spec.write_text(json.dumps(jobs, ensure_ascii=False), encoding="utf-8")
    proc = subprocess.run([uno_python(), str(HERE / "lo_cells.py"), str(spec), str(tmp / "profile")],
                          capture_output=True, text=True, encoding="utf-8", timeout=600, cwd=HERE)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)
