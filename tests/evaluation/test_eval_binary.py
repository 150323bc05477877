import pytest

from iom.errors import UserError
from iom.evaluation.binary import compare, newcombe_difference, relative_reduction, two_by_two_test, wilson


def test_jdl_check_72_treated_31_vs_43_percent():
    # JDL guidance example: 72 treated at 31% against a large control at 43%.
    c = compare(22, 72, 4300, 10_000)
    assert round(c.group_rate.rate * 100) == 31
    assert 0.0 < c.difference_lower < 0.03
    assert 0.21 < c.difference_upper < 0.24
    assert c.verdict == "significant reduction"


def test_wilson_matches_published_reference():
    # Newcombe (1998) Table I, example 81/263: Wilson 0.2553 to 0.3662.
    r = wilson(81, 263)
    assert (round(r.lower, 4), round(r.upper, 4)) == (0.2553, 0.3662)


def test_newcombe_difference_matches_published_reference():
    # Newcombe (1998) Table II, 56/70 vs 48/80: method 10 gives 0.0524 to 0.3339.
    d, lo, hi = newcombe_difference(56, 70, 48, 80)
    assert round(d, 4) == 0.2
    assert (round(lo, 4), round(hi, 4)) == (0.0524, 0.3339)


def test_relative_reduction_has_interval_and_handles_zero_events():
    rr, lo, hi = relative_reduction(40, 134, 0, 20)
    assert rr == 1.0 and lo < 1.0 and hi <= 1.0
    assert relative_reduction(0, 50, 3, 50) == (None, None, None)


def test_small_expected_counts_use_fisher():
    assert two_by_two_test(10, 49, 1, 20)[0] == "Fisher exact"
    assert two_by_two_test(124, 318, 15, 164)[0] == "Pearson chi-square"


def test_too_small_verdict_below_60_and_with_low_power():
    assert compare(2, 20, 40, 134).verdict == "too small to evaluate"
    small_effect = compare(38, 100, 40, 100)  # n ≥ 60 but a tiny difference: power is low
    assert small_effect.verdict == "too small to evaluate"
    assert small_effect.n_for_80_power > 1000
    assert "cannot say" in small_effect.statement


def test_large_null_result_is_no_significant_difference():
    c = compare(800, 2000, 820, 2000)  # 40% vs 41%: tight range, plenty of power for 5 points
    assert c.verdict == "no significant difference"
    assert c.power_for_min_effect > 0.8 and c.power < 0.2  # observed power says nothing here
    assert "includes no effect" in c.statement


def test_empty_group_is_a_user_error():
    with pytest.raises(UserError, match="no members"):
        compare(0, 0, 10, 100)
