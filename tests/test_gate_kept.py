"""The gate keeps the small XML parts it inflates, so that none is inflated twice: what
is kept is what zipfile would read again, and the document properties taken from it
are those read from the file."""
import zipfile

import corpus
import pytest

from xltool.reading import gate as G
from xltool.reading.gate import Rejected, _inflate_all, gate
from xltool.reading.workbook import _document_properties

RETURNS = sorted(corpus.RETURNS.iterdir())


def _kept(path):
    with zipfile.ZipFile(path) as zf:
        return _inflate_all(path, zf, zf.infolist()), {i.filename: zf.read(i.filename)
                                                       for i in zf.infolist()}


@pytest.mark.parametrize("path", RETURNS, ids=lambda p: p.name)
def test_kept_parts_are_the_parts(path):
    kept, whole = _kept(path)
    assert kept and all(whole[name] == data for name, data in kept.items())
    assert all(name.endswith((".xml", ".rels")) for name in kept)
    report = gate(path)
    assert report.properties is not None
    assert _document_properties(path, report.properties) == _document_properties(path)


def test_a_later_entry_of_the_same_name_is_the_one_kept(tmp_path):
    path = tmp_path / "twice.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("a.xml", b"<a>first</a>")
        with pytest.warns(UserWarning):
            zf.writestr("a.xml", b"<a>second</a>")
    kept, _ = _kept(path)
    with zipfile.ZipFile(path) as zf:
        assert kept["a.xml"] == zf.read("a.xml") == b"<a>second</a>"


def test_large_parts_are_not_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(G, "KEEP_PART", 1000)
    path = tmp_path / "big.xlsx"
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("small.xml", b"<a/>")
        zf.writestr("big.xml", b"<a>" + b"x" * 5000 + b"</a>")
    kept, _ = _kept(path)
    assert set(kept) == {"small.xml"}


def test_properties_not_kept_are_read_from_the_file(monkeypatch):
    monkeypatch.setattr(G, "KEEP_TOTAL", 0)
    path = next(p for p in RETURNS if p.suffix == ".xlsx")
    report = gate(path)
    assert report.properties is None
    assert _document_properties(path, None)[0]  # the template's identity, still read


def test_a_doctype_in_any_kept_part_is_refused(tmp_path):
    path = tmp_path / "109_提升服務效能_第一課.xlsx"
    source = next(p for p in RETURNS if p.suffix == ".xlsx")
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(path, "w") as zout:
        for info in zin.infolist():
            data = zin.read(info.filename)
            if info.filename == "docProps/core.xml":
                data = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]>' + data.split(b"?>", 1)[1]
            zout.writestr(info, data)
    with pytest.raises(Rejected) as exc:
        gate(path)
    assert exc.value.issue.code == "xml-rejected"
