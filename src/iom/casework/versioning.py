"""Optimistic concurrency for edited casework records (plan actions, referrals): every write
names the version it was based on; a stale one is refused with the current version shown,
and every version written is kept as a ``Revision``."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.casework.models import Revision
from iom.errors import Conflict


class StaleWrite(Conflict):
    """The record changed since the writer read it: the API answers 409 with both versions,
    a page shows the form again beside the other person's change."""

    def __init__(self, kind: str, record_id: int, *, expected: int, current: int, current_data: dict[str, Any],
                 by: str | None) -> None:
        who = f" by {by}" if by else ""
        super().__init__(f"this {kind} was changed{who} since you opened it (you had version {expected}, it is now "
                         f"version {current}): check their change, then make yours again",
                         current=jsonable({"version": current, "changed_by": by, **current_data}))
        self.kind, self.record_id, self.expected, self.current_version, self.by = kind, record_id, expected, current, by


def check_version(kind: str, record_id: int, *, expected: int | None, current: int, current_data: dict[str, Any],
                  by: str | None) -> None:
    """Refuse a write based on an older version (``expected`` None: the writer did not say,
    which only the console may do)."""
    if expected is not None and expected != current:
        raise StaleWrite(kind, record_id, expected=expected, current=current, current_data=current_data, by=by)


def jsonable(data: dict[str, Any]) -> dict[str, Any]:
    """Dates as ISO text: what a revision and a 409 body store."""
    return {k: v.isoformat() if isinstance(v, dt.date) else v for k, v in data.items()}


def keep_revision(*, session: Session, kind: str, record_id: int, version: int, person_id: int,
                  data: dict[str, Any], by: str) -> None:
    """Store the version just written (dates as ISO text)."""
    session.add(Revision(record_kind=kind, record_id=record_id, version=version, person_id=person_id,
                         data=jsonable(data),
                         written_by=by, written_at=dt.datetime.now(dt.UTC)))


def revisions(*, session: Session, kind: str, record_id: int) -> list[Revision]:
    """Every stored version of one record, oldest first."""
    return list(session.scalars(select(Revision).where(Revision.record_kind == kind, Revision.record_id == record_id)
                                .order_by(Revision.version)))
