"""Allocations of a managed person to an officer: the workload at the time, and a
supervisor's reason where the officer was taken over capacity."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base


class Allocation(Base):
    __tablename__ = "officer_allocations"
    __table_args__ = (Index("ix_allocations_officer", "lomu_code", "officer"),
                      Index("ix_allocations_person", "person_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    lomu_code: Mapped[str] = mapped_column(ForeignKey("units.code"))
    officer: Mapped[str] = mapped_column(String(80))
    allocated_on: Mapped[dt.date] = mapped_column(Date)
    points: Mapped[int] = mapped_column(Integer)
    #: The officer's load before this case, and their capacity, in points.
    load_before: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    #: Set only when the case takes the officer over capacity: the supervisor's reason.
    over_capacity_reason: Mapped[str | None] = mapped_column(Text)
    allocated_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
