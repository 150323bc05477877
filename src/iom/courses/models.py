"""Courses: which referral is to which course (and from which disposal condition, with what
language need), the suitable people recorded as not referred (a non-randomised course's
control group), and a randomised course's allocation log."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

ROUTES = ("oocd", "plan", "voluntary")
ARMS = ("control", "course")


class CourseReferral(Base):
    """A referral (``referrals``) to a course: the lifecycle, sessions and outcomes are the
    referral's; this row says which course, why (the index offence) and how it came."""

    __tablename__ = "course_referrals"
    __table_args__ = (
        CheckConstraint(sql_in("route", ROUTES), name="route"),
        Index("ix_course_referrals_course", "course_code"),
        Index("ix_course_referrals_crime", "crime_id"),
    )

    referral_id: Mapped[int] = mapped_column(ForeignKey("referrals.id"), primary_key=True)
    course_code: Mapped[str] = mapped_column(String(24))
    route: Mapped[str] = mapped_column(String(12))
    #: The offence the course answers: its eligibility is checked against it.
    crime_id: Mapped[int] = mapped_column(ForeignKey("crimes.id"))
    condition_id: Mapped[int | None] = mapped_column(ForeignKey("oocd_conditions.id"))
    format: Mapped[str | None] = mapped_column(String(40))
    #: The language a person needs an interpreter for (ISO 639-1), if any.
    interpreter_language: Mapped[str | None] = mapped_column(String(8))
    rules_version: Mapped[str] = mapped_column(String(40))


class CourseControl(Base):
    """A person suitable for a course but not referred, and why (the course had not begun, no
    place): the control group a non-randomised evaluation reads."""

    __tablename__ = "course_controls"
    __table_args__ = (UniqueConstraint("course_code", "person_id", name="course_person"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    course_code: Mapped[str] = mapped_column(String(24))
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    crime_id: Mapped[int] = mapped_column(ForeignKey("crimes.id"))
    #: The day suitability was assessed: the index date of the evaluation.
    assessed_on: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))


class TrialAllocation(Base):
    """One case allocated by a course trial's block randomiser (``iom.randomisation``): append
    only, each entry chained to the one before it by ``hash``, so the log replays from its
    seed and any edit shows."""

    __tablename__ = "trial_allocations"
    __table_args__ = (
        CheckConstraint(sql_in("arm", ARMS), name="arm"),
        UniqueConstraint("trial", "sequence", name="trial_sequence"),
        UniqueConstraint("trial", "crime_id", name="trial_crime"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial: Mapped[str] = mapped_column(String(24))
    seed: Mapped[int] = mapped_column(Integer)
    #: The ratio control:course, e.g. "2:3".
    ratio: Mapped[str] = mapped_column(String(12))
    sequence: Mapped[int] = mapped_column(Integer)
    block: Mapped[int] = mapped_column(Integer)
    block_size: Mapped[int] = mapped_column(Integer)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    #: The case randomised: its index offence.
    crime_id: Mapped[int] = mapped_column(ForeignKey("crimes.id"))
    arm: Mapped[str] = mapped_column(String(8))
    allocated_on: Mapped[dt.date] = mapped_column(Date)
    allocated_by: Mapped[str] = mapped_column(String(80))
    hash: Mapped[str] = mapped_column(String(16))
    previous_hash: Mapped[str] = mapped_column(String(16))


__all__ = ["ARMS", "ROUTES", "CourseControl", "CourseReferral", "TrialAllocation"]
