"""The evidence hierarchy: which comparison a verdict may come from, and what to say when
comparisons of different designs disagree.

A randomised comparison leads; then one matched on the covariates (propensity score, 1:1);
an unmatched comparison of groups chosen differently is descriptive and never gives the
verdict. An adjusted Cox ratio is read beside them but never leads: it adjusts for the same
covariates as matching, on groups that may not overlap. Where the designs point different
ways, ``Evidence.reconciliation`` says so and why (the programme's ``selection`` words: e.g.
people adopted at a peak of their offending, regression to the mean, confounding).
"""

from __future__ import annotations

from iom.evaluation.binary import DESCRIPTIVE, DESIGNS, Comparison, direction
from iom.evaluation.results import Result

#: Why groups not formed alike differ, when the caller gives no words of its own.
CONFOUNDING = ("the groups were not formed alike, so they differ in ways that also drive reoffending "
               "(confounding): an unmatched difference mixes who was chosen with what was done")


class Reading(Result):
    """One comparison as the hierarchy reads it: its design and which way it points."""

    design: str  # one of DESIGNS, or "adjusted" for the Cox model
    label: str
    n: int  # people in the treated group of this comparison
    difference: float | None  # control minus group (binary comparisons)
    lower: float | None
    upper: float | None
    hazard_ratio: float | None = None  # the Cox model's
    direction: str  # "fewer", "more" or "unclear": reoffending in the group, if not chance
    verdict: str
    statement: str

    def summary(self) -> str:
        return f"{self.design} ({self.label}): {self.verdict}: {self.statement}"


class Evidence(Result):
    """One treated group's headline, from the strongest design available, and the reconciliation
    of the designs when they point different ways."""

    lead = ("group", "design", "verdict")
    optional = ("reconciliation",)
    group: str
    design: str  # of the headline
    verdict: str  # DESCRIPTIVE when only an unmatched comparison exists
    headline: str
    statement: str
    readings: list[Reading]
    agree: bool
    reconciliation: str | None = None

    def summary(self) -> str:
        return f"{self.headline}: {self.statement}" + (f" {self.reconciliation}" if self.reconciliation else "")


def _reading(c: Comparison, *, design: str, label: str) -> Reading:
    return Reading(
        design=design, label=label, n=c.group_rate.n, difference=c.difference, lower=c.difference_lower,
        upper=c.difference_upper, direction=direction(n_group=c.group_rate.n, difference=c.difference,
                                                      p_value=c.p_value),
        verdict=c.verdict, statement=c.statement,
    )


def _cox_reading(hr, *, n: int, adjusted_for: list[str]) -> Reading | None:
    if hr is None or hr.unstable or hr.hazard_ratio is None or hr.lower is None or hr.upper is None:
        return None
    way = "fewer" if hr.upper < 1 else "more" if hr.lower > 1 else "unclear"
    label = f"Cox model adjusted for {', '.join(adjusted_for)}" if adjusted_for else "Cox model"
    statement = f"hazard ratio {hr.hazard_ratio:.2f} (95% range {hr.lower:.2f} to {hr.upper:.2f})"
    return Reading(design="adjusted", label=label, n=n, difference=None, lower=None, upper=None,
                   hazard_ratio=hr.hazard_ratio, direction=way, verdict="hazard ratio", statement=statement)


def _said(r: Reading) -> str:
    """A reading in words without verdict words (for the reconciliation)."""
    if r.hazard_ratio is not None:
        return f"the {r.label} gives a {r.statement}"
    lo, hi = (r.lower, r.upper) if r.difference >= 0 else (-r.upper, -r.lower)
    way = "fewer" if r.difference >= 0 else "more"
    gap = (f"about {abs(r.difference) * 100:.0f} {way} per 100 reoffending (95% range {lo * 100:.0f} to "
           f"{hi * 100:.0f} points)")
    if r.direction == "unclear":
        gap += ", which could be chance" if r.n >= 60 else f", from only {r.n} people"
    return f"the {r.design} comparison ({r.label}) shows {gap}"


def weigh(
    *,
    group: str,
    raw: Comparison,
    raw_label: str,
    matched: Comparison | None = None,
    matched_label: str = "",
    cox=None,
    adjusted_for: list[str] | None = None,
    selection: str | None = None,
) -> Evidence:
    """The headline from the strongest design: ``raw`` when randomised (or matched beforehand),
    else ``matched`` when anyone could be matched, else ``raw`` as description only. ``cox`` is
    a ``HazardRatio``."""
    if raw.design not in DESIGNS:
        raise ValueError(f"the comparison's design must be one of {DESIGNS}, not {raw.design!r}")
    readings = [_reading(raw, design=raw.design, label=raw_label)]
    if matched is not None:
        readings.append(_reading(matched, design="matched", label=matched_label))
    cox_reading = _cox_reading(cox, n=raw.group_rate.n, adjusted_for=adjusted_for or [])
    if cox_reading is not None:
        readings.append(cox_reading)
    lead = readings[0] if raw.design != "unmatched" or matched is None else readings[1]
    if lead.design == "unmatched":
        headline = f"{DESCRIPTIVE} (unmatched comparison, {lead.label}): no verdict without a matched or randomised one"
    else:
        headline = f"{lead.verdict} ({lead.design} comparison, {lead.label})"
    agree = len({r.direction for r in readings}) == 1
    reconciliation = None
    if not agree:
        others = [r for r in readings if r is not lead]
        why = selection or CONFOUNDING
        if lead.design == "randomised" and lead is readings[0]:
            trust = ("Randomisation made the groups alike on average in everything, measured or not, so the "
                     "randomised comparison is the one to read.")
        elif lead.design == "matched":
            trust = (f"The matched comparison is the one to read: {why}. Matching compares like with like on what "
                     "was measured, though not on what was not.")
        else:
            trust = f"None of them is a verdict: {why}; a matched or randomised comparison is needed."
        reconciliation = (f"The designs disagree: {_said(lead)}, while "
                          + " and ".join(_said(r) for r in others) + f". {trust}")
    return Evidence(group=group, design=lead.design, verdict=lead.verdict, headline=headline,
                    statement=lead.statement, readings=readings, agree=agree, reconciliation=reconciliation)
