"""DASH, MARAC, SARA v3 / SAM, the pilot cohort and programme eligibility: read, checked,
written. Never commits; ``flows`` wraps each write in the audited access.

Checks are pure where they can be (``dash_band``, ``repeat_status``, ``missing_for_final``), so
the rules read the same in tests, pages, the API and the synthetic force."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from iom.db import fetch

from iom.dates import months_after, months_before
from iom.domestic_abuse import monthly
from iom.domestic_abuse.models import DaCohort, DaCohortMember, DashAssessment, MaracReferral, SpjAssessment
from iom.domestic_abuse.rules import (DashRules, Instrument, MaracRules, dash_rules, instrument, marac_rules, pick,
                                      programme_rules)
from iom.domestic_abuse.schemas import (MAX_REASON, DaPart, DashOut, Eligibility, MaracCheck, MaracOut, Party,
                                        PilotCohort, Rating, SpjOut)
from iom.errors import Conflict, FieldError
from iom.referrals.providers import directory
from iom.register.models import Crime, Offence, Person
from iom.security.roles import Principal

PILOT = "sara-sam-pilot"


def _not_after(on: dt.date, as_of: dt.date, what: str, field: str) -> None:
    if on > as_of:
        raise FieldError(f"{what} cannot be dated after {as_of} (the date the service works to): {on} is in the future",
                         field=field)


def _words(text: str | None, *, field: str, required: str | None = None) -> str | None:
    words = (text or "").strip() or None
    if words is None and required:
        raise FieldError(required, field=field)
    if words is not None and len(words) > MAX_REASON:
        raise FieldError(f"at most {MAX_REASON:,} characters", field=field)
    return words


def _person(session: Session, person_id: int | None, *, field: str, what: str) -> Person | None:
    if person_id is None:
        return None
    person = session.get(Person, person_id)
    if person is None:
        raise FieldError(f"no person with id {person_id} for the {what}", field=field)
    return person


def _pseudo(session: Session, person_id: int | None) -> str | None:
    return None if person_id is None else session.scalar(select(Person.pseudo_id).where(Person.id == person_id))


# --- DASH ----------------------------------------------------------------------------------------------

def dash_band(answers: dict[str, str], *, judgement_band: str | None, rules: DashRules) -> tuple[int, str, str]:
    """The yes-count, the band it gives, and the band in force: judgement may raise it, never
    lower it (a lowering is refused in words)."""
    known = {q.code for q in rules.questions}
    unknown = sorted(set(answers) - known)
    if unknown:
        raise FieldError(f"no DASH question {unknown[0]!r}: the questions are {', '.join(sorted(known))}",
                         field="dash-answers")
    bad = sorted(q for q, a in answers.items() if a not in ("yes", "no", "not_known"))
    if bad:
        raise FieldError(f"answer {bad[0]} with yes, no or not_known, not {answers[bad[0]]!r}", field="dash-answers")
    missing = [q.code for q in rules.questions if q.code not in answers]
    if missing:
        raise FieldError(f"answer every DASH question ({len(missing)} not answered: {', '.join(missing[:5])}"
                         f"{'…' if len(missing) > 5 else ''}); 'not_known' is an answer", field="dash-answers")
    yes = sum(a == "yes" for a in answers.values())
    by_count = rules.band_for(yes)
    if judgement_band is None:
        return yes, by_count, by_count
    judged = pick(rules.bands, judgement_band, what="the judgement band", field="dash-judgement")
    if rules.rank(judged) < rules.rank(by_count):
        raise FieldError(f"professional judgement may raise a DASH band, never lower it: {yes} 'yes' answers give "
                         f"{rules.label(by_count).lower()}, so {rules.label(judged).lower()} is refused",
                         field="dash-judgement")
    return yes, by_count, judged


def dash_out(session: Session, row: DashAssessment, user: Principal | None = None) -> DashOut:
    marac = marac_rules()
    return DashOut(id=row.id, victim_pseudo_id=_pseudo(session, row.victim_person_id) or "?",
                   perpetrator_pseudo_id=_pseudo(session, row.perpetrator_person_id), assessed_on=row.assessed_on,
                   relationship=row.relationship, answers=row.answers, yes_count=row.yes_count,
                   band_by_count=row.band_by_count, judgement_band=row.judgement_band,
                   judgement_reason=None if user is not None and user.pseudonymised else row.judgement_reason,
                   band=row.band, marac_eligible=row.yes_count >= marac.dash_high_yes or row.band == "high",
                   rules_version=row.rules_version, recorded_by=row.recorded_by)


def check_dash(session: Session, *, victim_id: int, perpetrator_id: int | None, assessed_on: dt.date, as_of: dt.date,
               relationship: str, answers: dict[str, str], judgement_band: str | None,
               judgement_reason: str | None) -> dict:
    rules = dash_rules()
    _person(session, victim_id, field="dash-victim", what="victim")
    _person(session, perpetrator_id, field="dash-perpetrator", what="perpetrator")
    if perpetrator_id is not None and perpetrator_id == victim_id:
        raise FieldError("the victim and the perpetrator are different people", field="dash-victim")
    _not_after(assessed_on, as_of, "a DASH", "dash-assessed-on")
    relation = pick(rules.relationships, relationship, what="the relationship", field="dash-relationship")
    judged = (judgement_band or "").strip().lower() or None
    yes, by_count, band = dash_band(answers, judgement_band=judged, rules=rules)
    if judged is not None and judged != by_count:
        reason = _words(judgement_reason, field="dash-judgement-reason",
                        required="say why professional judgement raises the band (the reason is kept with the DASH)")
    else:
        judged, reason = None, _words(judgement_reason, field="dash-judgement-reason")
    return {"victim_person_id": victim_id, "perpetrator_person_id": perpetrator_id, "assessed_on": assessed_on,
            "relationship": relation, "answers": dict(answers), "yes_count": yes, "band_by_count": by_count,
            "judgement_band": judged, "judgement_reason": reason, "band": band, "rules_version": rules.version}


def add_dash(session: Session, *, values: dict, by: str) -> DashAssessment:
    row = DashAssessment(recorded_by=by, recorded_at=dt.datetime.now(dt.UTC), **values)
    session.add(row)
    session.flush()
    return row


# --- MARAC ----------------------------------------------------------------------------------------------

def repeat_status(last_referral_on: dt.date | None, incident_on: dt.date, *, months: int) -> str:
    """"repeat" when the incident falls after the victim's last referral and within ``months``
    of it; otherwise "new"."""
    if last_referral_on is None or incident_on <= last_referral_on:
        return "new"
    return "repeat" if incident_on <= months_after(last_referral_on, months) else "new"


def da_incident_dates(session: Session, victim_id: int, *, since: dt.date, until: dt.date) -> list[dt.date]:
    """Dates of DA incidents against the victim recorded in [since, until]."""
    da = or_(Crime.domestic_abuse.is_(True), Offence.domestic_abuse.is_(True))
    return list(session.scalars(select(Crime.recorded_on).join(Offence, Offence.code == Crime.offence_code)
                                .where(Crime.victim_person_id == victim_id, da, Crime.recorded_on >= since,
                                       Crime.recorded_on <= until).order_by(Crime.recorded_on)))


def last_referral(session: Session, victim_id: int, *, before: dt.date) -> MaracReferral | None:
    return session.scalar(select(MaracReferral).where(MaracReferral.victim_person_id == victim_id,
                                                      MaracReferral.referred_on < before)
                          .order_by(MaracReferral.referred_on.desc(), MaracReferral.id.desc()).limit(1))


def latest_dash(session: Session, victim_id: int, *, on: dt.date, rules: MaracRules) -> DashAssessment | None:
    return session.scalar(select(DashAssessment).where(
        DashAssessment.victim_person_id == victim_id, DashAssessment.assessed_on <= on,
        DashAssessment.assessed_on >= on - dt.timedelta(days=rules.dash_valid_days))
        .order_by(DashAssessment.assessed_on.desc(), DashAssessment.id.desc()).limit(1))


def criteria_met(*, on: dt.date, dash_yes: int | None, dash_band: str | None, incident_dates: list[dt.date],
                 last_referral_on: dt.date | None, judgement: bool, rules: MaracRules) -> list[str]:
    """The MARAC criteria a case meets on ``on``, from its facts: the latest valid DASH, the
    dates of DA incidents against the victim up to ``on``, and the victim's last referral."""
    met = []
    if dash_yes is not None and (dash_yes >= rules.dash_high_yes or dash_band == "high"):
        met.append("dash_high")
    if judgement:
        met.append("professional_judgement")
    since = months_before(on, rules.escalation_months)
    if sum(since <= day <= on for day in incident_dates) >= rules.escalation_incidents:
        met.append("escalation")
    if last_referral_on is not None and any(
            repeat_status(last_referral_on, day, months=rules.repeat_months) == "repeat"
            for day in incident_dates if day <= on):
        met.append("repeat")
    return met


def marac_criteria(session: Session, *, victim_id: int, on: dt.date, dash: DashAssessment | None = None,
                   judgement: bool = False) -> MaracCheck:
    """The criteria the victim's case meets on ``on``: a high DASH, escalation, repeat (an
    incident since the last referral and within the repeat window), and judgement if given."""
    rules = marac_rules()
    words = rules.criteria_words()
    dash = dash or latest_dash(session, victim_id, on=on, rules=rules)
    previous = last_referral(session, victim_id, before=on)
    since = min(months_before(on, rules.escalation_months),
                previous.referred_on if previous else on)
    dates = da_incident_dates(session, victim_id, since=since, until=on)
    met = criteria_met(on=on, dash_yes=dash.yes_count if dash else None, dash_band=dash.band if dash else None,
                       incident_dates=dates, last_referral_on=previous.referred_on if previous else None,
                       judgement=judgement, rules=rules)
    escalation_since = months_before(on, rules.escalation_months)
    return MaracCheck(victim_pseudo_id=_pseudo(session, victim_id) or "?", on=on, criteria=met,
                      criteria_words=[words[c] for c in met],
                      incidents_in_escalation_window=sum(d >= escalation_since for d in dates),
                      latest_dash_yes=dash.yes_count if dash else None,
                      last_referral_on=previous.referred_on if previous else None, repeat="repeat" in met)


def check_marac(session: Session, *, victim_id: int, perpetrator_id: int | None, referred_on: dt.date, as_of: dt.date,
                referring_agency: str, judgement_reason: str | None, dash_id: int | None) -> dict:
    rules = marac_rules()
    _person(session, victim_id, field="marac-victim", what="victim")
    _person(session, perpetrator_id, field="marac-perpetrator", what="perpetrator")
    if perpetrator_id is not None and perpetrator_id == victim_id:
        raise FieldError("the victim and the perpetrator are different people", field="marac-victim")
    _not_after(referred_on, as_of, "a MARAC referral", "marac-referred-on")
    agency = rules.agency(referring_agency)
    dash = None
    if dash_id is not None:
        dash = session.get(DashAssessment, dash_id)
        if dash is None or dash.victim_person_id != victim_id:
            raise FieldError(f"DASH #{dash_id} is not one of this victim's", field="marac-dash")
        if dash.assessed_on > referred_on:
            raise FieldError(f"DASH #{dash_id} was completed after the referral date", field="marac-dash")
    dash = dash or latest_dash(session, victim_id, on=referred_on, rules=rules)
    reason = _words(judgement_reason, field="marac-reason")
    same_day = session.scalar(select(func.count()).select_from(MaracReferral).where(
        MaracReferral.victim_person_id == victim_id, MaracReferral.referred_on == referred_on))
    if same_day:
        raise FieldError(f"this victim was already referred to MARAC on {referred_on}", field="marac-referred-on")
    found = marac_criteria(session, victim_id=victim_id, on=referred_on, dash=dash, judgement=reason is not None)
    if not found.criteria:
        words = rules.criteria_words()
        raise FieldError("this case meets no MARAC criterion on " f"{referred_on}: " + "; ".join(
            f"not {words[c].split(':')[0]}" for c in ("dash_high", "escalation", "repeat"))
            + ". Refer on professional judgement by giving the reason", field="marac-reason")
    return {"victim_person_id": victim_id, "perpetrator_person_id": perpetrator_id, "referred_on": referred_on,
            "referring_agency": agency, "criteria": found.criteria, "judgement_reason": reason,
            "dash_id": dash.id if dash else None,
            "repeat": found.repeat, "rules_version": rules.version}


def add_marac(session: Session, *, values: dict, by: str) -> MaracReferral:
    row = MaracReferral(recorded_by=by, recorded_at=dt.datetime.now(dt.UTC), **values)
    session.add(row)
    session.flush()
    return row


def marac_out(session: Session, row: MaracReferral, user: Principal | None = None) -> MaracOut:
    words = marac_rules().criteria_words()
    return MaracOut(id=row.id, victim_pseudo_id=_pseudo(session, row.victim_person_id) or "?",
                    perpetrator_pseudo_id=_pseudo(session, row.perpetrator_person_id), referred_on=row.referred_on,
                    referring_agency=row.referring_agency, criteria=list(row.criteria),
                    criteria_words=[words.get(c, c) for c in row.criteria],
                    judgement_reason=None if user is not None and user.pseudonymised else row.judgement_reason,
                    dash_id=row.dash_id, repeat=row.repeat, rules_version=row.rules_version, recorded_by=row.recorded_by)


# --- SARA v3 and SAM ---------------------------------------------------------------------------------------

def _check_content(tool: Instrument, *, ratings: dict[str, Rating], judgements: dict[str, str], scenarios: list[str],
                   plan: dict[str, str]) -> dict:
    factors = {f.code for f in tool.factors}
    presence = {c.code for c in tool.presence}
    relevance = {c.code for c in tool.relevance}
    clean: dict[str, dict] = {}
    for code, rating in ratings.items():
        if code not in factors:
            raise FieldError(f"{tool.name} has no factor {code!r}", field="spj-ratings")
        for part, allowed in (("past", presence), ("recent", presence), ("relevance", relevance)):
            value = getattr(rating, part)
            if value is not None and value not in allowed:
                raise FieldError(f"{code} {part}: one of {', '.join(sorted(allowed))}, not {value!r}", field="spj-ratings")
        clean[code] = rating.model_dump(exclude_none=True)
    chosen: dict[str, str] = {}
    options = {j.code: [o.code for o in j.options] for j in tool.judgements}
    for code, value in judgements.items():
        if code not in options:
            raise FieldError(f"{tool.name} has no summary judgement {code!r} (it has {', '.join(options)})",
                             field="spj-judgements")
        if value:
            if value not in options[code]:
                raise FieldError(f"{code}: one of {', '.join(options[code])}, not {value!r}", field="spj-judgements")
            chosen[code] = value
    headings = {p.code for p in tool.plan}
    for code in plan:
        if code not in headings:
            raise FieldError(f"the management plan's headings are {', '.join(sorted(headings))}, not {code!r}",
                             field="spj-plan")
    return {"ratings": clean, "judgements": chosen,
            "scenarios": [s.strip() for s in scenarios if s and s.strip()],
            "plan": {k: v.strip() for k, v in plan.items() if v and v.strip()}}


def missing_for_final(tool: Instrument, *, judgements: dict[str, str]) -> list[str]:
    """What a record still needs before it can be finalised: every summary judgement."""
    return [f"summary judgement: {j.label}" for j in tool.judgements if not judgements.get(j.code)]


def spj_out(session: Session, row: SpjAssessment, user: Principal | None = None) -> SpjOut:
    tool = instrument(row.instrument)
    hidden = user is not None and user.pseudonymised
    return SpjOut(id=row.id, instrument=row.instrument, instrument_version=row.instrument_version,
                  victim_pseudo_id=_pseudo(session, row.victim_person_id), assessed_on=row.assessed_on,
                  status=row.status, ratings={k: Rating(**v) for k, v in row.ratings.items()},
                  judgements=dict(row.judgements), scenarios=[] if hidden else list(row.scenarios),
                  plan={} if hidden else dict(row.plan),
                  missing=missing_for_final(tool, judgements=row.judgements) if row.status == "draft" else [],
                  version=row.version, recorded_by=row.recorded_by, finalised_by=row.finalised_by)


def check_spj(session: Session, *, person_id: int, instrument_code: str, victim_id: int | None, assessed_on: dt.date,
              as_of: dt.date, ratings, judgements, scenarios, plan, finalise: bool) -> dict:
    tool = instrument(instrument_code, field="spj-instrument")
    _person(session, victim_id, field="spj-victim", what="victim")
    if victim_id is not None and victim_id == person_id:
        raise FieldError("the victim and the person assessed are different people", field="spj-victim")
    _not_after(assessed_on, as_of, f"a {tool.name} assessment", "spj-assessed-on")
    content = _check_content(tool, ratings=ratings, judgements=judgements, scenarios=scenarios, plan=plan)
    if finalise:
        _require_complete(tool, content["judgements"])
    return {"person_id": person_id, "victim_person_id": victim_id, "instrument": tool.code,
            "instrument_version": tool.version, "assessed_on": assessed_on, **content}


def _require_complete(tool: Instrument, judgements: dict[str, str]) -> None:
    missing = missing_for_final(tool, judgements=judgements)
    if missing:
        raise FieldError(f"a {tool.name} record cannot be finalised without all its summary judgements: "
                         f"{', '.join(m.split(': ', 1)[1] for m in missing)} not made", field="spj-judgements")


def add_spj(session: Session, *, values: dict, finalise: bool, by: str) -> SpjAssessment:
    now = dt.datetime.now(dt.UTC)
    row = SpjAssessment(recorded_by=by, recorded_at=now, status="final" if finalise else "draft",
                        finalised_by=by if finalise else None, finalised_at=now if finalise else None, version=1,
                        **values)
    session.add(row)
    session.flush()
    return row


def get_spj(session: Session, spj_id: int) -> SpjAssessment:
    return fetch(session, SpjAssessment, spj_id, what="SARA/SAM record")


def check_spj_update(session: Session, row: SpjAssessment, *, version: int | None, ratings, judgements, scenarios,
                     plan, finalise: bool) -> dict:
    """A draft's new content: the version the writer saw must be current; a final record is
    never changed (a new assessment is made instead)."""
    if row.status == "final":
        raise FieldError(f"{instrument(row.instrument).name} record #{row.id} is final: start a new assessment",
                         field="spj-judgements")
    if version is not None and version != row.version:
        raise Conflict(f"SARA/SAM record #{row.id} was changed since you opened it (now version {row.version}, by "
                       f"{row.recorded_by}): check it, then make your change again",
                       current=spj_out(session, row).model_dump(mode="json"))
    tool = instrument(row.instrument)
    merged = {**{k: Rating(**v) for k, v in row.ratings.items()}, **ratings}
    content = _check_content(tool, ratings=merged, judgements={**row.judgements, **judgements},
                             scenarios=scenarios if scenarios else row.scenarios, plan={**row.plan, **plan})
    if finalise:
        _require_complete(tool, content["judgements"])
    return content


def update_spj(session: Session, row: SpjAssessment, *, values: dict, finalise: bool, by: str) -> SpjAssessment:
    for key, value in values.items():
        setattr(row, key, value)
    row.version += 1
    row.recorded_by = by
    row.recorded_at = dt.datetime.now(dt.UTC)
    if finalise:
        row.status, row.finalised_by, row.finalised_at = "final", by, row.recorded_at
    session.flush()
    return row


# --- the pilot cohort ----------------------------------------------------------------------------------------

def pilot_members(session: Session, user: Principal, *, month: str | None, as_of: dt.date):
    """People both on the month's serial list and at MARAC (named as perpetrator in a referral
    in the lookback before the month), in the reader's scope."""
    found = monthly.monthly_list(session, user, month=month, as_of=as_of)
    members = [row for row in found.section("serial").rows if row.at_marac]
    return found, sorted(members, key=lambda r: r.pseudo_id)


def saved_cohort(session: Session, month: str) -> DaCohort | None:
    return session.scalar(select(DaCohort).where(DaCohort.name == PILOT, DaCohort.month == month))


def cohort_out(session: Session, cohort: DaCohort) -> PilotCohort:
    rows = session.execute(select(Person.id, Person.pseudo_id).join(DaCohortMember, DaCohortMember.person_id == Person.id)
                           .where(DaCohortMember.cohort_id == cohort.id).order_by(Person.pseudo_id)).all()
    return PilotCohort(id=cohort.id, month=cohort.month, window_start=cohort.window_start,
                       window_end=cohort.window_end, rules_version=cohort.rules_version, size=len(rows),
                       person_ids=[r[0] for r in rows], pseudo_ids=[r[1] for r in rows], made_by=cohort.made_by,
                       made_at=cohort.made_at)


def check_cohort_unsaved(session: Session, month: str) -> None:
    """A month's pilot cohort is saved once and kept as it was."""
    existing = saved_cohort(session, month)
    if existing is not None:
        raise Conflict(f"the pilot cohort for {month} was saved on {existing.made_at:%Y-%m-%d} by "
                       f"{existing.made_by} (#{existing.id}): a saved cohort is kept as it was",
                       current=cohort_out(session, existing).model_dump(mode="json"))


def save_cohort(session: Session, *, found, members, by: str, at: dt.datetime | None = None) -> PilotCohort:
    """Keep the cohort as it is now (``at``: when it was saved; default now)."""
    check_cohort_unsaved(session, found.month)
    cohort = DaCohort(name=PILOT, month=found.month, window_start=found.window_start, window_end=found.window_end,
                      rules_version=found.rules_version, made_by=by, made_at=at or dt.datetime.now(dt.UTC))
    session.add(cohort)
    session.flush()
    session.add_all(DaCohortMember(cohort_id=cohort.id, person_id=row.person_id) for row in members)
    session.flush()
    return cohort_out(session, cohort)


# --- programme eligibility ------------------------------------------------------------------------------------

def da_risk(session: Session, person_id: int, *, on: dt.date) -> tuple[str | None, str | None, str]:
    """A perpetrator's DA risk band on ``on``, the relationship of that DASH, and why: the latest
    DASH naming them in the lookback; a MARAC referral naming them then counts as high."""
    rules = programme_rules()
    since = months_before(on, rules.risk_lookback_months)
    dash = session.scalar(select(DashAssessment).where(
        DashAssessment.perpetrator_person_id == person_id, DashAssessment.assessed_on <= on,
        DashAssessment.assessed_on >= since).order_by(DashAssessment.assessed_on.desc(), DashAssessment.id.desc()).limit(1))
    if rules.marac_counts_as_high:
        referral = session.scalar(select(MaracReferral.referred_on).where(
            MaracReferral.perpetrator_person_id == person_id, MaracReferral.referred_on <= on,
            MaracReferral.referred_on >= since).order_by(MaracReferral.referred_on.desc()).limit(1))
        if referral is not None:
            return "high", dash.relationship if dash else None, f"referred to MARAC on {referral}"
    if dash is None:
        return None, None, f"no DASH names them as perpetrator in the {rules.risk_lookback_months} months to {on}"
    return dash.band, dash.relationship, f"DASH #{dash.id} of {dash.assessed_on}: {dash.band}"


def eligibility(session: Session, person_id: int, *, on: dt.date) -> list[Eligibility]:
    """Each programme's DA criteria for this perpetrator, with every unmet one in words. The
    provider's own rules (age, area) are checked when the referral is made."""
    rules = programme_rules()
    band, relationship, why = da_risk(session, person_id, on=on)
    out = []
    for p in rules.programme:
        reasons = []
        if band is None:
            reasons.append(f"{p.name} needs a DA risk of {' or '.join(p.risk_bands)}: {why}")
        elif band not in p.risk_bands:
            reasons.append(f"{p.name} takes {' or '.join(p.risk_bands)} risk; this perpetrator's is {band} ({why})")
        if p.relationships and band is not None and relationship not in p.relationships:
            labels = {r.code: r.label.lower() for r in dash_rules().relationships}
            reasons.append(f"{p.name} takes {' or '.join(labels.get(r, r) for r in p.relationships)} abuse; the "
                           f"latest DASH records {labels.get(relationship, 'no relationship')}")
        through = directory().get(p.provider).through
        out.append(Eligibility(programme=p.code, name=p.name, eligible=not reasons, reasons=reasons, risk_band=band,
                               referred_through=through if through != "domestic_abuse" else None))
    return out


# --- one person's DA part --------------------------------------------------------------------------------------

def parties(session: Session, person_id: int, *, since: dt.date, until: dt.date, as_victim: bool) -> list[Party]:
    """The other side of this person's DA incidents in [since, until]."""
    da = or_(Crime.domestic_abuse.is_(True), Offence.domestic_abuse.is_(True))
    mine, theirs = ((Crime.victim_person_id, Crime.person_id) if as_victim else (Crime.person_id, Crime.victim_person_id))
    rows = session.execute(select(theirs, Person.pseudo_id, func.count(), func.max(Crime.recorded_on))
                           .join(Offence, Offence.code == Crime.offence_code).join(Person, Person.id == theirs)
                           .where(mine == person_id, da, Crime.recorded_on >= since, Crime.recorded_on <= until)
                           .group_by(theirs, Person.pseudo_id).order_by(func.max(Crime.recorded_on).desc()))
    return [Party(person_id=pid, pseudo_id=pseudo, incidents=n, latest_on=latest) for pid, pseudo, n, latest in rows]


def _count_da(session: Session, person_id: int, *, since: dt.date, until: dt.date, as_victim: bool) -> int:
    da = or_(Crime.domestic_abuse.is_(True), Offence.domestic_abuse.is_(True))
    who = Crime.victim_person_id if as_victim else Crime.person_id
    return session.scalar(select(func.count()).select_from(Crime).join(Offence, Offence.code == Crime.offence_code)
                          .where(who == person_id, da, Crime.recorded_on >= since, Crime.recorded_on <= until)) or 0


def part(session: Session, user: Principal, person_id: int, *, as_of: dt.date) -> DaPart:
    since = months_before(as_of, 12)
    either = lambda model, a, b: or_(getattr(model, a) == person_id, getattr(model, b) == person_id)  # noqa: E731
    dashes = session.scalars(select(DashAssessment).where(either(DashAssessment, "victim_person_id",
                                                                 "perpetrator_person_id"),
                                                          DashAssessment.assessed_on <= as_of)
                             .order_by(DashAssessment.assessed_on.desc(), DashAssessment.id.desc()))
    referrals = session.scalars(select(MaracReferral).where(either(MaracReferral, "victim_person_id",
                                                                   "perpetrator_person_id"),
                                                            MaracReferral.referred_on <= as_of)
                                .order_by(MaracReferral.referred_on.desc(), MaracReferral.id.desc()))
    spjs = session.scalars(select(SpjAssessment).where(SpjAssessment.person_id == person_id,
                                                       SpjAssessment.assessed_on <= as_of)
                           .order_by(SpjAssessment.assessed_on.desc(), SpjAssessment.id.desc()))
    month_start = as_of.replace(day=1)
    return DaPart(
        as_of=as_of,
        incidents_as_perpetrator=_count_da(session, person_id, since=since, until=as_of, as_victim=False),
        incidents_as_victim=_count_da(session, person_id, since=since, until=as_of, as_victim=True),
        victims=parties(session, person_id, since=since, until=as_of, as_victim=False),
        perpetrators=parties(session, person_id, since=since, until=as_of, as_victim=True),
        on_list=monthly.person_sections(session, person_id, month_start=month_start), list_month=f"{month_start:%Y-%m}",
        dash=[dash_out(session, r, user) for r in dashes], marac=[marac_out(session, r, user) for r in referrals],
        spj=[spj_out(session, r, user) for r in spjs], eligibility=eligibility(session, person_id, on=as_of))

