"""Binary outcomes (reoffended or not): rates, differences, tests, power and the verdict.

Intervals follow the recommendations of Newcombe (1998): Wilson score intervals for each
rate and the hybrid score ("method 10") interval for the difference, both from statsmodels.
"""

from __future__ import annotations

import math

import numpy as np
from scipy import stats
from statsmodels.stats.power import NormalIndPower
from statsmodels.stats.proportion import (
    confint_proportions_2indep,
    proportion_confint,
    proportion_effectsize,
)

from iom.errors import UserError
from iom.evaluation.results import Result
from iom.formatting import percent

#: Justice Data Lab: fewer treated people than this cannot be evaluated.
MIN_PARTICIPANTS = 60
#: A non-significant result is informative only if the group had this much power to detect a
#: difference of MIN_EFFECT (percentage points); otherwise it is "too small to evaluate".
#: (Power at the observed difference is reported, but is no guide: it merely restates p.)
MIN_POWER = 0.8
MIN_EFFECT = 0.05
ALPHA = 0.05
#: How a comparison's groups were formed, strongest first (``iom.evaluation.evidence``):
#: randomised, matched on covariates, or neither (descriptive only, never a verdict).
DESIGNS = ("randomised", "matched", "unmatched")
#: The verdict of an unmatched comparison: its groups were chosen differently, so its
#: difference describes them and says nothing on its own about what the programme did.
DESCRIPTIVE = "descriptive"


class Rate(Result):
    n: int
    events: int
    rate: float
    lower: float
    upper: float

    def summary(self) -> str:
        return f"{self.events:,} of {self.n:,} ({percent(self.rate)}, 95% range {percent(self.lower)} to {percent(self.upper)})"


class GroupRate(Rate):
    """A rate as the evaluation lists it, under its group's name."""

    lead = ("group",)
    group: str

    def summary(self) -> str:
        return f"{self.group}: {super().summary()}"


class Comparison(Result):
    """One group against the control. Differences are control minus group (a positive
    difference means the group reoffended less). ``design`` says how the groups were formed
    (``DESIGNS``; None when the caller did not say, as for the seed papers' own tables): an
    unmatched comparison's verdict is ``DESCRIPTIVE``, never a verdict word."""

    optional = ("design",)
    design: str | None = None
    difference: float
    difference_lower: float
    difference_upper: float
    relative_reduction: float | None
    relative_reduction_lower: float | None
    relative_reduction_upper: float | None
    test: str
    p_value: float
    power: float | None
    n_for_80_power: int | None
    power_for_min_effect: float | None
    verdict: str
    statement: str
    group_rate: Rate
    control_rate: Rate

    def summary(self) -> str:
        """The verdict and the difference, e.g. for one line of a CLI."""
        way = "lower" if self.difference >= 0 else "higher"
        return (
            f"{self.verdict}: {percent(self.group_rate.rate)} reoffended against {percent(self.control_rate.rate)} "
            f"in the control, {abs(self.difference) * 100:.1f} points {way} (control minus group 95% range "
            f"{self.difference_lower * 100:.1f} to {self.difference_upper * 100:.1f}; {format_p(self.p_value)})"
        )


class GroupComparison(Comparison):
    """A comparison as the evaluation lists it, under the group's name."""

    lead = ("group",)
    group: str

    def summary(self) -> str:
        return f"{self.group} against control: {super().summary()}"


def wilson(events: int, n: int, alpha: float = ALPHA) -> Rate:
    """Rate with its Wilson score interval (good coverage even at 0% or 100%)."""
    _check_counts(events, n)
    lower, upper = proportion_confint(events, n, alpha=alpha, method="wilson")
    return Rate(n=n, events=events, rate=events / n, lower=float(lower), upper=float(upper))


def newcombe_difference(
    events_control: int, n_control: int, events_group: int, n_group: int, alpha: float = ALPHA
) -> tuple[float, float, float]:
    """Control rate minus group rate, with Newcombe's hybrid score interval."""
    _check_counts(events_control, n_control)
    _check_counts(events_group, n_group)
    lower, upper = confint_proportions_2indep(
        events_control, n_control, events_group, n_group, method="newcomb", compare="diff", alpha=alpha
    )
    return events_control / n_control - events_group / n_group, float(lower), float(upper)


def relative_reduction(
    events_control: int, n_control: int, events_group: int, n_group: int, alpha: float = ALPHA
) -> tuple[float | None, float | None, float | None]:
    """1 − (group rate / control rate) with an interval from the log risk ratio.

    With no events in either group a zero-cell correction is used for the interval
    (statsmodels ``log-adjusted``); with no control events there is nothing to reduce."""
    if events_control == 0:
        return None, None, None
    ratio = (events_group / n_group) / (events_control / n_control)
    method = "log" if events_group > 0 else "log-adjusted"
    lo, hi = confint_proportions_2indep(
        events_group, n_group, events_control, n_control, method=method, compare="ratio", alpha=alpha
    )
    return 1 - ratio, 1 - float(hi), 1 - float(lo)


def two_by_two_test(events_control: int, n_control: int, events_group: int, n_group: int) -> tuple[str, float]:
    """Fisher's exact test when any expected cell is below 5, else Pearson's chi-square."""
    table = np.array(
        [[events_group, n_group - events_group], [events_control, n_control - events_control]]
    )
    if table.sum(axis=0).min() == 0:
        return "none (no variation in outcome)", 1.0
    expected = stats.contingency.expected_freq(table)
    if expected.min() < 5:
        return "Fisher exact", float(stats.fisher_exact(table).pvalue)
    chi2 = stats.chi2_contingency(table, correction=False)
    return "Pearson chi-square", float(chi2.pvalue)


def power_and_size(
    rate_control: float, rate_group: float, n_control: int, n_group: int, alpha: float = ALPHA
) -> tuple[float | None, int | None]:
    """Power to detect the observed difference at this size, and the group size needed for 80%
    power with the same control-to-group ratio (two-sided, Cohen's h, normal approximation)."""
    effect = proportion_effectsize(rate_control, rate_group)
    if effect == 0 or not math.isfinite(effect):
        return None, None
    ratio = n_control / n_group
    analysis = NormalIndPower()
    power = analysis.power(effect_size=abs(effect), nobs1=n_group, alpha=alpha, ratio=ratio)
    needed = analysis.solve_power(effect_size=abs(effect), power=0.8, alpha=alpha, ratio=ratio)
    return float(power), int(math.ceil(needed))


def verdict(
    *,
    n_group: int,
    difference: float,
    lower: float,
    upper: float,
    p_value: float,
    power: float | None,
    n_needed: int | None,
    alpha: float = ALPHA,
) -> tuple[str, str]:
    """The JDL-style verdict word and a plain statement of what can and cannot be said.

    ``power`` and ``n_needed`` refer to a difference of MIN_EFFECT: they decide whether a
    non-significant result rules out an effect worth having, or is merely too small."""
    per100 = abs(difference) * 100
    # Said as fewer (or more) people reoffending, so the range is given the same way round.
    lo, hi = (lower, upper) if difference >= 0 else (-upper, -lower)
    span = f"between {lo * 100:.0f} and {hi * 100:.0f} percentage points"
    if n_group < MIN_PARTICIPANTS:
        return (
            "too small to evaluate",
            f"Only {n_group} people took part; at least {MIN_PARTICIPANTS} are needed before the "
            "result can be read as evidence either way.",
        )
    if p_value < alpha:
        direction = "fewer" if difference > 0 else "more"
        word = "significant reduction" if difference > 0 else "significant increase"
        return (
            word,
            f"For every 100 people, about {per100:.0f} {direction} reoffended than in the control "
            f"group (95% range {span}). The difference is unlikely to be chance "
            f"({format_p(p_value)}).",
        )
    if power is None or power < MIN_POWER:
        more = (
            f" A group of about {n_needed:,} would be needed to detect a difference of "
            f"{MIN_EFFECT * 100:.0f} points." if n_needed else ""
        )
        return (
            "too small to evaluate",
            f"The difference (control minus group: {difference * 100:.1f} points, 95% range "
            f"{lower * 100:.0f} to {upper * 100:.0f}) could be chance, and the group is too small to "
            f"tell (power {percent(power or 0, 0)} to detect {MIN_EFFECT * 100:.0f} points).{more} "
            "You cannot say the programme works, nor that it does not.",
        )
    return (
        "no significant difference",
        f"The 95% range of the difference (control minus group: {lower * 100:.0f} to {upper * 100:.0f} "
        f"percentage points) includes no effect, and the group is large enough that a difference of "
        f"{MIN_EFFECT * 100:.0f} points would probably have been detected (power {percent(power, 0)}).",
    )


def format_p(p: float) -> str:
    return "p < 0.001" if p < 0.001 else f"p = {p:.3f}"


def direction(*, n_group: int, difference: float, p_value: float, alpha: float = ALPHA) -> str:
    """"fewer" or "more" reoffending in the group when the difference is unlikely to be chance
    (and the group big enough to read), else "unclear": what designs are compared on."""
    if n_group < MIN_PARTICIPANTS or p_value >= alpha or difference == 0:
        return "unclear"
    return "fewer" if difference > 0 else "more"


def descriptive(*, group_rate: float, control_rate: float, difference: float, lower: float, upper: float) -> str:
    """What an unmatched comparison may say: the two rates and their gap, no verdict."""
    lo, hi = (lower, upper) if difference >= 0 else (-upper, -lower)
    way = "fewer" if difference >= 0 else "more"
    return (f"{percent(group_rate)} of the group reoffended against {percent(control_rate)} of the comparison "
            f"group: about {abs(difference) * 100:.0f} {way} per 100 (95% range {lo * 100:.0f} to {hi * 100:.0f} "
            "points). The groups were neither randomised nor matched, so this describes who was chosen; it is "
            "not evidence of what the programme did.")


def compare(events_group: int, n_group: int, events_control: int, n_control: int, alpha: float = ALPHA, *,
            design: str | None = None) -> Comparison:
    """Everything the JDL output reports for one binary outcome of one group against control;
    an ``unmatched`` design gives the ``DESCRIPTIVE`` verdict and statement instead."""
    if design is not None and design not in DESIGNS:
        raise UserError(f"unknown design {design!r}: choose from {', '.join(DESIGNS)}")
    group, control = wilson(events_group, n_group, alpha), wilson(events_control, n_control, alpha)
    diff, lo, hi = newcombe_difference(events_control, n_control, events_group, n_group, alpha)
    rr, rr_lo, rr_hi = relative_reduction(events_control, n_control, events_group, n_group, alpha)
    test, p = two_by_two_test(events_control, n_control, events_group, n_group)
    power, needed = power_and_size(control.rate, group.rate, n_control, n_group, alpha)
    power_min, needed_min = power_and_size(
        control.rate, max(control.rate - MIN_EFFECT, 0.0), n_control, n_group, alpha
    )
    word, statement = verdict(
        n_group=n_group, difference=diff, lower=lo, upper=hi, p_value=p, power=power_min, n_needed=needed_min,
        alpha=alpha,
    )
    if design == "unmatched":
        word = DESCRIPTIVE
        statement = descriptive(group_rate=group.rate, control_rate=control.rate, difference=diff, lower=lo, upper=hi)
    return Comparison(
        design=design,
        group_rate=group,
        control_rate=control,
        difference=diff,
        difference_lower=lo,
        difference_upper=hi,
        relative_reduction=rr,
        relative_reduction_lower=rr_lo,
        relative_reduction_upper=rr_hi,
        test=test,
        p_value=p,
        power=power,
        n_for_80_power=needed,
        power_for_min_effect=power_min,
        verdict=word,
        statement=statement,
    )


def _check_counts(events: int, n: int) -> None:
    if n <= 0:
        raise UserError("a group has no members: cannot compute a rate")
    if events < 0 or events > n:
        raise UserError(f"event count {events} is outside 0..{n}")
