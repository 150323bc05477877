"""The cohort framework's services: the reset review (members whose eligibility has lapsed),
de-selection proposals, officers' workloads and allocation, and consistency across LOMUs.
Keyword-only; nothing here commits."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from dateutil.relativedelta import relativedelta
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from iom.breach.models import CUSTODY_OUTCOMES, Breach
from iom.cohort_framework import eligibility as rules_of
from iom.cohort_framework import schemas
from iom.cohort_framework.models import Allocation
from iom.cohort_framework.rules import deselection_rules, eligibility_rules, workload_rules
from iom.cohorts import current_state
from iom.cohorts.models import Classification, CohortMembership, ManagementRecord, RiskLevelRecord, RiskReview
from iom.cohorts.service import active_memberships
from iom.dates import age_on, months_before
from iom.errors import Conflict, FieldError, UserError
from iom.register.models import Crime, Offence, Person, Unit
from iom.security import scope
from iom.security.models import User
from iom.security.roles import Principal


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _members(session: Session, user: Principal, as_of: dt.date, lomu: str | None):
    """Current memberships in the reader's scope: (membership, pseudo id, LOMU)."""
    managed = scope.latest(ManagementRecord, as_of, ManagementRecord.lomu_code).subquery()
    m = active_memberships(as_of).subquery()
    query = (select(m.c.id, m.c.person_id, m.c.classification_code, m.c.adopted_on, Person.pseudo_id,
                    managed.c.lomu_code)
             .join(Person, Person.id == m.c.person_id)
             .outerjoin(managed, managed.c.person_id == m.c.person_id)
             .where(scope.in_scope(user, as_of, managed))
             .order_by(managed.c.lomu_code, Person.pseudo_id, m.c.classification_code))
    if lomu:
        query = query.where(managed.c.lomu_code == lomu)
    return session.execute(query).all()


def check_lomu(session: Session, lomu: str | None) -> str | None:
    if not lomu:
        return None
    code = lomu.strip().upper()
    unit = session.get(Unit, code)
    if unit is None or unit.kind != "lomu":
        known = ", ".join(session.scalars(select(Unit.code).where(Unit.kind == "lomu").order_by(Unit.code)))
        raise FieldError(f"no LOMU {lomu!r}: choose one of {known}", field="lomu")
    return code


# --- the reset review -------------------------------------------------------------------------

def reset_review(*, session: Session, user: Principal, as_of: dt.date, lomu: str | None = None) -> schemas.ResetReview:
    """Every current membership whose classification's rules no longer hold, with why.
    Nominated classifications (OCG, USG) never lapse by rule."""
    lomu = check_lomu(session, lomu)
    rules = eligibility_rules()
    rows = _members(session, user, as_of, lomu)
    judged = rules_of.eligibility(session, {r.person_id for r in rows}, as_of)
    nominated = {r.classification for r in rules.rule if r.nominated}
    lapsed = []
    for r in rows:
        if r.classification_code in nominated or not rules.for_classification(r.classification_code):
            continue
        found = judged[r.person_id]
        if rules_of.holds_for(found, r.classification_code) is None:
            instead = rules_of.proposal(found)
            lapsed.append(schemas.LapsedMember(
                membership_id=r.id, person_id=r.person_id, pseudo_id=r.pseudo_id, lomu_code=r.lomu_code,
                classification=r.classification_code, adopted_on=r.adopted_on,
                why=rules_of.why_not(found, r.classification_code),
                eligible_instead=instead.classification if instead else None))
    return schemas.ResetReview(as_of=as_of, lomu=lomu, rules_version=rules.version, members_checked=len(rows),
                               people_checked=len({r.person_id for r in rows}), lapsed=lapsed)


# --- de-selection -----------------------------------------------------------------------------

def exit_proposals(*, session: Session, user: Principal, as_of: dt.date, lomu: str | None = None) -> schemas.ExitProposals:
    """Current members any de-selection criterion holds for, with each reason."""
    lomu = check_lomu(session, lomu)
    rules = deselection_rules()
    rows = _members(session, user, as_of, lomu)
    people = {r.person_id: r for r in rows}
    ids = sorted(people)
    reasons: dict[int, list[str]] = defaultdict(list)
    quiet_since = months_before(as_of, rules.no_offence_months)
    last: dict[int, dt.date] = {}
    born: dict[int, dt.date] = {}
    for chunk in rules_of.chunks(ids):
        last.update(session.execute(
            select(Crime.person_id, func.max(Crime.committed_on)).join(Offence, Offence.code == Crime.offence_code)
            .where(Crime.person_id.in_(chunk), Offence.is_crime.is_(True), Crime.committed_on <= as_of)
            .group_by(Crime.person_id)).all())
        born.update(session.execute(select(Person.id, Person.date_of_birth).where(Person.id.in_(chunk))).all())
        reviews: dict[int, list] = defaultdict(list)
        for pid, outcome, level in session.execute(
                select(RiskReview.person_id, RiskReview.outcome, RiskReview.level)
                .where(RiskReview.person_id.in_(chunk), RiskReview.reviewed_on <= as_of)
                .order_by(RiskReview.person_id, RiskReview.reviewed_on.desc(), RiskReview.id.desc())):
            reviews[pid].append((outcome, level))
        for pid, found in reviews.items():
            latest = found[:rules.lowered_reviews]
            if len(latest) == rules.lowered_reviews and all(o == "risk lowered" or lv == "Low" for o, lv in latest):
                reasons[pid].append(f"the last {rules.lowered_reviews} risk reviews lowered the level or found it Low")
        horizon = as_of + relativedelta(months=rules.custody_months)
        for pid, until in session.execute(
                select(Breach.person_id, func.max(Breach.custody_until))
                .where(Breach.person_id.in_(chunk), Breach.outcome.in_(CUSTODY_OUTCOMES), Breach.outcome_on <= as_of,
                       Breach.custody_until > horizon).group_by(Breach.person_id)):
            reasons[pid].append(f"in custody until {until:%d %B %Y}, over {rules.custody_months} months")
    youth = {r.person_id for r in rows if r.classification_code == "DYO"}
    for pid in ids:
        seen = last.get(pid)
        if seen is None or seen <= quiet_since:
            reasons[pid].insert(0, f"no recorded offence in {rules.no_offence_months} months"
                                + (f" (last {seen:%d %B %Y})" if seen else ""))
        if pid in youth and age_on(born[pid], as_of) >= rules.youth_until:
            reasons[pid].append(f"turned {rules.youth_until}: a DYO member moves to an adult classification or exits")
    held: dict[int, list[str]] = defaultdict(list)
    for r in rows:
        held[r.person_id].append(r.classification_code)
    proposed = [schemas.ExitProposal(person_id=pid, pseudo_id=people[pid].pseudo_id, lomu_code=people[pid].lomu_code,
                                     classifications=sorted(held[pid]), reasons=reasons[pid])
                for pid in ids if reasons.get(pid)]
    return schemas.ExitProposals(as_of=as_of, lomu=lomu, rules_version=rules.version, members_checked=len(ids),
                                 proposals=proposed)


# --- workload and allocation ------------------------------------------------------------------

def _cases(session: Session, as_of: dt.date, lomu: str | None):
    """Current members' management: (person id, LOMU, officer, offender type, risk level)."""
    managed = scope.latest(ManagementRecord, as_of, ManagementRecord.lomu_code, ManagementRecord.officer,
                           ManagementRecord.offender_type).subquery()
    risk = scope.latest(RiskLevelRecord, as_of, RiskLevelRecord.level).subquery()
    members = select(active_memberships(as_of).subquery().c.person_id).distinct().subquery()
    query = (select(managed.c.person_id, managed.c.lomu_code, managed.c.officer, managed.c.offender_type, risk.c.level)
             .join(members, members.c.person_id == managed.c.person_id)
             .outerjoin(risk, risk.c.person_id == managed.c.person_id))
    if lomu:
        query = query.where(managed.c.lomu_code == lomu)
    return session.execute(query).all()


def roster(session: Session, lomu: str | None = None) -> dict[str, set[str]]:
    """Officers per LOMU: those management records have named there, and users linked to one."""
    named = select(ManagementRecord.lomu_code, ManagementRecord.officer).where(
        ManagementRecord.officer.is_not(None)).distinct()
    users = select(User.lomu_code, User.officer).where(User.officer.is_not(None), User.lomu_code.is_not(None),
                                                       User.active.is_(True))
    found: dict[str, set[str]] = defaultdict(set)
    for query in (named, users):
        for code, officer in session.execute(query):
            if lomu is None or code == lomu:
                found[code].add(officer)
    return found


def officer_loads(*, session: Session, as_of: dt.date, lomu: str | None = None) -> schemas.Workload:
    """Each officer's cases and points on the day, against their capacity; unallocated cases."""
    lomu = check_lomu(session, lomu)
    work = workload_rules()
    loads: dict[tuple[str, str], list[int]] = {(code, officer): [0, 0]
                                               for code, names in roster(session, lomu).items() for officer in names}
    unallocated: dict[str, int] = defaultdict(int)
    for _pid, code, officer, kind, level in _cases(session, as_of, lomu):
        if officer is None:
            unallocated[code] += 1
            continue
        entry = loads.setdefault((code, officer), [0, 0])
        entry[0] += 1
        entry[1] += work.case_points(kind, level)
    overridden = {(code, officer) for code, officer in session.execute(
        select(Allocation.lomu_code, Allocation.officer).where(Allocation.over_capacity_reason.is_not(None),
                                                               Allocation.allocated_on <= as_of))}
    rows = [schemas.OfficerLoad(lomu_code=code, officer=officer, cases=cases, points=points,
                                capacity=work.capacity_points, overridden=(code, officer) in overridden)
            for (code, officer), (cases, points) in sorted(loads.items())]
    return schemas.Workload(as_of=as_of, lomu=lomu, rules_version=work.version, officers=rows,
                            unallocated=dict(sorted(unallocated.items())))


def _person_case(session: Session, person_id: int, on: dt.date) -> tuple[ManagementRecord, int]:
    record = scope.latest_for(session, ManagementRecord, person_id, on)
    if record is None:
        raise UserError("the person has no management record: adopt them into a cohort first")
    risk = scope.latest_for(session, RiskLevelRecord, person_id, on)
    return record, workload_rules().case_points(record.offender_type, risk.level if risk else None)


class AlreadyAllocated(Conflict):
    """The case's officer already has room for it: nothing to change."""


def check_allocation(*, session: Session, person_id: int, on: dt.date, officer: str | None,
                     reason: str | None) -> dict:
    """The officer a case goes to: the named one, or the one in the person's LOMU with the most
    room that the case fits. Over capacity only with a supervisor's reason."""
    record, points = _person_case(session, person_id, on)
    work = workload_rules()
    loads = {o.officer: o.points for o in officer_loads(session=session, as_of=on, lomu=record.lomu_code).officers}
    reason = (reason or "").strip() or None
    if officer is None:
        # A current member's points already count in their officer's load.
        if record.officer in loads and loads[record.officer] <= work.capacity_points:
            raise AlreadyAllocated(f"already allocated to {record.officer}, who has room")
        fits = [(name, load) for name, load in loads.items()
                if name != record.officer and load + points <= work.capacity_points]
        if not fits:
            raise Conflict(f"no officer in {record.lomu_code} has room for a case of {points} points "
                           f"(capacity {work.capacity_points}): name one, with a reason to go over capacity")
        officer = min(fits, key=lambda pair: (pair[1], pair[0]))[0]  # the lightest load, then by name
    else:
        officer = officer.strip()
        if officer not in loads:
            raise FieldError(f"no officer {officer!r} in {record.lomu_code}: choose one of "
                             + ", ".join(sorted(loads)[:20]) + (" …" if len(loads) > 20 else ""), field="officer")
    if record.officer == officer:
        raise Conflict(f"already allocated to {officer}")
    load = loads[officer]
    over = load + points > work.capacity_points
    if over and (reason is None or len(reason) < 5):
        raise FieldError(f"{officer} has {load} of {work.capacity_points} points: a case of {points} takes them over "
                         "capacity, so give the reason (at least 5 characters)", field="reason")
    return dict(officer=officer, lomu_code=record.lomu_code, points=points, load_before=load,
                capacity=work.capacity_points, over_capacity_reason=reason if over else None)


def allocate(*, session: Session, person_id: int, on: dt.date, checked: dict, by: str) -> schemas.AllocationOut:
    """A new management row naming the officer (the history is append-only) and the allocation."""
    record, _ = _person_case(session, person_id, on)
    session.add(ManagementRecord(person_id=person_id, effective_from=on, offender_type=record.offender_type,
                                 lead_agency=record.lead_agency, lomu_code=record.lomu_code, officer=checked["officer"],
                                 reason=f"allocated by {by}", recorded_at=_now()))
    row = Allocation(person_id=person_id, allocated_on=on, allocated_by=by, recorded_at=_now(), **checked)
    session.add(row)
    session.flush()
    current_state.refresh(session, person_ids=[person_id])
    return schemas.AllocationOut.model_validate(row)


# --- consistency across LOMUs -----------------------------------------------------------------

def consistency(*, session: Session, user: Principal, as_of: dt.date, months: int = 12) -> list[schemas.UnitConsistency]:
    """Per LOMU: members, officers with cases, members per officer, people adopted and people
    who left every cohort in the ``months`` before (as shares of the members on the day), and
    the share of members whose eligibility has lapsed."""
    since = months_before(as_of, months)
    rows = _members(session, user, as_of, None)
    members: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        members[r.lomu_code].add(r.person_id)
    lapsed: dict[str, set[int]] = defaultdict(set)
    for m in reset_review(session=session, user=user, as_of=as_of).lapsed:
        lapsed[m.lomu_code].add(m.person_id)
    officers: dict[str, set[str]] = defaultdict(set)
    for _pid, code, officer, _kind, _level in _cases(session, as_of, None):
        if officer:
            officers[code].add(officer)
    managed = scope.latest(ManagementRecord, as_of, ManagementRecord.lomu_code).subquery()
    adopted_people: dict[str, set[int]] = defaultdict(set)
    exited_people: dict[str, set[int]] = defaultdict(set)
    for code, pid, adopted, exited in session.execute(
            select(managed.c.lomu_code, CohortMembership.person_id, CohortMembership.adopted_on,
                   CohortMembership.exited_on)
            .join(managed, managed.c.person_id == CohortMembership.person_id)
            .join(Person, Person.id == CohortMembership.person_id)
            .where(scope.in_scope(user, as_of, managed))):
        if since < adopted <= as_of:
            adopted_people[code].add(pid)
        if exited is not None and since < exited <= as_of:
            exited_people[code].add(pid)
    out = []
    for code in sorted(set(members) | set(adopted_people) | set(exited_people), key=str):
        n = len(members.get(code, ()))
        staff = len(officers.get(code, ()))
        # People, not memberships; someone who left every cohort in the window counts as exited.
        came = len(adopted_people[code])
        left = len(exited_people[code] - members.get(code, set()))
        out.append(schemas.UnitConsistency(
            lomu_code=code, members=n, officers=staff, members_per_officer=n / staff if staff else None,
            adopted=came, exited=left, adoption_rate=came / n if n else None,
            exit_rate=left / n if n else None, lapsed=len(lapsed.get(code, ())),
            lapsed_share=len(lapsed.get(code, ())) / n if n else None, months=months))
    return out


def classification_groups(session: Session) -> dict[str, str]:
    """Fixed, Flex or Free, per classification."""
    return dict(session.execute(select(Classification.code, Classification.framework_group)).all())


def npu_officers(bind) -> dict[str, int]:
    """Offender managers recorded per NPU (units.csv), read through a session or a connection."""
    return dict(bind.execute(select(Unit.code, Unit.officers).where(Unit.kind == "npu", Unit.officers.is_not(None))).all())
