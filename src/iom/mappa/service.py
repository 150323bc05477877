"""MAPPA records and panels: read, checked, written. Never commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from iom.mappa.models import MappaRecord
from iom.security.scope import latest


def current_records(as_of: dt.date):
    """Per person, the MAPPA record in force on ``as_of`` (the newest, unless it has ended)."""
    newest = latest(MappaRecord, as_of, MappaRecord.id.label("record_id")).subquery()
    return (select(MappaRecord).join(newest, newest.c.record_id == MappaRecord.id)
            .where(or_(MappaRecord.ended_on.is_(None), MappaRecord.ended_on > as_of)))


def restricted_people(session: Session, person_ids: list[int], as_of: dt.date) -> set[int]:
    """``Domain.restricted_people``: those with a current MAPPA record."""
    current = current_records(as_of).subquery()
    return set(session.scalars(select(current.c.person_id).where(current.c.person_id.in_(person_ids))))
