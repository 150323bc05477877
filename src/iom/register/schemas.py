"""Shapes at the edges of the register: summaries out, CSV rows in."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel


class Summary(BaseModel):
    as_of: dt.date
    people: int
    crimes: int
    current_members: int
    classifications: dict[str, int]
    members_by_npu: dict[str, int]
    risk: dict[str, int]
