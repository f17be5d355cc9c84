"""Pure scoring functions."""
import pytest

from xltool.cells import excel_round
from xltool.master.scoring import Entry, adopted_score, dimension_score, item_self_score
from xltool.plan import GradeBand, grade_for


@pytest.mark.parametrize("value, expected", [
    (2.675, 2.68),   # binary 2.67499999…: Python's round() gives 2.67
    (0.125, 0.13),   # a true tie: banker's rounding would give 0.12
    (-0.125, -0.13),
    (1.005, 1.01),
    (17.5, 17.5),
    (26.666666, 26.67),
])
def test_excel_round_is_half_away_from_zero(value, expected):
    assert excel_round(value, 2) == expected


def test_mean_of_lead_units_with_missing_as_zero_and_not_applicable_left_out():
    entries = [Entry(9), Entry(8), Entry(None), Entry(None, excluded=True)]
    # (9 + 8 + 0) / 3 = 5.666… → 5.67; the 不適用 row is not in the mean
    assert item_self_score(entries) == (5.67, False)


def test_all_rows_left_out_scores_zero_and_says_so():
    assert item_self_score([Entry(None, excluded=True)] * 3) == (0.0, True)


def test_review_wins_over_self_score():
    assert adopted_score(8.5, None) == 8.5
    assert adopted_score(8.5, 7) == 7
    assert adopted_score(8.5, 0) == 0


def test_dimension_sum_and_grade_bands():
    assert dimension_score([20.25, 19.755, 0.005]) == 40.01
    bands = [GradeBand("甲", 800), GradeBand("優", 900), GradeBand("丁", 0)]
    assert grade_for(900, bands) == "優"
    assert grade_for(899.99, bands) == "甲"
    assert grade_for(0, bands) == "丁"
    assert grade_for(-1, bands) == ""


def test_equal_entries_of_an_item_are_one_object_and_kinds_of_number_are_told_apart():
    """An item's entries repeat (1,000 units, a few scores): equal ones are shared
    (they are frozen), but 1 and 1.0, 0.0 and -0.0, a refused and a blank score, and
    a score over revised points each stay their own."""
    from types import SimpleNamespace

    from xltool.intake import Row
    from xltool.master.merge import SCORE_FIELD, STATUS_FIELD, _entry

    plan = SimpleNamespace(info=SimpleNamespace(not_applicable="不適用"))
    shared: dict = {}

    def entry(value, invalid=(), status="已完成", capped=None):
        row = Row("I1", 5, {SCORE_FIELD: value, STATUS_FIELD: status}, invalid=list(invalid))
        return _entry(plan, row, capped, shared)

    assert entry(8) is entry(8) and entry(8) == Entry(8)
    assert type(entry(1).score) is int and type(entry(1.0).score) is float
    assert str(entry(-0.0).score) == "-0.0" and str(entry(0.0).score) == "0.0"
    assert str(entry(0.0).score) == "0.0" and str(entry(-0.0).score) == "-0.0"  # either order
    assert entry(None, invalid=[SCORE_FIELD]) == Entry(None, invalid=True)
    assert entry(None) == Entry(None) and entry(None).invalid is False
    assert entry(None, status="不適用") == Entry(None, excluded=True)
    assert entry(9, capped=10) == Entry(9, capped_from=10) and entry(9) == Entry(9)
    assert _entry(plan, None) == Entry(0.0)
