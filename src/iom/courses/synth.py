"""Synthetic course referrals, controls and the CARA trial's allocations (``Domain.synth_steps``,
after the diversion step), calibrated to Table C and to Tables D-G.

Each cohort of ``iom.synth.params.COURSE_COHORTS`` (a fate, a size scaled with the force, an
index-date window and, where published, how many had each follow-up outcome) is filled from the
offences the course's rules take (``service.offence_reasons``; CARA's DA criteria too), one
person per course, each case's outcomes counted by ``service.follow_ups``, the evaluation's own
function, over the crimes the generator wrote. A case is taken only while the cohort can still
reach every published count with the places it has left, so a force with enough cases gets
them exactly. The trial's cases are taken in date order into the arm its seed's blocks give.
A referral whose index offence had a disposal with a condition of the same fate (complied or
failed) becomes that condition's referral; the others come from a plan or voluntarily."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from sqlalchemy import func, insert, or_, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from iom.courses import service
from iom.courses.models import CourseControl, CourseReferral, TrialAllocation
from iom.courses.rules import Catalogue, Course, catalogue
from iom.dates import age_on
from iom.diversion.models import Condition, Disposal
from iom.domestic_abuse import service as domestic_abuse
from iom.randomisation import block_allocations
from iom.referrals.providers import directory
from iom.referrals.synth import Draws, Writer
from iom.register.models import Crime, Offence, Person
from iom.synth import params as P

STREAM = 0x434F5552  # "COUR"
BY = "synthetic force"
FATE_STATUS = {"completed": "completed", "breached": "ended early", "withdrawn": "cancelled"}
CONDITION_FATE = {"complied": "completed", "failed": "breached"}
TRIAL_SEARCH = 500


@dataclass
class Case:
    person_id: int
    crime_id: int
    index: dt.date
    profile: dict[str, bool]
    offence: str
    #: A disposal condition on the index offence: (condition id, its status, disposal issued on).
    condition: tuple[int, str, dt.date] | None = None


class Cohort:
    """Places to fill, and how many cases of each outcome profile to take so the published
    counts come out exactly (``quotas``); a cohort with no published outcomes takes any case."""

    def __init__(self, fate: str, n: int, targets: dict[str, int], reason: str = "") -> None:
        self.fate, self.n, self.targets, self.reason = fate, n, dict(targets), reason
        self.cases: list[Case] = []
        self.quota: Counter | None = None
        self.taken: Counter = Counter()

    def key(self, case: Case) -> tuple[bool, ...]:
        return tuple(case.profile[name] for name in self.targets)

    def plan(self, cases) -> None:
        """Quotas from the cases this cohort could take (``quotas``)."""
        if self.targets:
            self.quota = quotas(self.n, [self.targets[k] for k in self.targets], Counter(map(self.key, cases)))

    def takes(self, case: Case) -> bool:
        if len(self.cases) >= self.n:
            return False
        return self.quota is None or self.taken[self.key(case)] < self.quota[self.key(case)]

    def add(self, case: Case) -> None:
        self.cases.append(case)
        self.taken[self.key(case)] += 1


def quotas(n: int, targets: list[int], available: Counter) -> Counter:
    """How many of each profile to take: ``n`` in all, each outcome's count equal to its target
    where the cases allow (a small integer programme, ``scipy.optimize.milp``), as near the
    mix the cases have as it can be; where they do not allow it, as near the targets as they do."""
    bins = sorted(available)
    if not bins:
        return Counter()
    total = sum(available.values())
    k, m = len(bins), len(targets)
    # Variables: x (per bin), d (|x - share|), s+ and s- (a target missed), in that order.
    width = 2 * k + 2 * m
    cost = np.concatenate([np.zeros(k), np.ones(k), np.full(2 * m, 1000.0)])
    rows, low, high = [], [], []
    row = np.zeros(width)
    row[:k] = 1
    rows.append(row), low.append(min(n, total)), high.append(min(n, total))
    for j, target in enumerate(targets):
        row = np.zeros(width)
        row[:k] = [b[j] for b in bins]
        row[2 * k + j], row[2 * k + m + j] = -1, 1
        rows.append(row), low.append(target), high.append(target)
    for i, b in enumerate(bins):
        share = n * available[b] / total
        for sign in (1, -1):  # d_i >= |x_i - share|
            row = np.zeros(width)
            row[i], row[k + i] = sign, -1
            rows.append(row), low.append(-np.inf), high.append(sign * share)
    bounds = Bounds(np.zeros(width), np.concatenate([[available[b] for b in bins], np.full(k + 2 * m, np.inf)]))
    found = milp(cost, constraints=LinearConstraint(np.array(rows), low, high), bounds=bounds,
                 integrality=np.concatenate([np.ones(k), np.zeros(k + 2 * m)]))
    if not found.success:
        return Counter({b: available[b] for b in bins})
    return Counter({b: int(round(x)) for b, x in zip(bins, found.x[:k], strict=True)})


def step(connection: Connection, *, seed: int, as_of: dt.date) -> dict[str, int]:
    rules = catalogue()
    rng = np.random.default_rng([seed, STREAM])
    draws = Draws(rng)
    people = connection.scalar(select(func.count()).select_from(Person)) or 0
    scale = min(1.0, people / P.DEFAULT_PEOPLE)
    session = Session(bind=connection)
    writer = Writer(connection)
    last = as_of - dt.timedelta(days=P.COURSE_LAST_REFERRAL_DAYS)
    conditions = _conditions(connection)
    referrals: list[dict] = []
    controls: list[dict] = []
    allocations: list[dict] = []
    links: list[tuple[int, int, str]] = []
    for course in rules.course:
        plan = P.COURSE_COHORTS.get(course.code, ())
        if not plan:
            continue
        used: set[int] = set()
        pool = _Pool(connection, session, course, rng, conditions, as_of=as_of)
        chosen: list[tuple[Cohort, Case]] = []
        if course.evaluation is not None and course.evaluation.control == "randomised":
            chosen, entries = _trial(pool, course, plan, scale=scale, last=last, used=used)
            allocations += entries
        else:
            for spec in plan:
                cohort = Cohort(spec.fate, round(spec.n * scale), _scaled(spec.outcomes, scale), spec.reason)
                found = pool.cases(spec.start, min(spec.end, last), shuffle=True, outcomes=bool(cohort.targets))
                cases = [c for c in found if c.person_id not in used] if cohort.targets else found
                cohort.plan(cases)
                for case in cases:
                    if len(cohort.cases) == cohort.n:
                        break
                    if case.person_id not in used and cohort.takes(case):
                        cohort.add(case)
                        used.add(case.person_id)
                chosen += [(cohort, case) for case in cohort.cases]
        for cohort, case in chosen:
            if cohort.fate == "control":
                if course.evaluation is not None and course.evaluation.control == "recorded":
                    controls.append({"course_code": course.code, "person_id": case.person_id, "crime_id": case.crime_id,
                                     "assessed_on": case.index, "reason": cohort.reason, "recorded_by": BY})
                continue
            referrals.append(_refer(writer, draws, rules, course, cohort, case, links, conditions, as_of=as_of))
    counts = writer.flush()
    if referrals:
        connection.execute(insert(CourseReferral.__table__), referrals)
    for condition_id, referral_id, provider in links:
        connection.execute(update(Condition.__table__).where(Condition.id == condition_id)
                           .values(referral_id=referral_id, provider_code=provider))
    if controls:
        connection.execute(insert(CourseControl.__table__), controls)
    if allocations:
        connection.execute(insert(TrialAllocation.__table__), allocations)
    return {"course_referrals": len(referrals), "course_controls": len(controls),
            "trial_allocations": len(allocations), "referrals (courses)": counts["referrals"]}


def _scaled(outcomes: dict[str, int], scale: float) -> dict[str, int]:
    return {name: round(k * scale) for name, k in outcomes.items()}


def _conditions(connection: Connection) -> dict[int, tuple[int, str, dt.date]]:
    """Index crime → its disposal's rehabilitative condition without a referral yet."""
    found: dict[int, tuple[int, str, dt.date]] = {}
    for crime_id, condition_id, status, issued in connection.execute(
            select(Disposal.crime_id, Condition.id, Condition.status, Disposal.issued_on)
            .join(Condition, Condition.disposal_id == Disposal.id)
            .where(Condition.kind == "rehabilitative", Condition.referral_id.is_(None), Disposal.issued_on.is_not(None))
            .order_by(Condition.id)):
        found.setdefault(crime_id, (condition_id, status, issued))
    return found


class _Pool:
    """The offences a course's rules take, as cases with their follow-up outcomes."""

    BATCH = 1000

    def __init__(self, connection: Connection, session: Session, course: Course, rng: np.random.Generator,
                 conditions: dict[int, tuple[int, str, dt.date]], *, as_of: dt.date) -> None:
        self.connection, self.session, self.course, self.rng = connection, session, course, rng
        self.conditions, self.as_of = conditions, as_of
        self.minimum_age = min((r.min_age for r in directory().get(course.provider).rules if r.min_age), default=0)
        self.months = 12
        self._da: dict[tuple[int, dt.date], bool] = {}

    def cases(self, start: dt.date, end: dt.date, *, shuffle: bool, outcomes: bool) -> Iterator[Case]:
        """Eligible cases with an index date in [start, end], shuffled or oldest first, read
        as they are wanted; their follow-up outcomes only if ``outcomes``."""
        if start > end:
            return
        lead = dt.timedelta(days=P.COURSE_INDEX_DAYS[1])
        rule = self.course.eligibility
        query = (select(Crime.id, Crime.person_id, Crime.recorded_on, Offence.description, Offence.offence_group,
                        Offence.gravity, Crime.alcohol_related, or_(Crime.domestic_abuse, Offence.domestic_abuse),
                        Person.date_of_birth)
                 .join(Offence, Offence.code == Crime.offence_code).join(Person, Person.id == Crime.person_id)
                 .where(Offence.is_crime.is_(True), Crime.recorded_on >= start - lead, Crime.recorded_on <= end))
        # Narrowed in SQL only by criteria ``offence_reasons`` checks again, so as not to read every crime.
        if rule.offence_groups:
            query = query.where(Offence.offence_group.in_(rule.offence_groups))
        if rule.max_gravity is not None:
            query = query.where(Offence.gravity <= rule.max_gravity)
        domestic = or_(Crime.domestic_abuse.is_(True), Offence.domestic_abuse.is_(True))
        if rule.domestic_abuse is not None:
            query = query.where(domestic if rule.domestic_abuse else ~domestic)
        if rule.alcohol_related:
            query = query.where(Crime.alcohol_related.is_(True))
        rows = self.connection.execute(query.order_by(Crime.id)).all()
        candidates = []
        low, high = P.COURSE_INDEX_DAYS
        delays = self.rng.integers(low, high + 1, size=len(rows))
        for row, delay in zip(rows, delays, strict=True):
            facts = service.OffenceFacts(row[0], row[1], row[2], row[3], row[4], int(row[5]), bool(row[6]), bool(row[7]))
            if service.offence_reasons(self.course, facts):
                continue
            condition = self.conditions.get(facts.crime_id)
            index = condition[2] if condition and condition[2] >= facts.recorded_on else \
                facts.recorded_on + dt.timedelta(days=int(delay))
            if not start <= index <= end or not self.course.running_on(index) and not self._before(index):
                continue
            if age_on(row[8], index) < self.minimum_age:
                continue
            candidates.append((index, facts, condition))
        order = self.rng.permutation(len(candidates)) if shuffle else \
            sorted(range(len(candidates)), key=lambda i: (candidates[i][0], candidates[i][1].crime_id))
        chosen = [candidates[int(i)] for i in order]
        for at in range(0, len(chosen), self.BATCH):  # outcomes read a batch of people at a time
            batch = chosen[at:at + self.BATCH]
            profiles = service.follow_ups(self.connection, [(f.person_id, index) for index, f, _ in batch],
                                          months=self.months) if outcomes else [({}, None)] * len(batch)
            for (index, facts, condition), (profile, _) in zip(batch, profiles, strict=True):
                if not self._da_eligible(facts.person_id, index):
                    continue
                yield Case(facts.person_id, facts.crime_id, index, profile, facts.offence, condition)

    def _before(self, day: dt.date) -> bool:
        """A control may be assessed before the course began (the comparison the paper drew)."""
        return day < self.course.since

    def _da_eligible(self, person_id: int, on: dt.date) -> bool:
        programme = self.course.eligibility.da_programme
        if programme is None:
            return True
        key = (person_id, on)
        if key not in self._da:
            found = {e.programme: e for e in domestic_abuse.eligibility(self.session, person_id, on=on)}
            self._da[key] = found[programme].eligible
        return self._da[key]


def _trial(pool: _Pool, course: Course, plan, *, scale: float, last: dt.date,
           used: set[int]) -> tuple[list[tuple[Cohort, Case]], list[dict]]:
    """The trial's allocations in date order, each case into the arm the seed's next place
    gives and, in the course arm, into the first cohort of its window that takes it."""
    trial, ratio = service.trial_of(course)
    early = [s for s in plan if s.start < P.COURSE_LATER_FROM]
    later = [s for s in plan if s.start >= P.COURSE_LATER_FROM]
    cohorts = {id(s): Cohort(s.fate, round(s.n * scale), _scaled(s.outcomes, scale)) for s in plan}
    n_control = cohorts[id(next(s for s in early if s.fate == "control"))].n
    n_early = sum(cohorts[id(s)].n for s in early)
    n_course = sum(cohorts[id(s)].n for s in plan if s.fate != "control")
    seed = _trial_seed(ratio, n_control=n_control, n_early=n_early)
    arms = [a["arm"] for a in block_allocations([str(i) for i in range(3 * n_course + 10)], seed=seed,
                                                 arms=("control", "course"), ratio=ratio)]
    chosen: list[tuple[Cohort, Case]] = []
    placed: list[tuple[Case, str]] = []
    for specs in (early, later):
        start, end = min(s.start for s in specs), min(max(s.end for s in specs), last)
        window = [cohorts[id(s)] for s in specs]
        targets = any(c.targets for c in window)
        found = pool.cases(start, end, shuffle=False, outcomes=targets)
        cases = [c for c in found if c.person_id not in used] if targets else found
        for cohort in window:
            cohort.plan(cases)
        for case in cases:
            if sum(a == "course" for _, a in placed) >= n_course:
                break
            if case.person_id in used:
                continue
            arm = arms[len(placed)]
            home = next((c for c in window if (c.fate == "control") == (arm == "control") and c.takes(case)), None)
            if home is None and arm == "control" and specs is later:
                home = Cohort("control", 1, {})  # the later control arm: allocated, not evaluated here
            if home is None:
                continue
            home.add(case)
            chosen.append((home, case))
            placed.append((case, arm))
            used.add(case.person_id)
            if specs is early and len(placed) == n_early:
                break
    return chosen, _entries(trial, seed, ratio, placed)


def _entries(trial: str, seed: int, ratio: tuple[int, int], placed: list[tuple[Case, str]]) -> list[dict]:
    """The log, chained entry by entry as ``service.next_allocation`` chains a live one."""
    slots = block_allocations([str(i) for i in range(len(placed))], seed=seed, arms=("control", "course"), ratio=ratio)
    previous, out = "", []
    for (case, arm), slot in zip(placed, slots, strict=True):
        assert arm == slot["arm"]
        entry = {"trial": trial, "seed": seed, "ratio": f"{ratio[0]}:{ratio[1]}", "sequence": slot["sequence"],
                 "block": slot["block"], "block_size": slot["block_size"], "person_id": case.person_id,
                 "crime_id": case.crime_id, "arm": arm, "allocated_on": case.index, "allocated_by": BY}
        entry["hash"] = service.entry_hash(previous, service.entry_content(entry))
        entry["previous_hash"] = previous
        previous = entry["hash"]
        out.append(entry)
    return out


def _trial_seed(ratio: tuple[int, int], *, n_control: int, n_early: int) -> int:
    """The first seed from ``COURSE_TRIAL_SEED`` whose first ``n_early`` places hold
    ``n_control`` in control (the published split of the evaluated window)."""
    for seed in range(P.COURSE_TRIAL_SEED, P.COURSE_TRIAL_SEED + TRIAL_SEARCH):
        arms = block_allocations([str(i) for i in range(n_early)], seed=seed, arms=("control", "course"), ratio=ratio)
        if sum(a["arm"] == "control" for a in arms) == n_control:
            return seed
    return P.COURSE_TRIAL_SEED


def _refer(writer: Writer, draws: Draws, rules: Catalogue, course: Course, cohort: Cohort, case: Case,
           links: list[tuple[int, int, str]], conditions: dict, *, as_of: dt.date) -> dict:
    fate = FATE_STATUS[cohort.fate]
    condition = conditions.get(case.crime_id)
    route = "oocd" if condition and CONDITION_FATE.get(condition[1]) == cohort.fate else \
        draws.weighted({k: v for k, v in P.COURSE_ROUTES.items() if k != "oocd"})
    provider = directory().get(course.provider)
    rid, _state = writer.referral(
        draws, person_id=case.person_id, provider_code=course.provider, provider_name=provider.name,
        pathway=course.pathway, source=route,
        reason=f"{course.name} for {case.offence.lower()} (crime #{case.crime_id})",
        desired=["Completes the course"], created=case.index, officer="IOM offender manager", as_of=as_of, fate=fate)
    if route == "oocd":
        links.append((condition[0], rid, course.provider))
        conditions.pop(case.crime_id, None)  # a condition is one referral's: not linked again by another course
    return {"referral_id": rid, "course_code": course.code, "route": route, "crime_id": case.crime_id,
            "condition_id": condition[0] if route == "oocd" else None, "format": draws.choice(course.formats),
            "interpreter_language": None, "rules_version": rules.version}
