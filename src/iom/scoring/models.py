"""Stored scores (one run per as-of date and config version), trained models and overrides."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (Boolean, CheckConstraint, Date, DateTime, Float, ForeignKey, Integer, LargeBinary,
                        String, Text, UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base


class ScoringModel(Base):
    """A force-trained reoffending model: the fitted estimator and its validation report."""

    __tablename__ = "scoring_models"
    __table_args__ = (UniqueConstraint("cutoff", "config_version", name="uq_scoring_models_cutoff_config"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cutoff: Mapped[dt.date] = mapped_column(Date)
    config_version: Mapped[str] = mapped_column(String(40))
    algorithm: Mapped[str] = mapped_column(String(120))
    trained_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    n_train: Mapped[int] = mapped_column(Integer)
    base_rate: Mapped[float] = mapped_column(Float)
    #: JSON validation report (AUC, Brier, calibration beside OGRS3), when follow-up allowed one.
    report: Mapped[str | None] = mapped_column(Text)
    estimator: Mapped[bytes] = mapped_column(LargeBinary)


class ScoreRun(Base):
    """One scoring of the whole register as of a date under one config version."""

    __tablename__ = "score_runs"
    __table_args__ = (UniqueConstraint("as_of", "config_version", name="uq_score_runs_as_of_config"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    as_of: Mapped[dt.date] = mapped_column(Date)
    config_version: Mapped[str] = mapped_column(String(40))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("scoring_models.id"))
    scored_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    people: Mapped[int] = mapped_column(Integer)


class Score(Base):
    """A person's scores in one run; risk and vulnerability are separate columns, side by side."""

    __tablename__ = "scores"

    run_id: Mapped[int] = mapped_column(ForeignKey("score_runs.id", ondelete="CASCADE"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, index=True)
    crimes: Mapped[int] = mapped_column(Integer)
    crime_points: Mapped[int] = mapped_column(Integer)
    frequency_points: Mapped[int] = mapped_column(Integer)
    victims: Mapped[int] = mapped_column(Integer)
    victim_points: Mapped[int] = mapped_column(Integer)
    rfg: Mapped[int] = mapped_column(Integer)
    harm_days: Mapped[int] = mapped_column(Integer)
    harm_points: Mapped[int] = mapped_column(Integer)
    risk: Mapped[float | None] = mapped_column(Float)
    risk_points: Mapped[int] = mapped_column(Integer)
    ogrs3_1y: Mapped[float | None] = mapped_column(Float)
    ogrs3_2y: Mapped[float | None] = mapped_column(Float)
    vulnerability: Mapped[int] = mapped_column(Integer)
    composite: Mapped[int] = mapped_column(Integer)
    last_committed_on: Mapped[dt.date | None] = mapped_column(Date)
    member: Mapped[bool] = mapped_column(Boolean)
    #: Every part of these scores (``ExplanationPart`` rows as zlib-compressed JSON: a tenth of
    #: the size, microseconds to open), computed with the run from
    #: the same expressions, so a record reads one row: stored for cohort members (the records
    #: read every day); none for others, nor in runs stored before migration 0018.
    explanation: Mapped[bytes | None] = mapped_column(LargeBinary, deferred=True)


class Override(Base):
    """Professional judgement: include or exclude someone until a date, with a reason.

    Pending until a second person approves or rejects it (the override policy); never deleted:
    approving, rejecting and revoking stamp who, when and why, so the history stays auditable."""

    __tablename__ = "selection_overrides"
    __table_args__ = (CheckConstraint("length(reason) > 0", name="reason_given"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    include: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(80))
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    until: Mapped[dt.date] = mapped_column(Date)
    approved_by: Mapped[str | None] = mapped_column(String(80))
    approved_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_by: Mapped[str | None] = mapped_column(String(80))
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    rejected_by: Mapped[str | None] = mapped_column(String(80))
    rejected_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Why it was rejected or revoked.
    decision_reason: Mapped[str | None] = mapped_column(Text)

    @property
    def state(self) -> str:
        if self.revoked_at is not None:
            return "revoked"
        if self.rejected_at is not None:
            return "rejected"
        return "approved" if self.approved_at is not None else "pending"
