"""Synthetic referrals: the same seed gives the same rows; every referral is one the provider's
rules took on the day it was made, walked along the lifecycle to a date before the reference
date; SMI_REGISTER markers go to people with a MENTAL_HEALTH marker; with needs assessments
present, No Wrong Door is chosen only where the multiple-needs rule holds."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from iom.casework.models import NeedRating, NeedsAssessment, Revision
from iom.casework.pathways import pathways
from iom.cohorts.models import CohortMembership
from iom.referrals import lifecycle, service
from iom.referrals.models import Referral, ReferralEvent, ReferralOutcome, ReferralSession
from iom.referrals.providers import directory
from iom.referrals.synth import step
from iom.register.models import Person, VulnerabilityMarker
from iom.register.service import init_database
from iom.synth import params
from iom.synth.service import generate_force

AS_OF = params.REFERENCE_DATE
COURSE_PROVIDERS = {p.code for p in directory().provider if p.through == "courses"}
TABLES = ("referrals", "referral_events", "referral_sessions", "referral_outcomes")


def _dump(engine) -> dict[str, list[tuple]]:
    with engine.connect() as connection:
        out = {t: [tuple(r) for r in connection.execute(text(f"SELECT * FROM {t} ORDER BY id"))] for t in TABLES}
        out["revisions"] = [tuple(r) for r in connection.execute(text(
            "SELECT record_id, version, person_id, data, written_by, written_at FROM casework_revisions "
            "WHERE record_kind = 'referral' ORDER BY id"))]
        out["smi"] = [tuple(r) for r in connection.execute(text(
            "SELECT * FROM vulnerability_markers WHERE marker = 'SMI_REGISTER' ORDER BY id"))]
    return out


def _force(scratch_db, seed: int):
    engine = scratch_db.engine()
    init_database(engine)
    generate_force(engine, seed=seed, people=1_000)
    return engine


def test_the_same_seed_gives_the_same_referrals(tmp_path):
    from tests.conftest import ScratchDatabase

    dbs = [ScratchDatabase(tmp_path) for _ in range(3)]
    try:
        first, again, other = (_dump(_force(db, seed)) for db, seed in zip(dbs, (5, 5, 6)))
    finally:
        for db in dbs:
            db.drop()
    assert first["referrals"] and first["smi"] and first["referral_sessions"]
    assert first == again
    assert first["referrals"] != other["referrals"]


@pytest.fixture(scope="module")
def synthetic(force_engine):
    """The shared synthetic force's referrals, as rows (read-only)."""
    with Session(force_engine) as session:
        referrals = session.scalars(select(Referral).order_by(Referral.id)).all()
        events, sessions, outcomes = defaultdict(list), defaultdict(list), defaultdict(list)
        for e in session.scalars(select(ReferralEvent).order_by(ReferralEvent.id)):
            events[e.referral_id].append(e)
        for s in session.scalars(select(ReferralSession).order_by(ReferralSession.id)):
            sessions[s.referral_id].append(s)
        for o in session.scalars(select(ReferralOutcome)):
            outcomes[o.referral_id].append(o)
        kept = {(r.record_id, r.version): r.data for r in session.scalars(
            select(Revision).where(Revision.record_kind == "referral"))}
        session.expunge_all()
    return referrals, events, sessions, outcomes, kept


def test_every_synthetic_referral_met_its_providers_rules_on_the_day(force_engine, synthetic):
    referrals = synthetic[0]
    assert len(referrals) > 1_000
    known = directory()
    by_pathway = {p.code: p for p in pathways().pathway}
    with Session(force_engine) as session:
        for r in referrals:
            provider = known.get(r.provider_code)
            person = session.get(Person, r.person_id)
            assert provider.serves(r.pathway) and by_pathway[r.pathway].applies_to(person.sex)
            facts = service.person_facts(session, person_id=r.person_id, on=r.created_on)
            assert provider.broken(facts) == [], (r.id, r.provider_code, facts)
        # and two rules checked in SQL, apart from the rule code: Thrive's area, and youth
        wrong_area = session.scalar(select(func.count()).select_from(Referral).join(Person, Person.id == Referral.person_id)
                                    .where(Referral.provider_code == "thrive-into-work",
                                           Person.home_npu.not_in(["BW", "DY", "SW"])))
        assert wrong_area == 0
        born = dict(session.execute(select(Person.id, Person.date_of_birth).where(
            Person.id.in_({r.person_id for r in referrals}))).all())
    for r in referrals:
        b = born[r.person_id]
        age = r.created_on.year - b.year - ((r.created_on.month, r.created_on.day) < (b.month, b.day))
        assert (age < 18) == (r.provider_code == "youth-offending-service"), (r.id, age, r.provider_code)
    assert {r.provider_code for r in referrals} >= {"thrive-into-work", "better-pathways", "mind", "citizens-advice"}


def test_every_synthetic_referral_walked_the_lifecycle_before_the_date(synthetic):
    referrals, events, sessions, outcomes, kept = synthetic
    statuses = Counter(r.status for r in referrals)
    assert set(statuses) == set(lifecycle.STATUSES), statuses
    for r in referrals:
        chain = events[r.id]
        assert chain[0].from_status is None and chain[0].to_status == "draft" and chain[0].on == r.created_on
        for before, after in zip(chain, chain[1:]):
            assert after.from_status == before.to_status and before.on <= after.on
            assert (after.from_status, after.to_status) in {(s, t) for (s, _), t in lifecycle.TABLE.items()}
        assert chain[-1].to_status == r.status and len(chain) == r.version and chain[-1].on <= AS_OF
        assert kept[(r.id, r.version)]["status"] == r.status  # the current version is kept
        dates = [d for d in (r.created_on, r.sent_on, r.accepted_on, r.started_on, r.ended_on) if d is not None]
        assert dates == sorted(dates) and dates[-1] <= AS_OF
        # This step's referrals fall in its window; the courses' go back to when each course began.
        assert r.created_on >= AS_OF - dt.timedelta(days=366) or r.provider_code in COURSE_PROVIDERS
        held = sessions[r.id]
        assert all(r.started_on <= s.held_on <= (r.ended_on or AS_OF) for s in held)
        assert len(held) == sum(e.from_status == e.to_status for e in chain)
        graded = {o.desired_outcome for o in outcomes[r.id]}
        if r.status in ("completed", "ended early"):
            assert graded == set(r.desired_outcomes) and r.ended_on is not None
        else:
            assert not graded
        if r.status == "completed":
            assert any(s.attendance != "did not attend" for s in held)
        assert (r.end_reason is not None) == (r.status in ("ended early", "cancelled"))


def test_referral_and_smi_shares_follow_the_parameters(force_engine, synthetic):
    referrals = synthetic[0]
    with Session(force_engine) as session:
        members = set(session.scalars(select(CohortMembership.person_id).where(
            CohortMembership.adopted_on <= AS_OF,
            (CohortMembership.exited_on.is_(None)) | (CohortMembership.exited_on > AS_OF))))
        smi = set(session.scalars(select(VulnerabilityMarker.person_id).where(VulnerabilityMarker.marker == "SMI_REGISTER")))
        mental_health = set(session.scalars(select(VulnerabilityMarker.person_id)
                                            .where(VulnerabilityMarker.marker == "MENTAL_HEALTH")))
    referred = {r.person_id for r in referrals if r.provider_code not in COURSE_PROVIDERS}  # courses: their own step
    share = len(referred & members) / len(members)
    assert abs(share - params.REFERRED_MEMBER_SHARE) < 0.03, share
    assert 0 < len(referred - members) < 0.02 * len(referred)
    assert smi and smi <= mental_health
    assert abs(len(smi) / len(mental_health) - params.SMI_SHARE_OF_MENTAL_HEALTH) < 0.03


def test_the_step_works_with_or_without_needs_and_no_wrong_door_follows_its_rule(scratch_db):
    engine = _force(scratch_db, 7)
    with engine.begin() as connection:  # no needs assessed at all (and none of the casework step's referrals)
        connection.execute(text("UPDATE oocd_conditions SET referral_id = NULL"))
        for table in ("course_referrals", "referral_outcomes", "referral_sessions", "referral_events", "referrals",
                      "need_ratings", "needs_assessments"):
            connection.execute(text(f"DELETE FROM {table}"))
        connection.execute(text("DELETE FROM casework_revisions WHERE record_kind = 'referral'"))
        step(connection, seed=8, as_of=AS_OF)
        made = connection.scalar(select(func.count()).select_from(Referral))
        nwd = connection.scalar(select(func.count()).where(Referral.provider_code == "no-wrong-door"))
    assert made > 0 and nwd == 0  # its rule needs rated needs
    with engine.begin() as connection:  # needs for every member: half with two needs, half with one
        members = sorted(set(connection.scalars(select(CohortMembership.person_id))))
        connection.execute(NeedsAssessment.__table__.insert(), [
            {"id": i + 1, "person_id": pid, "assessed_on": dt.date(2017, 6, 1), "assessor": "test",
             "pathways_version": "pathways-v1"} for i, pid in enumerate(members)])
        connection.execute(NeedRating.__table__.insert(), [
            {"assessment_id": i + 1, "pathway": pathway, "level": level}
            for i, _ in enumerate(members)
            for pathway, level in (("drugs", "severe"), ("accommodation", "standard" if i % 2 else "none"))])
        before = connection.scalar(select(func.max(Referral.id)))
        step(connection, seed=8, as_of=AS_OF)
    with Session(engine) as session:
        new = session.scalars(select(Referral).where(Referral.id > before)).all()
        nwd = [r for r in new if r.provider_code == "no-wrong-door"]
        assert nwd, "with two needs rated, some Birmingham referrals go to No Wrong Door"
        rule = directory().get("no-wrong-door")
        for r in nwd:
            assert rule.broken(service.person_facts(session, person_id=r.person_id, on=r.created_on)) == []
            assert members.index(r.person_id) % 2 == 1  # only the two-need half
