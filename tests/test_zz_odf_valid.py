"""Every .ods that xltool wrote during this test run is valid ODF 1.3 (OASIS schemas).

Runs last (file order); the files are still in pytest's temporary folders."""
import pytest
from conftest import WRITTEN_ODF
from odfcheck import validate


def test_every_ods_written_during_the_run_is_valid_odf():
    files = [p for p in dict.fromkeys(WRITTEN_ODF) if p.exists()]
    if not files:
        pytest.skip("no ODF file was written in this run (this test ran alone)")
    assert validate(files) == []


def test_the_schemas_here_are_the_shared_ones():
    from odfcheck import SCHEMAS, SHARED_SCHEMAS

    if not SHARED_SCHEMAS.exists():
        pytest.skip("../shared/odf-schema is not beside this checkout")
    for name in ("OpenDocument-v1.3-schema.rng", "OpenDocument-v1.3-manifest-schema.rng"):
        assert (SCHEMAS / name).read_bytes() == (SHARED_SCHEMAS / name).read_bytes()
