"""The case file's shapes. Names and dates of birth are None for pseudonymised readers."""

from __future__ import annotations

import datetime as dt
from functools import cache
from typing import Any, Literal

from pydantic import BaseModel, create_model

from iom.plugins import record_parts, resolve


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
    #: The next review's date has passed.
    overdue: bool = False
    flags: list[str]


class AttentionItem(BaseModel):
    """One kind of thing that needs attention, with how many and where to find them."""

    key: str
    label: str
    count: int
    href: str
    severity: Literal["overdue", "info"] = "info"


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


class PersonRecord(BaseModel):
    """The register's part of a person's record; domains add fields (``RecordPart``)."""

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
    #: One page of the timeline, newest first (``timeline_total`` events in all).
    timeline: list[TimelineEvent]
    timeline_total: int = 0
    timeline_page: int = 1
    timeline_per_page: int = 25
    risk_history: list[TimelineEvent]
    as_of: dt.date


@cache
def person_detail_model() -> type[PersonRecord]:
    """``PersonRecord`` with every domain's record parts as typed fields: the API's schema."""
    fields: dict[str, Any] = {part.name: (resolve(part.schema), part.default) for part in record_parts()}
    return create_model("PersonDetail", __base__=PersonRecord, **fields)


class Dashboard(BaseModel):
    as_of: dt.date
    unit: str
    cohort_sizes: dict[str, int]
    risk_split: dict[str, int]
    reoffending_trend: list[tuple[str, int]]
