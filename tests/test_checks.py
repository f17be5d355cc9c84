"""The cell rules: the fast path for already-valid values agrees with the schema rules."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xltool.forms import fields as F
from xltool.intake.rules import _already_valid, check, expected_text, rule_for

CHOICES = ("已完成", "執行中", "未執行", "不適用")
values = st.one_of(st.none(), st.integers(-5, 50), st.floats(allow_nan=True), st.booleans(),
                   st.sampled_from(CHOICES + (" 已完成", "已完成 ", "１８", "N/A", "8.5", "\t=1+1")),
                   st.text(max_size=40))


@settings(max_examples=400, deadline=None, derandomize=True)
@given(raw=values, maximum=st.sampled_from([None, 9, 20.25]))
def test_fast_path_matches_the_rules(raw, maximum):
    for col in F.INPUT_COLUMNS:
        choices = CHOICES if col.kind == "list" else None
        mx = maximum if col.maximum_attr else None
        fast = check(rule_for(col, choices=choices, maximum=mx), col, raw,
                     expected_text(col, choices, mx), (choices, mx))
        slow = check(rule_for(col, choices=choices, maximum=mx), col, raw,
                     expected_text(col, choices, mx))  # no bounds: always through the rule
        assert (fast.value == slow.value or fast.value != fast.value) and \
            (fast.problem is None) == (slow.problem is None)
        if _already_valid(col, raw, choices, mx):
            assert slow.value == fast.value or (slow.value != slow.value)
            assert slow.problem is None and slow.note == ""


@pytest.mark.parametrize("raw, code", [("做完了", "not-in-list"), ("N/A", "type-error"),
                                       (25, "out-of-range"), (-1, "out-of-range")])
def test_rules_name_the_problem(raw, code):
    col = next(c for c in F.INPUT_COLUMNS if c.kind == ("list" if raw == "做完了" else "number")
               and (c.maximum_attr if raw == 25 else True))
    choices = CHOICES if col.kind == "list" else None
    result = check(rule_for(col, choices=choices, maximum=20.25 if col.maximum_attr else None), col,
                   raw, "")
    assert result.value is None and result.problem.code == code


@pytest.mark.parametrize("raw, value", [("1,234", 1234), ("１，２３４．５", 1234.5), ("10,000", 10000),
                                        ("12,5", None), ("1,2,3", None), ("1234,567", None),
                                        ("1,23", None), ("，５", None)])
def test_commas_only_as_thousands(raw, value):
    """A comma groups thousands here; anything else is no number (12,5 is not 125)."""
    col = next(c for c in F.INPUT_COLUMNS if c.kind == "number" and not c.maximum_attr)
    result = check(rule_for(col), col, raw, "")
    assert result.value == value
    assert (result.problem is None) == (value is not None)
    if value is None:
        assert result.problem.code == "type-error"


@pytest.mark.parametrize("raw, code", [("𠀀" * 16_383, None), ("𠀀" * 16_384, "too-long"),
                                       ("a" * 32_767, None), ("😀" + "a" * 32_766, "too-long")])
def test_text_limit_counts_as_excel_does(raw, code):
    """Excel's 32,767 is in UTF-16 units: a character beyond the BMP takes two, and a
    text over it would be cut in 明細 without a word."""
    col = next(c for c in F.INPUT_COLUMNS if c.kind == "text")
    result = check(rule_for(col), col, raw, "")
    assert (result.problem.code if result.problem else None) == code
    assert result.value == (raw if code is None else None)


def test_what_no_file_can_hold_is_removed_with_a_note():
    col = next(c for c in F.INPUT_COLUMNS if c.kind == "text")
    result = check(rule_for(col), col, "甲\ufffe乙\uffff丙\x85丁\x1b", "")
    assert result.value == "甲乙丙丁" and result.problem is None and result.note == "已移除控制字元"
