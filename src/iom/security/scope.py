"""Access scoping, in one place: every read or write of a person goes through here.

Scope rule (documented in docs/web.md):
- offender managers and supervisors: people whose current management record (as of the
  app's reference date) names their LOMU, or whose home NPU belongs to their LOMU;
- analysts and MAPPA specialists: every unit (analysts see pseudonymised records only);
- administrators: no person records at all (they manage users and the audit log).
Anything outside scope raises ``NotFound``, indistinguishable from a missing record."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, Select, and_, exists, false, or_, select, true
from sqlalchemy.orm import Session, aliased

from iom.cohorts.models import ManagementRecord
from iom.errors import NotFound
from iom.plugins import contributions, resolve
from iom.register.models import Person, Unit
from iom.security.roles import Principal

#: Cohorts whose membership is itself restricted: their code is hidden from non-specialists.
RESTRICTED_CLASSIFICATIONS = ("MAPPA",)
RESTRICTED_OFFENDER_TYPES = ("Sex Offender Management",)


def latest(model, as_of: dt.date, *columns) -> Select:
    """Per person, the newest row of an append-only history on ``as_of`` (NOT EXISTS a newer
    one: uses the (person_id, effective_from) index, unlike a window over the whole table)."""
    newer = aliased(model)
    return select(model.person_id, *columns).where(
        model.effective_from <= as_of,
        ~exists().where(
            newer.person_id == model.person_id,
            newer.effective_from <= as_of,
            or_(newer.effective_from > model.effective_from,
                and_(newer.effective_from == model.effective_from, newer.id > model.id)),
        ),
    )


def latest_for(session: Session, model, person_id: int, as_of: dt.date):
    """One person's newest history row on ``as_of``, or None."""
    return session.scalar(
        select(model).where(model.person_id == person_id, model.effective_from <= as_of)
        .order_by(model.effective_from.desc(), model.id.desc()).limit(1)
    )


def in_scope(user: Principal, as_of: dt.date, managed=None) -> ColumnElement[bool]:
    """A condition on ``Person`` that is true for people this user may see.

    ``managed``: a ``latest(ManagementRecord, as_of, lomu_code)`` subquery the caller already
    joins (outer, on person_id), to reuse instead of computing it twice."""
    if not user.can("read_people"):
        return false()
    if user.scope == "force":
        return true()
    if not is_lomu_scoped(user):
        return false()
    home_npus = select(Unit.code).where(Unit.kind == "npu", Unit.parent_code == user.lomu_code)
    if managed is not None:
        return or_(managed.c.lomu_code == user.lomu_code, Person.home_npu.in_(home_npus))
    managed = latest(ManagementRecord, as_of, ManagementRecord.lomu_code).subquery()
    managed_here = select(managed.c.person_id).where(managed.c.lomu_code == user.lomu_code)
    return or_(Person.id.in_(managed_here), Person.home_npu.in_(home_npus))


def people_query(user: Principal, as_of: dt.date) -> Select:
    """``select(Person)`` limited to the user's scope: the base of every person listing."""
    return select(Person).where(in_scope(user, as_of))


def allows(session: Session, user: Principal, person: Person, as_of: dt.date) -> bool:
    """``in_scope`` for one person, by indexed look-ups (the person page's hot path).
    tests/web checks that both give the same answer."""
    if not user.can("read_people"):
        return False
    if user.scope == "force":
        return True
    if not is_lomu_scoped(user):
        return False
    if person.home_npu is not None:
        home = session.get(Unit, person.home_npu)
        if home is not None and home.kind == "npu" and home.parent_code == user.lomu_code:
            return True
    record = latest_for(session, ManagementRecord, person.id, as_of)
    return record is not None and record.lomu_code == user.lomu_code


def get_person(session: Session, user: Principal, person_id: int, as_of: dt.date) -> Person:
    """The person, if this user may see them; otherwise NotFound (never a 403: no oracle)."""
    person = session.get(Person, person_id)
    if person is None or not allows(session, user, person, as_of):
        raise NotFound(f"no person {person_id}")
    return person


def restricted_among(session: Session, person_ids, as_of: dt.date) -> set[int]:
    """Which of ``person_ids`` have restricted fields (offences, cohort, reasons: they need a
    specialist) on ``as_of``: the sex-offender-managed, and those a domain's records restrict
    (``Domain.restricted_people``: a current MAPPA record), not a cohort code."""
    ids = sorted({int(i) for i in person_ids})
    if not ids:
        return set()
    by_domains = {pid for source in contributions("restricted_people") for pid in resolve(source)(session, ids, as_of)}
    managed = latest(ManagementRecord, as_of, ManagementRecord.offender_type).subquery()
    sex_offender = set(session.scalars(
        select(managed.c.person_id)
        .where(managed.c.person_id.in_(ids), managed.c.offender_type.in_(RESTRICTED_OFFENDER_TYPES))
    ))
    return by_domains | sex_offender


def is_restricted(session: Session, person_id: int, as_of: dt.date) -> bool:
    return person_id in restricted_among(session, [person_id], as_of)


def view_key(user: Principal) -> tuple[str, str | None]:
    """Two users with the same key see the same people and the same fields of them: scope,
    pseudonymisation and restricted fields all follow from the role and the LOMU."""
    return user.role, user.lomu_code if user.scope == "lomu" else None


def shows_restricted(user: Principal) -> bool:
    return user.can("read_restricted")


def is_lomu_scoped(user: Principal) -> bool:
    """A user whose scope is one LOMU, and who names it."""
    return user.scope == "lomu" and bool(user.lomu_code)


def npus_in_scope(session: Session, user: Principal) -> list[str]:
    """NPUs whose lists the user may review: their LOMU's, or all for force-wide roles."""
    query = select(Unit.code).where(Unit.kind == "npu").order_by(Unit.code)
    if user.scope == "lomu":
        query = query.where(Unit.parent_code == user.lomu_code)
    elif not user.can("read_people"):
        return []
    return list(session.scalars(query))
