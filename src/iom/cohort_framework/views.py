"""What readers see of the cohort framework, each read audited: a person's eligibility, the
reset review, de-selection proposals, officers' workloads, consistency across LOMUs."""

from __future__ import annotations

from iom.casefile.access import Access
from iom.cohort_framework import eligibility, schemas, service

MANAGE = "manage_cohort"


def person_eligibility(access: Access, person_id: int) -> list[eligibility.Judgement]:
    """Every rule judged for one person on the access's date: a read of their record."""
    who = access.read_subject(person_id, resource="eligibility")
    return eligibility.eligibility(access.session, [who.id], access.as_of)[who.id]


def reset_review(access: Access, *, lomu: str | None = None) -> schemas.ResetReview:
    access.require(MANAGE, "only a supervisor can run the reset review")
    found = service.reset_review(session=access.session, user=access.user, as_of=access.as_of, lomu=lomu)
    access.log("search", "reset_review", filters={"lomu": found.lomu} if found.lomu else {},
               people=sorted({m.person_id for m in found.lapsed}))
    return found


def exit_proposals(access: Access, *, lomu: str | None = None) -> schemas.ExitProposals:
    access.require(MANAGE, "only a supervisor can see de-selection proposals")
    found = service.exit_proposals(session=access.session, user=access.user, as_of=access.as_of, lomu=lomu)
    access.log("search", "exit_proposals", filters={"lomu": found.lomu} if found.lomu else {},
               people=[p.person_id for p in found.proposals])
    return found


def workload(access: Access, *, lomu: str | None = None) -> schemas.Workload:
    """Officers' loads: a supervisor sees their own LOMU's (the console, any)."""
    access.require(MANAGE, "only a supervisor can see officers' workloads")
    if access.user.scope == "lomu":
        lomu = access.user.lomu_code
    found = service.officer_loads(session=access.session, as_of=access.as_of, lomu=lomu)
    access.log("search", "officer_workload", filters={"lomu": found.lomu} if found.lomu else {})
    return found


def consistency(access: Access, *, months: int = 12) -> list[schemas.UnitConsistency]:
    access.require("read_people", "this role cannot see cohort measures")
    found = service.consistency(session=access.session, user=access.user, as_of=access.as_of, months=months)
    access.log("search", "cohort_consistency", months=months)
    return found
