"""MAPPA: each person's category and level over time (with the chairing agency, ViSOR record
and partnering officer), and the panels held for them."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base

CATEGORIES = (1, 2, 3, 4)
LEVELS = (1, 2, 3)


class MappaRecord(Base):
    """Append-only: the category and level in force from ``effective_from`` until the next
    record, or until ``ended_on`` (the person left MAPPA). A current record makes the
    person's restricted fields need a specialist."""

    __tablename__ = "mappa_records"
    __table_args__ = (
        CheckConstraint("category BETWEEN 1 AND 4", name="category"),
        CheckConstraint("level BETWEEN 1 AND 3", name="level"),
        CheckConstraint("ended_on IS NULL OR ended_on >= effective_from", name="end_after_start"),
        Index("ix_mappa_person_effective", "person_id", "effective_from"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    category: Mapped[int] = mapped_column(Integer)
    level: Mapped[int] = mapped_column(Integer)
    effective_from: Mapped[dt.date] = mapped_column(Date)
    ended_on: Mapped[dt.date | None] = mapped_column(Date)
    chairing_agency: Mapped[str | None] = mapped_column(String(40))
    visor_id: Mapped[str | None] = mapped_column(String(24))
    partnering_officer: Mapped[str | None] = mapped_column(String(80))
    reason: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))


class MappaPanel(Base):
    """A MAPPA meeting held for a person at level 2 or 3."""

    __tablename__ = "mappa_panels"
    __table_args__ = (
        CheckConstraint("level BETWEEN 2 AND 3", name="level"),
        Index("ix_mappa_panels_person_held", "person_id", "held_on"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    held_on: Mapped[dt.date] = mapped_column(Date)
    level: Mapped[int] = mapped_column(Integer)
    chair: Mapped[str | None] = mapped_column(String(80))
    outcome: Mapped[str | None] = mapped_column(Text)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
