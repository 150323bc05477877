"""The synthetic force: calibrated to the published figures, plausible, deterministic."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from iom.cohorts import service as cohorts
from iom.errors import UserError
from iom.register.models import Crime, Person
from iom.register.service import summary
from iom.synth import params
from iom.synth.generator import ForceSpec, Generator, day_number, largest_remainder
from iom.synth.service import generate_force, read_catalogue, reset_database

from tests.conftest import TEST_PEOPLE

AS_OF = params.REFERENCE_DATE


def test_summary_reproduces_the_published_cohort(force_engine):
    with Session(force_engine) as session:
        result = summary(session, AS_OF)
    assert result.current_members == params.PUBLISHED_MEMBERS
    assert result.risk == params.PUBLISHED_RISK
    assert result.classifications == params.PUBLISHED_CLASSIFICATIONS
    expected_npu = largest_remainder(params.PUBLISHED_MEMBERS, params.PUBLISHED_NPU_OFFENDERS)
    assert result.members_by_npu == expected_npu
    assert result.people > TEST_PEOPLE  # offenders plus DA victims who never offended


def test_default_scale_generation_is_calibrated(force_engine):
    """The default 200,000-person force, generated in memory (no database write)."""
    npus, lomus, offences = read_catalogue(force_engine)
    force = Generator(ForceSpec(seed=1), npus, lomus, offences).run()
    m = force.memberships
    current = m["exited_on"] < -1
    people_current = np.unique(m["person_id"][current])
    assert people_current.size == params.PUBLISHED_MEMBERS
    codes, counts = np.unique(m["classification_code"][current].astype(str), return_counts=True)
    assert dict(zip(codes.tolist(), counts.tolist())) == params.PUBLISHED_CLASSIFICATIONS
    crimes = force.crimes["id"].size
    assert 1_300_000 < crimes < 1_700_000, crimes


@pytest.mark.parametrize("year", sorted(params.PUBLISHED_OOCD))
def test_out_of_court_disposals_match_table_a_in_proportion(force_engine, year):
    scale = TEST_PEOPLE / params.DEFAULT_PEOPLE
    start, end = dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
    with Session(force_engine) as session:
        rows = session.execute(
            select(Crime.outcome, Person.date_of_birth, Crime.committed_on)
            .join(Person, Person.id == Crime.person_id)
            .where(Crime.outcome_on.between(start, end),
                   Crime.outcome.in_(("caution", "conditional_caution", "community_resolution")))
        ).all()
    counts = {"adult_caution": 0, "adult_cr": 0, "youth_caution": 0, "youth_cr": 0}
    for outcome, dob, committed in rows:
        youth = (committed - dob).days < 18 * 365.25
        kind = "cr" if outcome == "community_resolution" else "caution"
        counts[f"{'youth' if youth else 'adult'}_{kind}"] += 1
    assert counts == {k: round(v * scale) for k, v in params.PUBLISHED_OOCD[year].items()}


def test_offending_is_heavy_tailed_and_peaks_in_youth(force_engine):
    with force_engine.connect() as conn:
        per_person = np.array(conn.execute(text("SELECT COUNT(*) FROM crimes GROUP BY person_id")).scalars().all())
        ages = conn.execute(
            select(Crime.committed_on, Person.date_of_birth).join(Person, Person.id == Crime.person_id)
        ).all()
    per_person.sort()
    top_decile_share = per_person[-per_person.size // 10:].sum() / per_person.sum()
    assert top_decile_share > 0.35, top_decile_share
    assert np.median(per_person) <= 5
    age = np.array([(c - d).days / 365.25 for c, d in ages])
    histogram, edges = np.histogram(age, bins=[10, 15, 20, 25, 30, 40, 50, 90])
    assert edges[np.argmax(histogram / np.diff(edges))] in (15, 20), histogram


def test_domestic_abuse_has_serial_perpetrators_and_repeat_victims(force_engine):
    with force_engine.connect() as conn:
        serial = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT person_id FROM crimes WHERE domestic_abuse "
            "GROUP BY person_id HAVING COUNT(DISTINCT victim_person_id) >= 2) s")).scalar()
        repeat_victims = conn.execute(text(
            "SELECT COUNT(*) FROM (SELECT victim_person_id FROM crimes WHERE domestic_abuse "
            "GROUP BY victim_person_id HAVING COUNT(*) >= 2) s")).scalar()
        non_crime = conn.execute(text(
            "SELECT COUNT(*) FROM crimes c JOIN offences o ON o.code = c.offence_code "
            "WHERE c.domestic_abuse AND NOT o.is_crime")).scalar()
        da_conditional = conn.execute(text(
            "SELECT COUNT(*) FROM crimes WHERE (domestic_abuse OR hate) AND outcome = 'conditional_caution'")).scalar()
        alcohol = conn.execute(text("SELECT AVG(CASE WHEN alcohol_related THEN 1.0 ELSE 0 END) FROM crimes")).scalar()
    assert serial > 50
    assert repeat_victims > 500
    assert non_crime > 1000
    assert da_conditional == 0  # DA and hate crime are not conditionally cautioned outside pilots
    assert 0.05 < float(alcohol) < 0.4


def test_histories_are_consistent_with_membership(force_engine):
    with force_engine.connect() as conn:
        bad_exit = conn.execute(text("SELECT COUNT(*) FROM cohort_memberships WHERE exited_on < adopted_on")).scalar()
        risk_before_adoption = conn.execute(text(
            "SELECT COUNT(*) FROM risk_level_history r WHERE r.effective_from < "
            "(SELECT MIN(adopted_on) FROM cohort_memberships m WHERE m.person_id = r.person_id)")).scalar()
        future = conn.execute(text("SELECT COUNT(*) FROM crimes WHERE committed_on > :d OR recorded_on > :d"),
                              {"d": AS_OF}).scalar()
        pending_with_date = conn.execute(text(
            "SELECT COUNT(*) FROM crimes WHERE outcome = 'pending' AND outcome_on IS NOT NULL")).scalar()
    assert (bad_exit, risk_before_adoption, future, pending_with_date) == (0, 0, 0, 0)
    with Session(force_engine) as session:
        managed = cohorts.current_management(session, AS_OF)
        members = set(session.scalars(cohorts.current_member_ids(AS_OF)))
    assert members <= set(managed)


def test_generation_is_deterministic_and_seed_sensitive(force_engine):
    npus, lomus, offences = read_catalogue(force_engine)
    runs = [Generator(ForceSpec(seed=s, people=3_000), npus, lomus, offences).run() for s in (5, 5, 6)]
    for table in ("people", "crimes", "memberships", "risk"):
        a, b, c = (getattr(r, table) for r in runs)
        assert all(np.array_equal(a[k], b[k]) for k in a), table
    assert not np.array_equal(runs[0].people["given_name"], runs[2].people["given_name"])


def test_refuses_a_populated_database_unless_replaced(fresh_engine):
    generate_force(fresh_engine, seed=3, people=1_000)
    with pytest.raises(UserError, match="already holds"):
        generate_force(fresh_engine, seed=3, people=1_000)
    reset_database(fresh_engine)
    generate_force(fresh_engine, seed=4, people=1_000)
    with Session(fresh_engine) as session:
        assert session.scalar(select(func.count()).select_from(Person)) > 1_000


def test_refuses_bad_arguments(fresh_engine, scratch_db):
    with pytest.raises(UserError, match="at least 1,000"):
        generate_force(fresh_engine, seed=1, people=10)


def test_small_scale_shrinks_the_cohort_in_proportion(fresh_engine):
    generate_force(fresh_engine, seed=2, people=2_000)
    with Session(fresh_engine) as session:
        assert cohorts.count_current_members(session, AS_OF) == round(params.PUBLISHED_MEMBERS * 0.1)
        assert session.scalar(select(func.max(Crime.committed_on))) <= AS_OF
    assert day_number(AS_OF) > 0


def test_every_reference_in_the_generated_force_resolves(force_engine):
    """SQLite's per-row checks are off during the bulk write: prove nothing dangles."""
    with force_engine.connect() as conn:
        if conn.dialect.name == "sqlite":
            assert conn.exec_driver_sql("PRAGMA foreign_key_check").all() == []
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        orphans = conn.execute(text(
            "SELECT COUNT(*) FROM crimes c LEFT JOIN people p ON p.id = c.victim_person_id "
            "WHERE c.victim_person_id IS NOT NULL AND p.id IS NULL")).scalar()
    assert orphans == 0
