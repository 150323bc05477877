"""IOM cohorts: the classification catalogue, memberships over time, and the append-only
histories of risk level and of management (offender type, lead agency, LOMU, officer)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

RISK_LEVELS = ("High", "Medium", "Low")
OFFENDER_TYPES = ("Core", "Vulnerable", "Risk", "Sex Offender Management")
LEAD_AGENCIES = ("Police", "National Probation Service", "Probation provider (CRC)", "Youth Offending Team")
FRAMEWORK_GROUPS = ("Fixed", "Flex", "Free")


class Classification(Base):
    __tablename__ = "cohort_classifications"
    __table_args__ = (CheckConstraint(sql_in("framework_group", FRAMEWORK_GROUPS), name="framework_group"),)

    code: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    framework_group: Mapped[str] = mapped_column(String(8))
    published_count: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)


class CohortMembership(Base):
    """A person's time in one classification; current while ``exited_on`` is null or later."""

    __tablename__ = "cohort_memberships"
    __table_args__ = (
        CheckConstraint("exited_on IS NULL OR exited_on >= adopted_on", name="exit_after_adoption"),
        Index("ix_memberships_person_class", "person_id", "classification_code"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    classification_code: Mapped[str] = mapped_column(ForeignKey("cohort_classifications.code"))
    adopted_on: Mapped[dt.date] = mapped_column(Date)
    adoption_reason: Mapped[str | None] = mapped_column(Text)
    exited_on: Mapped[dt.date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(Text)


class RiskLevelRecord(Base):
    """Append-only: the level in force from ``effective_from`` until the next record."""

    __tablename__ = "risk_level_history"
    __table_args__ = (
        CheckConstraint(sql_in("level", RISK_LEVELS), name="level"),
        Index("ix_risk_person_effective", "person_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    level: Mapped[str] = mapped_column(String(8))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str | None] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class ManagementRecord(Base):
    """Append-only: who manages a person and how, from ``effective_from``."""

    __tablename__ = "management_history"
    __table_args__ = (
        CheckConstraint(sql_in("offender_type", OFFENDER_TYPES), name="offender_type"),
        CheckConstraint(sql_in("lead_agency", LEAD_AGENCIES), name="lead_agency"),
        Index("ix_management_person_effective", "person_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    effective_from: Mapped[dt.date] = mapped_column(Date)
    offender_type: Mapped[str] = mapped_column(String(32))
    lead_agency: Mapped[str] = mapped_column(String(40))
    lomu_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    officer: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


REVIEW_OUTCOMES = ("no change", "risk raised", "risk lowered", "exit recommended")


class RiskReview(Base):
    """A risk review of a person: the level it confirmed or set and when the next one is due
    (by the interval per level in ``data/review-intervals-v1.toml``). A review that changes
    the level also appends to ``risk_level_history``."""

    __tablename__ = "risk_reviews"
    __table_args__ = (
        CheckConstraint(sql_in("level", RISK_LEVELS), name="level"),
        CheckConstraint(sql_in("outcome", REVIEW_OUTCOMES), name="outcome"),
        CheckConstraint("next_due > reviewed_on", name="next_after_review"),
        Index("ix_risk_reviews_person_reviewed", "person_id", "reviewed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    reviewed_on: Mapped[dt.date] = mapped_column(Date)
    level: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(20))
    next_due: Mapped[dt.date] = mapped_column(Date)
    reviewer: Mapped[str] = mapped_column(String(80))
    notes: Mapped[str | None] = mapped_column(Text)
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class PersonCurrentState(Base):
    """Kept, not recomputed: per person, what the risk, management, membership and review
    histories give on the reference date, so a caseload is one indexed read. Written only by
    ``iom.cohorts.current_state.refresh``; the row holds for any date in
    [``changed_on``, ``next_change_on``) (null ends: open), since nothing in the histories
    changes between those dates."""

    __tablename__ = "person_current_state"
    __table_args__ = (
        Index("ix_person_current_state_lomu", "lomu_code", "classifications"),
        Index("ix_person_current_state_officer", "officer"),
        Index("ix_person_current_state_changed", "changed_on"),
        Index("ix_person_current_state_next_change", "next_change_on"),
    )

    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True, autoincrement=False)
    #: The latest history event on or before the date it was computed for (null: none)...
    changed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: ...and the first one after it (null: none): the row holds in between.
    next_change_on: Mapped[dt.date | None] = mapped_column(Date)
    risk_level: Mapped[str | None] = mapped_column(String(8))
    risk_since: Mapped[dt.date | None] = mapped_column(Date)
    offender_type: Mapped[str | None] = mapped_column(String(32))
    lead_agency: Mapped[str | None] = mapped_column(String(40))
    lomu_code: Mapped[str | None] = mapped_column(String(8))
    officer: Mapped[str | None] = mapped_column(String(80))
    managed_since: Mapped[dt.date | None] = mapped_column(Date)
    #: Current memberships' distinct classifications: 0 is not in the cohort.
    classifications: Mapped[int] = mapped_column(Integer)
    #: The latest adoption among the current memberships.
    adopted_on: Mapped[dt.date | None] = mapped_column(Date)
    reviewed_on: Mapped[dt.date | None] = mapped_column(Date)
    #: The latest review's next due date (the latest, if that day had more than one review).
    review_due: Mapped[dt.date | None] = mapped_column(Date)


#: The histories the current-state table is computed from: a write to any of them bumps
#: ``CurrentStateStamp.history_version`` (database triggers, migration 0017), whoever writes.
HISTORY_TABLES = ("cohort_memberships", "risk_level_history", "management_history", "risk_reviews")


class CurrentStateStamp(Base):
    """One row: ``history_version``, which the database bumps on every write to
    ``HISTORY_TABLES``, and ``state_version``, its value when the current-state table was last
    brought up to date (``current_state.refresh``). A write to the histories that did not
    refresh (a test, a SQL prompt) leaves them apart, and readers go back to the histories;
    writes elsewhere in the register (scores, MAPPA, DA) do not touch what the table holds."""

    __tablename__ = "person_current_state_stamp"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    history_version: Mapped[int] = mapped_column(BigInteger)
    state_version: Mapped[int | None] = mapped_column(BigInteger)
