"""Referrals at the edges. Free text (reasons, desired outcomes, behaviour notes) is None for
pseudonymised readers: it may name people."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, Field

from iom.http.schemas import MAX_ID, Text

MAX_REASON = 2000
MAX_OUTCOME = 200
MAX_OUTCOMES = 10
Attendance = Literal["attended", "late", "did not attend"]
Achievement = Literal["achieved", "partly", "not"]
Source = Literal["plan", "oocd", "voluntary", "marac", "other"]
Version = Annotated[int, Field(ge=1, le=MAX_ID, description="The version your change is based on")]


class RuleOut(BaseModel):
    kind: str
    words: str


class ProviderOut(BaseModel):
    code: str
    name: str
    pathways: list[str]
    areas: str
    description: str
    source: str
    rules: list[RuleOut]


class DirectoryOut(BaseModel):
    version: str
    source: str
    providers: list[ProviderOut]


class ReferralOut(BaseModel):
    id: int
    person_id: int
    pseudo_id: str
    provider_code: str
    provider_name: str
    pathway: str
    pathway_name: str
    source: str
    status: str
    reason: str | None
    desired_outcomes: list[str] | None
    created_on: dt.date
    created_by: str
    sent_on: dt.date | None
    accepted_on: dt.date | None
    started_on: dt.date | None
    ended_on: dt.date | None
    end_reason: str | None
    version: int
    updated_by: str
    #: What the lifecycle allows next (send, accept, start, session, complete, end, cancel).
    allowed_actions: list[str]


class EventOut(BaseModel):
    from_status: str | None
    to_status: str
    on: dt.date
    by: str
    reason: str | None


class SessionOut(BaseModel):
    id: int
    held_on: dt.date
    attendance: str
    behaviour: str | None
    recorded_by: str


class OutcomeOut(BaseModel):
    desired_outcome: str | None
    achievement: str
    notes: str | None


class ReferralDetail(ReferralOut):
    events: list[EventOut]
    sessions: list[SessionOut]
    outcomes: list[OutcomeOut]


class ReferralPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[ReferralOut]


class RevisionOut(BaseModel):
    version: int
    written_by: str
    written_at: dt.datetime
    data: dict


class ReferralIn(BaseModel):
    provider: str = Field(min_length=1, max_length=40, description="A provider code (GET /api/v1/providers)")
    pathway: str = Field(min_length=1, max_length=24)
    reason: Text = Field(min_length=1, max_length=MAX_REASON)
    desired_outcomes: list[Annotated[Text, Field(min_length=1, max_length=MAX_OUTCOME)]] = Field(
        default=[], max_length=MAX_OUTCOMES)
    source: Source = "plan"
    send: bool = Field(False, description="Send it to the provider at once (otherwise it stays a draft)")


class OutcomeIn(BaseModel):
    desired_outcome: Text = Field(min_length=1, max_length=MAX_OUTCOME)
    achievement: Achievement
    notes: Text | None = Field(None, max_length=MAX_REASON)


class TransitionIn(BaseModel):
    action: Literal["send", "accept", "start", "complete", "end", "cancel"]
    version: Version
    reason: Text | None = Field(None, max_length=MAX_REASON, description="Needed to end early or cancel")
    outcomes: list[OutcomeIn] = Field(default=[], max_length=MAX_OUTCOMES,
                                      description="One per desired outcome, to complete or end early")


class SessionIn(BaseModel):
    version: Version
    held_on: dt.date
    attendance: Attendance
    behaviour: Text | None = Field(None, max_length=MAX_REASON)


#: The record's ``referrals`` field.
ReferralList = list[ReferralOut]
