"""Register tables: units, people and their vulnerability markers, the offence catalogue,
the cost-of-crime table and crime records."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

UNIT_KINDS = ("force", "lomu", "npu")
SEXES = ("M", "F", "U")
MODES_OF_TRIAL = ("summary", "either way", "indictable", "none")
INVOLVEMENTS = ("suspect", "offender")
OUTCOMES = (
    "charge",
    "caution",
    "conditional_caution",
    "community_resolution",
    "nfa",
    "pending",
)
#: Outcomes that prove an offence (MoJ proven reoffending: conviction or caution).
PROVEN_OUTCOMES = ("charge", "caution", "conditional_caution")
#: Outcomes that are out-of-court disposals (Table A of the seed paper).
OOCD_OUTCOMES = ("caution", "conditional_caution", "community_resolution")


class Unit(Base):
    """Force, LOMU or NPU; the hierarchy is data (parent_code)."""

    __tablename__ = "units"
    __table_args__ = (CheckConstraint(sql_in("kind", UNIT_KINDS), name="kind"),)

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    kind: Mapped[str] = mapped_column(String(8))
    parent_code: Mapped[str | None] = mapped_column(ForeignKey("units.code"))
    officers: Mapped[int | None] = mapped_column(Integer)
    caseload_per_officer: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(Text)


class Person(Base):
    __tablename__ = "people"
    __table_args__ = (CheckConstraint(sql_in("sex", SEXES), name="sex"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: Pseudonymous id shown to analysts; assigned once and never changed.
    pseudo_id: Mapped[str] = mapped_column(String(16), unique=True)
    #: Id in the force's source system; imports match on it.
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    given_name: Mapped[str] = mapped_column(String(80))
    family_name: Mapped[str] = mapped_column(String(80))
    date_of_birth: Mapped[dt.date] = mapped_column(Date)
    sex: Mapped[str] = mapped_column(String(1))
    ethnicity: Mapped[str] = mapped_column(String(8))
    home_npu: Mapped[str | None] = mapped_column(ForeignKey("units.code"), index=True)
    language: Mapped[str] = mapped_column(String(40), default="English")
    interpreter_needed: Mapped[bool] = mapped_column(Boolean, default=False)


class VulnerabilityMarker(Base):
    """A dated marker; open-ended while ``ended_on`` is null."""

    __tablename__ = "vulnerability_markers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    marker: Mapped[str] = mapped_column(String(24))
    started_on: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    source: Mapped[str | None] = mapped_column(String(80))


class Offence(Base):
    """Offence catalogue row (Home Office counting-rules classification)."""

    __tablename__ = "offences"
    __table_args__ = (
        CheckConstraint(sql_in("mode_of_trial", MODES_OF_TRIAL), name="mode_of_trial"),
        CheckConstraint("gravity BETWEEN 1 AND 4", name="gravity"),
        CheckConstraint("ogrs3_category BETWEEN 0 AND 19", name="ogrs3_category"),
    )

    code: Mapped[str] = mapped_column(String(8), primary_key=True)
    description: Mapped[str] = mapped_column(String(160))
    offence_group: Mapped[str] = mapped_column(String(80))
    subgroup: Mapped[str] = mapped_column(String(80))
    mode_of_trial: Mapped[str] = mapped_column(String(12))
    gravity: Mapped[int] = mapped_column(Integer)
    harm_days: Mapped[int] = mapped_column(Integer)
    harm_source: Mapped[str] = mapped_column(Text)
    ogrs3_category: Mapped[int] = mapped_column(Integer)
    cost_category: Mapped[str] = mapped_column(ForeignKey("cost_of_crime.category"))
    #: False for non-crime incidents (e.g. DA incidents that are not notifiable crimes).
    is_crime: Mapped[bool] = mapped_column(Boolean)
    domestic_abuse: Mapped[bool] = mapped_column(Boolean)
    hate: Mapped[bool] = mapped_column(Boolean)
    #: Offence-based IOM classification this offence counts towards, if any.
    cohort_classification: Mapped[str | None] = mapped_column(String(12))


class CostOfCrime(Base):
    __tablename__ = "cost_of_crime"

    category: Mapped[str] = mapped_column(String(32), primary_key=True)
    description: Mapped[str] = mapped_column(String(120))
    cost_pence: Mapped[int] = mapped_column(Integer)
    price_base: Mapped[str] = mapped_column(String(16))
    checked: Mapped[bool] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(Text)


class Crime(Base):
    """One person's involvement (suspect or offender) in one recorded crime or incident."""

    __tablename__ = "crimes"
    __table_args__ = (
        CheckConstraint(sql_in("involvement", INVOLVEMENTS), name="involvement"),
        CheckConstraint(sql_in("outcome", OUTCOMES), name="outcome"),
        CheckConstraint("recorded_on >= committed_on", name="recorded_after_committed"),
        Index("ix_crimes_person_committed", "person_id", "committed_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source_id: Mapped[str] = mapped_column(String(64), unique=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    involvement: Mapped[str] = mapped_column(String(8))
    committed_on: Mapped[dt.date] = mapped_column(Date)
    recorded_on: Mapped[dt.date] = mapped_column(Date)
    offence_code: Mapped[str] = mapped_column(ForeignKey("offences.code"))
    npu_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    domestic_abuse: Mapped[bool] = mapped_column(Boolean, default=False)
    alcohol_related: Mapped[bool] = mapped_column(Boolean, default=False)
    hate: Mapped[bool] = mapped_column(Boolean, default=False)
    victim_person_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(24))
    outcome_on: Mapped[dt.date | None] = mapped_column(Date)


#: Tables whose writes change what the register shows (pages, caseloads, explanations).
#: Database triggers (migration 0005) bump ``RegisterVersion`` on every write to them,
#: whoever writes: the importer, the generator, a service, or someone at a SQL prompt.
VERSIONED_TABLES = (
    "units", "people", "vulnerability_markers", "offences", "crimes",
    "cohort_memberships", "risk_level_history", "management_history",
    "scoring_models", "score_runs", "scores",
    "risk_reviews", "mappa_records", "mappa_panels",
    "dash_assessments", "marac_referrals", "spj_assessments", "da_cohorts", "da_cohort_members",
    "breaches",
)


class RegisterVersion(Base):
    """One row: a counter that changes whenever a ``VERSIONED_TABLES`` table does, in the same
    transaction, so a reader can tell whether anything it derived earlier is still current.
    It starts at a random value so a re-created database never repeats an old version."""

    __tablename__ = "register_version"
    __table_args__ = (CheckConstraint("id = 1", name="single_row"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(BigInteger)
