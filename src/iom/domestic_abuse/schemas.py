"""Domestic abuse at the edges: the monthly list, DASH, MARAC, SARA v3 and SAM, programme
eligibility, the pilot cohort and a person's DA part (the record's tab)."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from iom.http.schemas import MAX_ID, Text

MAX_REASON = 2000
SECTIONS = ("serial", "repeat", "repeat_victims", "stalking")
Answer = Literal["yes", "no", "not_known"]


class RfgvPart(BaseModel):
    """One part of a person's RFGV score, in words."""

    part: Literal["recency", "frequency", "gravity", "victims"]
    points: int
    words: str


class ListRow(BaseModel):
    person_id: int
    pseudo_id: str
    name: str | None
    age: int | None
    home_npu: str | None
    incidents: int
    #: Distinct other parties: victims for a perpetrator, perpetrators for a victim.
    others: int
    other_pseudo_ids: list[str]
    first_on: dt.date
    latest_on: dt.date
    gravest_gravity: int
    gravest_offence: str
    score: int
    parts: list[RfgvPart]
    at_marac: bool
    last_marac_on: dt.date | None
    managed: bool
    #: Other sections of this month's list the person is also in.
    also_in: list[str] = []
    #: For a victim already referred: a further incident within the repeat window of the last referral.
    repeat_marac: bool = False


class ListSection(BaseModel):
    code: str
    label: str
    description: str
    count: int
    not_at_marac: int
    rows: list[ListRow]


class MonthlyList(BaseModel):
    month: str
    #: The list is made on the month's first day, over the window before it.
    produced_on: dt.date
    window_start: dt.date
    window_end: dt.date
    date_field: str
    rules_version: str
    sections: list[ListSection]
    #: People on the list (any section) not at MARAC: the threat list.
    not_at_marac: int

    def section(self, code: str) -> ListSection:
        return next(s for s in self.sections if s.code == code)

    def counts(self) -> dict[str, int]:
        return {s.code: s.count for s in self.sections}

    def summary(self) -> str:
        parts = ", ".join(f"{s.count:,} {s.label[0].lower()}{s.label[1:]}" for s in self.sections)
        return (f"DA list {self.month} ({self.window_start} to {self.window_end}): {parts}; "
                f"{self.not_at_marac:,} not at MARAC")


# --- DASH --------------------------------------------------------------------------------------------

class DashIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    victim_id: int = Field(ge=1, le=MAX_ID)
    perpetrator_id: int | None = Field(None, ge=1, le=MAX_ID)
    assessed_on: dt.date | None = None
    relationship: str = Field(max_length=24)
    answers: dict[str, Answer]
    judgement_band: str | None = Field(None, max_length=16)
    judgement_reason: Text | None = Field(None, max_length=MAX_REASON)


class DashOut(BaseModel):
    id: int
    victim_pseudo_id: str
    perpetrator_pseudo_id: str | None
    assessed_on: dt.date
    relationship: str
    answers: dict[str, str]
    yes_count: int
    band_by_count: str
    judgement_band: str | None
    #: Withheld from pseudonymised readers.
    judgement_reason: str | None
    band: str
    marac_eligible: bool
    rules_version: str
    recorded_by: str


# --- MARAC --------------------------------------------------------------------------------------------

class MaracIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    victim_id: int = Field(ge=1, le=MAX_ID)
    perpetrator_id: int | None = Field(None, ge=1, le=MAX_ID)
    referred_on: dt.date | None = None
    referring_agency: str = Field(max_length=80)
    judgement_reason: Text | None = Field(None, max_length=MAX_REASON)
    dash_id: int | None = Field(None, ge=1, le=MAX_ID)


class MaracOut(BaseModel):
    id: int
    victim_pseudo_id: str
    perpetrator_pseudo_id: str | None
    referred_on: dt.date
    referring_agency: str
    criteria: list[str]
    criteria_words: list[str]
    judgement_reason: str | None
    dash_id: int | None
    repeat: bool
    rules_version: str
    recorded_by: str


class MaracCheck(BaseModel):
    """Which MARAC criteria a victim's case meets on a day, before a referral is made."""

    victim_pseudo_id: str
    on: dt.date
    criteria: list[str]
    criteria_words: list[str]
    incidents_in_escalation_window: int
    latest_dash_yes: int | None
    last_referral_on: dt.date | None
    repeat: bool


# --- SARA v3 and SAM ------------------------------------------------------------------------------------

class Rating(BaseModel):
    model_config = ConfigDict(extra="forbid")

    past: str | None = Field(None, max_length=4)
    recent: str | None = Field(None, max_length=4)
    relevance: str | None = Field(None, max_length=12)


class SpjIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    instrument: str = Field(max_length=16)
    victim_id: int | None = Field(None, ge=1, le=MAX_ID)
    assessed_on: dt.date | None = None
    ratings: dict[str, Rating] = {}
    judgements: dict[str, str] = {}
    scenarios: list[Text] = Field([], max_length=20)
    plan: dict[str, Text] = {}
    finalise: bool = False


class SpjUpdate(SpjIn):
    instrument: str | None = Field(None, max_length=16)
    version: int = Field(ge=1)


class SpjOut(BaseModel):
    id: int
    instrument: str
    instrument_version: str
    victim_pseudo_id: str | None
    assessed_on: dt.date
    status: str
    ratings: dict[str, Rating]
    judgements: dict[str, str]
    #: Withheld (empty) from pseudonymised readers.
    scenarios: list[str]
    plan: dict[str, str]
    #: What is still needed before the record can be finalised.
    missing: list[str]
    version: int
    recorded_by: str
    finalised_by: str | None


# --- programmes, the pilot cohort, the record's part ------------------------------------------------------

class Eligibility(BaseModel):
    programme: str
    name: str
    eligible: bool
    reasons: list[str]
    risk_band: str | None
    #: The domain its referrals are made through when not this one (CARA: ``courses``).
    referred_through: str | None = None


class ProgrammeReferralIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    programme: str = Field(max_length=24)
    reason: Text = Field(min_length=1, max_length=MAX_REASON)


class PilotCohort(BaseModel):
    id: int | None
    month: str
    window_start: dt.date
    window_end: dt.date
    rules_version: str
    size: int
    person_ids: list[int]
    pseudo_ids: list[str]
    made_by: str | None = None
    made_at: dt.datetime | None = None


class Party(BaseModel):
    """Someone on the other side of this person's DA incidents (by pseudo id only)."""

    person_id: int
    pseudo_id: str
    incidents: int
    latest_on: dt.date


class DaPart(BaseModel):
    as_of: dt.date
    #: DA incidents in the last 12 months as perpetrator, and as victim.
    incidents_as_perpetrator: int
    incidents_as_victim: int
    victims: list[Party]
    perpetrators: list[Party]
    #: Sections of the as-of month's list the person is in.
    on_list: list[str]
    list_month: str
    dash: list[DashOut]
    marac: list[MaracOut]
    spj: list[SpjOut]
    eligibility: list[Eligibility]


DaPartOrNone = DaPart | None
