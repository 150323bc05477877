"""API shapes. Names and dates of birth are None for pseudonymised (analyst) users."""

from __future__ import annotations

import datetime as dt

from typing import Annotated

from pydantic import AfterValidator, BaseModel, Field


def _no_nul(value: str) -> str:
    # PostgreSQL text cannot hold NUL; refuse it at the edge rather than fail in the database.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


Text = Annotated[str, AfterValidator(_no_nul)]
"""Free text from a client: any characters but NUL."""


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str = "about:blank"
    title: str
    status: int
    detail: str | None = None
    instance: str | None = None


class LoginIn(BaseModel):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=256)
    purpose: Text = Field(default="case management", min_length=3, max_length=200)


class Me(BaseModel):
    username: str
    role: str
    lomu_code: str | None
    purpose: str
    csrf_token: str
    as_of: dt.date


class CaseloadRow(BaseModel):
    id: int
    pseudo_id: str
    name: str | None
    date_of_birth: dt.date | None
    home_npu: str | None
    lomu_code: str | None
    classifications: list[str]
    risk: str | None
    risk_since: dt.date | None
    next_review: dt.date | None
    flags: list[str]


class CaseloadPage(BaseModel):
    as_of: dt.date
    total: int
    page: int
    per_page: int
    items: list[CaseloadRow]


class TimelineEvent(BaseModel):
    on: dt.date
    kind: str
    text: str


class Note(BaseModel):
    id: int
    written_at: dt.datetime
    author: str
    text: str


class NoteIn(BaseModel):
    text: Text = Field(min_length=1, max_length=5000)


class PersonDetail(BaseModel):
    id: int
    pseudo_id: str
    name: str | None
    date_of_birth: dt.date | None
    sex: str
    ethnicity: str
    home_npu: str | None
    restricted: bool
    restricted_hidden: bool
    offender_type: str | None
    lead_agency: str | None
    lomu_code: str | None
    officer: str | None
    risk: str | None
    next_review: dt.date | None
    classifications: list[str]
    flags: list[str]
    timeline: list[TimelineEvent]
    risk_history: list[TimelineEvent]
    scores: list[dict] = []
    notes: list[Note] | None
    as_of: dt.date


class Dashboard(BaseModel):
    as_of: dt.date
    unit: str
    cohort_sizes: dict[str, int]
    risk_split: dict[str, int]
    reoffending_trend: list[tuple[str, int]]


class AuditRow(BaseModel):
    id: int
    at: dt.datetime
    username: str
    role: str
    action: str
    resource: str
    person_id: int | None
    purpose: str
    detail: str


class OverrideIn(BaseModel):
    person_id: int = Field(ge=1, le=2**31 - 1)
    include: bool
    reason: Text = Field(min_length=1, max_length=2000)
    until: dt.date


class Selection(BaseModel):
    npu: str
    as_of: dt.date
    scores_stored: bool
    rows: list[dict]
    overrides: list[dict]
