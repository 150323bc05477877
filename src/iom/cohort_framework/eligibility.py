"""Eligibility per classification: the facts the rules read, gathered for many people at once
(age, recent offences, risk level, MAPPA level, markers), and each rule judged in words."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from iom.cohort_framework.rules import EligibilityRule, EligibilityRules, eligibility_rules
from iom.cohorts.models import RiskLevelRecord
from iom.dates import age_on, months_before
from iom.mappa.service import current_records
from iom.register.models import Crime, Offence, Person, VulnerabilityMarker
from iom.security import scope

#: Ids per IN (...) list: under SQLite's and PostgreSQL's parameter limits.
CHUNK = 900


@dataclass
class Facts:
    """What the rules read of one person on one day."""

    age: int
    risk_level: str | None = None
    mappa_level: int | None = None
    markers: set[str] = field(default_factory=set)
    #: (committed_on, offence's cohort classification or None, offence group), newest first.
    offences: list[tuple[dt.date, str | None, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Judgement:
    """One rule judged for one person: whether it holds, and in words why or why not."""

    classification: str
    rule: str
    holds: bool
    words: str


def chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start:start + CHUNK]


def gather(session: Session, person_ids: Iterable[int], as_of: dt.date, *,
           rules: EligibilityRules | None = None) -> dict[int, Facts]:
    """The facts of each person (unknown ids are left out), read in chunks of ids."""
    rules = rules or eligibility_rules()
    ids = sorted(set(int(p) for p in person_ids))
    window = max((r.within_months for r in rules.rule if r.within_months), default=None)
    since = months_before(as_of, window) if window else None
    facts: dict[int, Facts] = {}
    for chunk in chunks(ids):
        for pid, born in session.execute(select(Person.id, Person.date_of_birth).where(Person.id.in_(chunk))):
            facts[pid] = Facts(age=age_on(born, as_of))
        risk = scope.latest(RiskLevelRecord, as_of, RiskLevelRecord.level).subquery()
        for pid, level in session.execute(select(risk.c.person_id, risk.c.level).where(risk.c.person_id.in_(chunk))):
            facts[pid].risk_level = level
        mappa = current_records(as_of).subquery()
        for pid, level in session.execute(select(mappa.c.person_id, mappa.c.level).where(mappa.c.person_id.in_(chunk))):
            facts[pid].mappa_level = level
        for pid, marker in session.execute(
                select(VulnerabilityMarker.person_id, VulnerabilityMarker.marker).where(
                    VulnerabilityMarker.person_id.in_(chunk), VulnerabilityMarker.started_on <= as_of,
                    or_(VulnerabilityMarker.ended_on.is_(None), VulnerabilityMarker.ended_on > as_of))):
            facts[pid].markers.add(marker)
        if since is not None:
            for pid, on, code, group in session.execute(
                    select(Crime.person_id, Crime.committed_on, Offence.cohort_classification, Offence.offence_group)
                    .join(Offence, Offence.code == Crime.offence_code)
                    .where(Crime.person_id.in_(chunk), Offence.is_crime.is_(True), Crime.committed_on > since,
                           Crime.committed_on <= as_of)
                    .order_by(Crime.committed_on.desc())):
                facts[pid].offences.append((on, code, group))
    return facts


def _offences_within(rule: EligibilityRule, facts: Facts, as_of: dt.date) -> int:
    since = months_before(as_of, rule.within_months)
    kinds = set(rule.offence_classifications)
    groups = set(rule.offence_groups)
    return sum(1 for on, code, group in facts.offences
               if on > since and (not kinds and not groups or code in kinds or group in groups))


def _offence_words(rule: EligibilityRule, found: int) -> str:
    """``found`` offences of the rule's kinds in its window, and what it needs."""
    named = " or ".join([*rule.offence_classifications, *(g.lower() for g in rule.offence_groups)])
    noun = "offence" if found == 1 else "offences"
    return (f"{found} {named + ' ' if named else ''}{noun} in {rule.within_months} months"
            + (f" (needs {rule.min_offences})" if found < rule.min_offences or rule.min_offences > 1 else ""))


def judge(rule: EligibilityRule, facts: Facts, as_of: dt.date) -> Judgement:
    """The rule's conditions in order; the first that fails says why."""
    def no(why: str) -> Judgement:
        return Judgement(rule.classification, rule.name, False, why)

    if rule.nominated:
        return no("joins only when a supervisor nominates (intelligence, not a register rule)")
    if rule.min_age is not None and facts.age < rule.min_age:
        return no(f"aged {facts.age}, under {rule.min_age}")
    if rule.max_age is not None and facts.age > rule.max_age:
        return no(f"aged {facts.age}, over {rule.max_age}")
    if rule.mappa_levels and facts.mappa_level not in rule.mappa_levels:
        now = f"MAPPA level {facts.mappa_level}" if facts.mappa_level else "not managed under MAPPA"
        return no(f"{now}, needs level {' or '.join(map(str, rule.mappa_levels))}")
    missing = [m for m in rule.markers if m not in facts.markers]
    if missing:
        return no(f"no {', '.join(missing)} marker")
    found = None
    if rule.counts_offences:
        found = _offences_within(rule, facts, as_of)
        if found < rule.min_offences:
            return no(_offence_words(rule, found))
    if rule.risk_levels and facts.risk_level is not None and facts.risk_level not in rule.risk_levels:
        return no(f"risk {facts.risk_level}, needs {' or '.join(rule.risk_levels)}")
    parts = [f"aged {facts.age}"]
    if rule.mappa_levels:
        parts.append(f"MAPPA level {facts.mappa_level}")
    parts += [f"{m} marker" for m in rule.markers]
    if found is not None:
        parts.append(_offence_words(rule, found))
    if rule.risk_levels:
        parts.append(f"risk {facts.risk_level}" if facts.risk_level else "risk to be assessed at adoption")
    return Judgement(rule.classification, rule.name, True, "; ".join(parts))


def judge_all(facts: Facts, as_of: dt.date, rules: EligibilityRules) -> list[Judgement]:
    return [judge(rule, facts, as_of) for rule in rules.rule]


def proposal(judgements: list[Judgement]) -> Judgement | None:
    """The first rule that holds (the file's order is the order of preference)."""
    return next((j for j in judgements if j.holds), None)


def holds_for(judgements: list[Judgement], classification: str) -> Judgement | None:
    """A rule of ``classification`` that holds, else None."""
    return next((j for j in judgements if j.classification == classification and j.holds), None)


def why_not(judgements: list[Judgement], classification: str) -> str:
    """Why no rule of ``classification`` holds: each rule's first failing condition."""
    return "; ".join(j.words for j in judgements if j.classification == classification) or \
        f"no rule for {classification} in {eligibility_rules().version}"


def eligibility(session: Session, person_ids: Iterable[int], as_of: dt.date) -> dict[int, list[Judgement]]:
    """Every rule judged for every person named."""
    rules = eligibility_rules()
    return {pid: judge_all(f, as_of, rules) for pid, f in gather(session, person_ids, as_of, rules=rules).items()}


def proposals(session: Session, person_ids: Iterable[int], as_of: dt.date) -> dict[int, Judgement | None]:
    return {pid: proposal(found) for pid, found in eligibility(session, person_ids, as_of).items()}


def by_classification(judgements: dict[int, list[Judgement]]) -> dict[str, set[int]]:
    """Who is eligible for which classification."""
    eligible: dict[str, set[int]] = defaultdict(set)
    for pid, found in judgements.items():
        for j in found:
            if j.holds:
                eligible[j.classification].add(pid)
    return eligible
