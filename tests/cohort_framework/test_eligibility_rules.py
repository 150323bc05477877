"""Eligibility rules judged on constructed facts: ages, offence windows, risk, MAPPA, markers,
nominated cohorts, and the order of preference that picks the proposed classification."""

from __future__ import annotations

import datetime as dt

import pytest

from iom.cohort_framework.eligibility import Facts, judge_all, proposal
from iom.cohort_framework.rules import EligibilityRule, eligibility_rules

AS_OF = dt.date(2019, 3, 31)
RECENT = dt.date(2019, 1, 10)
OLD = dt.date(2017, 6, 1)


def _facts(age: int, *offences: tuple[dt.date, str | None, str], risk: str | None = None, mappa: int | None = None,
           markers: tuple[str, ...] = ()) -> Facts:
    return Facts(age=age, risk_level=risk, mappa_level=mappa, markers=set(markers), offences=list(offences))


BURGLARY = (RECENT, "BURGLARY", "Theft offences")
THEFT = (RECENT, None, "Theft offences")


def _by_class(found):
    return {j.classification: j for j in found}


def test_a_17_year_old_burglar_is_proposed_for_dyo_never_burglary():
    found = judge_all(_facts(17, BURGLARY, BURGLARY, risk="High"), AS_OF, eligibility_rules())
    judged = _by_class(found)
    assert not judged["BURGLARY"].holds and judged["BURGLARY"].words == "aged 17, under 18"
    assert judged["DYO"].holds
    assert proposal(found).classification == "DYO"


def test_an_adult_is_never_dyo_and_a_medium_risk_adult_burglar_is_burglary():
    found = judge_all(_facts(18, BURGLARY, BURGLARY, risk="Medium"), AS_OF, eligibility_rules())
    judged = _by_class(found)
    assert not judged["DYO"].holds and "over 17" in judged["DYO"].words
    assert judged["BURGLARY"].holds and "1 BURGLARY" not in judged["BURGLARY"].words
    assert proposal(found).classification == "BURGLARY"


def test_a_low_risk_burglar_is_not_core_and_an_unassessed_one_is_assessed_at_adoption():
    low = _by_class(judge_all(_facts(30, BURGLARY, risk="Low"), AS_OF, eligibility_rules()))["BURGLARY"]
    assert not low.holds and low.words == "risk Low, needs High or Medium"
    fresh = _by_class(judge_all(_facts(30, BURGLARY), AS_OF, eligibility_rules()))["BURGLARY"]
    assert fresh.holds and "risk to be assessed at adoption" in fresh.words


def test_offences_outside_the_window_do_not_count():
    stale = (OLD, "BURGLARY", "Theft offences")
    judged = _by_class(judge_all(_facts(30, stale, stale, risk="High"), AS_OF, eligibility_rules()))
    assert not judged["BURGLARY"].holds and judged["BURGLARY"].words.startswith("0 BURGLARY offences in 12 months")


def test_mappa_level_markers_and_the_order_of_preference():
    rules = eligibility_rules()
    level_one = _by_class(judge_all(_facts(40, mappa=1), AS_OF, rules))["MAPPA"]
    assert not level_one.holds and "MAPPA level 1" in level_one.words
    # A class A user who burgles and is MAPPA level 2: MAPPA comes first in the file's order.
    found = judge_all(_facts(40, BURGLARY, THEFT, mappa=2, markers=("CLASS_A",), risk="High"), AS_OF, rules)
    assert [j.classification for j in found if j.holds] == ["MAPPA", "HCCU", "BURGLARY"]
    assert proposal(found).classification == "MAPPA"
    no_marker = _by_class(judge_all(_facts(40, THEFT), AS_OF, rules))["HCCU"]
    assert not no_marker.holds and no_marker.words == "no CLASS_A marker"


def test_nominated_cohorts_never_hold_by_rule_and_six_offences_make_a_prolific_offender():
    many = [(RECENT - dt.timedelta(days=7 * k), None, "Criminal damage and arson") for k in range(6)]
    judged = _by_class(judge_all(_facts(25, *many), AS_OF, eligibility_rules()))
    assert not judged["OCG"].holds and not judged["USG"].holds
    assert judged["PPO"].holds and judged["PPO"].words.endswith("6 offences in 12 months (needs 6)")
    five = _by_class(judge_all(_facts(25, *many[:5]), AS_OF, eligibility_rules()))["PPO"]
    assert not five.holds


@pytest.mark.parametrize("bad, message", [
    ({"min_age": 20, "max_age": 18}, "min_age is above max_age"),
    ({"offence_classifications": ["BURGLARY"]}, "need within_months"),
    ({"nominated": True, "markers": ["CLASS_A"]}, "a nominated rule has no other conditions"),
    ({"risk_levels": ["Severe"]}, "unknown risk levels"),
])
def test_a_rule_file_with_an_unsound_rule_is_refused(bad, message):
    with pytest.raises(ValueError, match=message):
        EligibilityRule(classification="X", name="x", source="test", **bad)
