"""Time to first reoffence: Kaplan–Meier, log-rank and Cox (Efron ties), via lifelines.

A test cross-checks every figure against statsmodels (SurvfuncRight, survdiff, PHReg)."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from lifelines import CoxPHFitter, KaplanMeierFitter
from lifelines.exceptions import ConvergenceWarning
from lifelines.statistics import multivariate_logrank_test
from pydantic import Field

from iom.errors import UserError
from iom.evaluation.binary import format_p
from iom.evaluation.results import Result
from iom.formatting import percent


class Curve(Result):
    """One group's Kaplan–Meier curve. The points (one per event time) are for charts; the
    JSON carries the summary figures only, to stay small."""

    group: str
    n: int
    events: int
    survival_at_horizon: float | None
    median: float | None  # None when the curve never falls to one half
    times: list[float] = Field(default_factory=list, exclude=True, repr=False)
    survival: list[float] = Field(default_factory=list, exclude=True, repr=False)
    lower: list[float] = Field(default_factory=list, exclude=True, repr=False)
    upper: list[float] = Field(default_factory=list, exclude=True, repr=False)

    def summary(self) -> str:
        median = "not reached" if self.median is None else f"{self.median:g}"
        at = "" if self.survival_at_horizon is None else f", {percent(self.survival_at_horizon)} not reoffended at the horizon"
        return f"{self.group}: {self.events:,} of {self.n:,} reoffended{at}, median time {median}"


class HazardRatio(Result):
    covariate: str
    coef: float | None
    hazard_ratio: float | None  # None when the fit ran off to infinity
    lower: float | None
    upper: float | None
    p: float | None
    unstable: bool  # separation, collinearity or no overlap: not to be trusted

    def summary(self) -> str:
        hr = "–" if self.hazard_ratio is None else f"{self.hazard_ratio:.2f}"
        ci = " to ".join("–" if v is None else f"{v:.2f}" for v in (self.lower, self.upper))
        p = "" if self.p is None else f", {format_p(self.p)}"
        return f"{self.covariate}: hazard ratio {hr} ({ci}){p}" + (" (unstable fit: do not rely on it)" if self.unstable else "")


class SurvivalResult(Result):
    horizon: float | None
    curves: list[Curve]
    logrank_statistic: float
    logrank_p: float
    hazard_ratios: list[HazardRatio] = []
    cox_error: str | None = None  # why there is no Cox model, when it could not be fitted

    def summary(self) -> str:
        groups = "; ".join(c.summary() for c in self.curves)
        cox = f"; no Cox model: {self.cox_error}" if self.cox_error else ""
        return f"Log-rank chi² {self.logrank_statistic:.2f}, {format_p(self.logrank_p)}. {groups}{cox}"


def kaplan_meier(durations, events, label: str = "all", horizon: float | None = None) -> Curve:
    kmf = KaplanMeierFitter()
    kmf.fit(np.asarray(durations, dtype=float), np.asarray(events, dtype=int), label=label)
    sf = kmf.survival_function_[label]
    ci = kmf.confidence_interval_survival_function_
    median = float(kmf.median_survival_time_)
    at = float(kmf.survival_function_at_times(horizon).iloc[0]) if horizon is not None else None
    return Curve(
        group=label,
        n=len(durations),
        events=int(np.sum(events)),
        times=[float(t) for t in sf.index],
        survival=[float(s) for s in sf.values],
        lower=[float(v) for v in ci.iloc[:, 0].values],
        upper=[float(v) for v in ci.iloc[:, 1].values],
        survival_at_horizon=at,
        median=median if np.isfinite(median) else None,
    )


def survival_analysis(
    frame: pd.DataFrame,
    *,
    group_col: str,
    control,
    time_col: str,
    event_col: str,
    covariates: list[str] | None = None,
    horizon: float | None = None,
) -> SurvivalResult:
    """Curves per group, the log-rank test across groups and a Cox model of group (dummies
    against the control) plus covariates. Rows with a time of zero or less are refused."""
    if (frame[time_col] < 0).any():
        raise UserError(f"column {time_col!r} has negative times")
    curves = [
        kaplan_meier(sub[time_col], sub[event_col], label=str(g), horizon=horizon)
        for g, sub in frame.groupby(group_col, sort=True)
    ]
    lr = multivariate_logrank_test(frame[time_col], frame[group_col].astype(str), frame[event_col])
    result = SurvivalResult(
        horizon=horizon, curves=curves, logrank_statistic=float(lr.test_statistic), logrank_p=float(lr.p_value)
    )
    try:
        result.hazard_ratios = cox_hazard_ratios(
            frame, group_col=group_col, control=control, time_col=time_col, event_col=event_col,
            covariates=covariates or [],
        )
    except UserError as exc:  # the curves and the log-rank test still stand without it
        result.cox_error = str(exc).split(". ")[0]
    return result


def cox_design(frame: pd.DataFrame, *, group_col: str, control, covariates: list[str]) -> pd.DataFrame:
    """Group as 0/1 dummies against the control, covariates one-hot encoded if categorical."""
    groups = [g for g in sorted(frame[group_col].astype(str).unique()) if g != str(control)]
    design = pd.DataFrame(index=frame.index)
    for g in groups:
        design[f"{group_col}={g}"] = (frame[group_col].astype(str) == g).astype(float)
    if covariates:
        design = design.join(pd.get_dummies(frame[covariates], drop_first=True, dtype=float))
    return design


def cox_hazard_ratios(
    frame: pd.DataFrame, *, group_col: str, control, time_col: str, event_col: str, covariates: list[str]
) -> list[HazardRatio]:
    design = cox_design(frame, group_col=group_col, control=control, covariates=covariates)
    design = design.loc[:, design.std() > 0]
    if design.empty or frame[event_col].sum() == 0:
        return []
    data = design.assign(_T=frame[time_col].astype(float), _E=frame[event_col].astype(int))
    # Efron ties, as lifelines always uses. Skewed covariates (prior offences) can make the
    # full Newton step overshoot; smaller steps reach the same optimum when that happens.
    failure = None
    for step_size in (None, 0.5, 0.2):
        cph = CoxPHFitter()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                cph.fit(data, duration_col="_T", event_col="_E",
                        fit_options=None if step_size is None else {"step_size": step_size})
            except Exception as exc:  # convergence failures are the data's problem, said plainly
                failure = exc
                continue
        unstable = any(
            issubclass(w.category, (RuntimeWarning, ConvergenceWarning)) or "ill-conditioned" in str(w.message)
            for w in caught
        )
        failure = None
        if not unstable:
            break
    if failure is not None:
        raise UserError(f"the Cox model could not be fitted: {failure}") from None
    s = cph.summary
    return [
        HazardRatio(
            covariate=name,
            coef=float(s.loc[name, "coef"]),
            hazard_ratio=float(s.loc[name, "exp(coef)"]),
            lower=float(s.loc[name, "exp(coef) lower 95%"]),
            upper=float(s.loc[name, "exp(coef) upper 95%"]),
            p=float(s.loc[name, "p"]),
            # Separation, collinearity or no overlap between groups (a hazard ratio beyond
            # e^±5 ≈ 1:150 is extrapolation, not evidence): the estimate is not to be trusted.
            unstable=unstable or abs(float(s.loc[name, "coef"])) > 5,
        )
        for name in s.index
    ]
