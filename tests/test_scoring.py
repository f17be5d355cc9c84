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
