"""Referrals: eligibility checked against the directory, the lifecycle's changes checked and
applied, and the shapes read back. Keyword-only; never commits (the request or command does).

Every change bumps the referral's ``version``, appends a ``referral_events`` row and keeps the
version written as a revision (``iom.casework.versioning``); a change based on an older
version is refused as a ``StaleWrite`` carrying the current one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from iom.casefile.access import RecordContext
from iom.casefile.schemas import TimelineEvent
from iom.casework import versioning
from iom.casework.models import NeedRating, NeedsAssessment
from iom.casework.pathways import pathways
from iom.errors import FieldError, NotFound, UserError
from iom.plugins import contributions, resolve
from iom.referrals import lifecycle
from iom.referrals.models import Referral, ReferralEvent, ReferralOutcome, ReferralSession
from iom.referrals.providers import Ineligible, PersonFacts, Provider, directory, facts_on
from iom.referrals.schemas import (MAX_OUTCOME, MAX_OUTCOMES, MAX_REASON, DirectoryOut, EventOut, OutcomeOut, ProviderOut,
                                   ReferralDetail, ReferralOut, ReferralPage, RuleOut, SessionOut)
from iom.register.models import Person, VulnerabilityMarker
from iom.security import scope
from iom.security.roles import Principal

KIND = "referral"
#: The columns a revision keeps (with the sessions and outcomes recorded so far).
SNAPSHOT = ("person_id", "provider_code", "pathway", "source", "reason", "desired_outcomes", "status", "created_on",
            "created_by", "sent_on", "accepted_on", "started_on", "ended_on", "end_reason")
ATTENDED = ("attended", "late")


# --- the directory and eligibility ------------------------------------------------------------

def directory_out() -> DirectoryOut:
    d = directory()
    return DirectoryOut(version=d.version, source=d.source, providers=[
        ProviderOut(code=p.code, name=p.name, pathways=p.pathways, areas=p.areas, description=p.description,
                    source=p.source, rules=[RuleOut(kind=r.kind, words=r.words) for r in p.rules])
        for p in d.provider])


def person_facts(session: Session, *, person_id: int, on: dt.date) -> PersonFacts:
    """What the rules look at for one person on ``on`` (``providers.facts_on``)."""
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    markers = session.execute(select(VulnerabilityMarker.marker, VulnerabilityMarker.started_on,
                                     VulnerabilityMarker.ended_on).where(VulnerabilityMarker.person_id == person_id)).all()
    latest = session.execute(
        select(NeedsAssessment.assessed_on, NeedsAssessment.id)
        .where(NeedsAssessment.person_id == person_id, NeedsAssessment.assessed_on <= on)
        .order_by(NeedsAssessment.assessed_on.desc(), NeedsAssessment.id.desc()).limit(1)).first()
    assessments = []
    if latest is not None:
        ratings = {pathway: level for pathway, level in session.execute(
            select(NeedRating.pathway, NeedRating.level).where(NeedRating.assessment_id == latest.id))}
        assessments.append((latest.assessed_on, latest.id, ratings))
    return facts_on(born=person.date_of_birth, sex=person.sex, home_npu=person.home_npu, markers=markers,
                    assessments=assessments, on=on)


def check_pathway(provider: Provider, pathway: str, *, sex: str) -> None:
    known = pathways().get(pathway)
    if not provider.serves(pathway):
        raise FieldError(f"{provider.name} does not take referrals for {known.name.lower()}: it serves "
                         f"{', '.join(provider.pathways)}", field="pathway")
    if not known.applies_to(sex):
        raise FieldError(f"the {known.name} pathway is only for people recorded as {known.only_for}", field="pathway")


def check_eligible(session: Session, *, person_id: int, provider: Provider, on: dt.date) -> None:
    """Refuse (``Ineligible``) with the words of every rule the person breaks on ``on``."""
    broken = provider.broken(person_facts(session, person_id=person_id, on=on))
    if broken:
        raise Ineligible(provider, broken)


def clean_outcomes(desired: Sequence[str]) -> list[str]:
    outcomes = [text.strip() for text in desired if text and text.strip()]
    if len(outcomes) > MAX_OUTCOMES:
        raise FieldError(f"a referral has at most {MAX_OUTCOMES} desired outcomes", field="desired_outcomes")
    if any(len(text) > MAX_OUTCOME for text in outcomes):
        raise FieldError(f"a desired outcome is at most {MAX_OUTCOME} characters", field="desired_outcomes")
    if len(set(outcomes)) != len(outcomes):
        raise FieldError("each desired outcome is listed once", field="desired_outcomes")
    return outcomes


def check_reason(reason: str | None, *, what: str, field: str = "reason") -> str:
    text = (reason or "").strip()
    if not text:
        raise FieldError(f"say why {what}", field=field)
    if len(text) > MAX_REASON:
        raise FieldError(f"a reason is at most {MAX_REASON:,} characters", field=field)
    return text


def check_new_referral(session: Session, *, person_id: int, provider_code: str, pathway: str, reason: str,
                       desired_outcomes: Sequence[str], on: dt.date, through: str | None = None) -> Provider:
    """Everything a new referral must satisfy, in the order a form is read; eligibility last,
    so a refusal lists every broken rule at once. ``through``: the domain making it, for a
    provider that takes referrals only through one (``Provider.through``)."""
    provider = directory().get(provider_code)
    if provider.through is not None and provider.through != through:
        raise FieldError(f"{provider.name} takes referrals only through the {provider.through.replace('_', ' ')} "
                         "domain, which checks its own criteria first", field="provider")
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person {person_id}")
    check_pathway(provider, pathway, sex=person.sex)
    check_reason(reason, what="this referral is made")
    clean_outcomes(desired_outcomes)
    check_eligible(session, person_id=person_id, provider=provider, on=on)
    return provider


# --- writing ------------------------------------------------------------------------------------

def snapshot(session: Session, referral: Referral) -> dict[str, Any]:
    """The referral as a revision keeps it (and a 409 shows it)."""
    data = {name: getattr(referral, name) for name in SNAPSHOT}
    data["sessions"] = [{"held_on": s.held_on.isoformat(), "attendance": s.attendance, "behaviour": s.behaviour}
                        for s in _sessions(session, referral.id)]
    data["outcomes"] = {o.desired_outcome: o.achievement for o in _outcomes(session, referral.id)}
    return data


def _bump(session: Session, referral: Referral, *, by: str, from_status: str | None, on: dt.date,
          reason: str | None = None) -> None:
    """One change written: the event row, the new version, and that version kept."""
    session.add(ReferralEvent(referral_id=referral.id, from_status=from_status, to_status=referral.status, on=on, by=by,
                              reason=reason))
    referral.updated_by = by
    referral.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    versioning.keep_revision(session=session, kind=KIND, record_id=referral.id, version=referral.version,
                             person_id=referral.person_id, data=snapshot(session, referral), by=by)
    session.flush()


def create_referral(session: Session, *, person_id: int, provider_code: str, pathway: str, reason: str,
                    desired_outcomes: Sequence[str], source: str, by: str, on: dt.date, send: bool = False,
                    through: str | None = None) -> Referral:
    """A draft (version 1), sent at once if ``send`` (version 2). Checked again here, so no
    caller can write an ineligible referral."""
    check_new_referral(session, person_id=person_id, provider_code=provider_code, pathway=pathway, reason=reason,
                       desired_outcomes=desired_outcomes, on=on, through=through)
    referral = Referral(person_id=person_id, provider_code=provider_code, pathway=pathway, source=source,
                        reason=reason.strip(), desired_outcomes=clean_outcomes(desired_outcomes), status="draft",
                        created_on=on, created_by=by, version=1, updated_by=by)
    session.add(referral)
    session.flush()
    _bump(session, referral, by=by, from_status=None, on=on)
    if send:
        check_change(session, referral, action="send", version=referral.version, on=on)
        apply_change(session, referral, action="send", based_on=referral.version, by=by, on=on)
    return referral


def get_referral(session: Session, referral_id: int, *, lock: bool = False) -> Referral:
    query = select(Referral).where(Referral.id == referral_id)
    if lock:
        query = query.with_for_update()
    referral = session.scalar(query.execution_options(populate_existing=True) if lock else query)
    if referral is None:
        raise NotFound(f"no referral #{referral_id}")
    return referral


def check_version(session: Session, referral: Referral, version: int | None) -> None:
    versioning.check_version(KIND, referral.id, expected=version, current=referral.version,
                             current_data=snapshot(session, referral), by=referral.updated_by)


def _last_change(session: Session, referral: Referral) -> dt.date:
    return session.scalar(select(func.max(ReferralEvent.on)).where(ReferralEvent.referral_id == referral.id)) \
        or referral.created_on


def check_change(session: Session, referral: Referral, *, action: str, version: int | None, on: dt.date,
                 reason: str | None = None, outcomes: dict[str, str] | None = None) -> str:
    """The status ``action`` leads to, if the version is current, the lifecycle allows it and
    what it needs is given; otherwise the refusal, in words."""
    check_version(session, referral, version)
    if action == "session":
        raise UserError("a session is not a status change: record it as a session")
    target = lifecycle.after(referral.status, action)
    last = _last_change(session, referral)
    if on < last:
        raise UserError(f"this referral last changed on {last.isoformat()}: a change cannot be dated before it "
                        f"(this one is dated {on.isoformat()})")
    if action == "cancel":
        check_reason(reason, what="the referral is cancelled")
    if action == "end":
        check_reason(reason, what="the referral ended early")
    if action == "complete" and not any(s.attendance in ATTENDED for s in _sessions(session, referral.id)):
        raise UserError("a referral is completed after at least one session attended: record its sessions first, "
                        "or end it early with a reason")
    if action in ("complete", "end"):
        check_outcomes(referral, outcomes or {})
    elif outcomes:
        raise FieldError("outcomes are recorded when a referral is completed or ended early", field="outcomes")
    return target


def check_outcomes(referral: Referral, outcomes: dict[str, str]) -> None:
    """One grade (achieved, partly, not) for each desired outcome, and none for any other."""
    desired = list(referral.desired_outcomes or [])
    unknown = [name for name in outcomes if name not in desired]
    if unknown:
        raise FieldError(f"{unknown[0]!r} is not one of this referral's desired outcomes"
                         + (f" ({'; '.join(desired)})" if desired else " (it has none)"), field="outcomes")
    missing = [name for name in desired if name not in outcomes]
    if missing:
        raise FieldError(f"say whether each desired outcome was achieved, partly achieved or not achieved: "
                         f"{'; '.join(missing)}", field="outcomes")
    bad = [grade for grade in outcomes.values() if grade not in ("achieved", "partly", "not")]
    if bad:
        raise FieldError(f"an outcome is achieved, partly or not, not {bad[0]!r}", field="outcomes")


def _claim(session: Session, referral: Referral, based_on: int) -> None:
    """Take the next version by a conditional update: of two writers who both passed the
    check, one wins and the other gets a ``StaleWrite``."""
    done = session.execute(update(Referral).where(Referral.id == referral.id, Referral.version == based_on)
                           .values(version=based_on + 1).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(referral)
        check_version(session, referral, based_on)
    referral.version = based_on + 1


def apply_change(session: Session, referral: Referral, *, action: str, based_on: int, by: str, on: dt.date,
                 reason: str | None = None, outcomes: dict[str, str] | None = None,
                 notes: dict[str, str] | None = None) -> Referral:
    """Write a change ``check_change`` allowed on version ``based_on``: the status, its date,
    the reason and outcomes."""
    _claim(session, referral, based_on)
    from_status = referral.status
    referral.status = lifecycle.after(from_status, action)
    setattr(referral, lifecycle.STAMPS[action], on)
    text = reason.strip() if reason and reason.strip() else None
    if action in ("cancel", "end"):
        referral.end_reason = text
    for desired, grade in (outcomes or {}).items():
        session.add(ReferralOutcome(referral_id=referral.id, desired_outcome=desired, achievement=grade,
                                    notes=(notes or {}).get(desired)))
    _bump(session, referral, by=by, from_status=from_status, on=on, reason=text)
    if referral.status in lifecycle.FINAL:
        for target in contributions("referral_followers"):
            resolve(target)(session, referral=referral, on=on, by=by)
    return referral


def check_session(session: Session, referral: Referral, *, version: int | None, held_on: dt.date, attendance: str,
                  behaviour: str | None, on: dt.date) -> None:
    check_version(session, referral, version)
    lifecycle.after(referral.status, "session")
    if attendance not in ("attended", "late", "did not attend"):
        raise FieldError(f"attendance is attended, late or did not attend, not {attendance!r}", field="attendance")
    if referral.started_on is not None and held_on < referral.started_on:
        raise FieldError(f"a session cannot be before the referral started ({referral.started_on.isoformat()})",
                         field="held_on")
    if held_on > on:
        raise FieldError(f"a session cannot be recorded for a day still to come (after {on.isoformat()})",
                         field="held_on")
    if behaviour and len(behaviour.strip()) > MAX_REASON:
        raise FieldError(f"behaviour notes are at most {MAX_REASON:,} characters", field="behaviour")


def add_session(session: Session, referral: Referral, *, based_on: int, held_on: dt.date, attendance: str,
                behaviour: str | None, by: str, on: dt.date) -> Referral:
    """A session with its attendance: the referral stays in progress, at a new version."""
    _claim(session, referral, based_on)
    session.add(ReferralSession(referral_id=referral.id, held_on=held_on, attendance=attendance,
                                behaviour=behaviour.strip() if behaviour and behaviour.strip() else None, recorded_by=by))
    _bump(session, referral, by=by, from_status=referral.status, on=on,
          reason=f"session on {held_on.isoformat()}: {attendance}")
    return referral


# --- reading ------------------------------------------------------------------------------------

def _sessions(session: Session, referral_id: int) -> list[ReferralSession]:
    return list(session.scalars(select(ReferralSession).where(ReferralSession.referral_id == referral_id)
                                .order_by(ReferralSession.held_on, ReferralSession.id)))


def _outcomes(session: Session, referral_id: int) -> list[ReferralOutcome]:
    return list(session.scalars(select(ReferralOutcome).where(ReferralOutcome.referral_id == referral_id)
                                .order_by(ReferralOutcome.id)))


def _names() -> dict[str, str]:
    """Provider and pathway codes → names (read once per listing: a rule file read is not free)."""
    return {**directory().names(), **{f"pathway:{p.code}": p.name for p in pathways().pathway}}


def referral_out(referral: Referral, *, pseudo_id: str, shows_text: bool, names: dict[str, str] | None = None) -> ReferralOut:
    names = names if names is not None else _names()
    return ReferralOut(
        id=referral.id, person_id=referral.person_id, pseudo_id=pseudo_id, provider_code=referral.provider_code,
        provider_name=names.get(referral.provider_code, referral.provider_code), pathway=referral.pathway,
        pathway_name=names.get(f"pathway:{referral.pathway}", referral.pathway),
        source=referral.source, status=referral.status,
        reason=referral.reason if shows_text else None,
        desired_outcomes=list(referral.desired_outcomes or []) if shows_text else None,
        created_on=referral.created_on, created_by=referral.created_by, sent_on=referral.sent_on,
        accepted_on=referral.accepted_on, started_on=referral.started_on, ended_on=referral.ended_on,
        end_reason=referral.end_reason if shows_text else None, version=referral.version,
        updated_by=referral.updated_by, allowed_actions=lifecycle.allowed(referral.status))


def referral_detail(session: Session, referral: Referral, *, shows_text: bool) -> ReferralDetail:
    person = session.get(Person, referral.person_id)
    events = session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == referral.id)
                             .order_by(ReferralEvent.id))
    base = referral_out(referral, pseudo_id=person.pseudo_id, shows_text=shows_text)
    return ReferralDetail(
        **base.model_dump(),
        events=[EventOut(from_status=e.from_status, to_status=e.to_status, on=e.on, by=e.by,
                         reason=e.reason if shows_text else None) for e in events],
        sessions=[SessionOut(id=s.id, held_on=s.held_on, attendance=s.attendance,
                             behaviour=s.behaviour if shows_text else None, recorded_by=s.recorded_by)
                  for s in _sessions(session, referral.id)],
        outcomes=[OutcomeOut(desired_outcome=o.desired_outcome if shows_text else None, achievement=o.achievement,
                             notes=o.notes if shows_text else None) for o in _outcomes(session, referral.id)])


def person_referrals(session: Session, *, person_id: int, shows_text: bool) -> list[ReferralOut]:
    """A person's referrals, newest first."""
    person = session.get(Person, person_id)
    names = _names()
    rows = session.scalars(select(Referral).where(Referral.person_id == person_id)
                           .order_by(Referral.created_on.desc(), Referral.id.desc()))
    return [referral_out(r, pseudo_id=person.pseudo_id, shows_text=shows_text, names=names) for r in rows]


def referrals_in_scope(session: Session, *, user: Principal, as_of: dt.date, person_id: int | None = None,
                       provider: str | None = None, status: str | None = None, page: int = 1,
                       per_page: int = 50) -> ReferralPage:
    """Referrals of people this user may see, newest first, a page at a time."""
    if status is not None and status not in lifecycle.STATUSES:
        raise FieldError(f"no status {status!r}: choose one of {', '.join(lifecycle.STATUSES)}", field="status")
    if provider is not None:
        directory().get(provider)
    query = select(Referral, Person.pseudo_id).join(Person, Person.id == Referral.person_id) \
        .where(scope.in_scope(user, as_of))
    if person_id is not None:
        query = query.where(Referral.person_id == person_id)
    if provider is not None:
        query = query.where(Referral.provider_code == provider)
    if status is not None:
        query = query.where(Referral.status == status)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = session.execute(query.order_by(Referral.created_on.desc(), Referral.id.desc())
                           .offset((page - 1) * per_page).limit(per_page)).all()
    names = _names()
    shows = not user.pseudonymised
    return ReferralPage(total=total, page=page, per_page=per_page,
                        items=[referral_out(r, pseudo_id=pseudo, shows_text=shows, names=names) for r, pseudo in rows])


def revisions(session: Session, *, referral_id: int) -> list[versioning.Revision]:
    return versioning.revisions(session=session, kind=KIND, record_id=referral_id)


# --- the case file's hooks ------------------------------------------------------------------

def for_record(ctx: RecordContext) -> list[ReferralOut]:
    """``RecordPart``: the person's referrals; free text hidden from pseudonymised readers."""
    return person_referrals(ctx.session, person_id=ctx.person_id, shows_text=not ctx.user.pseudonymised)


def timeline(ctx: RecordContext) -> list[TimelineEvent]:
    """``live_timeline``: each referral made, and each one ended (completed, ended early or
    cancelled). No free text."""
    names = directory().names()
    known = {p.code: p.name for p in pathways().pathway}
    events = []
    for r in _person_rows(ctx.session, ctx.person_id):
        to = names.get(r.provider_code, r.provider_code)
        events.append(TimelineEvent(on=r.created_on, kind="referral",
                                    text=f"Referral to {to} made ({known.get(r.pathway, r.pathway).lower()})"))
        if r.status in lifecycle.FINAL and r.ended_on is not None:
            events.append(TimelineEvent(on=r.ended_on, kind="referral", text=f"Referral to {to} {r.status}"))
    return events


def _person_rows(session: Session, person_id: int) -> list[Referral]:
    return list(session.scalars(select(Referral).where(Referral.person_id == person_id).order_by(Referral.id)))
