"""What the course commands, pages and API return and accept."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from iom.http.schemas import MAX_ID, Text


class EsolOffer(BaseModel):
    """Offered when a group course cannot take someone who needs an interpreter."""

    provider: str
    provider_name: str
    pathway: str
    language: str
    words: str


class CompletionLine(BaseModel):
    course: str
    name: str
    period: str
    referred: int
    completed: int
    breached: int
    withdrawn: int
    open: int
    #: Completed of those ended (completed, breached or withdrawn), with its Wilson 95% interval.
    rate: float | None
    lower: float | None
    upper: float | None
    rate_text: str
    published: str | None = None
    #: The register's rate to as many places as the published figure.
    rounded: str | None = None
    published_referred: int | None = None
    check: str | None = None


class Completion(BaseModel):
    rules_version: str
    start: dt.date | None
    end: dt.date | None
    by: str
    lines: list[CompletionLine]


class PlacesLine(BaseModel):
    course: str
    name: str
    running: bool
    places_per_month: int
    waiting: int
    started: int
    median_wait_days: float | None
    months: int


class TrialCheck(BaseModel):
    trial: str
    entries: int
    arms: dict[str, int]
    intact: bool
    problems: list[str]


class CourseReferralOut(BaseModel):
    referral_id: int
    course: str
    course_name: str
    route: str
    crime_id: int
    condition_id: int | None
    format: str | None
    interpreter_language: str | None
    status: str
    created_on: dt.date
    version: int


class ReferIn(BaseModel):
    """A course referral: from a disposal (``disposal_id``: its condition) or from a plan or
    voluntarily (``crime_id``: the index offence)."""

    model_config = ConfigDict(extra="forbid")
    course: Text = Field(max_length=24)
    person_id: int = Field(ge=1, le=MAX_ID)
    route: Literal["oocd", "plan", "voluntary"]
    crime_id: int | None = Field(None, ge=1, le=MAX_ID)
    disposal_id: int | None = Field(None, ge=1, le=MAX_ID)
    format: Text | None = Field(None, max_length=40)
    interpreter_language: Text | None = Field(None, max_length=8)
    reason: Text | None = Field(None, max_length=2000)


class AllocationOut(BaseModel):
    trial: str
    sequence: int
    arm: str
    person_id: int
    crime_id: int
    allocated_on: dt.date
    referral_id: int | None
