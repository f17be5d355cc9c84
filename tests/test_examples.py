"""The committed example workbooks are exactly what `make examples` builds."""
import importlib.util

from conftest import ROOT

from xltool.plan import load_plan


def _build_module():
    spec = importlib.util.spec_from_file_location("build_examples",
                                                  ROOT / "examples" / "build_examples.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_committed_example_files_are_not_stale(tmp_path):
    build = _build_module()
    folder = ROOT / "examples" / "kaohsiung-109"
    for path in build.build(folder, tmp_path):
        committed = folder / path.relative_to(tmp_path)
        assert committed.exists(), f"{committed} is missing: run `make examples`"
        assert committed.read_bytes() == path.read_bytes(), \
            f"{committed} is stale: run `make examples` and commit the result"


def test_example_plan_matches_the_seed(example_plan):
    plan = load_plan(example_plan)
    assert [(d.name, d.points) for d in plan.dimensions] == [
        ("基礎服務", 200), ("服務遞送", 300), ("服務量能", 200), ("服務評價", 200), ("開放創新", 100)]
    assert [u.name for u in plan.units] == [
        "第一課", "第二課", "第三課", "第四課", "第五課", "第六課",
        "金門辦事處", "澎湖辦事處", "秘書室", "人事室", "主計室", "政風室"]
    assert plan.info.review_month == "109.07"
    assert [(g.grade, g.minimum) for g in plan.grades] == [
        ("優", 900), ("甲", 800), ("乙", 700), ("丙", 600), ("丁", 0)]
    assert plan.grade_for(900) == "優" and plan.grade_for(899) == "甲"
    targets = {i.id: (i.target, i.measure) for i in plan.items if i.target is not None}
    assert targets == {"1-1-3-1": (11, "場次"), "1-1-3-2": (3, "場次"), "1-2-3-2": (117, "人次")}
    lead_texts = {i.lead_text for i in plan.items}
    assert {"各業務課", "各單位", "研考", "秘書室、第五課、金門、澎湖辦事處"} <= lead_texts
    for unit in plan.units:
        assert plan.items_for(unit.name), unit.name
    assert plan.warnings == []
