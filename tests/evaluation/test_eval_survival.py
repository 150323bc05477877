"""lifelines results against statsmodels on the Rossi recidivism data, to 4 dp."""

import numpy as np
import pandas as pd
import pytest
from lifelines.datasets import load_rossi
from statsmodels.duration.hazard_regression import PHReg
from statsmodels.duration.survfunc import SurvfuncRight, survdiff

from iom.evaluation.survival import kaplan_meier, survival_analysis


@pytest.fixture(scope="module")
def rossi():
    df = load_rossi()
    df["group"] = np.where(df["fin"] == 1, "aid", "none")
    return df


def test_kaplan_meier_agrees_with_statsmodels(rossi):
    curve = kaplan_meier(rossi["week"], rossi["arrest"], horizon=52)
    sm = SurvfuncRight(rossi["week"].values, rossi["arrest"].values)
    ours = dict(zip(curve.times, curve.survival))
    for t, s in zip(sm.surv_times, sm.surv_prob):
        assert round(ours[float(t)], 4) == round(float(s), 4)
    assert round(curve.survival_at_horizon, 4) == round(float(sm.surv_prob[-1]), 4)
    assert curve.median is None  # fewer than half were arrested within 52 weeks


def test_logrank_and_cox_agree_with_statsmodels_and_r(rossi):
    res = survival_analysis(
        rossi, group_col="group", control="none", time_col="week", event_col="arrest",
        covariates=["age", "prio"], horizon=52,
    )
    chi2, p = survdiff(rossi["week"].values, rossi["arrest"].values, rossi["group"].values)
    assert round(res.logrank_statistic, 4) == round(chi2, 4)
    assert round(res.logrank_p, 4) == round(p, 4)

    exog = pd.DataFrame({"fin": rossi["fin"], "age": rossi["age"], "prio": rossi["prio"]})
    sm = PHReg(rossi["week"].values, exog.values, status=rossi["arrest"].values, ties="efron").fit()
    coefs = {h.covariate: h.coef for h in res.hazard_ratios}
    for name, value in zip(["group=aid", "age", "prio"], sm.params):
        assert round(coefs[name], 4) == round(float(value), 4)
    assert not any(h.unstable for h in res.hazard_ratios)


def test_cox_flags_an_unstable_fit():
    # Only the treated reoffend, all at once: the hazard ratio runs off to infinity.
    frame = pd.DataFrame({"g": ["c"] * 20 + ["t"] * 20, "e": [0] * 20 + [1] * 20, "t": [100.0] * 20 + [5.0] * 20})
    res = survival_analysis(frame, group_col="g", control="c", time_col="t", event_col="e")
    assert res.hazard_ratios[0].unstable


def test_cox_failure_leaves_curves_and_logrank():
    # A covariate that is constant within the events and infinite-valued elsewhere cannot be fitted.
    frame = pd.DataFrame({"g": ["c", "t"] * 10, "e": [1, 0] * 10, "t": [float(i + 1) for i in range(20)],
                          "x": [np.nan if i == 3 else i for i in range(20)]})
    res = survival_analysis(frame, group_col="g", control="c", time_col="t", event_col="e", covariates=["x"])
    assert res.cox_error and res.hazard_ratios == []
    assert len(res.curves) == 2 and 0 <= res.logrank_p <= 1
