"""Propensity-score matching: logistic model, 1:1 nearest neighbour on the logit of the
score without replacement, within a caliper (default 0.2 SD of the logit, Austin 2011)."""

from __future__ import annotations

import numpy as np
import pandas as pd
from pydantic import PrivateAttr
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import NearestNeighbors

from iom.errors import UserError
from iom.evaluation.results import Result


class Balance(Result):
    """One covariate before and after matching (|SMD| < 0.1 is good balance)."""

    covariate: str
    mean_treated: float | None
    mean_untreated: float | None
    smd_before: float | None
    smd_after: float | None  # None when nobody could be matched

    def summary(self) -> str:
        after = "–" if self.smd_after is None else f"{self.smd_after:.2f}"
        before = "–" if self.smd_before is None else f"{self.smd_before:.2f}"
        return f"{self.covariate}: standardised mean difference {before} before matching, {after} after"


class MatchResult(Result):
    """The matched pairs themselves (``matched``, a frame) stay out of the JSON."""

    treated: int
    matched_pairs: int
    caliper_logit: float
    balance: list[Balance]
    _matched: pd.DataFrame = PrivateAttr(default_factory=pd.DataFrame)

    @property
    def matched(self) -> pd.DataFrame:
        """Treated and matched controls, with a ``pair`` and a ``propensity`` column."""
        return self._matched

    def __eq__(self, other) -> bool:
        """Equal when the figures are; the matched frame is not compared (a frame has no
        single truth value)."""
        if type(other) is not type(self):
            return NotImplemented
        return self.__dict__ == other.__dict__

    def balance_frame(self) -> pd.DataFrame:
        return pd.DataFrame([b.model_dump() for b in self.balance], columns=list(Balance.model_fields))

    def summary(self) -> str:
        worst = max((abs(b.smd_after) for b in self.balance if b.smd_after is not None), default=None)
        after = "" if worst is None else f"; largest standardised difference after matching {worst:.2f}"
        return (f"{self.matched_pairs:,} of {self.treated:,} treated people matched "
                f"(caliper {self.caliper_logit:.3f} on the logit){after}")


def covariate_matrix(frame: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    missing = [c for c in covariates if c not in frame.columns]
    if missing:
        raise UserError(f"covariate column(s) not found: {', '.join(missing)}")
    x = pd.get_dummies(frame[covariates], drop_first=True, dtype=float)
    if x.isna().any().any():
        raise UserError("covariates have missing values; fill or drop those rows first")
    return x


def standardised_mean_differences(x: pd.DataFrame, treated: np.ndarray) -> pd.Series:
    """Difference in means over the pooled SD (the usual balance measure; |SMD| < 0.1 is good)."""
    a, b = x[treated], x[~treated]
    pooled = np.sqrt((a.var(ddof=1) + b.var(ddof=1)) / 2).replace(0, np.nan)
    return ((a.mean() - b.mean()) / pooled).fillna(0.0)


def propensity_match(
    frame: pd.DataFrame, *, treated: pd.Series, covariates: list[str], caliper_sd: float = 0.2, seed: int = 0
) -> MatchResult:
    x = covariate_matrix(frame, covariates)
    t = np.asarray(treated, dtype=bool)
    if t.sum() == 0 or (~t).sum() == 0:
        raise UserError("matching needs both treated and untreated people")
    model = LogisticRegression(max_iter=1000)
    z = (x - x.mean()) / x.std(ddof=0).replace(0, 1)
    model.fit(z.values, t)
    p = np.clip(model.predict_proba(z.values)[:, 1], 1e-6, 1 - 1e-6)
    logit = np.log(p / (1 - p))
    caliper = caliper_sd * float(np.std(logit, ddof=1))

    treated_idx = np.flatnonzero(t)
    control_idx = np.flatnonzero(~t)
    k = min(len(control_idx), 50)
    nn = NearestNeighbors(n_neighbors=k).fit(logit[control_idx].reshape(-1, 1))
    dist, nbr = nn.kneighbors(logit[treated_idx].reshape(-1, 1))
    # Greedy, closest pairs first; shuffle ties reproducibly.
    order = np.lexsort((np.random.default_rng(seed).random(len(treated_idx)), dist[:, 0]))
    used: set[int] = set()
    pairs: list[tuple[int, int]] = []
    for i in order:
        for d, j in zip(dist[i], nbr[i]):
            if d > caliper:
                break
            c = control_idx[j]
            if c not in used:
                used.add(c)
                pairs.append((treated_idx[i], c))
                break
    rows = [r for pair in pairs for r in pair]
    matched = frame.iloc[rows].copy()
    matched["pair"] = np.repeat(np.arange(len(pairs)), 2)
    matched["propensity"] = p[rows]
    mt = np.zeros(len(rows), dtype=bool)
    mt[0::2] = True
    before = standardised_mean_differences(x, t)
    after = standardised_mean_differences(x.iloc[rows].reset_index(drop=True), mt) if pairs else before * np.nan
    balance = pd.DataFrame(
        {
            "covariate": before.index,
            "mean_treated": x[t].mean().values,
            "mean_untreated": x[~t].mean().values,
            "smd_before": before.values,
            "smd_after": after.values,
        }
    )
    result = MatchResult(balance=balance.to_dict(orient="records"), caliper_logit=caliper, treated=int(t.sum()),
                         matched_pairs=len(pairs))
    result._matched = matched
    return result
