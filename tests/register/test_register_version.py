"""The register version changes with every write to the tables pages are built from, on
SQLite (row triggers) and on PostgreSQL (statement triggers), and with nothing else."""

from __future__ import annotations

import datetime as dt
import importlib

import pytest
from sqlalchemy import select, text

from iom.db import session_scope
from iom.plugins import contributions, resolve
from iom.cohorts.models import CohortMembership, RiskLevelRecord
from iom.domestic_abuse.models import DaCohort, DaCohortMember, DashAssessment, MaracReferral, SpjAssessment
from iom.breach.models import Breach
from iom.register.models import VERSIONED_TABLES, Crime, Person, VulnerabilityMarker
from iom.register.service import init_database, register_version
from iom.scoring.models import Score, ScoreRun, ScoringModel
from iom.security import audit
from iom.security.roles import Principal
from iom.synth.service import reset_database
from iom.synth import sample


@pytest.fixture
def populated(fresh_engine):
    with session_scope(fresh_engine) as session:
        people = sample.build(session)
        # Each domain's synthetic records on the sample (reviews, MAPPA records and panels...).
        for step in contributions("synth_steps"):
            resolve(step)(session.connection(), seed=1, as_of=sample.AS_OF)
        session.add(VulnerabilityMarker(person_id=people.victim, marker="MENTAL_HEALTH", started_on=dt.date(2018, 1, 1)))
        # Domestic-abuse records (the sample has too few incidents for the synthetic step to make them).
        dash = DashAssessment(victim_person_id=people.victim, perpetrator_person_id=people.moved,
                              assessed_on=dt.date(2018, 11, 2), relationship="intimate_partner", answers={},
                              yes_count=15, band_by_count="high", band="high", rules_version="t", recorded_by="t")
        session.add(dash)
        session.flush()
        session.add(MaracReferral(victim_person_id=people.victim, perpetrator_person_id=people.moved,
                                  referred_on=dt.date(2018, 11, 5), referring_agency="Police", criteria=["dash_high"],
                                  dash_id=dash.id, rules_version="t", recorded_by="t"))
        session.add(SpjAssessment(person_id=people.moved, instrument="sara-v3", instrument_version="t",
                                  assessed_on=dt.date(2018, 12, 1), recorded_by="t"))
        cohort = DaCohort(name="test", month="2019-02", window_start=dt.date(2018, 11, 1),
                          window_end=dt.date(2019, 1, 31), rules_version="t", made_by="t")
        session.add(cohort)
        session.flush()
        session.add(DaCohortMember(cohort_id=cohort.id, person_id=people.moved))
        session.add(Breach(person_id=people.birmingham, kind="order", order_name="Community order",
                           breached_on=dt.date(2019, 2, 1), nature="non-compliance", action="warning", recorded_by="t",
                           version=1))
        model = ScoringModel(cutoff=sample.AS_OF, config_version="test", algorithm="test", trained_at=dt.datetime.now(dt.UTC),
                             n_train=0, base_rate=0.5, estimator=b"")
        session.add(model)
        session.flush()
        run = ScoreRun(as_of=sample.AS_OF, config_version="test", model_id=model.id, scored_at=dt.datetime.now(dt.UTC), people=1)
        session.add(run)
        session.flush()
        session.add(Score(run_id=run.id, person_id=people.birmingham, crimes=1, crime_points=1, frequency_points=0, victims=0,
                          victim_points=0, rfg=1, harm_days=0, harm_points=0, risk=None, risk_points=0, ogrs3_1y=None,
                          ogrs3_2y=None, vulnerability=0, composite=1, last_committed_on=None, member=True))
    return fresh_engine


def _version(engine) -> int:
    with session_scope(engine) as session:
        return register_version(session)


@pytest.mark.parametrize("table", VERSIONED_TABLES)
def test_an_update_of_any_register_table_changes_the_version(populated, table):
    key = {"units": "code", "offences": "code", "scores": "person_id", "da_cohort_members": "cohort_id"}.get(table, "id")
    before = _version(populated)
    with populated.begin() as connection:
        first = connection.execute(text(f"SELECT min({key}) FROM {table}")).scalar_one()
        assert first is not None, f"the fixture left {table} empty"
        connection.execute(text(f"UPDATE {table} SET {key} = {key} WHERE {key} = :k"), {"k": first})
    assert _version(populated) > before


@pytest.mark.parametrize("make", [
    lambda pid: VulnerabilityMarker(person_id=pid, marker="MENTAL_HEALTH", started_on=dt.date(2019, 1, 1)),
    lambda pid: RiskLevelRecord(person_id=pid, level="Low", effective_from=dt.date(2019, 3, 1)),
    lambda pid: CohortMembership(person_id=pid, classification_code="PPO", adopted_on=dt.date(2019, 3, 1)),
    lambda pid: Crime(source_id="version-test", person_id=pid, involvement="offender", committed_on=dt.date(2019, 3, 1), recorded_on=dt.date(2019, 3, 1),
                      offence_code="001/00", npu_code="BN", outcome="pending"),
], ids=["marker", "risk", "membership", "crime"])
def test_inserting_and_deleting_rows_change_the_version(populated, make):
    with session_scope(populated) as session:
        pid = session.scalar(select(Person.id).order_by(Person.id))
        row = make(pid)
        session.add(row)
    after_insert = _version(populated)
    with session_scope(populated) as session:
        session.delete(session.merge(row))
    after_delete = _version(populated)
    assert after_delete > after_insert


def test_audit_rows_users_and_notes_leave_the_version_alone(populated):
    """Every page read appends an audit row: that must not make every kept view stale."""
    before = _version(populated)
    audit.record(populated, actor=Principal(username="t", role="analyst"), action="read", resource="person", purpose="test")
    after = _version(populated)
    assert before == after


def test_a_recreated_database_starts_from_another_version(scratch_db):
    engine = scratch_db.engine()
    init_database(engine)
    first = _version(engine)
    reset_database(engine)  # what `iom synth --replace` does
    assert _version(engine) != first


def test_the_migration_tracks_exactly_the_versioned_tables():
    tracked = [importlib.import_module(f"iom.migrations.versions.{name}").TABLES
               for name in ("0005_register_version", "0008_casework_referrals_and_mappa",
                                     "0009_domestic_abuse", "0013_cohort_framework_and_breach")]
    assert tuple(t for tables in tracked for t in tables) == VERSIONED_TABLES
