"""Breach records: checks, the write, the outcome (a conditional update on the version), the
person's history and the central team's queue of open breaches. Nothing here commits."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from iom.breach import schemas
from iom.breach.models import CUSTODY_OUTCOMES, Breach
from iom.cohorts.models import ManagementRecord
from iom.errors import Conflict, FieldError, NotFound
from iom.register.models import Person, Unit
from iom.security import scope
from iom.security.roles import Principal


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def check_breach(*, body: schemas.BreachIn, as_of: dt.date) -> None:
    if body.breached_on > as_of:
        raise FieldError(f"a breach cannot be dated after {as_of:%d %B %Y}", field="breach-on")


def add_breach(*, session: Session, person_id: int, body: schemas.BreachIn, by: str) -> schemas.BreachOut:
    row = Breach(person_id=person_id, kind=body.kind, order_name=body.order_name.strip(), breached_on=body.breached_on,
                 nature=body.nature, action=body.action, details=(body.details or "").strip() or None,
                 recorded_by=by, recorded_at=_now(), version=1)
    session.add(row)
    session.flush()
    return schemas.BreachOut.model_validate(row)


def get_breach(*, session: Session, person_id: int, breach_id: int) -> Breach:
    row = session.get(Breach, breach_id)
    if row is None or row.person_id != person_id:
        raise NotFound("no such breach on this person's record")
    return row


def check_outcome(*, session: Session, person_id: int, breach_id: int, body: schemas.OutcomeIn,
                  as_of: dt.date) -> Breach:
    row = get_breach(session=session, person_id=person_id, breach_id=breach_id)
    if row.outcome is not None:
        raise Conflict(f"this breach's outcome is already recorded ({row.outcome}, {row.outcome_on:%d %B %Y})")
    if row.version != body.version:
        raise Conflict("someone else has changed this breach since you read it: reload and try again")
    if body.outcome_on > as_of:
        raise FieldError(f"an outcome cannot be dated after {as_of:%d %B %Y}", field="outcome-on")
    if body.outcome_on < row.breached_on:
        raise FieldError("an outcome cannot be dated before the breach", field="outcome-on")
    if body.outcome in CUSTODY_OUTCOMES:
        if body.custody_until is None:
            raise FieldError("give the expected release date for a custody outcome", field="custody-until")
        if body.custody_until < body.outcome_on:
            raise FieldError("the expected release cannot be before the outcome", field="custody-until")
    elif body.custody_until is not None:
        raise FieldError("an expected release date is only for a custody outcome", field="custody-until")
    return row


def record_outcome(*, session: Session, row: Breach, body: schemas.OutcomeIn) -> schemas.BreachOut:
    """Conditional on the version read, so of two people recording at once one is told (409)."""
    done = session.execute(
        update(Breach).where(Breach.id == row.id, Breach.version == body.version, Breach.outcome.is_(None))
        .values(outcome=body.outcome, outcome_on=body.outcome_on, custody_until=body.custody_until,
                version=Breach.version + 1).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("someone else has just recorded this breach's outcome")
    session.refresh(row)
    return schemas.BreachOut.model_validate(row)


def history(*, session: Session, person_id: int, as_of: dt.date) -> list[schemas.BreachOut]:
    rows = session.scalars(select(Breach).where(Breach.person_id == person_id, Breach.breached_on <= as_of)
                           .order_by(Breach.breached_on.desc(), Breach.id.desc()))
    return [schemas.BreachOut.model_validate(r) for r in rows]


def queue(*, session: Session, user: Principal, as_of: dt.date, lomu: str | None = None) -> schemas.Queue:
    """Open breaches (no outcome yet) in the reader's scope, oldest first."""
    if lomu:
        unit = session.get(Unit, lomu.strip().upper())
        if unit is None or unit.kind != "lomu":
            raise FieldError(f"no LOMU {lomu!r}", field="lomu")
        lomu = unit.code
    managed = scope.latest(ManagementRecord, as_of, ManagementRecord.lomu_code).subquery()
    query = (select(Breach, Person.pseudo_id, Person.given_name, Person.family_name, managed.c.lomu_code)
             .join(Person, Person.id == Breach.person_id)
             .outerjoin(managed, managed.c.person_id == Breach.person_id)
             .where(Breach.outcome.is_(None), Breach.breached_on <= as_of, scope.in_scope(user, as_of, managed))
             .order_by(Breach.breached_on, Breach.id))
    if lomu:
        query = query.where(managed.c.lomu_code == lomu)
    rows = [schemas.QueueRow(breach=schemas.BreachOut.model_validate(b), pseudo_id=pseudo,
                             name=None if user.pseudonymised else f"{given} {family}", lomu_code=code,
                             days_open=(as_of - b.breached_on).days)
            for b, pseudo, given, family, code in session.execute(query)]
    return schemas.Queue(as_of=as_of, lomu=lomu, rows=rows)
