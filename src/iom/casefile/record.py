"""The case file's read model: caseload, the person record with its timeline, the unit
dashboard.

Every person read starts from ``iom.security.scope`` (one place for scoping); the audited
access (``iom.casefile.access``) is the only caller, and appends the audit event. Analysts get
pseudonymised views: no name, no date of birth."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from iom.casefile import schemas
from iom.cohorts import current_state
from iom.cohorts.models import (CohortMembership, ManagementRecord, PersonCurrentState, RiskLevelRecord,
                                 RiskReview)
from iom.cohorts.rules import next_review_due
from iom.cohorts.service import active_memberships
from iom.dates import month_starts, months_before
from iom.errors import UserError
from iom.register import labels
from iom.register.labels import crime_status
from iom.register.models import Crime, Offence, Person, VulnerabilityMarker
from iom.security import scope
from iom.security.roles import Principal

RISK_ORDER = {"High": 0, "Medium": 1, "Low": 2}
#: Offence groups hidden from non-specialists on a restricted (MAPPA / SOM) record.
RESTRICTED_OFFENCE_WORDS = ("sexual", "rape")
DA_LOOKBACK_DAYS = 3 * 365
MAX_PER_PAGE = 200


def _display_name(person: Person, user: Principal) -> str | None:
    return None if user.pseudonymised else f"{person.given_name} {person.family_name}"


def _next_review(level: str | None, since: dt.date | None, reviewed_on: dt.date | None,
                 next_due: dt.date | None) -> dt.date | None:
    """The last risk review's due date, unless the risk level was decided after that review:
    then the configured interval from the decision (``iom.cohorts.rules``)."""
    if reviewed_on is not None and (since is None or reviewed_on >= since):
        return next_due
    return next_review_due(level, since)


def _key_review(key) -> dt.date | None:
    return _next_review(key.level, key.effective_from, key.reviewed_on, key.next_due)


def last_reviews(as_of: dt.date):
    """Per person, the latest risk review on or before ``as_of``: its date and next due date."""
    newest = (select(RiskReview.person_id, func.max(RiskReview.reviewed_on).label("reviewed_on"))
              .where(RiskReview.reviewed_on <= as_of).group_by(RiskReview.person_id).subquery())
    return (select(RiskReview.person_id, newest.c.reviewed_on, func.max(RiskReview.next_due).label("next_due"))
            .join(newest, and_(newest.c.person_id == RiskReview.person_id, newest.c.reviewed_on == RiskReview.reviewed_on))
            .group_by(RiskReview.person_id, newest.c.reviewed_on))


def _flags(session: Session, person_ids: list[int], as_of: dt.date) -> dict[int, list[str]]:
    flags: dict[int, set[str]] = defaultdict(set)
    if not person_ids:
        return {}
    since = as_of - dt.timedelta(days=DA_LOOKBACK_DAYS)
    for pid in session.scalars(
        select(Crime.person_id).where(
            Crime.person_id.in_(person_ids), Crime.domestic_abuse.is_(True),
            Crime.committed_on > since, Crime.committed_on <= as_of,
        ).distinct()
    ):
        flags[pid].add("domestic abuse (3 y)")
    for pid in session.scalars(
        select(VulnerabilityMarker.person_id).where(
            VulnerabilityMarker.person_id.in_(person_ids), VulnerabilityMarker.started_on <= as_of,
            (VulnerabilityMarker.ended_on.is_(None)) | (VulnerabilityMarker.ended_on > as_of),
        ).distinct()
    ):
        flags[pid].add("vulnerability marker")
    for pid in session.scalars(select(Person.id).where(Person.id.in_(person_ids), Person.interpreter_needed.is_(True))):
        flags[pid].add("interpreter")
    return {pid: sorted(values) for pid, values in flags.items()}


def classification_choices(user: Principal) -> list[tuple[str, str]]:
    """The classifications a reader may filter by: restricted cohorts only for specialists."""
    return [(code, name) for code, name in labels.choices("classification")
            if scope.shows_restricted(user) or code not in scope.RESTRICTED_CLASSIFICATIONS]


#: Flags a caseload can be filtered by (``_flags``, and restricted records).
FLAGS = ("domestic abuse (3 y)", "vulnerability marker", "interpreter", "restricted")

#: Caseload orders: each a key over (person, risk level, risk since).
SORTS = ("risk", "name", "pseudonym", "next_review")


def _matches(text: str, user: Principal):
    """Id, pseudonym, or (not for pseudonymised readers: no oracle on names) part of a name."""
    found = [func.upper(Person.pseudo_id) == text.upper()]
    if text.isdigit() and len(text) < 10:
        found.append(Person.id == int(text))
    if not user.pseudonymised:
        like = f"%{text.lower().replace('%', '').replace('_', '')}%"
        found.append(func.lower(Person.family_name + " " + Person.given_name).like(like))
        found.append(func.lower(Person.given_name + " " + Person.family_name).like(like))
    return or_(*found)


def _sort_key(sort: str, user: Principal):
    risk = lambda k: RISK_ORDER.get(k.level, len(RISK_ORDER))  # noqa: E731
    name = (lambda k: (k.pseudo_id,)) if user.pseudonymised else (lambda k: (k.family_name, k.given_name, k.id))  # noqa: E731
    review = lambda k: _key_review(k) or dt.date.max  # noqa: E731
    return {
        "risk": lambda k: (risk(k), *name(k)),
        "name": name,
        "pseudonym": lambda k: (k.pseudo_id,),
        "next_review": lambda k: (review(k), risk(k), *name(k)),
    }[sort]


#: What needs attention, in the order it is shown (``attention``).
NEEDS = {
    "overdue": "Reviews overdue",
    "due_this_week": "Reviews due in the next 7 days",
    "new_this_month": "Adopted this month",
    "risk_changed": "Risk level changed in the last 28 days",
}
RISK_CHANGE_DAYS = 28
DUE_SOON_DAYS = 7


def _member_keys(session: Session, user: Principal, *, as_of: dt.date, risk=None, classification=None, npu=None,
                 q=None, mine: bool = False, officer=None) -> list:
    """One row per current cohort member in scope (the filters applied): ids and names, the
    latest risk level and its date, the managing LOMU and the latest adoption. ``mine``: only
    the people whose current management record names the user's own officer.

    Read from the current-state table when it holds for ``as_of`` (``current_state.holds``),
    else from the histories: the same rows either way (tests/cohorts/test_current_state.py)."""
    if mine and not user.officer:
        raise UserError("your account is not linked to an officer, so you have no own caseload: ask an "
                        "administrator to link it (`iom users link`)")
    code = None
    if classification:
        code = classification.strip().upper()
        if code in scope.RESTRICTED_CLASSIFICATIONS and not scope.shows_restricted(user):
            # Who is in a restricted cohort is itself restricted: no filter may tell.
            raise UserError(f"no classification {classification!r} to filter by")
    kept = current_state.holds(session, as_of)
    query, level, officer_of = (_keys_from_state if kept else _keys_from_histories)(user, as_of, code)
    if risk:
        query = query.where(level == risk)
    if npu:
        query = query.where(func.upper(Person.home_npu) == npu.strip().upper())
    if q and q.strip():
        query = query.where(_matches(q.strip(), user))
    if mine:
        query = query.where(officer_of == user.officer)
    if officer and officer.strip() and not user.pseudonymised:
        query = query.where(func.lower(officer_of) == officer.strip().lower())
    return session.execute(query).all()


def _adoptions(as_of: dt.date, code: str | None):
    """Per current member (of ``code``'s cohort, if given), their latest current adoption."""
    members = active_memberships(as_of)
    if code:
        members = members.where(func.upper(CohortMembership.classification_code) == code)
    members = members.subquery()
    return (select(members.c.person_id, func.max(members.c.adopted_on).label("adopted_on"))
            .group_by(members.c.person_id).subquery())


def _keys_from_state(user: Principal, as_of: dt.date, code: str | None):
    """The caseload's keys as one read of ``person_current_state`` (by its LOMU index) and
    ``people``; a classification filter adds that cohort's current memberships."""
    state = PersonCurrentState.__table__
    adopted = _adoptions(as_of, code) if code else None
    query = (
        select(Person.id, Person.pseudo_id, Person.family_name, Person.given_name,
               state.c.risk_level.label("level"), state.c.risk_since.label("effective_from"), state.c.lomu_code,
               (state.c.adopted_on if adopted is None else adopted.c.adopted_on).label("adopted_on"),
               state.c.reviewed_on, state.c.review_due.label("next_due"))
        .join(state, state.c.person_id == Person.id)
        .where(state.c.classifications > 0, scope.in_scope(user, as_of, managed=state))
    )
    if adopted is not None:
        query = query.join(adopted, adopted.c.person_id == Person.id)
    return query, state.c.risk_level, state.c.officer


def _keys_from_histories(user: Principal, as_of: dt.date, code: str | None):
    """The caseload's keys from the histories: the newest risk and management row per person
    and the current memberships, on any date."""
    adopted = _adoptions(as_of, code)
    latest_risk = scope.latest(RiskLevelRecord, as_of, RiskLevelRecord.level, RiskLevelRecord.effective_from).subquery()
    latest_mgmt = scope.latest(ManagementRecord, as_of, ManagementRecord.lomu_code, ManagementRecord.officer).subquery()
    review = last_reviews(as_of).subquery()
    query = (
        select(Person.id, Person.pseudo_id, Person.family_name, Person.given_name,
               latest_risk.c.level, latest_risk.c.effective_from, latest_mgmt.c.lomu_code, adopted.c.adopted_on,
               review.c.reviewed_on, review.c.next_due)
        .join(adopted, adopted.c.person_id == Person.id)
        .where(scope.in_scope(user, as_of, managed=latest_mgmt))
        .outerjoin(latest_risk, latest_risk.c.person_id == Person.id)
        .outerjoin(latest_mgmt, latest_mgmt.c.person_id == Person.id)
        .outerjoin(review, review.c.person_id == Person.id)
    )
    return query, latest_risk.c.level, latest_mgmt.c.officer


def _needs(key, as_of: dt.date) -> set[str]:
    found = set()
    due = _key_review(key)
    if due is not None and due < as_of:
        found.add("overdue")
    elif due is not None and due <= as_of + dt.timedelta(days=DUE_SOON_DAYS):
        found.add("due_this_week")
    if key.adopted_on is not None and key.adopted_on >= as_of.replace(day=1):
        found.add("new_this_month")
    if key.effective_from is not None and key.effective_from > as_of - dt.timedelta(days=RISK_CHANGE_DAYS):
        found.add("risk_changed")
    return found


def attention(session: Session, user: Principal, *, as_of: dt.date, mine: bool = False) -> list[schemas.AttentionItem]:
    """How many current members in scope (``mine``: in the user's own caseload) need each kind
    of attention, each a link to them."""
    counts = dict.fromkeys(NEEDS, 0)
    for key in _member_keys(session, user, as_of=as_of, mine=mine):
        for need in _needs(key, as_of):
            counts[need] += 1
    view = "mine" if mine else "unit"
    return [schemas.AttentionItem(key=need, label=label, count=counts[need], href=f"/caseload?need={need}&view={view}",
                                  severity="overdue" if need == "overdue" else "info")
            for need, label in NEEDS.items()]


def caseload(session: Session, user: Principal, *, as_of: dt.date, page: int = 1, per_page: int = 50,
             **filters) -> schemas.CaseloadPage:
    """Current cohort members in the user's scope, one page at a time (``caseload_keys`` for
    the filters and the order, ``caseload_page`` for the page)."""
    keys = caseload_keys(session, user, as_of=as_of, **filters)
    return caseload_page(session, user, keys, as_of=as_of, page=page, per_page=per_page)


def caseload_keys(
    session: Session,
    user: Principal,
    *,
    as_of: dt.date,
    risk: str | None = None,
    classification: str | None = None,
    npu: str | None = None,
    q: str | None = None,
    need: str | None = None,
    mine: bool = False,
    officer: str | None = None,
    flag: str | None = None,
    sort: str = "risk",
) -> list:
    """Every current cohort member in the user's scope that the filters pick, in the caseload's
    order: highest risk first, or by name, pseudonym or next review (``SORTS``). ``q`` finds a
    person by id, pseudonym or (for readers who see names) part of a name; codes are matched
    whatever their case. Every page of one listing slices this one list, so it is built once."""
    if risk is not None and risk not in RISK_ORDER:
        raise UserError(f"risk must be one of {', '.join(RISK_ORDER)}")
    if sort not in SORTS:
        raise UserError(f"sort must be one of {', '.join(SORTS)}")
    if need is not None and need not in NEEDS:
        raise UserError(f"need must be one of {', '.join(NEEDS)}")
    if flag is not None and flag not in FLAGS:
        raise UserError(f"flag must be one of {', '.join(FLAGS)}")
    keys = _member_keys(session, user, as_of=as_of, risk=risk, classification=classification, npu=npu, q=q, mine=mine,
                        officer=officer)
    if need is not None:
        keys = [k for k in keys if need in _needs(k, as_of)]
    if flag is not None:
        flagged = _flags(session, [k.id for k in keys], as_of)
        restricted = scope.restricted_among(session, [k.id for k in keys], as_of) if flag == "restricted" else set()
        keys = [k for k in keys if flag in flagged.get(k.id, []) or k.id in restricted]
    keys.sort(key=_sort_key(sort, user))
    return keys


def caseload_page(session: Session, user: Principal, keys: list, *, as_of: dt.date, page: int,
                  per_page: int) -> schemas.CaseloadPage:
    """One page of ``caseload_keys``'s list, with each row's cohorts and flags."""
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise UserError(f"page must be >= 1 and per_page between 1 and {MAX_PER_PAGE}")
    total = len(keys)
    window = keys[(page - 1) * per_page: page * per_page]
    loaded = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_([k.id for k in window])))} if window else {}
    rows = [(loaded[k.id], k.level, k.effective_from, k.lomu_code, _key_review(k)) for k in window]
    ids = [row[0].id for row in rows]
    classes: dict[int, list[str]] = defaultdict(list)
    if ids:
        active = active_memberships(as_of).where(CohortMembership.person_id.in_(ids)).subquery()
        for pid, code in session.execute(
            select(active.c.person_id, active.c.classification_code).order_by(active.c.classification_code)
        ):
            if code not in classes[pid]:
                classes[pid].append(code)
    flags = _flags(session, ids, as_of)
    restricted = scope.restricted_among(session, ids, as_of)  # the record's rule: MAPPA or SOM
    restricted_hidden = not scope.shows_restricted(user)
    items = []
    for person, level, since, lomu, due in rows:
        person_classes = classes.get(person.id, [])
        person_flags = list(flags.get(person.id, []))
        if person.id in restricted:
            person_flags.append("restricted")
        if any(c in scope.RESTRICTED_CLASSIFICATIONS for c in person_classes):
            if restricted_hidden:
                person_classes = [c if c not in scope.RESTRICTED_CLASSIFICATIONS else "restricted" for c in person_classes]
        items.append(
            schemas.CaseloadRow(
                id=person.id,
                pseudo_id=person.pseudo_id,
                name=_display_name(person, user),
                date_of_birth=None if user.pseudonymised else person.date_of_birth,
                home_npu=person.home_npu,
                lomu_code=lomu,
                classifications=person_classes,
                risk=level,
                risk_since=since,
                next_review=due,
                overdue=due is not None and due < as_of,
                flags=sorted(person_flags),
            )
        )
    return schemas.CaseloadPage(as_of=as_of, total=total, page=page, per_page=per_page, items=items)


def _restricted_offence(offence_group: str) -> bool:
    lowered = offence_group.lower()
    return any(word in lowered for word in RESTRICTED_OFFENCE_WORDS)


def _person_next_review(session: Session, person_id: int, current_risk, as_of: dt.date) -> dt.date | None:
    last = session.execute(last_reviews(as_of).where(RiskReview.person_id == person_id)).first()
    return _next_review(current_risk.level if current_risk else None,
                        current_risk.effective_from if current_risk else None,
                        last.reviewed_on if last else None, last.next_due if last else None)


def person_record(session: Session, user: Principal, person: Person, *, as_of: dt.date, restricted: bool,
                  hide: bool) -> schemas.PersonRecord:
    """The register's part of the record of a person scope has let through, with its dated
    timeline (crimes, cohorts, management, risk); domains' parts are added by the access."""
    pseudo_ids = {}
    crimes = session.execute(
        select(Crime, Offence.description, Offence.offence_group)
        .join(Offence, Offence.code == Crime.offence_code)
        .where(Crime.person_id == person.id, Crime.committed_on <= as_of)
        .order_by(Crime.committed_on.desc(), Crime.id.desc())
    ).all()
    victim_ids = {c.victim_person_id for c, _, _ in crimes if c.victim_person_id}
    if victim_ids:
        pseudo_ids = dict(session.execute(select(Person.id, Person.pseudo_id).where(Person.id.in_(victim_ids))).all())
    timeline: list[schemas.TimelineEvent] = []
    for crime, description, group in crimes:
        if hide and _restricted_offence(group):
            text = f"Restricted offence ({crime_status(crime.involvement, crime.outcome)})"
        else:
            marks = [m for m, on in (("DA", crime.domestic_abuse), ("alcohol", crime.alcohol_related), ("hate", crime.hate)) if on]
            victim = ""
            if crime.victim_person_id and not hide:
                victim = f"; victim {pseudo_ids.get(crime.victim_person_id, '?')}"
            text = (
                f"{description} ({crime_status(crime.involvement, crime.outcome)}, NPU {crime.npu_code})"
                + (f" [{', '.join(marks)}]" if marks else "")
                + victim
            )
        timeline.append(schemas.TimelineEvent(on=crime.committed_on, kind="crime", text=text))
    memberships = session.scalars(
        select(CohortMembership).where(CohortMembership.person_id == person.id, CohortMembership.adopted_on <= as_of)
    ).all()
    current_classes = []
    # Reasons are free text: not for readers of restricted-hidden records, nor for pseudonymised ones.
    words = not hide and not user.pseudonymised
    for m in memberships:
        code = m.classification_code
        label = "restricted cohort" if hide and code in scope.RESTRICTED_CLASSIFICATIONS else code
        timeline.append(schemas.TimelineEvent(on=m.adopted_on, kind="cohort", text=f"Adopted to {label}" + (f": {m.adoption_reason}" if m.adoption_reason and words else "")))
        if m.exited_on and m.exited_on <= as_of:
            timeline.append(schemas.TimelineEvent(on=m.exited_on, kind="cohort", text=f"Exited {label}" + (f": {m.exit_reason}" if m.exit_reason and words else "")))
        elif label not in current_classes:
            current_classes.append(label)
    risks = session.scalars(
        select(RiskLevelRecord).where(RiskLevelRecord.person_id == person.id, RiskLevelRecord.effective_from <= as_of)
        .order_by(RiskLevelRecord.effective_from.desc(), RiskLevelRecord.id.desc())
    ).all()
    risk_history = [
        schemas.TimelineEvent(on=r.effective_from, kind="risk", text=r.level + (f": {r.reason}" if r.reason and words else ""))
        for r in risks
    ]
    managements = session.scalars(
        select(ManagementRecord).where(ManagementRecord.person_id == person.id, ManagementRecord.effective_from <= as_of)
        .order_by(ManagementRecord.effective_from.desc(), ManagementRecord.id.desc())
    ).all()
    for r in managements:
        timeline.append(schemas.TimelineEvent(on=r.effective_from, kind="management", text=f"{r.offender_type}, {r.lead_agency}, LOMU {r.lomu_code}"))
    timeline.extend(risk_history)
    timeline.sort(key=lambda e: e.on, reverse=True)
    current_mgmt = managements[0] if managements else None
    current_risk = risks[0] if risks else None
    flags = _flags(session, [person.id], as_of).get(person.id, [])
    if restricted:
        flags = sorted([*flags, "restricted"])
    return schemas.PersonRecord(
        id=person.id,
        pseudo_id=person.pseudo_id,
        name=_display_name(person, user),
        date_of_birth=None if user.pseudonymised else person.date_of_birth,
        sex=person.sex,
        ethnicity=person.ethnicity,
        home_npu=person.home_npu,
        restricted=restricted,
        restricted_hidden=hide,
        offender_type=current_mgmt.offender_type if current_mgmt else None,
        lead_agency=current_mgmt.lead_agency if current_mgmt else None,
        lomu_code=current_mgmt.lomu_code if current_mgmt else None,
        officer=None if user.pseudonymised or current_mgmt is None else current_mgmt.officer,
        risk=current_risk.level if current_risk else None,
        next_review=_person_next_review(session, person.id, current_risk, as_of),
        classifications=current_classes,
        flags=flags,
        timeline=timeline,
        risk_history=risk_history,
        as_of=as_of,
    )


def dashboard(session: Session, user: Principal, *, as_of: dt.date, months: int = 24) -> schemas.Dashboard:
    """Cohort sizes, risk split and monthly recorded crimes of current members, in scope."""
    in_scope = scope.people_query(user, as_of).with_only_columns(Person.id).subquery()
    members = active_memberships(as_of).where(CohortMembership.person_id.in_(select(in_scope.c.id))).subquery()
    sizes = dict(
        session.execute(
            select(members.c.classification_code, func.count(func.distinct(members.c.person_id)))
            .group_by(members.c.classification_code).order_by(members.c.classification_code)
        ).all()
    )
    if not scope.shows_restricted(user):
        hidden = sum(sizes.pop(c, 0) for c in scope.RESTRICTED_CLASSIFICATIONS)
        if hidden:
            sizes["restricted"] = hidden
    member_ids = select(members.c.person_id).distinct()
    latest_risk = scope.latest(RiskLevelRecord, as_of, RiskLevelRecord.level).where(RiskLevelRecord.person_id.in_(member_ids)).subquery()
    split = {level: 0 for level in RISK_ORDER}
    split.update(dict(session.execute(select(latest_risk.c.level, func.count()).group_by(latest_risk.c.level)).all()))
    start = months_before(as_of.replace(day=1), months - 1)
    crime_rows = session.execute(
        select(Crime.committed_on).where(
            Crime.person_id.in_(member_ids), Crime.committed_on >= start, Crime.committed_on <= as_of
        )
    ).scalars()
    counts: dict[str, int] = defaultdict(int)
    for on in crime_rows:
        counts[on.strftime("%Y-%m")] += 1
    trend = [(key, counts.get(key, 0)) for key in (m.strftime("%Y-%m") for m in month_starts(start, as_of))]
    unit = user.lomu_code if scope.is_lomu_scoped(user) else "force"
    return schemas.Dashboard(as_of=as_of, unit=unit or "none", cohort_sizes=sizes, risk_split=split, reoffending_trend=trend)
