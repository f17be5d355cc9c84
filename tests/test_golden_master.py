"""The example's master, cell by cell, against the committed golden file
(tests/golden/kaohsiung-109-master.json; `make golden` regenerates it on purpose)."""
import json

import golden


def test_the_example_master_matches_the_golden_file(tmp_path):
    expected = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    actual = golden.dump(golden.write_example_master(tmp_path / "master.xlsx"))
    changes = golden.differences(expected, actual)
    assert not changes, "the master changed (check it, then `make golden`):\n" + "\n".join(changes)


def test_the_golden_file_holds_what_a_reviewer_checks():
    # Guards against a golden file that could not catch anything.
    data = json.loads(golden.GOLDEN.read_text(encoding="utf-8"))
    assert len(data) >= 6
    cells = [c for sheet in data.values() for c in sheet["cells"].values()]
    assert sum(1 for _, formula, _ in cells if formula) > 50
    assert any(fmt != "General" for _, _, fmt in cells)
    assert any(sheet["validations"] for sheet in data.values())
    assert golden.to_text(data) == golden.GOLDEN.read_text(encoding="utf-8")


def test_differences_name_the_cell_that_changed():
    old = {"評分": {"state": "visible", "merged": [], "validations": [],
                  "cells": {"A1": [1, None, "General"], "B2": [910, "=SUM(B1)", "0"]}}}
    new = json.loads(json.dumps(old))
    new["評分"]["cells"]["B2"] = [900, "=SUM(B1)", "0"]
    assert golden.differences(old, new) == ["評分!B2: [910, '=SUM(B1)', '0'] → [900, '=SUM(B1)', '0']"]
    assert golden.differences(old, old) == []
