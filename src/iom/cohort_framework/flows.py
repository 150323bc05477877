"""The cohort framework's state changes: allocating a managed person to an officer. Scope,
then the checks, then the audit row, then the write, which the caller commits."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access
from iom.cohort_framework import schemas, service


def allocate(access: Access, *, person_id: int, officer: str | None = None, reason: str | None = None,
             on: dt.date | None = None) -> schemas.AllocationOut:
    """To the named officer, or the one in the person's LOMU with most room; over capacity
    only with a supervisor's reason (kept with the allocation)."""
    access.require("manage_cohort", "only a supervisor can allocate a case to an officer")
    person = access.subject(person_id, attempt="allocate")
    day = on or access.as_of
    checked = service.check_allocation(session=access.session, person_id=person.id, on=day, officer=officer,
                                       reason=reason)
    return access.write(person.id, resource="allocation", officer=checked["officer"], points=checked["points"],
                        load_before=checked["load_before"], capacity=checked["capacity"],
                        over_capacity=checked["over_capacity_reason"] is not None, on=day.isoformat(),
                        apply=lambda p: service.allocate(session=access.session, person_id=p.id, on=day,
                                                         checked=checked, by=access.user.username))
