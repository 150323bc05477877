"""Shapes handed to the CLI and the web pages."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict

ScoreName = Literal["rfg", "harm", "vulnerability", "composite"]


class ExplanationPart(BaseModel):
    """One term of a score: the parts of each score add up to it exactly."""

    score: ScoreName
    label: str
    points: int
    crime_ids: list[int] = []
    factor: str | None = None


class ScoreRunOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    as_of: dt.date
    config_version: str
    model_id: int | None
    scored_at: dt.datetime
    people: int


class OverrideOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    person_id: int
    include: bool
    reason: str
    created_by: str
    created_at: dt.datetime
    valid_from: dt.date
    until: dt.date
    approved_by: str | None = None
    approved_at: dt.datetime | None = None
    revoked_by: str | None = None
    revoked_at: dt.datetime | None = None


class Explanation(BaseModel):
    person_id: int
    pseudo_id: str
    as_of: dt.date
    config_version: str
    rfg: int
    harm_days: int
    harm_points: int
    risk: float | None
    risk_source: str
    risk_points: int
    ogrs3_1y: float | None
    ogrs3_2y: float | None
    vulnerability: int
    composite: int
    parts: list[ExplanationPart]

    def parts_for(self, score: ScoreName) -> list[ExplanationPart]:
        return [p for p in self.parts if p.score == score]


class SelectionRow(BaseModel):
    person_id: int
    pseudo_id: str
    rank: int
    composite: int
    rfg: int
    harm: int
    risk: float | None
    vulnerability: int
    decision: Literal["adopt", "keep", "exit"]
    reason: str
    override: OverrideOut | None = None
    explanation: list[ExplanationPart]
