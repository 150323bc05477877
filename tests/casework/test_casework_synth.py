"""Synthetic casework (iom.casework.synth) on the shared synthetic force (seed 1): needs for
every member and a sample of others, plans with some actions overdue, reviews that follow the
risk history, and a caseload whose overdue count those reviews explain."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from iom.casefile.commands import command_access
from iom.casework import synth
from iom.casework.models import NeedRating, NeedsAssessment, PlanAction, Revision
from iom.casework.pathways import pathways
from iom.cohorts import service as cohorts
from iom.cohorts.models import ManagementRecord, RiskLevelRecord, RiskReview
from iom.cohorts.rules import review_intervals
from iom.db import session_scope
from iom.register.models import Person, VulnerabilityMarker
from iom.register.service import init_database
from iom.synth import params, sample
from iom.synth.service import generate_force

from tests.conftest import ScratchDatabase

AS_OF = params.REFERENCE_DATE


@pytest.fixture(scope="module")
def s(force_engine):
    with Session(force_engine) as session:
        yield session


@pytest.fixture(scope="module")
def members(s) -> dict[int, dt.date]:
    """Current members and the day of their (earliest current) adoption."""
    active = cohorts.active_memberships(AS_OF).subquery()
    rows = s.execute(select(active.c.person_id, active.c.adopted_on)).all()
    first: dict[int, dt.date] = {}
    for pid, adopted in rows:
        first[pid] = min(adopted, first.get(pid, adopted))
    return first


def _in_force(rows):
    """{person: [(from, value), ...]} sorted, for "what was in force on day d"."""
    out = defaultdict(list)
    for pid, since, value in rows:
        out[pid].append((since, value))
    for v in out.values():
        v.sort(key=lambda pair: pair[0])
    return out


def _at(history, day):
    value = None
    for since, v in history:
        if since <= day:
            value = v
    return value


def test_every_member_is_assessed_at_adoption_and_ratings_cover_their_pathways(s, members):
    first = dict(s.execute(select(NeedsAssessment.person_id, func.min(NeedsAssessment.assessed_on))
                           .group_by(NeedsAssessment.person_id)).all())
    assert set(members) <= set(first)
    late = [pid for pid, adopted in members.items()
            if not 0 <= (first[pid] - adopted).days <= params.NEEDS_FIRST_WITHIN_DAYS]
    assert late == []
    assert s.scalar(select(func.max(NeedsAssessment.assessed_on))) <= AS_OF
    reassessed = s.scalar(select(func.count()).select_from(
        select(NeedsAssessment.person_id).group_by(NeedsAssessment.person_id).having(func.count() > 1).subquery()))
    assert reassessed > len(members) / 3  # later assessments too, not only the first
    assert set(s.scalars(select(NeedsAssessment.pathways_version).distinct())) == {pathways().version}
    # One rating per pathway that applies to the person: the women's pathway for women only.
    ways = pathways()
    per = s.execute(select(Person.sex, func.count(NeedRating.id))
                    .join(NeedsAssessment, NeedsAssessment.person_id == Person.id)
                    .join(NeedRating, NeedRating.assessment_id == NeedsAssessment.id)
                    .group_by(NeedsAssessment.id, Person.sex)).all()
    expected = {sex: len(ways.for_sex(sex)) for sex in ("M", "F")}
    assert {(sex, n) for sex, n in per} == {(sex, n) for sex, n in expected.items()}
    women_only = [w.code for w in ways.pathway if w.only_for == "F"]
    assert s.scalar(select(func.count()).select_from(NeedRating)
                    .join(NeedsAssessment, NeedsAssessment.id == NeedRating.assessment_id)
                    .join(Person, Person.id == NeedsAssessment.person_id)
                    .where(NeedRating.pathway.in_(women_only), Person.sex != "F")) == 0


def _latest_levels(s, pathway: str) -> dict[int, str]:
    """Each assessed person's level on ``pathway`` at their latest assessment."""
    latest = (select(NeedsAssessment.person_id, func.max(NeedsAssessment.assessed_on).label("on"))
              .group_by(NeedsAssessment.person_id).subquery())
    return dict(s.execute(
        select(NeedsAssessment.person_id, NeedRating.level)
        .join(latest, (latest.c.person_id == NeedsAssessment.person_id) & (latest.c.on == NeedsAssessment.assessed_on))
        .join(NeedRating, NeedRating.assessment_id == NeedsAssessment.id)
        .where(NeedRating.pathway == pathway)).all())


def test_members_need_accommodation_at_least_as_often_as_non_members(s, members):
    levels = _latest_levels(s, "accommodation")
    member_levels = [lvl for pid, lvl in levels.items() if pid in members]
    other_levels = [lvl for pid, lvl in levels.items() if pid not in members]
    assert len(member_levels) == len(members) and len(other_levels) >= 20  # a sample of non-members
    ever = set(s.scalars(text("SELECT person_id FROM cohort_memberships")))
    assert not ever & {pid for pid in levels if pid not in members}  # non-members: never in the cohort

    def share(values, *wanted):
        return sum(v in wanted for v in values) / len(values)

    assert share(member_levels, "standard", "severe") >= share(other_levels, "standard", "severe")
    assert share(member_levels, "severe") >= share(other_levels, "severe")


def test_a_marker_in_force_raises_the_need_it_bears_on(s):
    """HOMELESSNESS → accommodation, SUBSTANCE_MISUSE and CLASS_A → drugs, MENTAL_HEALTH →
    health: on every assessment made while the marker was in force, at least a standard need."""
    for marker, (pathway, _) in params.MARKER_NEEDS.items():
        if pathway not in {w.code for w in pathways().pathway if w.only_for is None}:
            continue
        rows = s.execute(
            select(NeedRating.level)
            .join(NeedsAssessment, NeedsAssessment.id == NeedRating.assessment_id)
            .join(VulnerabilityMarker, VulnerabilityMarker.person_id == NeedsAssessment.person_id)
            .where(VulnerabilityMarker.marker == marker, NeedRating.pathway == pathway,
                   VulnerabilityMarker.started_on <= NeedsAssessment.assessed_on,
                   (VulnerabilityMarker.ended_on.is_(None)) | (VulnerabilityMarker.ended_on > NeedsAssessment.assessed_on))
        ).scalars().all()
        assert rows, marker
        assert "none" not in rows, marker


def test_plan_actions_are_owned_by_the_officer_and_some_are_overdue(s, members):
    officers = _in_force(s.execute(select(ManagementRecord.person_id, ManagementRecord.effective_from,
                                          ManagementRecord.officer)).all())
    actions = s.execute(select(PlanAction)).scalars().all()
    assert {a.person_id for a in actions} == set(members)
    assert {a.kind for a in actions} == {"control", "change"}
    assert all(a.owner == _at(officers[a.person_id], a.created_on) for a in actions)
    assert all(a.version == 1 and a.created_on <= a.due_on and a.created_on <= AS_OF for a in actions)
    rated = set(s.execute(select(NeedsAssessment.person_id, NeedRating.pathway)
                          .join(NeedRating, NeedRating.assessment_id == NeedsAssessment.id)
                          .where(NeedRating.level != "none")).all())
    change = [a for a in actions if a.kind == "change"]
    assert all((a.person_id, a.pathway) in rated for a in change)  # Change serves a rated need
    overdue = [a for a in actions if a.status in ("open", "in progress") and a.due_on < AS_OF]
    assert 0.01 < len(overdue) / len(actions) < 0.25, len(overdue) / len(actions)
    assert all(a.outcome for a in actions if a.status in ("done", "cancelled"))
    assert not any(a.outcome for a in actions if a.status in ("open", "in progress"))
    assert {a.outcome for a in change if a.status == "done"} == {"achieved", "partly achieved", "not achieved"}


def test_every_action_has_its_first_revision(s):
    revisions = {r.record_id: r for r in s.scalars(select(Revision).where(Revision.record_kind == "plan_action"))}
    actions = s.scalars(select(PlanAction)).all()
    assert set(revisions) == {a.id for a in actions}
    for a in actions[:: max(1, len(actions) // 500)]:
        r = revisions[a.id]
        data = r.data if isinstance(r.data, dict) else json.loads(r.data)
        assert r.version == 1 and r.person_id == a.person_id and r.written_by == a.updated_by
        assert data == {"kind": a.kind, "pathway": a.pathway, "description": a.description, "owner": a.owner,
                        "due_on": a.due_on.isoformat(), "status": a.status, "outcome": a.outcome}


def test_reviews_follow_the_risk_history(s, members):
    days = review_intervals().days
    levels = _in_force(s.execute(select(RiskLevelRecord.person_id, RiskLevelRecord.effective_from,
                                        RiskLevelRecord.level).order_by(RiskLevelRecord.id)).all())
    reviews = s.scalars(select(RiskReview).order_by(RiskReview.person_id, RiskReview.reviewed_on)).all()
    assert {r.person_id for r in reviews} <= set(members)
    for r in reviews:
        assert r.level == _at(levels[r.person_id], r.reviewed_on), r.id
        assert r.next_due == r.reviewed_on + dt.timedelta(days=days[r.level]), r.id
        assert members[r.person_id] <= r.reviewed_on <= AS_OF, r.id
    longest = max(days.values()) + params.REVIEW_ON_TIME_DAYS + params.REVIEW_LATE_DAYS[1]
    settled = {pid for pid, adopted in members.items() if (AS_OF - adopted).days > longest}
    assert settled <= {r.person_id for r in reviews}  # nobody managed that long goes unreviewed
    # Each change of level (after adoption) is a review on its day, saying which way it went.
    changes = {(pid, since) for pid, history in levels.items() if pid in members for since, _ in history[1:]
               if since > members[pid]}
    changed = {(r.person_id, r.reviewed_on): r.outcome for r in reviews if r.outcome in ("risk raised", "risk lowered")}
    assert set(changed) <= changes and len(changed) > 0.9 * len(changes)
    assert {r.outcome for r in reviews} <= {"no change", "risk raised", "risk lowered", "exit recommended"}
    assert sum(r.outcome == "no change" for r in reviews) > 0.9 * len(reviews)
    # Intervals move on with jitter: some on time, some late.
    gaps = [(b.reviewed_on - a.next_due).days for a, b in zip(reviews, reviews[1:])
            if a.person_id == b.person_id and b.outcome == "no change"]
    assert any(g > params.REVIEW_ON_TIME_DAYS for g in gaps) and sum(abs(g) <= params.REVIEW_ON_TIME_DAYS for g in gaps) > len(gaps) / 2


def test_the_caseload_counts_overdue_reviews_from_the_reviews(force_engine, s, members):
    """An independent count: the last review's due date, or, for a level decided since, the
    interval from that decision; compared with what the caseload reports."""
    days = review_intervals().days
    risk = _in_force(s.execute(select(RiskLevelRecord.person_id, RiskLevelRecord.effective_from,
                                      RiskLevelRecord.level).order_by(RiskLevelRecord.id)).all())
    last = {}
    for pid, reviewed, due in s.execute(select(RiskReview.person_id, RiskReview.reviewed_on, RiskReview.next_due)
                                        .order_by(RiskReview.reviewed_on, RiskReview.next_due)):
        last[pid] = (reviewed, due)
    overdue = 0
    for pid in members:
        since, level = [pair for pair in risk[pid] if pair[0] <= AS_OF][-1]
        reviewed, due = last.get(pid, (None, None))
        if reviewed is None or reviewed < since:
            due = since + dt.timedelta(days=days[level])
        overdue += due < AS_OF
    with command_access(force_engine, user="test", purpose="test") as access:
        page = access.caseload(need="overdue")
    assert page.total == overdue
    assert 0.01 * len(members) < overdue < 0.25 * len(members), overdue


def _casework_rows(engine) -> dict[str, list[tuple]]:
    tables = {"needs_assessments": "person_id, assessed_on, assessor, pathways_version",
              "need_ratings": "assessment_id, pathway, level",
              "plan_actions": "person_id, kind, pathway, description, owner, due_on, status, outcome, created_on",
              "risk_reviews": "person_id, reviewed_on, level, outcome, next_due, reviewer"}
    with engine.connect() as conn:
        return {t: conn.execute(text(f"SELECT id, {cols} FROM {t} ORDER BY id")).all() for t, cols in tables.items()}


def test_the_same_seed_gives_the_same_casework(tmp_path):
    runs = []
    for seed in (7, 7, 8):
        db = ScratchDatabase(tmp_path)
        try:
            engine = db.engine()
            init_database(engine)
            generate_force(engine, seed=seed, people=1_000)
            runs.append(_casework_rows(engine))
        finally:
            db.drop()
    assert all(runs[0][t] for t in runs[0])
    assert runs[0] == runs[1]
    assert runs[0]["plan_actions"] != runs[2]["plan_actions"]


def test_the_step_fills_the_sample_register(fresh_engine):
    """The few-person sample (what tests/register's version fixture builds) gets reviews too."""
    with session_scope(fresh_engine) as session:
        people = sample.build(session)
        written = synth.step(session.connection(), seed=1, as_of=sample.AS_OF)
    assert written["risk_reviews"] > 0 and written["needs_assessments"] >= 4
    with session_scope(fresh_engine) as session:
        reviewed = set(session.scalars(select(RiskReview.person_id)))
        levels = dict(session.execute(select(RiskReview.person_id, RiskReview.level)).all())
        assert session.scalar(select(func.min(RiskReview.reviewed_on))) >= dt.date(2019, 1, 10)  # the first decision
    assert people.birmingham in reviewed and levels[people.birmingham] == "High"
    assert people.victim not in reviewed
