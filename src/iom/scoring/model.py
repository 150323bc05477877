"""The force-trained reoffending model, with a strict cut-off.

Vulnerability markers are deliberately not features: vulnerability is shown beside risk,
never hidden inside it.

Training at cut-off ``C``: features describe each person's history up to ``C - (follow-up +
waiting)``; the label is a proven reoffence committed in the follow-up year and proven by
``C``. Everything is read through :func:`visible_at`, which drops what the force could not
have known on the cut-off (crimes recorded later, outcomes reached later). Validation uses
people held out of training, with features at ``C`` and a follow-up that lies after ``C``.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass

import joblib
import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.calibration import CalibratedClassifierCV
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from iom.dates import months_before
from iom.errors import UserError
from iom.scoring.config import ScoringConfig
from iom.scoring.data import NEVER, Register, day_number
from iom.scoring.people import age_years, ogrs3_scores
from iom.scoring.schemas import ModelReport
from iom.warehouse import history

FEATURES = [
    "age", "female", "crimes_12m", "crimes_36m", "crimes_all", "proven_all", "proven_12m",
    "days_since_last", "years_since_first", "max_gravity_36m", "harm_36m", "da_36m",
    "ogrs3_1y", "has_ogrs3",
]
#: Share of people (by a fixed hash of their id) held out of training for validation.
HOLDOUT_TENTHS = 3


def visible_at(crimes: np.ndarray, cutoff: dt.date) -> np.ndarray:
    """The crime records as the force knew them on ``cutoff``: the one place time is cut."""
    day = day_number(cutoff)
    seen = crimes[(crimes["recorded"] <= day) & (crimes["committed"] <= day)].copy()
    later = seen["outcome_on"] > day
    seen["proven"][later] = 0
    seen["outcome_on"][later] = NEVER
    return seen


def held_out(person_ids) -> np.ndarray:
    """Deterministic person split (Knuth multiplicative hash), independent of row order."""
    ids = np.asarray(person_ids, dtype="uint64")
    return ((ids * np.uint64(2654435761)) % np.uint64(2**32)) % np.uint64(10) < HOLDOUT_TENTHS


def history_table(crimes: np.ndarray) -> pa.Table:
    """The crime records as ``iom.warehouse.history.HISTORY`` (what the features and labels read)."""
    c = crimes
    return pa.table({
        "person_id": c["person_id"].astype("int64"), "committed": c["committed"].astype("int64"),
        "gravity": c["gravity"].astype("int64"), "harm": c["harm_days"].astype("int64"),
        "da": c["domestic_abuse"].astype("int64"), "pv": (c["proven"] & c["offender"]).astype("int64"),
        "outcome_on": c["outcome_on"].astype("int64"),
    })


def features(reg: Register, crimes: np.ndarray, at: dt.date) -> pd.DataFrame:
    """One row per person with a recorded crime by ``at`` (aged 10+), history up to ``at``."""
    c = visible_at(crimes, at)
    today = day_number(at)
    y1, y3 = day_number(months_before(at, 12)), day_number(months_before(at, 36))
    table = history_table(c)
    out = history.features_arrow(table, today=today, year_ago=y1, three_years_ago=y3).set_index("person_id")
    people = reg.people.set_index("id").reindex(out.index)
    out["age"] = age_years(people["dob"].fillna(0).to_numpy(), at)
    out["female"] = (people["sex"] == "F").astype(int).to_numpy()
    og = ogrs3_scores(Register(crimes=c, people=reg.people, markers=reg.markers), at)
    out["ogrs3_1y"] = og["ogrs3_1y"].reindex(out.index)
    out["has_ogrs3"] = out["ogrs3_1y"].notna().astype(int)
    out["ogrs3_1y"] = out["ogrs3_1y"].fillna(0.0)
    out = out[people["dob"].notna().to_numpy() & (out["age"] >= 10)]
    out.index.name = "person_id"
    return out[FEATURES].astype(float)


def labels(crimes: np.ndarray, at: dt.date, person_ids, config: ScoringConfig) -> np.ndarray:
    """1 if a proven offence was committed in the follow-up after ``at`` and proven within
    the follow-up plus the waiting period (MoJ proven reoffending); 0 otherwise."""
    start = day_number(at)
    end = day_number(at + _months(config.model.follow_up_months))
    proven_by = day_number(at + _months(config.model.follow_up_months + config.model.waiting_months))
    hit = history.proven_reoffenders_arrow(history_table(crimes), after=start, until=end, proven_by=proven_by)
    return np.isin(np.asarray(person_ids), hit["person_id"].to_numpy()).astype(int)


def _months(n: int):
    from dateutil.relativedelta import relativedelta

    return relativedelta(months=n)


def training_frame(reg: Register, cutoff: dt.date, config: ScoringConfig) -> tuple[pd.DataFrame, np.ndarray]:
    """Training rows for ``cutoff``: only data the force held on that day is read."""
    seen = visible_at(reg.crimes, cutoff)
    at = months_before(cutoff, config.model.follow_up_months + config.model.waiting_months)
    X = features(reg, seen, at)
    X = X[~held_out(X.index.to_numpy())]
    return X, labels(seen, at, X.index.to_numpy(), config)


def _estimator() -> CalibratedClassifierCV:
    base = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return CalibratedClassifierCV(base, method="isotonic", cv=3)


@dataclass
class TrainedModel:
    cutoff: dt.date
    estimator: CalibratedClassifierCV
    n_train: int
    base_rate: float
    validation: ModelReport | None = None

    @property
    def report(self) -> dict | None:
        """The validation as the JSON the models table stores (what ``service`` writes)."""
        return None if self.validation is None else self.validation.model_dump(mode="json")

    @report.setter
    def report(self, value: ModelReport | dict | None) -> None:
        self.validation = None if value is None else ModelReport.model_validate(value)

    def predict(self, X: pd.DataFrame) -> np.ndarray:
        if len(X) == 0:
            return np.zeros(0)
        return self.estimator.predict_proba(X[FEATURES].to_numpy())[:, 1]

    def dumps(self) -> bytes:
        buffer = io.BytesIO()
        joblib.dump(self.estimator, buffer)
        return buffer.getvalue()

    @staticmethod
    def loads(blob: bytes):
        return joblib.load(io.BytesIO(blob))


def train(reg: Register, cutoff: dt.date, config: ScoringConfig) -> TrainedModel:
    X, y = training_frame(reg, cutoff, config)
    if len(X) < 50 or y.sum() < 10 or y.sum() > len(y) - 10:
        raise UserError(
            f"too little history to train a reoffending model at cut-off {cutoff}: {len(X)} people, "
            f"{int(y.sum())} reoffended; load more data or pick a later cut-off"
        )
    estimator = _estimator().fit(X.to_numpy(), y)
    return TrainedModel(cutoff=cutoff, estimator=estimator, n_train=len(X), base_rate=float(y.mean()))


def calibration_table(p: np.ndarray, y: np.ndarray, bins: int = 10) -> list[dict]:
    """Deciles of predicted probability: people, mean predicted, observed rate."""
    order = np.argsort(p, kind="stable")
    rows = []
    for i, chunk in enumerate(np.array_split(order, bins), start=1):
        if len(chunk) == 0:
            continue
        rows.append({"decile": i, "people": int(len(chunk)), "mean_predicted": float(p[chunk].mean()),
                     "observed": float(y[chunk].mean())})
    return rows


def evaluate(reg: Register, model: TrainedModel, config: ScoringConfig, latest: dt.date) -> ModelReport:
    """AUC, Brier and decile calibration of the force model and of OGRS3, on the same
    held-out people (those OGRS3 can score), with their follow-up after the cut-off."""
    cutoff = model.cutoff
    complete = cutoff + _months(config.model.follow_up_months + config.model.waiting_months)
    if complete > latest:
        raise UserError(
            f"follow-up after cut-off {cutoff} is incomplete: it needs data up to {complete}, the register "
            f"ends {latest}; choose a cut-off on or before {latest - _months(config.model.follow_up_months + config.model.waiting_months)}"
        )
    X = features(reg, reg.crimes, cutoff)
    X = X[held_out(X.index.to_numpy()) & (X["has_ogrs3"] == 1).to_numpy()]
    y = labels(reg.crimes, cutoff, X.index.to_numpy(), config)
    if len(X) == 0 or y.min() == y.max():
        raise UserError(f"no usable held-out people at cut-off {cutoff}")
    p_model = model.predict(X)
    p_ogrs = X["ogrs3_1y"].to_numpy()
    models = {
        name: {"auc": float(roc_auc_score(y, p)), "brier": float(brier_score_loss(y, p)),
               "mean_predicted": float(p.mean()), "calibration": calibration_table(p, y)}
        for name, p in (("force model", p_model), ("OGRS3 (1 year)", p_ogrs))
    }
    return ModelReport(cutoff=cutoff, follow_up_ends=complete, held_out_people=int(len(X)),
                       observed_rate=float(y.mean()), trained_on=model.n_train, models=models)
