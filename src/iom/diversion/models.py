"""Diversion: out-of-court disposal decisions with their conditions and every change of state,
and the scrutiny panel's dip samples with their verdicts."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

STATUSES = ("proposed", "authorised", "issued", "complied", "breached", "prosecuted", "penalty", "withdrawn")
CONDITION_STATUSES = ("pending", "complied", "failed")
RANKS = ("sergeant", "inspector")


class Disposal(Base):
    """One out-of-court disposal of one crime: the decision (admission, consent, the victim's
    views, gravity and its factors, the tier, the rationale), who authorised it, and its state."""

    __tablename__ = "oocd_disposals"
    __table_args__ = (
        CheckConstraint(sql_in("status", STATUSES), name="status"),
        CheckConstraint(sql_in("authority_required", RANKS), name="authority_required"),
        CheckConstraint("gravity BETWEEN 1 AND 4 AND base_gravity BETWEEN 1 AND 4", name="gravity"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_oocd_person", "person_id"),
        Index("ix_oocd_status_issued", "status", "issued_on"),
        Index("ix_oocd_crime", "crime_id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    crime_id: Mapped[int] = mapped_column(ForeignKey("crimes.id"))
    policy: Mapped[str] = mapped_column(String(24))
    tier: Mapped[str] = mapped_column(String(32))
    youth: Mapped[bool] = mapped_column(Boolean)
    status: Mapped[str] = mapped_column(String(12), default="proposed")
    admission: Mapped[bool] = mapped_column(Boolean)
    consent: Mapped[bool] = mapped_column(Boolean)
    victim_views: Mapped[str | None] = mapped_column(Text)
    base_gravity: Mapped[int] = mapped_column(Integer)
    gravity: Mapped[int] = mapped_column(Integer)
    factors: Mapped[list] = mapped_column(JSON, default=list)
    rationale: Mapped[str] = mapped_column(Text)
    #: The words of each rule the decision is outside of (an Inspector may authorise it).
    outside_criteria: Mapped[list] = mapped_column(JSON, default=list)
    authority_required: Mapped[str] = mapped_column(String(12))
    dpp_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    custody_expected: Mapped[bool] = mapped_column(Boolean, default=False)
    intervention_available: Mapped[bool] = mapped_column(Boolean, default=False)
    pilot: Mapped[str | None] = mapped_column(String(40))
    rules_version: Mapped[str] = mapped_column(String(40))
    decided_by: Mapped[str] = mapped_column(String(80))
    decided_on: Mapped[dt.date] = mapped_column(Date)
    authorised_by: Mapped[str | None] = mapped_column(String(80))
    authoriser_rank: Mapped[str | None] = mapped_column(String(12))
    authorised_on: Mapped[dt.date | None] = mapped_column(Date)
    issued_on: Mapped[dt.date | None] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    version: Mapped[int] = mapped_column(Integer, default=1)


class Condition(Base):
    """A condition of a disposal, with its deadline; a course or provider condition has a referral."""

    __tablename__ = "oocd_conditions"
    __table_args__ = (
        CheckConstraint(sql_in("kind", ("rehabilitative", "reparative", "punitive", "restrictive", "attendance")),
                        name="kind"),
        CheckConstraint(sql_in("status", CONDITION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disposal_id: Mapped[int] = mapped_column(ForeignKey("oocd_disposals.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    description: Mapped[str] = mapped_column(Text)
    due_on: Mapped[dt.date] = mapped_column(Date)
    provider_code: Mapped[str | None] = mapped_column(String(40))
    referral_id: Mapped[int | None] = mapped_column(ForeignKey("referrals.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")
    completed_on: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(80))


class DisposalEvent(Base):
    """Every change of a disposal's state, in order: its history and its timeline."""

    __tablename__ = "oocd_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    disposal_id: Mapped[int] = mapped_column(ForeignKey("oocd_disposals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    on: Mapped[dt.date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)


class ScrutinySample(Base):
    """A dip sample drawn for a scrutiny panel: the category, the panel's month, the seed."""

    __tablename__ = "scrutiny_samples"
    __table_args__ = (UniqueConstraint("category", "month", name="category_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    category: Mapped[str] = mapped_column(String(24))
    month: Mapped[str] = mapped_column(String(7))
    seed: Mapped[int] = mapped_column(Integer)
    requested: Mapped[int] = mapped_column(Integer)
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    rules_version: Mapped[str] = mapped_column(String(40))
    made_by: Mapped[str] = mapped_column(String(80))
    made_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ScrutinyItem(Base):
    """One sampled disposal and the panel's verdict on it (none until the panel sits)."""

    __tablename__ = "scrutiny_items"

    sample_id: Mapped[int] = mapped_column(ForeignKey("scrutiny_samples.id"), primary_key=True)
    disposal_id: Mapped[int] = mapped_column(ForeignKey("oocd_disposals.id"), primary_key=True)
    verdict: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    action: Mapped[str | None] = mapped_column(Text)
    decided_by: Mapped[str | None] = mapped_column(String(80))
