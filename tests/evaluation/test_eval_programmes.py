import datetime as dt

import pytest

from iom.errors import UserError
from iom.evaluation.programmes import PROGRAMMES, evaluate_programme, programme_table


def test_oocd_programme_table_and_evaluation(random_con):
    frame = programme_table(random_con, name="oocd-vs-charge", follow_up_months=12, as_of=dt.date(2018, 12, 31))
    assert set(frame["group"]) == {"oocd", "charge"}
    assert frame["index_date"].between(dt.date(2017, 1, 1), dt.date(2017, 12, 31)).all()
    assert frame["days"].between(0, 366).all()
    assert (frame.loc[frame["reoffended"] == 0, "days"] >= 365).all()  # censored at the end
    assert frame["person_id"].is_unique
    result = evaluate_programme(con=random_con, name="oocd-vs-charge", follow_up_months=12, as_of=dt.date(2018, 12, 31))
    comp = result.comparisons[0]
    assert comp.group == "oocd"
    # The generator cuts the offending rate of people after a diversion to 30%; unmatched, the
    # difference is described (significant, but no verdict) and the matched comparison leads.
    assert comp.difference > 0 and comp.p_value < 0.05
    assert comp.design == "unmatched" and comp.verdict == "descriptive"
    assert result.headline("oocd").design == "matched"
    assert {c.group for c in result.survival.curves} == {"oocd", "charge"}
    matched = result.matched[0]
    assert matched.matched_pairs > 60
    bal = {b.covariate: b for b in matched.balance}
    # Sex is the covariate that differs most before matching; matching must close that gap,
    # and leave no covariate badly imbalanced (the propensity model here is weak, so a few
    # hundred pairs leave noise of about ±0.1 in each SMD).
    assert abs(bal["male"].smd_before) > 0.15 and abs(bal["male"].smd_after) < 0.05
    assert all(abs(b.smd_after) < 0.2 for b in matched.balance)


def test_iom_programme_matches_on_prior_offending(random_con):
    result = evaluate_programme(con=random_con, name="iom-ppo", follow_up_months=6, as_of=dt.date(2018, 12, 31))
    assert result.groups[0].group == "not adopted"
    bal = {b.covariate: b for b in result.matched[0].balance}
    assert set(bal) == {"age", "male", "log_prior_offences"}
    assert abs(bal["log_prior_offences"].smd_after) <= abs(bal["log_prior_offences"].smd_before) + 0.05


def test_unknown_programme_and_empty_group(random_con):
    with pytest.raises(UserError, match="unknown programme"):
        evaluate_programme(con=random_con, name="juggling")
    with pytest.raises(UserError, match="no members|no treated"):
        evaluate_programme(con=random_con, name="iom-mappa", as_of=dt.date(2018, 12, 31))
    assert "iom-ppo" in PROGRAMMES
