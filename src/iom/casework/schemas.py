"""Casework at the edges: needs assessments, plan actions, reviews, adoption and exit."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, Field

from iom.http.schemas import Text

NeedLevel = Literal["none", "standard", "severe"]
ActionKind = Literal["control", "change"]
ActionStatus = Literal["open", "in progress", "done", "cancelled"]
RiskLevel = Literal["High", "Medium", "Low"]
ReviewOutcome = Literal["no change", "risk raised", "risk lowered", "exit recommended"]
MAX_NOTES = 2000
MAX_TEXT = 1000


class NeedIn(BaseModel):
    pathway: str = Field(min_length=2, max_length=24)
    level: NeedLevel
    notes: Text | None = Field(default=None, max_length=MAX_NOTES)


class NeedsAssessmentIn(BaseModel):
    ratings: list[NeedIn] = Field(min_length=1, max_length=20)
    assessed_on: dt.date | None = None
    #: The assessment the assessor was looking at (None: there was none). A newer one by
    #: someone else makes this a stale write (409).
    based_on: int | None = None


class Need(BaseModel):
    pathway: str
    name: str
    level: NeedLevel
    notes: str | None


class NeedsAssessment(BaseModel):
    id: int
    assessed_on: dt.date
    assessor: str | None
    pathways_version: str
    ratings: list[Need]


class ActionIn(BaseModel):
    kind: ActionKind
    pathway: str = Field(min_length=2, max_length=24)
    description: Text = Field(min_length=1, max_length=MAX_TEXT)
    due_on: dt.date
    #: Default: the person's officer, else the user.
    owner: Text | None = Field(default=None, max_length=80)


class ActionChange(BaseModel):
    """A change to one action; ``version`` is the one the editor read."""

    version: int = Field(ge=1)
    status: ActionStatus | None = None
    outcome: Text | None = Field(default=None, max_length=MAX_TEXT)
    due_on: dt.date | None = None
    owner: Text | None = Field(default=None, max_length=80)
    description: Text | None = Field(default=None, min_length=1, max_length=MAX_TEXT)


class Action(BaseModel):
    id: int
    person_id: int
    kind: ActionKind
    pathway: str
    pathway_name: str
    description: str | None
    owner: str | None
    due_on: dt.date
    status: ActionStatus
    outcome: str | None
    created_on: dt.date
    version: int
    updated_by: str | None
    overdue: bool


class Plan(BaseModel):
    actions: list[Action]
    #: Sequencing rules the plan breaks (``data/sequencing-v1.toml``), in words.
    warnings: list[str]
    control: int
    change: int


class ReviewIn(BaseModel):
    level: RiskLevel
    outcome: ReviewOutcome | None = None
    reviewed_on: dt.date | None = None
    notes: Text | None = Field(default=None, max_length=MAX_NOTES)


class Review(BaseModel):
    id: int
    reviewed_on: dt.date
    level: RiskLevel
    outcome: ReviewOutcome
    next_due: dt.date
    reviewer: str | None
    notes: str | None


class PathwayChoice(BaseModel):
    code: str
    name: str


class Casework(BaseModel):
    """The record's ``casework`` part. Free text (notes, descriptions, outcomes) and names are
    None for pseudonymised readers."""

    #: The pathways that apply to this person, for the forms.
    pathways: list[PathwayChoice]
    needs: NeedsAssessment | None
    needs_history: list[NeedsAssessment]
    plan: Plan
    reviews: list[Review]
    next_review: dt.date | None


class OverdueAction(BaseModel):
    action: Action
    pseudo_id: str
    name: str | None
    lomu_code: str | None
    days_overdue: int


class MembershipChange(BaseModel):
    person_id: int
    pseudo_id: str
    change: Literal["adopt", "exit"]
    classification: str
    on: dt.date
    reason: str
    done: bool


class MembershipIn(BaseModel):
    change: Literal["adopt", "exit"]
    #: The cohort to adopt into; for an exit, only that cohort (None: every current one).
    cohort: str | None = Field(default=None, max_length=12)
    reason: Text = Field(min_length=1, max_length=MAX_TEXT)
    on: dt.date | None = None
