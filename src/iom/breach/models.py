"""Breach of orders and licences: what was breached, when, how, what was done and how it ended."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import CheckConstraint, Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from iom.db import Base, sql_in

#: What was breached: a community or suspended sentence order, or a licence on release.
KINDS = ("order", "licence")
#: How it was breached (seed paper 000 §13: non-compliance, re-arrest, court).
NATURES = ("non-compliance", "missed appointment", "further offence", "re-arrest", "condition broken")
#: What the central team did about it.
ACTIONS = ("warning", "recall", "warrant", "court")
#: How it ended; open until one is recorded.
OUTCOMES = ("no further action", "warning given", "returned to custody", "order varied", "order revoked",
            "resentenced", "withdrawn")
#: Outcomes that put the person in custody (read by de-selection).
CUSTODY_OUTCOMES = ("returned to custody", "resentenced")


class Breach(Base):
    __tablename__ = "breaches"
    __table_args__ = (
        CheckConstraint(sql_in("kind", KINDS), name="kind"),
        CheckConstraint(sql_in("nature", NATURES), name="nature"),
        CheckConstraint(sql_in("action", ACTIONS), name="action"),
        CheckConstraint(f"outcome IS NULL OR {sql_in('outcome', OUTCOMES)}", name="outcome"),
        CheckConstraint("outcome_on IS NULL OR outcome_on >= breached_on", name="outcome_after_breach"),
        CheckConstraint("custody_until IS NULL OR custody_until >= breached_on", name="custody_after_breach"),
        Index("ix_breaches_person_breached", "person_id", "breached_on"),
        Index("ix_breaches_open", "outcome"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"))
    kind: Mapped[str] = mapped_column(String(8))
    #: The order or licence breached, as the court or prison named it.
    order_name: Mapped[str] = mapped_column(String(120))
    breached_on: Mapped[dt.date] = mapped_column(Date)
    nature: Mapped[str] = mapped_column(String(24))
    action: Mapped[str] = mapped_column(String(12))
    details: Mapped[str | None] = mapped_column(Text)
    outcome: Mapped[str | None] = mapped_column(String(24))
    outcome_on: Mapped[dt.date | None] = mapped_column(Date)
    #: Expected release, when the outcome is custody.
    custody_until: Mapped[dt.date | None] = mapped_column(Date)
    recorded_by: Mapped[str] = mapped_column(String(80))
    recorded_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True))
    #: Bumped by each change, so two people recording an outcome at once cannot both win.
    version: Mapped[int] = mapped_column(Integer, default=1)
