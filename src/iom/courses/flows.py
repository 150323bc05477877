"""Course referrals, controls and trial allocations change here, each through
``Access.write`` (scope, then the check, then the audit row, then the change). A referral's
later steps (sessions, completion, ending early) are the referral lifecycle's own
(``iom.referrals.flows``); a referral from a disposal also sets the disposal's condition, which
follows the referral when it ends (``iom.diversion.service.follow_referral``)."""

from __future__ import annotations

import datetime as dt
import secrets

from iom.casefile.access import Access
from iom.courses import service
from iom.courses.models import TrialAllocation
from iom.courses.rules import catalogue
from iom.courses.schemas import AllocationOut, CourseReferralOut
from iom.diversion import service as diversion
from iom.errors import FieldError
from iom.referrals import service as referrals

RESOURCE = "course_referral"
PERMISSION = "write_casework"


def referral_out(access: Access, row) -> CourseReferralOut:
    referral = referrals.get_referral(access.session, row.referral_id)
    return CourseReferralOut(referral_id=row.referral_id, course=row.course_code,
                             course_name=catalogue().get(row.course_code).name, route=row.route, crime_id=row.crime_id,
                             condition_id=row.condition_id, format=row.format,
                             interpreter_language=row.interpreter_language, status=referral.status,
                             created_on=referral.created_on, version=referral.version)


def refer(access: Access, *, course: str, person_id: int, route: str, crime_id: int | None = None,
          disposal_id: int | None = None, format: str | None = None, interpreter_language: str | None = None,
          reason: str | None = None) -> CourseReferralOut:
    """A referral to a course, dated on the access's day. From a disposal (``route="oocd"``)
    the index offence is the disposal's and the referral becomes one of its conditions; a
    refusal carries every reason, and an ESOL offer where language is the bar."""
    access.require(PERMISSION, "this role cannot make referrals")
    rules = catalogue()
    chosen = rules.get(course)
    if route not in rules.referral_routes:
        raise FieldError(f"a course referral comes from {', '.join(rules.referral_routes)}, not {route!r}", field="route")
    session = access.session
    condition: dict = {}
    if route == "oocd":
        if disposal_id is None:
            raise FieldError("a referral from an out-of-court disposal names the disposal", field="disposal")
        disposal = diversion.get_disposal(session, disposal_id)
        if disposal.person_id != person_id:
            raise FieldError(f"disposal #{disposal_id} is not this person's", field="disposal")
        crime_id = disposal.crime_id
    elif disposal_id is not None:
        raise FieldError("only a referral from an out-of-court disposal names a disposal", field="disposal")
    if crime_id is None:
        raise FieldError("name the index offence the course answers (its crime id)", field="crime")

    def check() -> None:
        service.check_referral(session, course=chosen, person_id=person_id, crime_id=crime_id, on=access.as_of,
                               interpreter_language=interpreter_language, format=format, rules=rules)
        referrals.check_new_referral(session, person_id=person_id, provider_code=chosen.provider,
                                     pathway=chosen.pathway, reason=reason or chosen.name,
                                     desired_outcomes=["Completes the course"], on=access.as_of, through="courses")
        if route == "oocd":
            condition.update(service.condition_values(session, disposal_id=disposal_id, course=chosen,
                                                      on=access.as_of))

    def apply(_person) -> CourseReferralOut:
        row = service.create_referral(session, course=chosen, person_id=person_id, crime_id=crime_id, route=route,
                                      by=access.user.username, on=access.as_of, rules=rules,
                                      interpreter_language=interpreter_language, format=format, reason=reason)
        if condition:
            service.attach_condition(session, values=condition, referral=row, by=access.user.username)
        return referral_out(access, row)

    return access.write(person_id, resource=RESOURCE, check=check, apply=apply, course=chosen.code, route=route,
                        crime=crime_id, disposal=disposal_id)


def record_control(access: Access, *, course: str, person_id: int, crime_id: int, reason: str,
                   assessed_on: dt.date | None = None) -> int:
    """A person suitable for a course but not referred (the course not yet running, no place):
    the control group of a non-randomised evaluation."""
    access.require(PERMISSION, "this role cannot record course controls")
    chosen = catalogue().get(course)
    on = assessed_on or access.as_of
    found: dict = {}

    def check() -> None:
        found["reason"] = service.check_control(access.session, course=chosen, person_id=person_id, crime_id=crime_id,
                                                assessed_on=on, reason=reason, as_of=access.as_of)

    return access.write(person_id, resource="course_control", check=check, course=chosen.code, crime=crime_id,
                        apply=lambda _p: service.add_control(access.session, course=chosen, person_id=person_id,
                                                             crime_id=crime_id, assessed_on=on,
                                                             reason=found["reason"], by=access.user.username).id)


def allocate(access: Access, *, course: str, person_id: int, crime_id: int, seed: int | None = None,
             interpreter_language: str | None = None, format: str | None = None) -> AllocationOut:
    """One suitable case into a course's trial: the next arm the seed's blocks give, chained to
    the log; a case in the course arm is referred at once. The case must be one the course could
    take, checked before its arm is known, so nobody allocates only the cases they like."""
    access.require(PERMISSION, "this role cannot allocate trial cases")
    rules = catalogue()
    chosen = rules.get(course)
    trial, ratio = service.trial_of(chosen)
    session = access.session
    found: dict = {}

    def check() -> None:
        # Everything the course and its provider ask, before the arm is known: a case the course
        # would refuse is never allocated, to either arm.
        service.check_referral(session, course=chosen, person_id=person_id, crime_id=crime_id, on=access.as_of,
                               interpreter_language=interpreter_language, format=format, rules=rules)
        referrals.check_new_referral(session, person_id=person_id, provider_code=chosen.provider,
                                     pathway=chosen.pathway, reason=chosen.name,
                                     desired_outcomes=["Completes the course"], on=access.as_of, through="courses")
        log = service.trial_log(session, trial)
        if any(row.person_id == person_id for row in log):
            raise FieldError(f"this person is already in trial {trial}: a person is allocated once", field="person")
        if log and seed is not None and seed != log[0].seed:
            raise FieldError(f"trial {trial} runs on the seed it was given with its first case", field="seed")
        # The first case draws the seed on the server unless one is given (a test, a replay):
        # the allocator never sees it, so cannot tell the next arm.
        use = log[0].seed if log else (seed if seed is not None else secrets.randbelow(2**31 - 1) + 1)
        found["entry"] = service.next_allocation(log, trial=trial, seed=use, ratio=service.log_ratio(log, ratio),
                                                 person_id=person_id, crime_id=crime_id, on=access.as_of,
                                                 by=access.user.username)

    def apply(_person) -> AllocationOut:
        entry = found["entry"]
        session.add(TrialAllocation(**entry))
        session.flush()
        referral_id = None
        if entry["arm"] == "course":
            referral_id = service.create_referral(session, course=chosen, person_id=person_id, crime_id=crime_id,
                                                  route="voluntary", by=access.user.username, on=access.as_of,
                                                  rules=rules, interpreter_language=interpreter_language,
                                                  format=format).referral_id
        return AllocationOut(trial=trial, sequence=entry["sequence"], arm=entry["arm"], person_id=person_id,
                             crime_id=crime_id, allocated_on=entry["allocated_on"], referral_id=referral_id)

    return access.write(person_id, resource="trial_allocation", check=check, apply=apply, trial=trial, crime=crime_id)
