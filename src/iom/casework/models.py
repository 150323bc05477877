"""Casework tables: needs assessments over the pathways, case plans and their actions, and
the revisions that keep every version of an edited record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import JSON, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

NEED_LEVELS = ("none", "standard", "severe")
ACTION_KINDS = ("control", "change")
ACTION_STATUSES = ("open", "in progress", "done", "cancelled")


class NeedsAssessment(Base):
    """One needs assessment of a person on a date; a new one supersedes, never overwrites."""

    __tablename__ = "needs_assessments"
    __table_args__ = (Index("ix_needs_person_assessed", "person_id", "assessed_on"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    assessor: Mapped[str] = mapped_column(String(80))
    #: The pathways file's version the ratings were made against.
    pathways_version: Mapped[str] = mapped_column(String(40))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class NeedRating(Base):
    __tablename__ = "need_ratings"
    __table_args__ = (
        CheckConstraint(sql_in("level", NEED_LEVELS), name="level"),
        UniqueConstraint("assessment_id", "pathway"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("needs_assessments.id"), index=True)
    pathway: Mapped[str] = mapped_column(String(24))
    level: Mapped[str] = mapped_column(String(8))
    notes: Mapped[str | None] = mapped_column(Text)


class PlanAction(Base):
    """One action of a person's case plan: Control (enforcement) or Change (support)."""

    __tablename__ = "plan_actions"
    __table_args__ = (
        CheckConstraint(sql_in("kind", ACTION_KINDS), name="kind"),
        CheckConstraint(sql_in("status", ACTION_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_plan_actions_person", "person_id"),
        Index("ix_plan_actions_due", "status", "due_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(8))
    pathway: Mapped[str] = mapped_column(String(24))
    description: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(80))
    due_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")
    outcome: Mapped[str | None] = mapped_column(Text)
    created_on: Mapped[dt.date] = mapped_column(Date)
    #: Bumped on every change; a write naming an older version is refused (409).
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_by: Mapped[str] = mapped_column(String(80))
    updated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class Revision(Base):
    """Every version of an edited casework record (plan actions, referrals), as written:
    a refused stale write loses nothing, because the version it collided with is here."""

    __tablename__ = "casework_revisions"
    __table_args__ = (UniqueConstraint("record_kind", "record_id", "version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    record_kind: Mapped[str] = mapped_column(String(24))
    record_id: Mapped[int] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    data: Mapped[dict] = mapped_column(JSON)
    written_by: Mapped[str] = mapped_column(String(80))
    written_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))
