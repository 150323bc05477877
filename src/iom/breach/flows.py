"""Breach changes state here, and only here: a breach recorded, its outcome recorded. Scope,
then the checks, then the audit row, then the write, which the caller commits."""

from __future__ import annotations

from iom.breach import schemas, service
from iom.casefile.access import Access
from iom.errors import Conflict

WRITE = "write_casework"


def record_breach(access: Access, *, person_id: int, body: schemas.BreachIn) -> schemas.BreachOut:
    access.require(WRITE, "this role cannot record a breach")
    person = access.subject(person_id, attempt="breach")
    service.check_breach(body=body, as_of=access.as_of)
    return access.write(person.id, resource="breach", kind=body.kind, nature=body.nature, breach_action=body.action,
                        on=body.breached_on.isoformat(),
                        apply=lambda p: service.add_breach(session=access.session, person_id=p.id, body=body,
                                                           by=access.user.username))


def record_outcome(access: Access, *, person_id: int, breach_id: int, body: schemas.OutcomeIn) -> schemas.BreachOut:
    """A stale version is refused before the audit row (409); a lost race after it is logged denied."""
    access.require(WRITE, "this role cannot record a breach's outcome")
    person = access.subject(person_id, attempt="breach outcome")
    row = service.check_outcome(session=access.session, person_id=person.id, breach_id=breach_id, body=body,
                                as_of=access.as_of)

    def apply(_person) -> schemas.BreachOut:
        try:
            return service.record_outcome(session=access.session, row=row, body=body)
        except Conflict:
            access.log("denied", "breach", person_id=person.id, why="decided by someone else first", breach_id=breach_id)
            raise

    return access.write(person.id, resource="breach", breach_id=breach_id, outcome=body.outcome,
                        on=body.outcome_on.isoformat(), apply=apply)
