"""Overrides: the records and their checks. Their state changes run through ``flows``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.errors import NotFound, UserError
from iom.register.models import Person
from iom.register.service import reference_date
from iom.scoring.common import now
from iom.scoring.config import ScoringConfig
from iom.scoring.models import Override


def check_override(*, include: bool, reason: str, until: dt.date | None, valid_from: dt.date) -> None:
    """What an override needs before anything is recorded of it: a reason, and an end date on
    or after the day it starts."""
    if not reason or not reason.strip():
        raise UserError("an override needs a reason: say why this person should be "
                        + ("included" if include else "excluded"))
    if until is None or until < valid_from:
        raise UserError(f"the override must run until a date on or after {valid_from}, not {until}")


def create_override(
    session: Session, *, person_id: int, include: bool, reason: str, until: dt.date, user: str,
    valid_from: dt.date | None = None,
) -> Override:
    """Record professional judgement; refused without a reason, a user or a future end date."""
    if not user or not user.strip():
        raise UserError("an override needs the name of the user making it")
    if session.get(Person, person_id) is None:
        raise NotFound(f"no person with id {person_id}")
    valid_from = valid_from or reference_date(session)
    check_override(include=include, reason=reason, until=until, valid_from=valid_from)
    row = Override(person_id=person_id, include=include, reason=reason.strip(), created_by=user.strip(),
                   created_at=now(), valid_from=valid_from, until=until)
    session.add(row)
    session.flush()
    return row


def get_override(session: Session, override_id: int) -> Override:
    row = session.get(Override, override_id)
    if row is None:
        raise NotFound(f"no override #{override_id}")
    return row


def check_approval(row: Override, *, approver: str) -> None:
    """Why ``approver`` may not approve ``row``, if they may not: before anything is recorded."""
    if not approver or not approver.strip():
        raise UserError("approving an override needs the approver's name")
    if approver.strip() == row.created_by:
        raise UserError(f"override #{row.id} was made by {row.created_by}; someone else must approve it")
    if row.approved_at is not None:
        raise UserError(f"override #{row.id} was already approved by {row.approved_by}")


def approve_override(session: Session, *, override_id: int, approver: str) -> Override:
    row = get_override(session, override_id)
    check_approval(row, approver=approver)
    row.approved_by, row.approved_at = approver.strip(), now()
    session.flush()
    return row


def revoke_override(session: Session, *, override_id: int, user: str) -> Override:
    row = get_override(session, override_id)
    if row.revoked_at is None:
        row.revoked_by, row.revoked_at = user, now()
        session.flush()
    return row


def list_overrides(session: Session, *, npu_code: str | None = None) -> list[Override]:
    query = select(Override).order_by(Override.created_at.desc(), Override.id.desc())
    if npu_code is not None:
        query = query.join(Person, Person.id == Override.person_id).where(Person.home_npu == npu_code)
    return list(session.scalars(query))


def active_overrides(session: Session, as_of: dt.date, config: ScoringConfig, person_ids=None) -> dict[int, Override]:
    """The override in force for each person on ``as_of`` (the latest made wins)."""
    query = select(Override).where(Override.valid_from <= as_of, Override.until >= as_of, Override.revoked_at.is_(None))
    if config.selection.overrides_need_approval:
        query = query.where(Override.approved_at.is_not(None))
    if person_ids is not None:
        query = query.where(Override.person_id.in_(list(person_ids)))
    active: dict[int, Override] = {}
    for row in session.scalars(query.order_by(Override.created_at, Override.id)):
        active[row.person_id] = row
    return active
