"""Evaluate any table: groups against a control on a binary outcome, with survival, Cox and
matched comparisons when the table has the columns for them."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from iom.errors import UserError
from iom.evaluation.binary import DESIGNS, Comparison, GroupComparison, GroupRate, compare, wilson
from iom.evaluation.evidence import Evidence, weigh
from iom.evaluation.matching import MatchResult, propensity_match
from iom.evaluation.results import Result
from iom.evaluation.roi import GroupReturnOnInvestment, roi_from_costs
from iom.evaluation.survival import SurvivalResult, survival_analysis


class MatchedComparison(MatchResult):
    """A group matched to the control, and the comparison of the matched pairs."""

    lead = ("group",)
    optional = ("effect",)
    group: str
    effect: Comparison | None = None  # None when nobody could be matched

    def summary(self) -> str:
        effect = f"; matched effect: {self.effect.summary()}" if self.effect else ""
        return f"Matched {self.group}: {super().summary()}{effect}"


class Evaluation(Result):
    """Groups against a control on a binary outcome; the survival, return-on-investment and
    matched sections are present only when the table had the columns for them. ``design`` is
    how the table's groups were formed; ``evidence`` gives each group's headline from the
    strongest design (``iom.evaluation.evidence``), absent when the design was not stated."""

    optional = ("survival", "roi", "matched", "evidence", "design")
    group_col: str
    control: str
    design: str | None = None
    event_col: str
    n: int
    groups: list[GroupRate]
    comparisons: list[GroupComparison]
    survival: SurvivalResult | None = None
    roi: list[GroupReturnOnInvestment] | None = None
    matched: list[MatchedComparison] | None = None
    evidence: list[Evidence] | None = None

    def comparison(self, group: str) -> GroupComparison:
        """The comparison of ``group`` against the control."""
        try:
            return next(c for c in self.comparisons if c.group == group)
        except StopIteration:
            raise UserError(f"no comparison for group {group!r}") from None

    def headline(self, group: str) -> Evidence | None:
        """The hierarchy's reading for ``group`` (None when the design was not stated)."""
        return next((e for e in self.evidence or [] if e.group == group), None)

    def summary(self) -> str:
        design = f", {self.design}" if self.design else ""
        head = f"{self.event_col} by {self.group_col} ({self.n:,} people, control: {self.control}{design})."
        lines = [f"{c.summary()}." for c in self.comparisons]
        lines += [f"Headline for {e.group}: {e.summary()}" for e in self.evidence or []]
        return " ".join([head, *lines])


def read_table(path: Path | str) -> pd.DataFrame:
    path = Path(path)
    if not path.exists():
        raise UserError(f"file not found: {path}")
    try:
        frame = pd.read_csv(path)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read {path} as CSV: {str(exc).splitlines()[0]}") from None
    if frame.empty:
        raise UserError(f"{path} has no rows")
    return frame


def _binary(frame: pd.DataFrame, col: str) -> pd.Series:
    """0/1, true/false or yes/no, nothing else; missing values are refused."""
    s = frame[col]
    if s.isna().any():
        raise UserError(f"event column {col!r} has {int(s.isna().sum())} missing value(s)")
    mapping = {"1": 1, "0": 0, "true": 1, "false": 0, "yes": 1, "no": 0, "y": 1, "n": 0, "1.0": 1, "0.0": 0}
    as_text = s.astype(str).str.strip().str.lower()
    bad = sorted(set(as_text) - set(mapping))
    if bad:
        raise UserError(
            f"event column {col!r} must be binary (0/1, true/false, yes/no); found {', '.join(map(repr, bad[:5]))}"
        )
    return as_text.map(mapping).astype(int)


def _control_value(series: pd.Series, control: str):
    """Match the control given on the command line against the column's values as text."""
    values = {str(v): v for v in series.dropna().unique()}
    if str(control) not in values:
        shown = ", ".join(sorted(values)[:10])
        raise UserError(f"control value {control!r} has no members in the group column (values: {shown})")
    return values[str(control)]


def validate(frame: pd.DataFrame, *, group_col: str, event_col: str, time_col: str | None, covariates: list[str]) -> None:
    needed = [group_col, event_col] + ([time_col] if time_col else []) + covariates
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise UserError(
            f"column(s) not found: {', '.join(missing)} (the table has: {', '.join(map(str, frame.columns))})"
        )
    if frame[group_col].isna().any():
        raise UserError(f"group column {group_col!r} has missing values")
    if time_col:
        t = pd.to_numeric(frame[time_col], errors="coerce")
        if t.isna().any():
            raise UserError(f"time column {time_col!r} must be numbers (days to event or censoring) with none missing")
        if not np.isfinite(t).all():
            raise UserError(f"time column {time_col!r} has values that are not finite numbers (inf): days to event or "
                            "censoring are finite")
        if (t < 0).any():
            raise UserError(f"time column {time_col!r} has negative values")


def evaluate_frame(
    frame: pd.DataFrame,
    *,
    group_col: str,
    control: str,
    event_col: str,
    time_col: str | None = None,
    covariates: list[str] | None = None,
    horizon: float | None = None,
    caliper_sd: float = 0.2,
    cost_col: str | None = None,
    programme_cost_pence: int | None = None,
    design: str | None = "unmatched",
    selection: str | None = None,
    covariate_words: dict[str, str] | None = None,
) -> Evaluation:
    """The full evaluation; ``model_dump(mode="json")`` gives the JSON the CLI prints.

    ``design``: how the table's groups were formed: ``randomised``, ``matched`` (a control
    matched beforehand, as the Justice Data Lab's) or ``unmatched`` (the default: a table does
    not say, and an unmatched comparison gives no verdict); None keeps
    the statistical verdict with no hierarchy, as the seed papers' own tables are checked.
    ``selection``: why these groups differ, for the reconciliation when designs disagree;
    ``covariate_words``: the covariates as the headline should name them."""
    covariates = covariates or []
    if design is not None and design not in DESIGNS:
        raise UserError(f"unknown design {design!r}: choose from {', '.join(DESIGNS)}")
    validate(frame, group_col=group_col, event_col=event_col, time_col=time_col,
             covariates=covariates + ([cost_col] if cost_col else []))
    if (cost_col is None) != (programme_cost_pence is None):
        raise UserError("return on investment needs both a cost column and the programme cost")
    if frame.empty:
        raise UserError("the table has no rows")
    frame = frame.copy()
    frame["_event"] = _binary(frame, event_col)
    control_value = _control_value(frame[group_col], control)
    frame["_group"] = frame[group_col].astype(str)
    control_s = str(control_value)
    groups = sorted(g for g in frame["_group"].unique() if g != control_s)
    if not groups:
        raise UserError(f"only the control group {control!r} is present: nothing to compare")

    counts = frame.groupby("_group")["_event"].agg(["size", "sum"])
    ctrl_n, ctrl_k = int(counts.loc[control_s, "size"]), int(counts.loc[control_s, "sum"])
    result = Evaluation(
        group_col=group_col,
        control=control_s,
        design=design,
        event_col=event_col,
        n=int(len(frame)),
        groups=[
            GroupRate(group=g, **dict(wilson(int(counts.loc[g, "sum"]), int(counts.loc[g, "size"]))))
            for g in [control_s] + groups
        ],
        comparisons=[
            GroupComparison(group=g, **dict(compare(int(counts.loc[g, "sum"]), int(counts.loc[g, "size"]), ctrl_k, ctrl_n,
                                                    design=design)))
            for g in groups
        ],
    )
    if time_col:
        frame["_time"] = pd.to_numeric(frame[time_col])
        result.survival = survival_analysis(
            frame, group_col="_group", control=control_s, time_col="_time", event_col="_event",
            covariates=covariates, horizon=horizon,
        )
        for h in result.survival.hazard_ratios:
            h.covariate = h.covariate.replace("_group=", f"{group_col}=", 1)
    if cost_col:
        costs = pd.to_numeric(frame[cost_col], errors="coerce")
        if costs.isna().any() or not np.isfinite(costs).all():
            raise UserError(f"cost column {cost_col!r} must be finite numbers (pence of cost of crime per person)")
        if (costs < 0).any():
            raise UserError(f"cost column {cost_col!r} has negative values: a cost of crime is never below nothing "
                            f"({int((costs < 0).sum())} row(s))")
        control_costs = costs[frame["_group"] == control_s]
        result.roi = [
            GroupReturnOnInvestment(group=g, **dict(roi_from_costs(costs[frame["_group"] == g], control_costs,
                                                                   programme_cost_pence=programme_cost_pence)))
            for g in groups
        ]
    if covariates:
        result.matched = []
        for g in groups:
            sub = frame[frame["_group"].isin([g, control_s])].reset_index(drop=True)
            m = propensity_match(sub, treated=sub["_group"] == g, covariates=covariates, caliper_sd=caliper_sd)
            effect = None
            if m.matched_pairs:
                mt = m.matched[m.matched["_group"] == g]["_event"]
                mc = m.matched[m.matched["_group"] == control_s]["_event"]
                effect = compare(int(mt.sum()), len(mt), int(mc.sum()), len(mc),
                                 design=None if design is None else "matched")
            result.matched.append(MatchedComparison(group=g, effect=effect, **dict(m)))
    if design is not None:
        words = [(covariate_words or {}).get(c, c) for c in covariates]
        result.evidence = [_weigh(result, g, covariates=words, selection=selection) for g in groups]
    return result


def _weigh(result: Evaluation, group: str, *, covariates: list[str], selection: str | None) -> Evidence:
    raw = result.comparison(group)
    size = f"{raw.group_rate.n:,} against {raw.control_rate.n:,}"
    matched = next((m for m in result.matched or [] if m.group == group and m.effect is not None), None)
    cox = None
    if result.survival is not None:
        cox = next((h for h in result.survival.hazard_ratios if h.covariate == f"{result.group_col}={group}"), None)
    return weigh(
        group=group, raw=raw, raw_label=f"all {group} against all {result.control}, {size}",
        matched=matched.effect if matched else None,
        matched_label=(f"{matched.matched_pairs:,} pairs alike in {', '.join(covariates)}" if matched else ""),
        cox=cox, adjusted_for=covariates, selection=selection,
    )


def evaluate_csv(path: Path | str, **kwargs) -> Evaluation:
    return evaluate_frame(read_table(path), **kwargs)
