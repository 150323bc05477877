"""Domestic abuse: DASH risk assessments, MARAC referrals, SARA v3 and SAM records, and the
saved pilot cohorts. The monthly list itself is derived from the register's crimes, not stored."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

SPJ_STATUSES = ("draft", "final")


class DashAssessment(Base):
    """A DASH checklist completed with a victim: the 24 answers, the band their "yes" count
    gives, and the band professional judgement raised it to (never lower)."""

    __tablename__ = "dash_assessments"
    __table_args__ = (
        CheckConstraint("yes_count BETWEEN 0 AND 99", name="yes_count"),
        Index("ix_dash_victim_assessed", "victim_person_id", "assessed_on"),
        Index("ix_dash_perpetrator_assessed", "perpetrator_person_id", "assessed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    victim_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    perpetrator_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    crime_id: Mapped[int | None] = mapped_column(ForeignKey("crimes.id"))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    relationship: Mapped[str] = mapped_column(String(24))
    #: {question code: "yes" | "no" | "not_known"}
    answers: Mapped[dict] = mapped_column(JSON)
    yes_count: Mapped[int] = mapped_column(Integer)
    band_by_count: Mapped[str] = mapped_column(String(16))
    judgement_band: Mapped[str | None] = mapped_column(String(16))
    judgement_reason: Mapped[str | None] = mapped_column(Text)
    band: Mapped[str] = mapped_column(String(16))
    rules_version: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MaracReferral(Base):
    """A referral of a victim's case to a Multi-Agency Risk Assessment Conference, with the
    criteria it met when made and whether it was a repeat."""

    __tablename__ = "marac_referrals"
    __table_args__ = (
        Index("ix_marac_victim_referred", "victim_person_id", "referred_on"),
        Index("ix_marac_perpetrator_referred", "perpetrator_person_id", "referred_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    victim_person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    perpetrator_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    referred_on: Mapped[dt.date] = mapped_column(Date)
    referring_agency: Mapped[str] = mapped_column(String(80))
    #: Criterion codes met (``MaracRules.criteria_words``).
    criteria: Mapped[list] = mapped_column(JSON)
    judgement_reason: Mapped[str | None] = mapped_column(Text)
    dash_id: Mapped[int | None] = mapped_column(ForeignKey("dash_assessments.id"))
    repeat: Mapped[bool] = mapped_column(Boolean, default=False)
    rules_version: Mapped[str] = mapped_column(String(40))
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class SpjAssessment(Base):
    """A structured professional judgement (SARA v3 or SAM) for a perpetrator: a draft until
    finalised, and final only with every summary judgement made."""

    __tablename__ = "spj_assessments"
    __table_args__ = (
        CheckConstraint(sql_in("status", SPJ_STATUSES), name="status"),
        CheckConstraint("version >= 1", name="version"),
        Index("ix_spj_person", "person_id", "assessed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    victim_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))
    instrument: Mapped[str] = mapped_column(String(16))
    instrument_version: Mapped[str] = mapped_column(String(40))
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(8), default="draft")
    #: {factor code: {"past": code, "recent": code, "relevance": code}}
    ratings: Mapped[dict] = mapped_column(JSON, default=dict)
    #: {judgement code: option code}
    judgements: Mapped[dict] = mapped_column(JSON, default=dict)
    scenarios: Mapped[list] = mapped_column(JSON, default=list)
    #: {plan heading code: words}
    plan: Mapped[dict] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    finalised_by: Mapped[str | None] = mapped_column(String(80))
    finalised_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DaCohort(Base):
    """A saved, dated cohort (the SARA/SAM pilot: at MARAC and on the serial list) for evaluation."""

    __tablename__ = "da_cohorts"
    __table_args__ = (UniqueConstraint("name", "month", name="name_month"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(40))
    month: Mapped[str] = mapped_column(String(7))
    window_start: Mapped[dt.date] = mapped_column(Date)
    window_end: Mapped[dt.date] = mapped_column(Date)
    rules_version: Mapped[str] = mapped_column(String(80))
    made_by: Mapped[str] = mapped_column(String(80))
    made_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class DaCohortMember(Base):
    __tablename__ = "da_cohort_members"

    cohort_id: Mapped[int] = mapped_column(ForeignKey("da_cohorts.id"), primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), primary_key=True)
