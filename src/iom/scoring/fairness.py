"""Fairness audit of the selection for the ethics committee.

By ethnicity, sex and age band: selection rate, mean predicted against observed
reoffending (calibration within group), and false positive / false negative rates with
"selected" as the prediction. Group metrics come from fairlearn's MetricFrame; a disparity
beyond the configured ratio (default the four-fifths rule) is flagged in words."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pandas as pd
from fairlearn.metrics import MetricFrame, count, false_negative_rate, false_positive_rate, selection_rate
from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from iom.errors import UserError
from iom.formatting import percent
from iom.scoring.config import ScoringConfig, load_config
from iom.dates import months_after, months_before
from iom.scoring.schemas import FairnessAudit

ATTRIBUTES = {"ethnicity": "ethnicity", "sex": "sex", "age_band": "age band"}
AGE_BANDS = [(0, "under 18"), (18, "18-24"), (25, "25-34"), (35, "35-49"), (50, "50 and over")]


def age_band(ages) -> np.ndarray:
    starts = np.array([a for a, _ in AGE_BANDS])
    names = np.array([n for _, n in AGE_BANDS])
    return names[np.searchsorted(starts, np.asarray(ages), side="right") - 1]


def _observed_rate(y_true, y_pred):
    return float(np.mean(y_true)) if len(y_true) else math.nan


def _mean_predicted(y_true, y_pred, predicted):
    p = np.asarray(predicted, dtype=float)
    return float(np.nanmean(p)) if np.isfinite(p).any() else math.nan


def _pct(x: float | None) -> str:
    """Whole percentages: the audit compares groups, a decimal place would be noise."""
    return percent(x, 0, missing="n/a")


def audit(frame: pd.DataFrame, config: ScoringConfig | None = None) -> FairnessAudit:
    """Audit ``frame`` (one row per scored person: selected 0/1, observed 0/1, predicted
    probability or NaN, and the columns in ATTRIBUTES)."""
    config = config or load_config()
    f = config.fairness
    y_true = frame["observed"].astype(int).to_numpy()
    y_pred = frame["selected"].astype(int).to_numpy()
    metrics = {
        "people": count, "selection_rate": selection_rate, "observed_rate": _observed_rate,
        "mean_predicted": _mean_predicted, "false_positive_rate": false_positive_rate,
        "false_negative_rate": false_negative_rate,
    }
    result = {"people": int(len(frame)), "selected": int(y_pred.sum()), "ratio_threshold": f.ratio_threshold,
              "min_group_size": f.min_group_size, "calibration_tolerance": f.calibration_tolerance,
              "attributes": {}, "flags": []}
    for column, title in ATTRIBUTES.items():
        mf = MetricFrame(metrics=metrics, y_true=y_true, y_pred=y_pred,
                         sensitive_features=frame[column].astype(str).rename(column),
                         sample_params={"mean_predicted": {"predicted": frame["predicted"].to_numpy(dtype=float)}})
        groups = mf.by_group.reset_index().rename(columns={column: "group"})
        groups["people"] = groups["people"].astype(int)
        judged = groups[groups["people"] >= f.min_group_size]
        small = groups.loc[groups["people"] < f.min_group_size, "group"].tolist()
        flags: list[str] = []
        best = judged["selection_rate"].max() if len(judged) else math.nan
        for g in judged.itertuples(index=False):
            if best and best > 0 and g.selection_rate / best < f.ratio_threshold:
                top = judged.loc[judged["selection_rate"].idxmax(), "group"]
                flags.append(
                    f"Selection: {title} {g.group} is selected at {_pct(g.selection_rate)}, "
                    f"{g.selection_rate / best:.2f} times the rate of {top} ({_pct(best)}), "
                    f"below the {f.ratio_threshold:g} threshold."
                )
            for rate, words in (("false_positive_rate", "selected although they did not reoffend"),
                                ("false_negative_rate", "not selected although they reoffended")):
                value, low = getattr(g, rate), judged[rate].min()
                if value and value > 0 and not math.isnan(value) and low / value < f.ratio_threshold:
                    flags.append(
                        f"{'False positives' if rate.startswith('false_p') else 'False negatives'}: "
                        f"{_pct(value)} of {title} {g.group} were {words}, against {_pct(low)} in the "
                        f"lowest group (ratio {low / value:.2f}, below {f.ratio_threshold:g})."
                    )
            gap = g.mean_predicted - g.observed_rate
            if not math.isnan(gap) and abs(gap) > f.calibration_tolerance:
                flags.append(
                    f"Calibration: for {title} {g.group} the model {'over' if gap > 0 else 'under'}-predicts "
                    f"reoffending ({_pct(g.mean_predicted)} predicted, {_pct(g.observed_rate)} observed)."
                )
        result["attributes"][column] = {
            "title": title,
            "groups": [{k: (None if isinstance(v, float) and math.isnan(v) else v) for k, v in row.items()}
                       for row in groups.to_dict("records")],
            "too_small": small,
            "flags": flags,
        }
        result["flags"].extend(flags)
    return FairnessAudit.model_validate(result)


def audit_frame(session: Session, *, as_of: dt.date, config: ScoringConfig) -> pd.DataFrame:
    """Everyone scored on ``as_of`` with their selection, prediction and observed outcome."""
    from iom.register.models import Unit
    from iom.scoring import model as model_mod
    from iom.scoring import service
    from iom.scoring.data import load_register
    from iom.scoring.people import age_years
    from sqlalchemy import select

    latest = service.reference_date_or_none(session)
    needed = months_after(as_of, config.model.follow_up_months + config.model.waiting_months)
    if latest is None or needed > latest:
        raise UserError(
            f"the follow-up after {as_of} is incomplete (it needs data up to {needed}, the register ends "
            f"{latest}): audit an earlier date so observed reoffending is known"
        )
    run = service.get_run(session, as_of=as_of, config=config)
    scores = service.stored_scores(session, run)
    selected: set[int] = set()
    npus = session.scalars(select(Unit.code).where(Unit.kind == "npu", Unit.officers.is_not(None))).all()
    for code in npus:
        rows = service.selection_rows(session, npu_code=code, as_of=as_of, config=config, explain=False)
        selected.update(r["person_id"] for r in rows if r["decision"] != "exit")
    reg = load_register(session, config)
    people = reg.people.set_index("id").reindex(scores.index)
    frame = pd.DataFrame(index=scores.index)
    frame["selected"] = frame.index.isin(list(selected)).astype(int)
    frame["observed"] = model_mod.labels(reg.crimes, as_of, frame.index.to_numpy(), config)
    frame["predicted"] = pd.to_numeric(scores["risk"], errors="coerce").astype(float)
    frame["ethnicity"] = people["ethnicity"].fillna("unknown").to_numpy()
    frame["sex"] = people["sex"].fillna("U").to_numpy()
    frame["age_band"] = age_band(age_years(people["dob"].fillna(0).to_numpy(), as_of))
    return frame


def default_audit_date(session: Session, config: ScoringConfig) -> dt.date:
    """The latest date whose follow-up is complete, so observed reoffending is known."""
    from iom.scoring import service

    latest = service.reference_date_or_none(session)
    if latest is None:
        raise UserError("the register holds no crimes: load or generate data first")
    return months_before(latest, config.model.follow_up_months + config.model.waiting_months)


def fairness_audit(session: Session, *, as_of: dt.date | None = None, config=None) -> FairnessAudit:
    """The audit for ``as_of`` (default: ``default_audit_date``)."""
    config = config if isinstance(config, ScoringConfig) else load_config(config)
    as_of = as_of or default_audit_date(session, config)
    frame = audit_frame(session, as_of=as_of, config=config)
    if frame.empty:
        raise UserError(f"nobody to audit on {as_of}: no one had a counted crime before it (choose a date the register covers)")
    return audit(frame, config).model_copy(update={"as_of": as_of, "config_version": config.version})


def render_html(report: FairnessAudit) -> str:
    env = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                      autoescape=select_autoescape(["html"]))
    return env.get_template("fairness.html").render(report=report, pct=_pct)
