"""Every evaluation result is typed: its summary says the headline in words, and it
round-trips through ``model_dump(mode="json")`` (what the CLI prints and the API returns)."""

import json

import numpy as np
import pandas as pd
import pytest

from iom.evaluation import seed_tables
from iom.evaluation.binary import Comparison, Rate, compare, wilson
from iom.evaluation.matching import MatchResult, propensity_match
from iom.evaluation.programmes import ProgrammeEvaluation, evaluate_programme
from iom.evaluation.roi import ReturnOnInvestment, roi_from_costs
from iom.evaluation.service import Evaluation, evaluate_frame
from iom.evaluation.survival import SurvivalResult, survival_analysis


def round_trips(result):
    """The JSON form rebuilds an equal object of the same type, and is plain JSON."""
    dumped = result.model_dump(mode="json")
    json.dumps(dumped, allow_nan=False)
    again = type(result).model_validate(dumped)
    assert again.model_dump(mode="json") == dumped
    return dumped


@pytest.fixture(scope="module")
def table():
    rng = np.random.default_rng(5)
    rows = [("treated", 1)] * 22 + [("treated", 0)] * 50 + [("control", 1)] * 860 + [("control", 0)] * 1140
    frame = pd.DataFrame(rows, columns=["arm", "reoffended"])
    frame["days"] = np.where(frame["reoffended"] == 1, rng.integers(1, 365, len(frame)), 365)
    frame["age"] = rng.integers(18, 60, len(frame))
    frame["cost"] = frame["reoffended"] * 500_000
    return frame


@pytest.fixture(scope="module")
def evaluation(table):
    return evaluate_frame(table, group_col="arm", control="control", event_col="reoffended", time_col="days",
                          covariates=["age"], cost_col="cost", programme_cost_pence=100_000, design="randomised")


def test_rate():
    r = wilson(81, 263)
    assert isinstance(r, Rate) and r.summary() == "81 of 263 (30.8%, 95% range 25.5% to 36.6%)"
    round_trips(r)


def test_comparison():
    c = compare(22, 72, 4300, 10_000)
    assert isinstance(c, Comparison)
    assert c.summary().startswith("significant reduction: 30.6% reoffended against 43.0% in the control, 12.4 points lower")
    assert round_trips(c)["group_rate"]["n"] == 72
    assert "points higher" in compare(50, 100, 30, 100).summary()


def test_survival(table):
    s = survival_analysis(table, group_col="arm", control="control", time_col="days", event_col="reoffended", horizon=365)
    assert isinstance(s, SurvivalResult)
    assert s.summary().startswith("Log-rank chi²") and "treated: 22 of 72 reoffended" in s.summary()
    dumped = round_trips(s)
    assert "times" not in dumped["curves"][0] and s.curves[0].times  # points kept for charts only
    assert s.hazard_ratios[0].summary().startswith("arm=treated: hazard ratio ")


def test_matching(table):
    m = propensity_match(table, treated=table["arm"] == "treated", covariates=["age"])
    assert isinstance(m, MatchResult)
    assert m.summary().startswith(f"{m.matched_pairs} of 72 treated people matched (caliper ")
    assert "age: standardised mean difference" in m.balance[0].summary()
    assert "matched" not in round_trips(m) and len(m.matched) == 2 * m.matched_pairs


def test_return_on_investment():
    r = roi_from_costs([0, 100_000, 0], [300_000, 300_000, 0], programme_cost_pence=50_000)
    assert isinstance(r, ReturnOnInvestment)
    assert r.summary().startswith("£5,000 of crime avoided for £500: 10.0:1 (95% range ")
    round_trips(r)


def test_evaluation(evaluation):
    assert isinstance(evaluation, Evaluation)
    text = evaluation.summary()
    assert text.startswith("reoffended by arm (2,072 people, control: control, randomised).")
    assert "treated against control: significant reduction" in text
    assert "Headline for treated: significant reduction (randomised comparison" in text
    dumped = round_trips(evaluation)
    assert list(dumped) == ["group_col", "control", "design", "event_col", "n", "groups", "comparisons", "survival",
                            "roi", "matched", "evidence"]
    assert list(dumped["comparisons"][0])[0] == "group" and list(dumped["roi"][0])[0] == "group"
    assert evaluation.roi[0].summary().startswith("Return on investment, treated: £")
    assert evaluation.matched[0].summary().startswith("Matched treated: ")
    assert "matched effect: " in evaluation.matched[0].summary()


def test_sections_not_computed_are_left_out_of_the_json(table):
    plain = evaluate_frame(table, group_col="arm", control="control", event_col="reoffended")
    assert plain.survival is None and plain.roi is None and plain.matched is None
    assert set(round_trips(plain)) == {"group_col", "control", "design", "event_col", "n", "groups", "comparisons",
                                       "evidence"}
    bare = evaluate_frame(table, group_col="arm", control="control", event_col="reoffended", design=None)
    assert set(round_trips(bare)) == {"group_col", "control", "event_col", "n", "groups", "comparisons"}


def test_programme_evaluation(random_con):
    import datetime as dt

    r = evaluate_programme(con=random_con, name="oocd-vs-charge", follow_up_months=12, as_of=dt.date(2018, 12, 31))
    assert isinstance(r, ProgrammeEvaluation)
    assert r.summary().startswith("oocd-vs-charge (out-of-court disposal (any) against charge")
    assert "oocd against control: descriptive: " in r.summary()
    assert "Headline for oocd: too small to evaluate (matched comparison, 217 pairs" in r.summary()
    assert list(round_trips(r))[:4] == ["programme", "description", "follow_up_months", "intake"]


def test_seed_table_reproduction():
    d = seed_tables.reproduce("D")
    assert isinstance(d, seed_tables.SeedTableReproduction)
    assert d.summary() == ("Table D (Alcohol Related Violence course, 12 months after referral): 12 of 12 published "
                           "percentages reproduced, 1 of 2 stated reductions agree; 1 discrepancy.")
    assert d.roi.summary().startswith("stated 16:1; under these assumptions £")
    assert "(does not agree)" in next(s for s in d.stated if s.stated == 46).summary()
    assert d.cells[0].summary() == "control reoffend: published 39.0%, 124/318 gives 39.0% (reproduced)"
    assert "roi" not in round_trips(seed_tables.reproduce("E")) and round_trips(d)["roi"]["stated_ratio"] == 16


def test_table_b_reproduction():
    b = seed_tables.reproduce("B")
    assert isinstance(b, seed_tables.TableBReproduction)
    assert b.summary().startswith("Table B (Reoffending of 200 PIPT referrals from July 2017): 7 of 8 published")
    assert b.comparisons[0].summary().startswith("violence: the paper's reduction 54.9%; fair comparison intervention")
    assert "interval" not in round_trips(b)["stated"][0]


def test_equal_results_compare_equal(table):
    """Results compare by their figures (the matched pairs' frame is not compared)."""
    kwargs = dict(group_col="arm", control="control", event_col="reoffended", covariates=["age"])
    assert evaluate_frame(table, **kwargs) == evaluate_frame(table, **kwargs)
    m = propensity_match(table, treated=table["arm"] == "treated", covariates=["age"])
    assert m == propensity_match(table, treated=table["arm"] == "treated", covariates=["age"])
    assert m != propensity_match(table, treated=table["arm"] == "treated", covariates=["age"], caliper_sd=0.01)


@pytest.mark.parametrize("column, value, words", [
    ("days", float("inf"), "not finite numbers"),
    ("cost", -5_000.0, "has negative values"),
    ("cost", float("inf"), "must be finite numbers"),
])
def test_non_finite_times_and_negative_costs_are_refused_in_words(column, value, words):
    import pandas as pd

    from iom.errors import UserError
    from iom.evaluation.service import evaluate_frame

    frame = pd.DataFrame({"group": ["iom"] * 4 + ["control"] * 4, "reoffended": [1, 0, 0, 1, 1, 1, 0, 1],
                          "days": [30.0, 365, 365, 90, 60, 120, 365, 45], "cost": [100.0, 0, 0, 250, 300, 120, 0, 80]})
    assert evaluate_frame(frame, group_col="group", control="control", event_col="reoffended", time_col="days",
                          cost_col="cost", programme_cost_pence=10_000) is not None
    frame.loc[1, column] = value
    with pytest.raises(UserError, match=words):
        evaluate_frame(frame, group_col="group", control="control", event_col="reoffended", time_col="days",
                       cost_col="cost", programme_cost_pence=10_000)
