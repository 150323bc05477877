"""Diversion at the edges: decisions, conditions, their history, the tier options for a case,
Table A, and the scrutiny panel's samples and report."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field

from iom.http.schemas import MAX_ID, Text

MAX_TEXT = 2000


class ConditionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    description: str
    due_on: dt.date
    provider_code: str | None
    referral_id: int | None
    status: str
    completed_on: dt.date | None


class EventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    from_status: str | None
    to_status: str
    on: dt.date
    by: str
    reason: str | None


class DisposalOut(BaseModel):
    id: int
    person_id: int
    crime_id: int
    offence: str
    committed_on: dt.date
    policy: str
    tier: str
    tier_name: str
    youth: bool
    status: str
    admission: bool
    consent: bool
    #: Withheld from pseudonymised readers.
    victim_views: str | None
    base_gravity: int
    gravity: int
    factors: list[str]
    rationale: str | None
    outside_criteria: list[str]
    authority_required: str
    pilot: str | None
    dpp_consent: bool
    decided_by: str
    decided_on: dt.date
    authorised_by: str | None
    authoriser_rank: str | None
    authorised_on: dt.date | None
    issued_on: dt.date | None
    closed_on: dt.date | None
    version: int
    #: What can happen next.
    allowed: list[str]
    #: What a breach of this tier leads to: none, prosecuted or penalty.
    breach_leads_to: str
    conditions: list[ConditionOut]
    events: list[EventOut]


class TierOption(BaseModel):
    tier: str
    name: str
    allowed: bool
    authority: str
    bars: list[str]
    outside: list[str]
    gravity: int
    pilot: str | None


class DecisionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    crime_id: int = Field(ge=1, le=MAX_ID)
    tier: str = Field(max_length=32)
    policy: str | None = Field(None, max_length=24)
    admission: bool
    consent: bool
    victim_views: Text | None = Field(None, max_length=MAX_TEXT)
    factors: list[str] = Field([], max_length=20)
    rationale: Text = Field(max_length=MAX_TEXT)
    custody_expected: bool = False
    intervention_available: bool = False
    dpp_consent: bool = False


class ChangeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: str = Field(max_length=16)
    version: int | None = Field(None, ge=1)
    rank: str | None = Field(None, max_length=12)
    reason: Text | None = Field(None, max_length=MAX_TEXT)


class ConditionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=16)
    description: Text = Field(max_length=MAX_TEXT)
    due_on: dt.date | None = None
    provider: str | None = Field(None, max_length=40)
    pathway: str | None = Field(None, max_length=40)


class ConditionDoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    complied: bool


class CrimeChoice(BaseModel):
    """One of the person's crimes, as the decision form offers it."""

    id: int
    committed_on: dt.date
    offence: str
    mode_of_trial: str
    gravity: int
    domestic_abuse: bool
    hate: bool
    #: The disposal it already has (not withdrawn), if any.
    disposal_id: int | None


class DiversionPart(BaseModel):
    """The person's disposals, and the crimes a decision can be about: the Diversion tab."""

    as_of: dt.date
    disposals: list[DisposalOut]
    crimes: list[CrimeChoice] = []


DiversionPartOrNone = DiversionPart | None


class VolumeRow(BaseModel):
    fy: int
    label: str
    counts: dict[str, int]
    total: int
    published: dict[str, int] | None
    published_total: int | None


class Volumes(BaseModel):
    rows: list[VolumeRow]
    labels: dict[str, str]
    statements: list[str]


class SampleItem(BaseModel):
    disposal_id: int
    person_id: int
    pseudo_id: str
    offence: str
    tier: str
    issued_on: dt.date
    verdict: str | None
    comment: str | None
    action: str | None


class Sample(BaseModel):
    id: int | None
    category: str
    category_name: str
    month: str
    seed: int
    requested: int
    window_start: dt.date
    window_end: dt.date
    #: Disposals in the category and window: what the sample was drawn from.
    population: int
    #: Sampled per month of the window (stratified in proportion).
    by_month: dict[str, int]
    items: list[SampleItem]


class VerdictIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    disposal_id: int = Field(ge=1, le=MAX_ID)
    verdict: str = Field(max_length=32)
    comment: Text | None = Field(None, max_length=MAX_TEXT)
    action: Text | None = Field(None, max_length=MAX_TEXT)


class ReportRow(BaseModel):
    sample_id: int
    month: str
    category: str
    category_name: str
    reviewed: int
    appropriate: int
    share: float | None
    low: float | None
    high: float | None
    actions: list[str]


class ScrutinyReport(BaseModel):
    rows: list[ReportRow]
    method: str
