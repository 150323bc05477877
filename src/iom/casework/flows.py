"""Casework's state changes, for pages, API and commands alike: scope, then the checks, then
the audit row (committed: fail closed), then the write, which the caller commits."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access
from iom.casework import schemas, service

WRITE = "write_casework"


def assess_needs(access: Access, *, person_id: int, body: schemas.NeedsAssessmentIn) -> schemas.NeedsAssessment:
    access.require(WRITE, "this role cannot record needs assessments")
    person = access.subject(person_id, attempt="needs assessment")
    on = service.check_assessment(session=access.session, person=person, body=body, as_of=access.as_of)
    return access.write(person.id, resource="needs_assessment", pathways=len(body.ratings), on=on.isoformat(),
                        apply=lambda p: service.add_assessment(session=access.session, person_id=p.id,
                                                               assessor=access.user.username, body=body, assessed_on=on))


def add_action(access: Access, *, person_id: int, body: schemas.ActionIn) -> schemas.Action:
    access.require(WRITE, "this role cannot change case plans")
    person = access.subject(person_id, attempt="plan action")
    service.check_action(person=person, body=body, as_of=access.as_of)
    return access.write(person.id, resource="plan_action", kind=body.kind, pathway=body.pathway,
                        apply=lambda p: service.add_action(session=access.session, person_id=p.id, body=body,
                                                           by=access.user.username, as_of=access.as_of))


def change_action(access: Access, *, person_id: int, action_id: int, change: schemas.ActionChange) -> schemas.Action:
    """A stale version is refused before the audit row (409); a lost race after it is too."""
    access.require(WRITE, "this role cannot change case plans")
    person = access.subject(person_id, attempt="plan action")
    action = service.check_change(session=access.session, person_id=person.id, action_id=action_id, change=change)
    return access.write(person.id, resource="plan_action", action_id=action_id, version=change.version,
                        changes=sorted(change.model_dump(exclude={"version"}, exclude_none=True)),
                        apply=lambda p: service.apply_change(session=access.session, action=action, change=change,
                                                             by=access.user.username, as_of=access.as_of))


def record_review(access: Access, *, person_id: int, body: schemas.ReviewIn) -> schemas.Review:
    access.require(WRITE, "this role cannot record risk reviews")
    person = access.subject(person_id, attempt="risk review")
    on, outcome = service.check_review(session=access.session, person_id=person.id, body=body, as_of=access.as_of)
    return access.write(person.id, resource="risk_review", level=body.level, outcome=outcome, on=on.isoformat(),
                        apply=lambda p: service.add_review(session=access.session, person_id=p.id, body=body,
                                                           reviewed_on=on, outcome=outcome, reviewer=access.user.username))


def adopt(access: Access, *, person_id: int, classification: str, reason: str, on: dt.date | None = None) -> int:
    """Adopt into a cohort from ``on`` (default the working date): a new membership row."""
    access.require("manage_cohort", "only a supervisor can adopt a person into a cohort")
    person = access.subject(person_id, attempt="adopt")
    day = on or access.as_of
    code = service.check_adoption(session=access.session, person_id=person.id, classification=classification,
                                  on=day, reason=reason)
    return access.write(person.id, resource="cohort_membership", change="adopt", classification=code, on=day.isoformat(),
                        reason=reason.strip(),
                        apply=lambda p: service.adopt(session=access.session, person=p, classification=code, on=day,
                                                      reason=reason, by=access.user.username))


def exit_cohort(access: Access, *, person_id: int, reason: str, on: dt.date | None = None,
                classification: str | None = None) -> int:
    """End the person's current memberships (or one cohort's) on ``on``; history is kept."""
    access.require("manage_cohort", "only a supervisor can take a person out of a cohort")
    person = access.subject(person_id, attempt="exit")
    day = on or access.as_of
    ids = service.check_exit(session=access.session, person_id=person.id, on=day, reason=reason,
                             classification=classification)
    return access.write(person.id, resource="cohort_membership", change="exit", memberships=ids, on=day.isoformat(),
                        reason=reason.strip(),
                        apply=lambda p: service.exit_memberships(session=access.session, membership_ids=ids, on=day,
                                                                 reason=reason))
