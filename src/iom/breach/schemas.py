"""What a breach looks like at the edge: the record, the outcome, the person's part, the queue."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from iom.breach.models import ACTIONS, KINDS, NATURES, OUTCOMES
from iom.http.schemas import Text

MAX_DETAILS = 2000
Kind = Literal[KINDS]
Nature = Literal[NATURES]
Action = Literal[ACTIONS]
Outcome = Literal[OUTCOMES]


class BreachIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind = Field(description="order or licence")
    order_name: Text = Field(min_length=3, max_length=120, description="The order or licence, as the court or prison named it")
    breached_on: dt.date
    nature: Nature
    action: Action
    details: Text | None = Field(default=None, max_length=MAX_DETAILS)


class OutcomeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    outcome: Outcome
    outcome_on: dt.date
    custody_until: dt.date | None = Field(default=None, description="Expected release, when the outcome is custody")
    version: int = Field(ge=1, description="The version read: a stale one is refused (409)")


class BreachOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    kind: str
    order_name: str
    breached_on: dt.date
    nature: str
    action: str
    details: str | None
    outcome: str | None
    outcome_on: dt.date | None
    custody_until: dt.date | None
    recorded_by: str
    version: int

    @property
    def open(self) -> bool:
        return self.outcome is None


class BreachPart(BaseModel):
    """The record's Breaches tab."""

    breaches: list[BreachOut]
    kinds: list[str] = list(KINDS)
    natures: list[str] = list(NATURES)
    actions: list[str] = list(ACTIONS)
    outcomes: list[str] = list(OUTCOMES)


class QueueRow(BaseModel):
    breach: BreachOut
    pseudo_id: str
    name: str | None
    lomu_code: str | None
    days_open: int


class Queue(BaseModel):
    as_of: dt.date
    lomu: str | None
    rows: list[QueueRow]

    def summary(self) -> str:
        oldest = max((r.days_open for r in self.rows), default=0)
        return f"{len(self.rows):,} open breaches" + (f", the oldest open {oldest:,} days" if self.rows else "")
