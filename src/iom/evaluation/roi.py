"""Return on investment: cost of crime avoided divided by what the programme cost."""

from __future__ import annotations

import numpy as np
from scipy import stats

from iom.errors import UserError
from iom.evaluation.results import Result
from iom.formatting import pounds


class ReturnOnInvestment(Result):
    """Money in pence (integers); ratios are pounds avoided per pound spent."""

    avoided_pence: int
    avoided_lower_pence: int
    avoided_upper_pence: int
    programme_cost_pence: int
    ratio: float
    ratio_lower: float
    ratio_upper: float

    def summary(self) -> str:
        return (f"{pounds(self.avoided_pence)} of crime avoided for {pounds(self.programme_cost_pence)}: "
                f"{self.ratio:.1f}:1 (95% range {self.ratio_lower:.1f} to {self.ratio_upper:.1f})")


class GroupReturnOnInvestment(ReturnOnInvestment):
    """The return as the evaluation lists it, under the group's name."""

    lead = ("group",)
    group: str

    def summary(self) -> str:
        return f"Return on investment, {self.group}: {super().summary()}"


def roi_from_costs(
    group_costs_pence, control_costs_pence, *, programme_cost_pence: int, alpha: float = 0.05
) -> ReturnOnInvestment:
    """Per-person cost of crime in the follow-up, group against control. The avoided cost is
    (control mean − group mean) × group size, with a Welch t interval on the mean difference
    (costs are skewed: treat the interval as approximate for small groups)."""
    g = np.asarray(group_costs_pence, dtype=float)
    c = np.asarray(control_costs_pence, dtype=float)
    if len(g) < 2 or len(c) < 2:
        raise UserError("return on investment needs at least two people in each group")
    if programme_cost_pence <= 0:
        raise UserError("programme cost must be positive")
    diff = c.mean() - g.mean()
    va, vb = g.var(ddof=1) / len(g), c.var(ddof=1) / len(c)
    se = np.sqrt(va + vb)
    if se == 0:
        lo = hi = diff
    else:
        df = (va + vb) ** 2 / (va**2 / (len(g) - 1) + vb**2 / (len(c) - 1))
        t = stats.t.ppf(1 - alpha / 2, df)
        lo, hi = diff - t * se, diff + t * se
    n = len(g)
    return _roi(diff * n, lo * n, hi * n, programme_cost_pence)


def roi_from_rates(
    difference: float, lower: float, upper: float, *, n_group: int, cost_per_reoffender_pence: int, programme_cost_pence: int
) -> ReturnOnInvestment:
    """From a difference in reoffending rates and its interval (e.g. Newcombe's), valuing each
    reoffender avoided at a fixed cost of crime."""
    if programme_cost_pence <= 0:
        raise UserError("programme cost must be positive")
    k = n_group * cost_per_reoffender_pence
    return _roi(difference * k, lower * k, upper * k, programme_cost_pence)


def _roi(avoided: float, lo: float, hi: float, cost: int) -> ReturnOnInvestment:
    return ReturnOnInvestment(
        avoided_pence=int(round(avoided)),
        avoided_lower_pence=int(round(lo)),
        avoided_upper_pence=int(round(hi)),
        programme_cost_pence=int(cost),
        ratio=avoided / cost,
        ratio_lower=lo / cost,
        ratio_upper=hi / cost,
    )
