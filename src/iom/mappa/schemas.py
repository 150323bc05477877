"""MAPPA at the edges: records, panels, a person's MAPPA part and the due list."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from iom.http.schemas import MAX_ID, Text

MAX_REASON = 2000
#: What each category and level means (domain.md; MAPPA guidance).
CATEGORY_NAMES = {1: "registered sexual offender", 2: "violent offender", 3: "other dangerous offender",
                  4: "terrorism risk"}
LEVEL_NAMES = {1: "ordinary agency management", 2: "multi-agency management (panels)",
               3: "multi-agency management with senior involvement (panels)"}


def category_label(category: int) -> str:
    """``mappa_category`` template filter: "1: registered sexual offender"."""
    return f"{category}: {CATEGORY_NAMES.get(category, 'unknown')}"


def level_label(level: int) -> str:
    """``mappa_level`` template filter: "2: multi-agency management (panels)"."""
    return f"{level}: {LEVEL_NAMES.get(level, 'unknown')}"


class MappaRecordOut(BaseModel):
    """One row of a person's MAPPA history: in force from ``effective_from`` until the next
    row, or until ``ended_on`` (MAPPA management ended)."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    category: int
    level: int
    effective_from: dt.date
    ended_on: dt.date | None
    chairing_agency: str | None
    visor_id: str | None
    partnering_officer: str | None
    reason: str | None
    recorded_by: str


class PanelOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    held_on: dt.date
    level: int
    chair: str | None
    outcome: str | None
    recorded_by: str


class NextPanel(BaseModel):
    """When the current level-2 or level-3 case's next panel is due, and how it stands."""

    level: int
    interval_days: int
    level_since: dt.date
    last_panel: dt.date | None
    due_on: dt.date
    state: Literal["overdue", "due soon", "scheduled"]
    days_overdue: int


class MappaPart(BaseModel):
    """The person record's ``mappa`` part (specialists only): the record in force, the whole
    history newest first, the panels newest first and the next panel."""

    as_of: dt.date
    current: MappaRecordOut | None
    history: list[MappaRecordOut]
    panels: list[PanelOut]
    next_panel: NextPanel | None
    chairing_agencies: list[str]


class DueRow(BaseModel):
    person_id: int
    pseudo_id: str
    name: str | None
    category: int
    level: int
    lomu_code: str | None
    chairing_agency: str | None
    partnering_officer: str | None
    level_since: dt.date
    last_panel: dt.date | None
    due_on: dt.date
    state: Literal["overdue", "due soon"]
    days_overdue: int


class LevelCounts(BaseModel):
    due: int = 0
    overdue: int = 0


class DueList(BaseModel):
    """Level-2 and level-3 cases whose panel is overdue or due within ``due_soon_days`` on
    ``as_of``, most overdue first."""

    as_of: dt.date
    rules_version: str
    due_soon_days: int
    #: Days between panels at each level (the rules').
    interval_days: dict[int, int]
    lomu: str | None
    level: int | None
    due: int
    overdue: int
    by_level: dict[int, LevelCounts]
    rows: list[DueRow]

    def summary(self) -> str:
        """One line for ``make run`` and ``iom mappa due --summary``."""
        parts = "; ".join(f"level {level}: {c.due} due, {c.overdue} overdue" for level, c in sorted(self.by_level.items()))
        return f"MAPPA panels: {self.due} due, {self.overdue} overdue ({parts})"


class RecordIn(BaseModel):
    """A new MAPPA record (a change of category, level, chair, ViSOR reference or partner).
    Fields left out carry over from the record in force where they still apply."""

    category: int = Field(ge=1, le=4)
    level: int = Field(ge=1, le=3)
    reason: Text = Field(min_length=1, max_length=MAX_REASON)
    chairing_agency: Text | None = Field(None, max_length=40)
    visor_id: Text | None = Field(None, max_length=24)
    partnering_officer: Text | None = Field(None, max_length=80)
    effective_from: dt.date | None = Field(None, description="Default: the app's date")
    #: The id of the newest record the writer saw (0: none): a write based on an older one is refused (409).
    based_on: int | None = Field(None, ge=0, le=MAX_ID)


class PanelIn(BaseModel):
    held_on: dt.date
    chair: Text | None = Field(None, max_length=80)
    outcome: Text | None = Field(None, max_length=MAX_REASON)


class EndIn(BaseModel):
    ended_on: dt.date
    reason: Text = Field(min_length=1, max_length=MAX_REASON)


#: The record's ``mappa`` field: None for readers who may not see restricted fields.
MappaPartOrNone = MappaPart | None
