"""What the course pages and commands read: counts only (no person is named), each read logged."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access
from iom.courses import flows, schemas, service
from iom.errors import FieldError
from iom.referrals import service as referrals

READ = "read_people"


#: Days the aggregates are read for (a day outside is refused in words, not a server error).
FIRST_DAY, LAST_DAY = dt.date(1900, 1, 1), dt.date(2100, 12, 31)


def _day(value: dt.date | None, field: str, what: str) -> dt.date | None:
    if value is not None and not FIRST_DAY <= value <= LAST_DAY:
        raise FieldError(f"{what} is a day from {FIRST_DAY} to {LAST_DAY}, not {value}", field=field)
    return value


def completion(access: Access, *, start: dt.date | None = None, end: dt.date | None = None, course: str | None = None,
               by: str = "course") -> schemas.Completion:
    """Table C from the register."""
    access.require(READ, "this role cannot read course completion")
    found = service.completion(access.session, start=_day(start, "start", "the period's start"),
                               end=_day(end, "end", "the period's end"), course=course, by=by)
    access.log("read", "course_completion", start=start and start.isoformat(), end=end and end.isoformat(),
               course=course, by=by)
    return found


def places(access: Access, *, as_of: dt.date | None = None) -> list[schemas.PlacesLine]:
    """Places and waiting per course on a day (default: the access's)."""
    access.require(READ, "this role cannot read course places")
    day = _day(as_of, "as_of", "the day") or access.as_of
    found = service.places(access.session, as_of=day)
    access.log("read", "course_places", as_of=day.isoformat())
    return found


def course_referral(access: Access, referral_id: int) -> schemas.CourseReferralOut:
    """Which course a referral is to (a read of the person's record: scoped and audited)."""
    person_id = referrals.get_referral(access.session, referral_id).person_id
    access.read_subject(person_id, resource="course_referral", referral=referral_id)
    return flows.referral_out(access, service.course_referral(access.session, referral_id))


def trial_check(access: Access, *, course: str) -> schemas.TrialCheck:
    """A trial's allocation log verified: every link and every arm replayed from its seed."""
    access.require(READ, "this role cannot read trial logs")
    trial, _ = service.trial_of(service.catalogue().get(course))
    found = service.verify_trial(service.trial_log(access.session, trial))
    access.log("read", "trial_allocations", trial=trial, entries=found.entries)
    return found
