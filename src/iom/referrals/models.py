"""Referrals to providers, with the lifecycle of the MoJ interventions service: the referral,
its sessions, its status changes and its end-of-service outcomes."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

STATUSES = ("draft", "sent", "accepted", "in progress", "completed", "ended early", "cancelled")
SOURCES = ("plan", "oocd", "voluntary", "marac", "other")
ATTENDANCE = ("attended", "late", "did not attend")
ACHIEVEMENT = ("achieved", "partly", "not")


class Referral(Base):
    __tablename__ = "referrals"
    __table_args__ = (
        CheckConstraint(sql_in("status", STATUSES), name="status"),
        CheckConstraint(sql_in("source", SOURCES), name="source"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_referrals_person", "person_id"),
        Index("ix_referrals_provider_status", "provider_code", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    #: A provider in the directory (``data/providers-v1.toml``).
    provider_code: Mapped[str] = mapped_column(String(40))
    pathway: Mapped[str] = mapped_column(String(24))
    source: Mapped[str] = mapped_column(String(12), default="plan")
    #: The plan action it serves, if it came from a case plan.
    plan_action_id: Mapped[int | None] = mapped_column(ForeignKey("plan_actions.id"))
    reason: Mapped[str] = mapped_column(Text)
    desired_outcomes: Mapped[list] = mapped_column(JSON, default=list)
    status: Mapped[str] = mapped_column(String(12), default="draft")
    created_on: Mapped[dt.date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(80))
    sent_on: Mapped[dt.date | None] = mapped_column(Date)
    accepted_on: Mapped[dt.date | None] = mapped_column(Date)
    started_on: Mapped[dt.date | None] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    #: Why it ended early or was cancelled (required for those two).
    end_reason: Mapped[str | None] = mapped_column(Text)
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ReferralEvent(Base):
    """Append-only: each status change, who made it and why."""

    __tablename__ = "referral_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(12))
    to_status: Mapped[str] = mapped_column(String(12))
    on: Mapped[dt.date] = mapped_column(Date)
    by: Mapped[str] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)


class ReferralSession(Base):
    __tablename__ = "referral_sessions"
    __table_args__ = (CheckConstraint(sql_in("attendance", ATTENDANCE), name="attendance"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    held_on: Mapped[dt.date] = mapped_column(Date)
    attendance: Mapped[str] = mapped_column(String(16))
    behaviour: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))


class ReferralOutcome(Base):
    """At the end of service: for each desired outcome, whether it was achieved."""

    __tablename__ = "referral_outcomes"
    __table_args__ = (
        CheckConstraint(sql_in("achievement", ACHIEVEMENT), name="achievement"),
        UniqueConstraint("referral_id", "desired_outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), index=True)
    desired_outcome: Mapped[str] = mapped_column(String(200))
    achievement: Mapped[str] = mapped_column(String(8))
    notes: Mapped[str | None] = mapped_column(Text)
