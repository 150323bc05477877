"""Courses: eligibility of a referral (the index offence, the DA criteria, the language, the
course's dates), the referral made through the referral lifecycle, completion by course and
period (Table C), places and waiting, and the cases an evaluation reads: follow-up outcomes
counted one way for the synthetic force and the evaluation alike. Keyword-only; never
commits (the request or command does)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from statistics import median

import pandas as pd
from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session
from statsmodels.stats.proportion import proportion_confint

from iom.courses import schemas
from iom.courses.models import CourseControl, CourseReferral, TrialAllocation
from iom.courses.rules import Catalogue, Course, catalogue
from iom.dates import months_after
from iom.diversion import service as diversion
from iom.domestic_abuse import service as domestic_abuse
from iom.errors import FieldError, NotFound, UserError
from iom.formatting import percent
from iom.randomisation import block_allocations, entry_hash
from iom.referrals import service as referrals
from iom.referrals.models import Referral
from iom.register.models import Crime, Offence
from iom.warehouse import follow_up

VIOLENCE = "Violence against the person"
#: A referral's status → its column in Table C.
FATES = {"completed": "completed", "ended early": "breached", "cancelled": "withdrawn"}
MAX_FOLLOW_UP = 60


# --- follow-up outcomes: one definition for the evaluation and the synthetic force ----------------

OUTCOME_WORDS = {"reoffend": "any further offence", "violent": "a violent offence",
                 "alcohol": "an alcohol-related offence", "da_offence": "a domestic-abuse offence",
                 "da_incident": "a domestic-abuse incident that was not a crime"}


def records_of(connection, person_ids: Iterable[int], *, since: dt.date) -> list[tuple]:
    """Every recorded crime and incident of these people (as suspect or offender) committed
    on or after ``since``, as ``iom.warehouse.follow_up.RECORDS`` rows. ``connection``: a
    Session or Connection."""
    wanted = sorted(set(person_ids))
    found: list[tuple] = []
    for start in range(0, len(wanted), 900):
        chunk = wanted[start:start + 900]
        found.extend((pid, on, bool(is_crime), group == VIOLENCE, bool(alcohol), bool(da))
                     for pid, on, is_crime, group, alcohol, da in connection.execute(
                         select(Crime.person_id, Crime.committed_on, Offence.is_crime, Offence.offence_group,
                                Crime.alcohol_related, or_(Crime.domestic_abuse, Offence.domestic_abuse))
                         .join(Offence, Offence.code == Crime.offence_code)
                         .where(Crime.person_id.in_(chunk), Crime.committed_on >= since)))
    return found


@lru_cache(maxsize=8192)
def follow_up_end(index: dt.date, months: int) -> dt.date:
    return months_after(index, months)


def follow_ups(connection, cases: list[tuple[int, dt.date]], *, months: int) -> list[tuple[dict[str, bool], int | None]]:
    """For each (person, index date): which outcomes happened in (index, index + months], and
    the days to the first further offence (None if there was none). Read here, counted by the
    analytical layer (``iom.warehouse.follow_up``)."""
    if not cases:
        return []
    records = records_of(connection, (pid for pid, _ in cases), since=min(index for _, index in cases))
    frame = follow_up.outcomes_of([(n, pid, index, follow_up_end(index, months)) for n, (pid, index) in enumerate(cases)],
                                  records)
    return [({name: bool(row[name]) for name in follow_up.OUTCOMES}, None if pd.isna(row["days"]) else int(row["days"]))
            for row in frame.to_dict("records")]


# --- eligibility -------------------------------------------------------------------------------------

class CourseRefused(FieldError):
    """A course that cannot take this referral: every reason, and what to offer instead."""

    def __init__(self, course: Course, reasons: list[str], *, offer: schemas.EsolOffer | None = None) -> None:
        super().__init__(f"the {course.name} cannot take this referral: {'; '.join(reasons)}"
                         + (f". {offer.words}" if offer else ""), field="course")
        self.reasons = reasons
        self.offer = offer


@dataclass(frozen=True)
class OffenceFacts:
    crime_id: int
    person_id: int
    recorded_on: dt.date
    offence: str
    offence_group: str
    gravity: int
    alcohol_related: bool
    domestic_abuse: bool


def offence_facts(session: Session, crime_id: int, *, person_id: int) -> OffenceFacts:
    row = session.execute(
        select(Crime.id, Crime.person_id, Crime.recorded_on, Offence.description, Offence.offence_group, Offence.gravity,
               Crime.alcohol_related, or_(Crime.domestic_abuse, Offence.domestic_abuse))
        .join(Offence, Offence.code == Crime.offence_code).where(Crime.id == crime_id)).first()
    if row is None or row.person_id != person_id:
        raise FieldError(f"no crime #{crime_id} of this person: the index offence is one of their own", field="crime")
    return OffenceFacts(row[0], row[1], row[2], row[3], row[4], int(row[5]), bool(row[6]), bool(row[7]))


def offence_reasons(course: Course, facts: OffenceFacts) -> list[str]:
    """Every criterion of the course the index offence does not meet, in words."""
    rule, reasons = course.eligibility, []
    if rule.offence_groups and facts.offence_group not in rule.offence_groups:
        reasons.append(f"it takes {', '.join(g.lower() for g in rule.offence_groups)}; "
                       f"{facts.offence.lower()} is {facts.offence_group.lower()}")
    if rule.alcohol_related is True and not facts.alcohol_related:
        reasons.append("the index offence is not recorded as alcohol-related")
    if rule.domestic_abuse is True and not facts.domestic_abuse:
        reasons.append("the index offence is not recorded as domestic abuse")
    if rule.domestic_abuse is False and facts.domestic_abuse:
        reasons.append("it does not take domestic abuse (CARA and the DA courses do)")
    if rule.max_gravity is not None and facts.gravity > rule.max_gravity:
        reasons.append(f"it takes offences of gravity {rule.max_gravity} or less; this one is {facts.gravity}")
    return reasons


def language_offer(rules: Catalogue, course: Course, language: str | None) -> tuple[list[str], schemas.EsolOffer | None]:
    """A group course run only in other languages cannot take someone who needs an
    interpreter (it would disrupt the group, 000 §74): offer ESOL instead."""
    if not language:
        return [], None
    name = rules.language(language)  # a code the catalogue knows, whatever the course
    language = language.strip().lower()
    if language in course.languages or not course.group:
        return [], None
    runs_in = " or ".join(rules.languages[c] for c in course.languages)
    provider = referrals.directory().get(rules.esol_provider)
    return ([f"its groups run in {runs_in} and an interpreter would disrupt the group; this person needs a "
             f"{name} interpreter"],
            schemas.EsolOffer(provider=provider.code, provider_name=provider.name, pathway="ete", language=name,
                              words=f"Offer an ESOL condition instead: {provider.name} take non-English speakers "
                                    "free of charge as part of a conditional caution (000 §74)"))


def check_referral(session: Session, *, course: Course, person_id: int, crime_id: int, on: dt.date,
                   interpreter_language: str | None, format: str | None, rules: Catalogue) -> None:
    """Every reason the course cannot take this referral on ``on`` (``CourseRefused``)."""
    if format is not None and format not in course.formats:
        raise FieldError(f"the {course.name} runs as {' or '.join(course.formats)}, not {format!r}", field="format")
    reasons: list[str] = []
    if not course.running_on(on):
        reasons.append(f"it ran from {course.since} to {course.ended_on}" if course.ended_on
                       else f"it takes referrals from {course.since}")
    facts = offence_facts(session, crime_id, person_id=person_id)
    if facts.recorded_on > on:
        raise FieldError(f"crime #{crime_id} was recorded on {facts.recorded_on}, after {on}", field="crime")
    reasons += offence_reasons(course, facts)
    if course.eligibility.da_programme:
        found = {e.programme: e for e in domestic_abuse.eligibility(session, person_id, on=on)}
        entry = found.get(course.eligibility.da_programme)
        if entry is None:
            raise UserError(f"the DA programmes define no {course.eligibility.da_programme!r}")
        reasons += entry.reasons
    language, offer = language_offer(rules, course, interpreter_language)
    reasons += language
    if session.scalar(select(func.count()).select_from(CourseReferral).join(Referral)
                      .where(CourseReferral.course_code == course.code, Referral.person_id == person_id,
                             CourseReferral.crime_id == crime_id, Referral.status != "cancelled")):
        reasons.append(f"this person has already been referred to it for crime #{crime_id}")
    reasons += _group_reasons(session, course=course, person_id=person_id, as_referral=True)
    if reasons:
        raise CourseRefused(course, reasons, offer=offer)


def join_words(words: list[str], last: str = "or") -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} {last} {words[-1]}"


def eligibility_words(course: Course) -> list[str]:
    """Each criterion of the course's index offence, and its provider's rules, in words."""
    rule, words = course.eligibility, []
    if rule.offence_groups:
        words.append(f"The index offence is {join_words([g.lower() for g in rule.offence_groups])}")
    if rule.alcohol_related is True:
        words.append("It is recorded as alcohol-related")
    elif rule.alcohol_related is False:
        words.append("It is not recorded as alcohol-related")
    if rule.domestic_abuse is True:
        words.append("It is recorded as domestic abuse")
    elif rule.domestic_abuse is False:
        words.append("It is not domestic abuse")
    if rule.max_gravity is not None:
        words.append(f"Its gravity is {rule.max_gravity} or less (of 4)")
    if rule.da_programme:
        words.append(f"The domestic-abuse criteria for {rule.da_programme.upper()} hold (DASH risk, relationship)")
    try:
        provider = referrals.directory().get(course.provider)
    except UserError:
        return words
    words += [r.words for r in provider.rules]
    return words


def _group_reasons(session: Session, *, course: Course, person_id: int, as_referral: bool) -> list[str]:
    """A person is in one of an evaluation's groups only: a recorded control is not referred, a
    person referred is not a control, and the trial's control arm is not referred (it would
    contaminate the comparison)."""
    reasons = []
    if as_referral and session.scalar(select(func.count()).select_from(CourseControl).where(
            CourseControl.course_code == course.code, CourseControl.person_id == person_id)):
        reasons.append("this person is recorded as a control for its evaluation")
    if as_referral and course.evaluation is not None and course.evaluation.control == "randomised":
        trial = course.evaluation.trial or course.code
        if session.scalar(select(func.count()).select_from(TrialAllocation).where(
                TrialAllocation.trial == trial, TrialAllocation.person_id == person_id,
                TrialAllocation.arm == "control")):
            reasons.append(f"this person was allocated to trial {trial}'s control arm")
    if not as_referral and session.scalar(select(func.count()).select_from(CourseReferral).join(Referral).where(
            CourseReferral.course_code == course.code, Referral.person_id == person_id,
            Referral.status != "cancelled")):
        reasons.append("this person has been referred to it, so cannot be one of its controls")
    return reasons


def referral_reason(course: Course, facts: OffenceFacts) -> str:
    return f"{course.name} for {facts.offence.lower()} (crime #{facts.crime_id}, recorded {facts.recorded_on})"


def create_referral(session: Session, *, course: Course, person_id: int, crime_id: int, route: str, by: str,
                    on: dt.date, rules: Catalogue, interpreter_language: str | None = None, format: str | None = None,
                    condition_id: int | None = None, reason: str | None = None) -> CourseReferral:
    """The referral (sent at once: the course is commissioned) and which course it is for."""
    if route not in rules.referral_routes:
        raise FieldError(f"a course referral comes from {', '.join(rules.referral_routes)}, not {route!r}", field="route")
    check_referral(session, course=course, person_id=person_id, crime_id=crime_id, on=on,
                   interpreter_language=interpreter_language, format=format, rules=rules)
    facts = offence_facts(session, crime_id, person_id=person_id)
    referral = referrals.create_referral(
        session, person_id=person_id, provider_code=course.provider, pathway=course.pathway,
        reason=(reason or "").strip() or referral_reason(course, facts), desired_outcomes=["Completes the course"],
        source=route, by=by, on=on, send=True, through="courses")
    row = CourseReferral(referral_id=referral.id, course_code=course.code, route=route, crime_id=crime_id,
                         condition_id=condition_id, format=format,
                         interpreter_language=interpreter_language.strip().lower() if interpreter_language else None,
                         rules_version=rules.version)
    session.add(row)
    session.flush()
    return row


def condition_values(session: Session, *, disposal_id: int, course: Course, on: dt.date) -> dict:
    """The disposal condition a course referral from an out-of-court disposal becomes."""
    row = diversion.get_disposal(session, disposal_id)
    return diversion.check_condition(session, row, kind="rehabilitative", description=f"Attend the {course.name}",
                                     due_on=None, provider=course.provider, on=on)


def attach_condition(session: Session, *, values: dict, referral: CourseReferral, by: str) -> None:
    condition = diversion.add_condition(session, values=values, referral_id=referral.referral_id, by=by)
    referral.condition_id = condition.id
    session.flush()


# --- reading -------------------------------------------------------------------------------------------

def course_rows(session: Session, *, course: str | None = None) -> list[tuple[CourseReferral, Referral]]:
    query = select(CourseReferral, Referral).join(Referral, Referral.id == CourseReferral.referral_id)
    if course is not None:
        query = query.where(CourseReferral.course_code == course)
    return [(cr, r) for cr, r in session.execute(query.order_by(Referral.created_on, Referral.id))]


def course_referral(session: Session, referral_id: int) -> CourseReferral:
    row = session.get(CourseReferral, referral_id)
    if row is None:
        raise NotFound(f"referral #{referral_id} is not to a course")
    return row


def _rate(k: int, n: int) -> tuple[float | None, float | None, float | None]:
    if n == 0:
        return None, None, None
    low, high = proportion_confint(k, n, alpha=0.05, method="wilson")
    return k / n, float(low), float(high)


def _places(published: str) -> int:
    return len(published.rstrip("%").partition(".")[2])


def _as_published(course: Course, rate: float | None) -> str | None:
    if course.published is None or rate is None:
        return None
    return percent(rate, _places(course.published.completion))


def published_check(course: Course, completed: int, ended: int) -> str | None:
    """The course's Table C figure against the register's: agreeing, or why it cannot."""
    if course.published is None or ended == 0:
        return None
    pub = course.published.completion
    places = _places(pub)
    ours = percent(completed / ended, places)
    if ours == pub:
        return f"agrees with the published {pub} ({completed}/{ended})"
    whole = [k for k in range(ended + 1) if percent(k / ended, places) == pub]
    if not whole:
        return (f"the published {pub} is not a whole number of {ended} {'person' if ended == 1 else 'people'} "
                f"({completed}/{ended} = {percent(completed / ended, 1)})")
    return f"the published {pub} differs from {completed}/{ended} = {ours}"


def completion(session: Session, *, start: dt.date | None = None, end: dt.date | None = None,
               course: str | None = None, by: str = "course") -> schemas.Completion:
    """Table C from the register: per course (and per quarter or year with ``by``), referrals
    made in the period and what became of them; the rate is completed of those ended."""
    rules = catalogue()
    if course is not None:
        rules.get(course)
    if by not in ("course", "year", "quarter"):
        raise FieldError("--by is course, year or quarter", field="by")
    if start and end and end < start:
        raise FieldError(f"the period ends ({end}) before it starts ({start})", field="to")
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for cr, r in course_rows(session, course=course):
        if (start and r.created_on < start) or (end and r.created_on > end):
            continue
        period = {"course": "all", "year": str(r.created_on.year),
                  "quarter": f"{r.created_on.year} Q{(r.created_on.month - 1) // 3 + 1}"}[by]
        counts[(cr.course_code, period)]["referred"] += 1
        counts[(cr.course_code, period)][FATES.get(r.status, "open")] += 1
    lines = []
    for c in rules.course:
        if course is not None and c.code != course:
            continue
        periods = sorted(p for code, p in counts if code == c.code) or (["all"] if by == "course" else [])
        for period in periods:
            n = counts[(c.code, period)]
            ended = n["completed"] + n["breached"] + n["withdrawn"]
            rate, low, high = _rate(n["completed"], ended)
            whole = by == "course" and start is None and end is None
            lines.append(schemas.CompletionLine(
                course=c.code, name=c.name, period=period, referred=n["referred"], completed=n["completed"],
                breached=n["breached"], withdrawn=n["withdrawn"], open=n["open"], rate=rate, lower=low, upper=high,
                rate_text=percent(rate) if rate is not None else "–",
                published=c.published.completion if c.published and whole else None,
                rounded=_as_published(c, rate) if whole else None,
                published_referred=c.published.referred if c.published and whole else None,
                check=published_check(c, n["completed"], ended) if whole else None))
    return schemas.Completion(rules_version=rules.version, start=start, end=end, by=by, lines=lines)


def places(session: Session, *, as_of: dt.date) -> list[schemas.PlacesLine]:
    """Per course: people waiting (sent or accepted, not started), the median days from
    referral to start over the last window, and places a month."""
    rules = catalogue()
    since = months_after(as_of, -rules.places_window_months)
    waiting: dict[str, int] = defaultdict(int)
    days: dict[str, list[int]] = defaultdict(list)
    started: dict[str, int] = defaultdict(int)
    for cr, r in course_rows(session):
        if r.created_on > as_of:
            continue
        if r.status in ("sent", "accepted") or (r.started_on and r.started_on > as_of):
            waiting[cr.course_code] += 1
        if r.started_on and since < r.started_on <= as_of:
            started[cr.course_code] += 1
            days[cr.course_code].append((r.started_on - (r.sent_on or r.created_on)).days)
    return [schemas.PlacesLine(course=c.code, name=c.name, running=c.running_on(as_of), places_per_month=c.places_per_month,
                               waiting=waiting[c.code], started=started[c.code],
                               median_wait_days=median(days[c.code]) if days[c.code] else None,
                               months=rules.places_window_months)
            for c in rules.course]


# --- controls and trials -------------------------------------------------------------------------------

def check_control(session: Session, *, course: Course, person_id: int, crime_id: int, assessed_on: dt.date,
                  reason: str, as_of: dt.date) -> str:
    """A suitable person recorded as not referred: their index offence meets the course's
    criteria (the DA and language ones are the referral's), on a day not to come."""
    if course.evaluation is None or course.evaluation.control != "recorded":
        raise FieldError(f"the {course.name} has no recorded control group", field="course")
    if assessed_on > as_of:
        raise FieldError(f"suitability cannot be assessed on a day to come ({assessed_on})", field="assessed_on")
    facts = offence_facts(session, crime_id, person_id=person_id)
    if assessed_on < facts.recorded_on:
        raise FieldError(f"crime #{crime_id} was recorded on {facts.recorded_on}: suitability is assessed after it",
                         field="assessed_on")
    reasons = offence_reasons(course, facts) + _group_reasons(session, course=course, person_id=person_id,
                                                              as_referral=False)
    if reasons:
        raise CourseRefused(course, reasons)
    if session.scalar(select(func.count()).select_from(CourseControl).where(
            CourseControl.course_code == course.code, CourseControl.person_id == person_id)):
        raise FieldError("this person is already recorded as a control for this course", field="person")
    return referrals.check_reason(reason, what="this person was not referred")


def add_control(session: Session, *, course: Course, person_id: int, crime_id: int, assessed_on: dt.date, reason: str,
                by: str) -> CourseControl:
    row = CourseControl(course_code=course.code, person_id=person_id, crime_id=crime_id, assessed_on=assessed_on,
                        reason=reason.strip(), recorded_by=by)
    session.add(row)
    session.flush()
    return row


def trial_log(session: Session, trial: str) -> list[TrialAllocation]:
    return list(session.scalars(select(TrialAllocation).where(TrialAllocation.trial == trial)
                                .order_by(TrialAllocation.sequence)))


def trial_of(course: Course) -> tuple[str, tuple[int, int]]:
    if course.evaluation is None or course.evaluation.control != "randomised":
        raise FieldError(f"the {course.name} is not evaluated by a trial", field="course")
    return course.evaluation.trial or course.code, (course.evaluation.ratio[0], course.evaluation.ratio[1])


def entry_content(row: TrialAllocation | dict) -> dict:
    """What a log entry's hash covers."""
    get = (lambda k: row[k]) if isinstance(row, dict) else (lambda k: getattr(row, k))
    on = get("allocated_on")
    return {"trial": get("trial"), "seed": get("seed"), "ratio": get("ratio"), "sequence": get("sequence"),
            "block": get("block"), "block_size": get("block_size"), "person_id": get("person_id"),
            "crime_id": get("crime_id"), "arm": get("arm"), "allocated_on": on.isoformat(), "by": get("allocated_by")}


def log_ratio(log: list[TrialAllocation], default: tuple[int, int]) -> tuple[int, int]:
    """The ratio a trial began with (a later edit of the catalogue does not change a running trial)."""
    if not log:
        return default
    first, second = (int(x) for x in log[0].ratio.split(":"))
    return first, second


def next_allocation(log: list[TrialAllocation], *, trial: str, seed: int, ratio: tuple[int, int], person_id: int,
                    crime_id: int, on: dt.date, by: str) -> dict:
    """The next entry of a trial: its arm from the seed's blocks, chained to the last entry."""
    if log and log[-1].seed != seed:
        raise UserError(f"trial {trial} runs on seed {log[-1].seed}, not {seed}")
    if log and on < log[-1].allocated_on:
        raise UserError(f"trial {trial}'s last allocation is dated {log[-1].allocated_on}: a later one cannot be "
                        f"dated {on}")
    n = len(log) + 1
    slot = block_allocations([str(i) for i in range(n)], seed=seed, arms=("control", "course"), ratio=ratio)[-1]
    entry = {"trial": trial, "seed": seed, "ratio": f"{ratio[0]}:{ratio[1]}", "sequence": n, "block": slot["block"],
             "block_size": slot["block_size"], "person_id": person_id, "crime_id": crime_id, "arm": slot["arm"],
             "allocated_on": on, "allocated_by": by}
    previous = log[-1].hash if log else ""
    entry["hash"] = entry_hash(previous, entry_content(entry))
    entry["previous_hash"] = previous
    return entry


def verify_trial(log: list[TrialAllocation]) -> schemas.TrialCheck:
    """Every entry's link, and every arm replayed from the seed: an edit or a chosen arm shows."""
    problems: list[str] = []
    if log:
        ratio = tuple(int(x) for x in log[0].ratio.split(":"))
        replay = block_allocations([str(r.sequence) for r in log], seed=log[0].seed, arms=("control", "course"),
                                   ratio=ratio)
        previous, last_day = "", None
        for row, slot in zip(log, replay, strict=True):
            if row.sequence != slot["sequence"]:
                problems.append(f"entry {row.sequence} is out of sequence (expected {slot['sequence']})")
            if row.previous_hash != previous or row.hash != entry_hash(previous, entry_content(row)):
                problems.append(f"entry {row.sequence}'s hash does not match its content and the entry before it")
            if row.arm != slot["arm"] or row.block != slot["block"]:
                problems.append(f"entry {row.sequence} is in arm {row.arm}; the seed gives {slot['arm']}")
            if last_day is not None and row.allocated_on < last_day:
                problems.append(f"entry {row.sequence} is dated {row.allocated_on}, before the entry above it")
            previous, last_day = row.hash, row.allocated_on
    arms = defaultdict(int)
    for row in log:
        arms[row.arm] += 1
    return schemas.TrialCheck(trial=log[0].trial if log else "", entries=len(log), arms=dict(arms),
                              intact=not problems, problems=problems[:20])


# --- the cases an evaluation reads ----------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    person_id: int
    group: str
    index_date: dt.date
    crime_id: int


def evaluation_cases(session: Session, *, course: Course, follow_up_months: int, as_of: dt.date) -> tuple[list[Case], str]:
    """The people a course's evaluation compares, each with the day follow-up starts: those
    referred whose follow-up is complete by ``as_of`` (completed, breached), and the control
    (recorded suitable people, or the trial's control arm after its log is verified)."""
    if course.evaluation is None:
        raise UserError(f"the {course.name} has no evaluation defined (courses-v1.toml)")
    if not 1 <= follow_up_months <= MAX_FOLLOW_UP:
        raise UserError(f"--follow-up is 1 to {MAX_FOLLOW_UP} months")
    def complete(index: dt.date) -> bool:
        return follow_up_end(index, follow_up_months) <= as_of

    cases: list[Case] = []
    control = "control"
    if course.evaluation.control == "recorded":
        for row in session.scalars(select(CourseControl).where(CourseControl.course_code == course.code)
                                   .order_by(CourseControl.id)):
            if complete(row.assessed_on):
                cases.append(Case(row.person_id, control, row.assessed_on, row.crime_id))
        in_course: set[int] | None = None
    else:
        trial, _ = trial_of(course)
        log = trial_log(session, trial)
        check = verify_trial(log)
        if not check.intact:
            raise UserError(f"trial {trial}'s allocation log does not verify: {check.problems[0]}")
        control = "suitable control"
        in_course = set()
        for row in log:
            if row.arm == "control" and complete(row.allocated_on):
                cases.append(Case(row.person_id, control, row.allocated_on, row.crime_id))
            elif row.arm == "course":
                in_course.add(row.crime_id)
    for cr, r in course_rows(session, course=course.code):
        fate = FATES.get(r.status)
        if fate not in ("completed", "breached") or not complete(r.created_on):
            continue
        if in_course is not None and cr.crime_id not in in_course:
            continue  # referred outside the trial: not part of its evaluation
        cases.append(Case(r.person_id, fate, r.created_on, cr.crime_id))
    # The groups count people: a person referred twice is counted once, from the first referral.
    first: dict[int, Case] = {}
    for case in sorted(cases, key=lambda c: (c.index_date, c.crime_id)):
        first.setdefault(case.person_id, case)
    return [c for c in cases if first[c.person_id] is c], control


def outcomes_for(connection, cases: list[Case], *, months: int) -> list[tuple[dict[str, bool], int | None]]:
    """Each case's follow-up outcomes (``follow_ups``), read in one pass."""
    return follow_ups(connection, [(c.person_id, c.index_date) for c in cases], months=months)
