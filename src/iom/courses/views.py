"""What the course pages and commands read: counts only (no person is named), each read logged."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access
from iom.courses import schemas, service

READ = "read_people"


def completion(access: Access, *, start: dt.date | None = None, end: dt.date | None = None, course: str | None = None,
               by: str = "course") -> schemas.Completion:
    """Table C from the register."""
    access.require(READ, "this role cannot read course completion")
    found = service.completion(access.session, start=start, end=end, course=course, by=by)
    access.log("read", "course_completion", start=str(start) if start else None, end=str(end) if end else None,
               course=course, by=by)
    return found


def places(access: Access) -> list[schemas.PlacesLine]:
    access.require(READ, "this role cannot read course places")
    found = service.places(access.session, as_of=access.as_of)
    access.log("read", "course_places")
    return found


def trial_check(access: Access, *, course: str) -> schemas.TrialCheck:
    """A trial's allocation log verified: every link and every arm replayed from its seed."""
    access.require(READ, "this role cannot read trial logs")
    trial, _ = service.trial_of(service.catalogue().get(course))
    found = service.verify_trial(service.trial_log(access.session, trial))
    access.log("read", "trial_allocations", trial=trial, entries=found.entries)
    return found
