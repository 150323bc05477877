"""Casework: needs assessments, case-plan actions, risk reviews, adoption and exit. Reads for
records scope has let through, checks, writes. Never commits: the request or command does."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from iom.casefile.access import RecordContext
from iom.casefile.schemas import TimelineEvent
from iom.casework import schemas
from iom.casework.models import PlanAction, NeedRating, NeedsAssessment
from iom.casework.pathways import pathways
from iom.casework.rules import sequencing
from iom.casework.versioning import StaleWrite, check_version, keep_revision
from iom.cohorts import current_state
from iom.cohorts.models import (Classification, CohortMembership, ManagementRecord, RiskLevelRecord, RiskReview)
from iom.cohorts.rules import lead_agency_rules, next_review_due
from iom.cohorts.service import active_memberships
from iom.errors import Conflict, FieldError, UserError
from iom.register.models import Person, Unit
from iom.security import scope
from iom.security.roles import Principal

#: Plan actions that still need doing.
ACTIVE = ("open", "in progress")
RISK_RANK = {"Low": 0, "Medium": 1, "High": 2}
HISTORY = 10


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _day(on: dt.date | None, *, as_of: dt.date, field: str, what: str) -> dt.date:
    """A date a user gave for something that has happened: default the working date, never later."""
    on = on or as_of
    if on > as_of:
        raise FieldError(f"{what} cannot be after {as_of:%d %B %Y}, the date the system is working to", field=field)
    return on


# --- needs --------------------------------------------------------------------------------------

def _assessments(session: Session, person_id: int, as_of: dt.date, limit: int) -> list[NeedsAssessment]:
    return list(session.scalars(
        select(NeedsAssessment).where(NeedsAssessment.person_id == person_id, NeedsAssessment.assessed_on <= as_of)
        .order_by(NeedsAssessment.assessed_on.desc(), NeedsAssessment.id.desc()).limit(limit)))


def _assessment_models(session: Session, found: list[NeedsAssessment], *, show_text: bool) -> list[schemas.NeedsAssessment]:
    names = {p.code: p.name for p in pathways().pathway}
    ratings: dict[int, list[schemas.Need]] = defaultdict(list)
    if found:
        for r in session.scalars(select(NeedRating).where(NeedRating.assessment_id.in_([a.id for a in found]))
                                 .order_by(NeedRating.id)):
            ratings[r.assessment_id].append(schemas.Need(pathway=r.pathway, name=names.get(r.pathway, r.pathway),
                                                         level=r.level, notes=r.notes if show_text else None))
    return [schemas.NeedsAssessment(id=a.id, assessed_on=a.assessed_on, assessor=a.assessor if show_text else None,
                                    pathways_version=a.pathways_version, ratings=ratings[a.id]) for a in found]


def latest_needs(*, session: Session, person_id: int, as_of: dt.date, show_text: bool = True) -> schemas.NeedsAssessment | None:
    found = _assessments(session, person_id, as_of, 1)
    return _assessment_models(session, found, show_text=show_text)[0] if found else None


def check_assessment(*, session: Session, person: Person, body: schemas.NeedsAssessmentIn,
                     as_of: dt.date) -> dt.date:
    """Every pathway known and meant for this person, none twice; the assessor saw the
    latest assessment (else someone assessed in between: 409)."""
    catalogue = pathways()
    seen = set()
    for rating in body.ratings:
        pathway = catalogue.get(rating.pathway, field=f"need-{rating.pathway}")
        if not pathway.applies_to(person.sex):
            raise FieldError(f"the {pathway.name} pathway is not for this person", field=f"need-{rating.pathway}")
        if rating.pathway in seen:
            raise FieldError(f"{pathway.name} is rated twice", field=f"need-{rating.pathway}")
        seen.add(rating.pathway)
    on = _day(body.assessed_on, as_of=as_of, field="assessed-on", what="an assessment")
    latest = _assessments(session, person.id, dt.date.max, 1)
    if latest and latest[0].id != body.based_on:
        newer = _assessment_models(session, latest, show_text=True)[0]
        raise Conflict(f"{newer.assessor} recorded a needs assessment on {newer.assessed_on:%d %B %Y} since you "
                       "opened the form: check it, then assess again", current=newer.model_dump(mode="json"))
    return on


def add_assessment(*, session: Session, person_id: int, assessor: str, body: schemas.NeedsAssessmentIn,
                   assessed_on: dt.date) -> schemas.NeedsAssessment:
    assessment = NeedsAssessment(person_id=person_id, assessed_on=assessed_on, assessor=assessor,
                                 pathways_version=pathways().version, recorded_at=_now())
    session.add(assessment)
    session.flush()
    session.add_all(NeedRating(assessment_id=assessment.id, pathway=r.pathway, level=r.level,
                               notes=(r.notes or "").strip() or None) for r in body.ratings)
    session.flush()
    return _assessment_models(session, [assessment], show_text=True)[0]


# --- the case plan --------------------------------------------------------------------------------

def _action_model(action: PlanAction, *, as_of: dt.date, show_text: bool) -> schemas.Action:
    names = {p.code: p.name for p in pathways().pathway}
    return schemas.Action(
        id=action.id, person_id=action.person_id, kind=action.kind, pathway=action.pathway,
        pathway_name=names.get(action.pathway, action.pathway),
        description=action.description if show_text else None, owner=action.owner if show_text else None,
        due_on=action.due_on, status=action.status, outcome=action.outcome if show_text else None,
        created_on=action.created_on, version=action.version, updated_by=action.updated_by if show_text else None,
        overdue=action.status in ACTIVE and action.due_on < as_of)


def _snapshot(action: PlanAction) -> dict:
    return {"kind": action.kind, "pathway": action.pathway, "description": action.description, "owner": action.owner,
            "due_on": action.due_on, "status": action.status, "outcome": action.outcome, "updated_by": action.updated_by}


def plan_warnings(actions: list[schemas.Action], needs: schemas.NeedsAssessment | None) -> list[str]:
    """The sequencing rules this plan breaks: an action on ``then`` due before any action on
    ``first`` is done or due, while ``first`` is an assessed need."""
    rated = {n.pathway for n in needs.ratings if n.level != "none"} if needs else set()
    live = [a for a in actions if a.status != "cancelled"]
    warnings = []
    for rule in sequencing().rule:
        if rule.first not in rated:
            continue
        later = [a for a in live if a.pathway == rule.then and a.status in ACTIVE]
        if not later:
            continue
        earliest_then = min(a.due_on for a in later)
        firsts = [a for a in live if a.pathway == rule.first and (a.status == "done" or a.due_on <= earliest_then)]
        if not firsts:
            warnings.append(rule.words)
    return warnings


def plan(*, session: Session, person_id: int, as_of: dt.date, show_text: bool = True,
         needs: schemas.NeedsAssessment | None = None) -> schemas.Plan:
    rows = session.scalars(select(PlanAction).where(PlanAction.person_id == person_id, PlanAction.created_on <= as_of)
                           .order_by(PlanAction.due_on, PlanAction.id))
    actions = [_action_model(a, as_of=as_of, show_text=show_text) for a in rows]
    needs = needs if needs is not None else latest_needs(session=session, person_id=person_id, as_of=as_of)
    live = [a for a in actions if a.status != "cancelled"]
    return schemas.Plan(actions=actions, warnings=plan_warnings(actions, needs),
                        control=sum(a.kind == "control" for a in live), change=sum(a.kind == "change" for a in live))


def check_action(*, person: Person, body: schemas.ActionIn, as_of: dt.date) -> None:
    pathway = pathways().get(body.pathway, field="action-pathway")
    if not pathway.applies_to(person.sex):
        raise FieldError(f"the {pathway.name} pathway is not for this person", field="action-pathway")
    if not body.description.strip():
        raise FieldError("say what the action is", field="action-description")
    if body.due_on < as_of - dt.timedelta(days=366):
        raise FieldError("an action's due date cannot be more than a year in the past", field="action-due-on")


def officer_of(session: Session, person_id: int, as_of: dt.date) -> str | None:
    record = scope.latest_for(session, ManagementRecord, person_id, as_of)
    return record.officer if record else None


def add_action(*, session: Session, person_id: int, body: schemas.ActionIn, by: str, as_of: dt.date) -> schemas.Action:
    owner = (body.owner or "").strip() or officer_of(session, person_id, as_of) or by
    action = PlanAction(person_id=person_id, kind=body.kind, pathway=body.pathway, description=body.description.strip(),
                        owner=owner, due_on=body.due_on, status="open", created_on=as_of, version=1, updated_by=by,
                        updated_at=_now())
    session.add(action)
    session.flush()
    keep_revision(session=session, kind="plan action", record_id=action.id, version=1, person_id=person_id,
                  data=_snapshot(action), by=by)
    return _action_model(action, as_of=as_of, show_text=True)


def get_action(*, session: Session, person_id: int, action_id: int) -> PlanAction:
    action = session.get(PlanAction, action_id)
    if action is None or action.person_id != person_id:
        raise FieldError(f"no action {action_id} on this person's plan", field="action")
    return action


def check_change(*, session: Session, person_id: int, action_id: int, change: schemas.ActionChange) -> PlanAction:
    """The action exists on this plan, the editor saw its current version, and the change
    makes sense (an outcome when it is done; nothing but a reopening once it is closed)."""
    action = get_action(session=session, person_id=person_id, action_id=action_id)
    check_version("plan action", action.id, expected=change.version, current=action.version,
                  current_data=_snapshot(action), by=action.updated_by)
    status = change.status or action.status
    if status == "done" and not ((change.outcome or action.outcome or "").strip()):
        raise FieldError("say what came of the action before marking it done", field="action-outcome")
    if action.status in ("done", "cancelled") and change.status is None and any(
            v is not None for v in (change.due_on, change.owner, change.description)):
        raise FieldError(f"this action is {action.status}: reopen it first", field="action-status")
    return action


def apply_change(*, session: Session, action: PlanAction, change: schemas.ActionChange, by: str,
                 as_of: dt.date) -> schemas.Action:
    """Write the change only if nobody else did since the check (a conditional update: the
    version must still be the one read), then keep the new version."""
    values = {k: v.strip() if isinstance(v, str) else v for k, v in
              change.model_dump(exclude={"version"}, exclude_none=True).items()}
    written = session.execute(
        update(PlanAction).where(PlanAction.id == action.id, PlanAction.version == change.version)
        .values(**values, version=change.version + 1, updated_by=by, updated_at=_now())
        .execution_options(synchronize_session=False))
    session.expire(action)
    if written.rowcount != 1:
        raise StaleWrite("plan action", action.id, expected=change.version, current=action.version,
                         current_data=_snapshot(action), by=action.updated_by)
    keep_revision(session=session, kind="plan action", record_id=action.id, version=action.version,
                  person_id=action.person_id, data=_snapshot(action), by=by)
    return _action_model(action, as_of=as_of, show_text=True)


def _overdue_query(user: Principal, as_of: dt.date, columns):
    managed = scope.latest(ManagementRecord, as_of, ManagementRecord.lomu_code).subquery()
    return managed, (select(*columns(managed))
                     .join(Person, Person.id == PlanAction.person_id)
                     .outerjoin(managed, managed.c.person_id == Person.id)
                     .where(PlanAction.status.in_(ACTIVE), PlanAction.due_on < as_of, PlanAction.created_on <= as_of,
                            scope.in_scope(user, as_of, managed=managed)))


def count_overdue(*, session: Session, user: Principal, as_of: dt.date) -> int:
    _, query = _overdue_query(user, as_of, lambda managed: (func.count(PlanAction.id),))
    return session.scalar(query) or 0


def overdue_actions(*, session: Session, user: Principal, as_of: dt.date, lomu: str | None = None) -> list[schemas.OverdueAction]:
    """Open or in-progress actions due before ``as_of``, for people in the reader's scope
    (``lomu``: whose management record on ``as_of`` names that LOMU), most overdue first."""
    managed, query = _overdue_query(user, as_of, lambda managed: (
        PlanAction, Person.pseudo_id, Person.given_name, Person.family_name, managed.c.lomu_code))
    query = query.order_by(PlanAction.due_on, PlanAction.id)
    if lomu:
        code = lomu.strip().upper()
        if session.get(Unit, code) is None:
            raise UserError(f"no unit {lomu!r}")
        query = query.where(managed.c.lomu_code == code)
    show = not user.pseudonymised
    return [schemas.OverdueAction(action=_action_model(a, as_of=as_of, show_text=show), pseudo_id=pseudo,
                                  name=f"{given} {family}" if show else None, lomu_code=unit,
                                  days_overdue=(as_of - a.due_on).days)
            for a, pseudo, given, family, unit in session.execute(query)]


# --- risk reviews ---------------------------------------------------------------------------------

def reviews(*, session: Session, person_id: int, as_of: dt.date, show_text: bool = True,
            limit: int = HISTORY) -> list[schemas.Review]:
    rows = session.scalars(select(RiskReview).where(RiskReview.person_id == person_id, RiskReview.reviewed_on <= as_of)
                           .order_by(RiskReview.reviewed_on.desc(), RiskReview.id.desc()).limit(limit))
    return [schemas.Review(id=r.id, reviewed_on=r.reviewed_on, level=r.level, outcome=r.outcome, next_due=r.next_due,
                           reviewer=r.reviewer if show_text else None, notes=r.notes if show_text else None) for r in rows]


def check_review(*, session: Session, person_id: int, body: schemas.ReviewIn, as_of: dt.date) -> tuple[dt.date, str]:
    """The review's date (not before the last review, not after the working date) and its
    outcome, which must agree with the level it sets."""
    on = _day(body.reviewed_on, as_of=as_of, field="reviewed-on", what="a review")
    last = session.scalar(select(func.max(RiskReview.reviewed_on)).where(RiskReview.person_id == person_id))
    if last is not None and on < last:
        raise FieldError(f"the last review was on {last:%d %B %Y}: a review cannot be dated before it", field="reviewed-on")
    current = scope.latest_for(session, RiskLevelRecord, person_id, on)
    before = current.level if current else None
    implied = ("no change" if before in (None, body.level) else
               "risk raised" if RISK_RANK[body.level] > RISK_RANK[before] else "risk lowered")
    outcome = body.outcome or implied
    if outcome in ("no change", "risk raised", "risk lowered") and outcome != implied:
        raise FieldError(f"the risk level goes from {before or 'none'} to {body.level}: the outcome is {implied!r}",
                         field="review-outcome")
    return on, outcome


def add_review(*, session: Session, person_id: int, body: schemas.ReviewIn, reviewed_on: dt.date, outcome: str,
               reviewer: str) -> schemas.Review:
    """The review, and a new risk level from its date when it changed the level."""
    current = scope.latest_for(session, RiskLevelRecord, person_id, reviewed_on)
    if current is None or current.level != body.level:
        session.add(RiskLevelRecord(person_id=person_id, level=body.level, effective_from=reviewed_on,
                                    reason=f"risk review: {outcome}", recorded_by=reviewer, recorded_at=_now()))
    review = RiskReview(person_id=person_id, reviewed_on=reviewed_on, level=body.level, outcome=outcome,
                        next_due=next_review_due(body.level, reviewed_on), reviewer=reviewer,
                        notes=(body.notes or "").strip() or None, recorded_at=_now())
    session.add(review)
    session.flush()
    current_state.refresh(session, person_ids=[person_id])
    return reviews(session=session, person_id=person_id, as_of=reviewed_on, limit=1)[0]


# --- adoption and exit ----------------------------------------------------------------------------

def check_adoption(*, session: Session, person_id: int, classification: str, on: dt.date, reason: str) -> str:
    code = classification.strip().upper()
    if session.get(Classification, code) is None:
        known = ", ".join(session.scalars(select(Classification.code).order_by(Classification.code)))
        raise FieldError(f"no cohort {classification!r}: choose one of {known}", field="cohort")
    if len(reason.strip()) < 5:
        raise FieldError("say why the person is adopted (at least 5 characters)", field="reason")
    current = active_memberships(on).where(CohortMembership.person_id == person_id,
                                           CohortMembership.classification_code == code)
    if session.scalars(current).first() is not None:
        raise Conflict(f"already in the {code} cohort on {on:%d %B %Y}")
    return code


def adopt(*, session: Session, person: Person, classification: str, on: dt.date, reason: str, by: str) -> int:
    """A new membership from ``on``; a first management record (the home NPU's LOMU, the lead
    agency by rule) if the person had none."""
    membership = CohortMembership(person_id=person.id, classification_code=classification, adopted_on=on,
                                  adoption_reason=reason.strip())
    session.add(membership)
    if scope.latest_for(session, ManagementRecord, person.id, on) is None:
        lomu = session.scalar(select(Unit.parent_code).where(Unit.code == person.home_npu))
        if lomu is None:
            raise UserError("the person has no home NPU and no managing unit: record one before adopting")
        risk = scope.latest_for(session, RiskLevelRecord, person.id, on)
        age = (on - person.date_of_birth).days / 365.25
        agency = lead_agency_rules().applying(age=age, risk_level=risk.level if risk else None).agencies[0]
        session.add(ManagementRecord(person_id=person.id, effective_from=on, offender_type="Core", lead_agency=agency,
                                     lomu_code=lomu, officer=None, reason=f"adopted by {by}", recorded_at=_now()))
    session.flush()
    current_state.refresh(session, person_ids=[person.id])
    return membership.id


def check_exit(*, session: Session, person_id: int, on: dt.date, reason: str, classification: str | None) -> list[int]:
    """The memberships the exit ends: every current one, or the one ``classification`` names."""
    if len(reason.strip()) < 5:
        raise FieldError("say why the person exits (at least 5 characters)", field="reason")
    current = active_memberships(on).where(CohortMembership.person_id == person_id)
    if classification:
        current = current.where(CohortMembership.classification_code == classification.strip().upper())
    found = [m for m in session.scalars(current)]
    if not found:
        raise Conflict(f"not in {'the ' + classification.upper() if classification else 'any'} cohort on {on:%d %B %Y}")
    if any(m.adopted_on > on for m in found):
        raise FieldError("an exit cannot be dated before the adoption", field="on")
    return [m.id for m in found]


def exit_memberships(*, session: Session, membership_ids: list[int], on: dt.date, reason: str) -> int:
    """End the memberships on ``on`` (only those still open: a concurrent exit ends nothing twice)."""
    done = session.execute(
        update(CohortMembership).where(CohortMembership.id.in_(membership_ids), CohortMembership.exited_on.is_(None))
        .values(exited_on=on, exit_reason=reason.strip()).execution_options(synchronize_session=False))
    if done.rowcount == 0:
        raise Conflict("someone else has just ended this membership")
    current_state.refresh(session, person_ids=session.scalars(
        select(CohortMembership.person_id).where(CohortMembership.id.in_(membership_ids))))
    return done.rowcount


# --- the record's part and timeline ---------------------------------------------------------------

def for_record(ctx: RecordContext) -> schemas.Casework:
    show = not ctx.user.pseudonymised
    history = _assessment_models(ctx.session, _assessments(ctx.session, ctx.person_id, ctx.as_of, HISTORY), show_text=show)
    needs = history[0] if history else None
    found = reviews(session=ctx.session, person_id=ctx.person_id, as_of=ctx.as_of, show_text=show)
    sex = ctx.session.scalar(select(Person.sex).where(Person.id == ctx.person_id))
    choices = [schemas.PathwayChoice(code=p.code, name=p.name) for p in pathways().for_sex(sex)]
    return schemas.Casework(pathways=choices, needs=needs, needs_history=history,
                            plan=plan(session=ctx.session, person_id=ctx.person_id, as_of=ctx.as_of, show_text=show, needs=needs),
                            reviews=found, next_review=found[0].next_due if found else None)


def timeline(ctx: RecordContext) -> list[TimelineEvent]:
    """Needs assessed, actions set and closed, reviews held (never their free text)."""
    events = [TimelineEvent(on=on, kind="needs", text="Needs assessed") for on in ctx.session.scalars(
        select(NeedsAssessment.assessed_on).where(NeedsAssessment.person_id == ctx.person_id,
                                                  NeedsAssessment.assessed_on <= ctx.as_of))]
    names = {p.code: p.name for p in pathways().pathway}
    for kind, pathway, created in ctx.session.execute(
            select(PlanAction.kind, PlanAction.pathway, PlanAction.created_on)
            .where(PlanAction.person_id == ctx.person_id, PlanAction.created_on <= ctx.as_of)):
        events.append(TimelineEvent(on=created, kind="plan", text=f"{kind.title()} action set: {names.get(pathway, pathway)}"))
    for on, level, outcome in ctx.session.execute(
            select(RiskReview.reviewed_on, RiskReview.level, RiskReview.outcome)
            .where(RiskReview.person_id == ctx.person_id, RiskReview.reviewed_on <= ctx.as_of)):
        events.append(TimelineEvent(on=on, kind="review", text=f"Risk review: {level} ({outcome})"))
    return events
