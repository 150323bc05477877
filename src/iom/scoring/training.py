"""The force-trained model: trained only when asked, stored with its validation report."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.dates import months_after, months_before
from iom.errors import UserError
from iom.register.models import Crime
from iom.register.service import reference_date
from iom.scoring import model as model_mod
from iom.scoring.common import as_config, now
from iom.scoring.config import ScoringConfig
from iom.scoring.data import (
    Register,
    load_register,
)
from iom.scoring.schemas import ModelReport
from iom.scoring.models import ScoringModel

ALGORITHM = "logistic regression (standardised features), isotonic calibration, 3-fold"


def reference_date_or_none(session: Session) -> dt.date | None:
    """The reference date, or None for a register with no crimes (nothing to train on)."""
    if session.scalar(select(Crime.id).limit(1)) is None:
        return None
    return reference_date(session)


class NoModel(UserError):
    """Scoring needs a force model trained for its date, and training is an explicit step."""


def store_model(session: Session, trained: model_mod.TrainedModel, config: ScoringConfig) -> ScoringModel:
    row = session.scalar(
        select(ScoringModel).where(ScoringModel.cutoff == trained.cutoff, ScoringModel.config_version == config.version)
    )
    if row is None:
        row = ScoringModel(cutoff=trained.cutoff, config_version=config.version)
        session.add(row)
    row.algorithm = ALGORITHM
    row.trained_at = now()
    row.n_train = trained.n_train
    row.base_rate = trained.base_rate
    row.report = json.dumps(trained.report) if trained.report else None
    row.estimator = trained.dumps()
    session.flush()
    return row


def train_model(session: Session, *, cutoff: dt.date | None = None, config=None, reg: Register | None = None) -> ScoringModel:
    """Train at ``cutoff`` (default: the latest date with a complete follow-up) and store it
    with its validation report beside OGRS3 when the follow-up after the cut-off is complete."""
    config = as_config(config)
    latest = reference_date_or_none(session)
    if latest is None:
        raise UserError("the register holds no crimes: load or generate data first")
    wait = config.model.follow_up_months + config.model.waiting_months
    cutoff = cutoff or months_before(latest, wait)
    reg = reg or load_register(session, config)
    trained = model_mod.train(reg, cutoff, config)
    if months_after(cutoff, wait) <= latest:
        trained.report = model_mod.evaluate(reg, trained, config, latest)
    return store_model(session, trained, config)


def model_report(session: Session, *, cutoff: dt.date | None = None, config=None) -> ModelReport:
    config = as_config(config)
    query = select(ScoringModel).where(ScoringModel.config_version == config.version, ScoringModel.report.is_not(None))
    if cutoff:
        query = query.where(ScoringModel.cutoff == cutoff)
    row = session.scalar(query.order_by(ScoringModel.cutoff.desc()).limit(1))
    if row is None:
        raise UserError("no model with a validation report yet: run `iom model train` first")
    return ModelReport.model_validate_json(row.report)


def model_for(session: Session, reg: Register, config: ScoringConfig, cutoff: dt.date, *, train: bool):
    """The stored model trained to ``cutoff``; trained now only when ``train`` is asked."""
    row = session.scalar(
        select(ScoringModel).where(ScoringModel.cutoff == cutoff, ScoringModel.config_version == config.version)
    )
    if row is None:
        if not train:
            raise NoModel(f"no force model is stored for {cutoff} under {config.version}: run `iom score --train` "
                          "to train one on the data before that date first")
        try:
            trained = model_mod.train(reg, cutoff, config)
        except UserError:
            return None, None  # too little history: risk stays empty rather than invented
        row = store_model(session, trained, config)
        return row, trained
    estimator = model_mod.TrainedModel.loads(row.estimator)
    return row, model_mod.TrainedModel(cutoff=row.cutoff, estimator=estimator, n_train=row.n_train,
                                       base_rate=row.base_rate)
