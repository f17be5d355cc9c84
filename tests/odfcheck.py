"""Reading ODF packages back in the tests, and validating them against the OASIS schemas.

``validate`` checks packages with jing against the ODF 1.3 RELAX NG schemas
(tests/odf-schema, copies of ../shared/odf-schema; jing -i, because the schemas
are not DTD-compatible for IDs).
Where jing or the schemas are missing it skips with the reason, except in CI
(XLTOOL_REQUIRE_ALL=1), where it fails.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path

import pytest
from conftest import ROOT
from defusedxml import ElementTree as ET

SCHEMAS = ROOT / "tests" / "odf-schema"
SHARED_SCHEMAS = ROOT.parent / "shared" / "odf-schema"
NS = {
    "table": "urn:oasis:names:tc:opendocument:xmlns:table:1.0",
    "style": "urn:oasis:names:tc:opendocument:xmlns:style:1.0",
    "office": "urn:oasis:names:tc:opendocument:xmlns:office:1.0",
    "meta": "urn:oasis:names:tc:opendocument:xmlns:meta:1.0",
    "text": "urn:oasis:names:tc:opendocument:xmlns:text:1.0",
    "fo": "urn:oasis:names:tc:opendocument:xmlns:xsl-fo-compatible:1.0",
    "number": "urn:oasis:names:tc:opendocument:xmlns:datastyle:1.0",
}


def q(name: str) -> str:
    prefix, local = name.split(":")
    return f"{{{NS[prefix]}}}{local}"


def xml(path: Path, member: str):
    with zipfile.ZipFile(path) as zf:
        return ET.fromstring(zf.read(member))


def page_of(path: Path, sheet: str):
    """(page-layout-properties, master-page) of the table named ``sheet``."""
    content, styles = xml(path, "content.xml"), xml(path, "styles.xml")
    table = next(t for t in content.iter(q("table:table")) if t.get(q("table:name")) == sheet)
    tstyle = next(s for s in content.iter(q("style:style"))
                  if s.get(q("style:name")) == table.get(q("table:style-name")))
    master = next(m for m in styles.iter(q("style:master-page"))
                  if m.get(q("style:name")) == tstyle.get(q("style:master-page-name")))
    layout = next(p for p in styles.iter(q("style:page-layout"))
                  if p.get(q("style:name")) == master.get(q("style:page-layout-name")))
    return layout.find("style:page-layout-properties", NS), master


def jing() -> str:
    exe = shutil.which("jing")
    missing = [what for what, ok in (("jing", exe), ("the ODF schemas in tests/odf-schema",
                                                       (SCHEMAS / "OpenDocument-v1.3-schema.rng").exists()))
               if not ok]
    if missing:
        reason = f"{' and '.join(missing)} not found: ODF validation skipped"
        if os.environ.get("XLTOOL_REQUIRE_ALL"):
            pytest.fail(reason + " (XLTOOL_REQUIRE_ALL=1)")
        pytest.skip(reason)
    return exe


def validate(paths: list[Path]) -> list[str]:
    """Every schema error of every package, as 'file: message' lines (none: valid)."""
    exe = jing()
    errors: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        docs, manifests, origin = [], [], {}
        for n, path in enumerate(paths):
            folder = Path(tmp) / str(n)
            with zipfile.ZipFile(path) as zf:
                zf.extractall(folder)
            for part in ("content.xml", "styles.xml", "meta.xml", "settings.xml"):
                if (folder / part).exists():
                    docs.append(str(folder / part))
            manifests.append(str(folder / "META-INF" / "manifest.xml"))
            origin[str(folder)] = path.name
        for schema, files in (("OpenDocument-v1.3-schema.rng", docs),
                              ("OpenDocument-v1.3-manifest-schema.rng", manifests)):
            if not files:
                continue
            out = subprocess.run([exe, "-i", str(SCHEMAS / schema), *files], capture_output=True,
                                 text=True, timeout=600)
            for line in (out.stdout + out.stderr).splitlines():
                if not line.strip() or line.startswith("[warning]"):
                    continue
                for folder, name in origin.items():
                    line = line.replace(folder, name)
                errors.append(line)
    return errors
