"""The current-state table equals what the histories give, after every kind of writer: the
synthetic force, an import (and a second one on top), adoption, exit, a risk review and an
officer's allocation through the real flows, and the migration that fills it. The expected
rows are recomputed here in plain Python from the history rows, not by the code under test."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from pathlib import Path

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.engine import Engine

from iom import migrate
from iom.casefile import record
from iom.casefile.commands import command_access
from iom.casework import flows, schemas
from iom.cohort_framework import flows as cohort_flows
from iom.cohorts import current_state
from iom.cohorts.models import HISTORY_TABLES, CohortMembership, ManagementRecord, PersonCurrentState
from iom.db import session_scope
from iom.register.importer import KINDS, import_files
from iom.register.models import Person, Unit
from iom.register.service import reference_date, register_version
from iom.security.roles import Principal
from iom.synth.service import generate_force

DATA = Path(__file__).parents[1] / "register" / "data"
PEOPLE = 3000


def expected_state(engine: Engine, on: dt.date) -> dict[int, tuple]:
    """Per person with any history, the state on ``on`` as the caseload reads it, in the
    table's column order: computed from every history row with no SQL but ``SELECT *``."""
    with engine.connect() as c:
        risk = c.execute(text("SELECT person_id, id, effective_from, level FROM risk_level_history")).all()
        managed = c.execute(text("SELECT person_id, id, effective_from, offender_type, lead_agency, lomu_code, officer "
                                 "FROM management_history")).all()
        members = c.execute(text("SELECT person_id, classification_code, adopted_on, exited_on FROM cohort_memberships")).all()
        reviews = c.execute(text("SELECT person_id, reviewed_on, next_due FROM risk_reviews")).all()
    day = _date_reader(engine)
    events: dict[int, list[dt.date]] = {}
    for row in risk + managed:
        events.setdefault(row.person_id, []).append(day(row.effective_from))
    for row in members:
        events.setdefault(row.person_id, []).append(day(row.adopted_on))
        if row.exited_on is not None:
            events[row.person_id].append(day(row.exited_on))
    for row in reviews:
        events.setdefault(row.person_id, []).append(day(row.reviewed_on))

    def newest(rows):
        mine = [r for r in rows if day(r.effective_from) <= on]
        return max(mine, key=lambda r: (day(r.effective_from), r.id)) if mine else None

    def by_person(rows):
        out = defaultdict(list)
        for row in rows:
            out[row.person_id].append(row)
        return out

    risk_of, managed_of, members_of, reviews_of = by_person(risk), by_person(managed), by_person(members), by_person(reviews)
    out = {}
    for pid, days in events.items():
        r = newest(risk_of.get(pid, []))
        g = newest(managed_of.get(pid, []))
        current = [m for m in members_of.get(pid, [])
                   if day(m.adopted_on) <= on and (m.exited_on is None or day(m.exited_on) > on)]
        done = [v for v in reviews_of.get(pid, []) if day(v.reviewed_on) <= on]
        last = max((day(v.reviewed_on) for v in done), default=None)
        out[pid] = (
            pid,
            max((d for d in days if d <= on), default=None),
            min((d for d in days if d > on), default=None),
            r.level if r else None, day(r.effective_from) if r else None,
            g.offender_type if g else None, g.lead_agency if g else None, g.lomu_code if g else None,
            g.officer if g else None, day(g.effective_from) if g else None,
            len({m.classification_code for m in current}),
            max((day(m.adopted_on) for m in current), default=None),
            last,
            max((day(v.next_due) for v in done if day(v.reviewed_on) == last), default=None),
        )
    return out


def _date_reader(engine: Engine):
    """Raw SQL gives SQLite's dates as text."""
    return (lambda v: v) if engine.dialect.name == "postgresql" else (lambda v: v if v is None else dt.date.fromisoformat(v))


def assert_matches_histories(engine: Engine) -> dt.date:
    with session_scope(engine) as s:
        on = reference_date(s)
        assert current_state.holds(s, on), "the table does not claim to hold on the reference date"
        held = {row[0]: tuple(row) for row in s.execute(select(*PersonCurrentState.__table__.columns))}
    want = expected_state(engine, on)
    wrong = sorted(pid for pid in held.keys() | want.keys() if held.get(pid) != want.get(pid))
    assert not wrong, [(held.get(p), want.get(p)) for p in wrong[:5]]
    assert want, "nothing to compare"
    return on


@pytest.fixture
def force(fresh_engine):
    generate_force(fresh_engine, seed=7, people=PEOPLE)
    return fresh_engine


def _member(engine: Engine, *, current: bool) -> Person:
    with session_scope(engine) as s:
        members = select(CohortMembership.person_id).where(CohortMembership.exited_on.is_(None))
        where = Person.id.in_(members) if current else Person.id.not_in(select(CohortMembership.person_id))
        person = s.scalars(select(Person).where(where, Person.home_npu.is_not(None)).order_by(Person.id).limit(1)).one()
        s.expunge(person)
        return person


def test_after_the_synthetic_force(force):
    assert_matches_histories(force)
    with session_scope(force) as s:
        assert s.scalar(select(PersonCurrentState.person_id).where(PersonCurrentState.classifications > 0).limit(1))


def test_after_an_import_and_a_second_one_on_top(fresh_engine, tmp_path):
    import_files(fresh_engine, {kind: DATA / f"{kind}.csv" for kind in KINDS}, today=dt.date(2019, 3, 31))
    assert_matches_histories(fresh_engine)
    # Later: a new risk level, the first member's exit (an update of the membership by its
    # source id) and a crime that moves the reference date on.
    first = (DATA / "cohorts.csv").read_text().splitlines()
    cohorts = tmp_path / "cohorts.csv"
    cohorts.write_text("\n".join([first[0], first[1].rstrip(",") + ",2019-02-01,Moved away"]) + "\n")
    risk = tmp_path / "risk.csv"
    risk.write_text("person_source_id,level,effective_from,reason,recorded_by\n"
                    "NICHE-0002,High,2019-01-20,New information,DC Smith\n")
    crimes = tmp_path / "crimes.csv"
    header = (DATA / "crimes.csv").read_text().splitlines()[0]
    crimes.write_text(header + "\nCR-0900,NICHE-0001,offender,2019-03-01,2019-03-02,008/06,BE,charge,,,,,\n")
    with session_scope(fresh_engine) as s:
        before = reference_date(s)
    import_files(fresh_engine, {"cohorts": cohorts, "risk": risk, "crimes": crimes}, today=dt.date(2019, 3, 31))
    assert assert_matches_histories(fresh_engine) > before
    with session_scope(fresh_engine) as s:
        exited = s.scalar(select(PersonCurrentState.classifications).join(Person, Person.id == PersonCurrentState.person_id)
                          .where(Person.source_id == "NICHE-0001"))
    assert exited == 0


def test_after_adoption_exit_review_and_allocation(force):
    newcomer, member = _member(force, current=False), _member(force, current=True)
    with command_access(force, user="sup", purpose="test") as access:
        flows.adopt(access, person_id=newcomer.id, classification="PPO", reason="three burglaries this year")
    assert_matches_histories(force)
    with command_access(force, user="sup", purpose="test") as access:
        cohort_flows.allocate(access, person_id=newcomer.id)
    assert_matches_histories(force)
    with command_access(force, user="om", purpose="test") as access:
        flows.record_review(access, person_id=member.id, body=schemas.ReviewIn(level="High"))
    assert_matches_histories(force)
    with command_access(force, user="sup", purpose="test") as access:
        flows.exit_cohort(access, person_id=member.id, reason="no offending for a year")
    assert_matches_histories(force)
    with session_scope(force) as s:
        rows = {r.person_id: r for r in s.scalars(select(PersonCurrentState)
                                                  .where(PersonCurrentState.person_id.in_([newcomer.id, member.id])))}
    assert rows[newcomer.id].classifications == 1 and rows[member.id].classifications == 0


def test_the_caseload_reads_the_same_from_the_table_as_from_the_histories(force):
    with session_scope(force) as s:
        on = reference_date(s)
        lomu = s.scalar(select(PersonCurrentState.lomu_code).where(PersonCurrentState.classifications > 0).limit(1))
    users = [Principal("om", "offender_manager", lomu_code=lomu), Principal("analyst", "analyst")]
    filters = [{}, {"risk": "High"}, {"classification": "PPO"}, {"sort": "next_review", "need": "overdue"}]

    def pages():
        with command_access(force, user="om", purpose="test", as_of=on) as access:
            kept = current_state.holds(access.session, on)
            return kept, [record.caseload(access.session, u, as_of=on, per_page=200, **f) for u in users for f in filters]

    kept, from_table = pages()
    assert kept and any(page.total for page in from_table)
    with session_scope(force) as s:  # a write that bypasses refresh: readers must go back to the histories
        s.execute(update(ManagementRecord).where(ManagementRecord.lomu_code == lomu)
                  .values(lomu_code=ManagementRecord.lomu_code))
    kept, from_histories = pages()
    assert not kept
    assert from_table == from_histories


def test_a_write_that_bypasses_refresh_is_noticed_and_the_next_refresh_catches_up(force):
    member = _member(force, current=True)
    with session_scope(force) as s:
        s.execute(update(CohortMembership).where(CohortMembership.person_id == member.id)
                  .values(exited_on=dt.date(2019, 3, 1)))
        assert not current_state.holds(s, reference_date(s))
    with session_scope(force) as s:
        current_state.refresh(s, person_ids=[member.id])
    assert_matches_histories(force)


def test_writes_elsewhere_in_the_register_leave_it_holding(force):
    """A scoring run, a MAPPA or DA record, a unit renamed: the register's version moves, the
    histories do not, and the caseload keeps reading the table."""
    with session_scope(force) as s:
        before = register_version(s)
        s.execute(update(Unit).values(name=Unit.name))
        assert register_version(s) != before
        assert current_state.holds(s, reference_date(s))
    assert_matches_histories(force)


def test_migration_0017_keeps_a_table_that_held_and_its_triggers_follow_the_histories(force):
    with session_scope(force) as s:
        s.execute(text("DELETE FROM person_current_state_stamp"))
        _drop_history_triggers(s)  # 0016's schema: no history triggers, the stamp at the register version
        s.execute(text("ALTER TABLE person_current_state_stamp DROP COLUMN history_version"))
        s.execute(text("ALTER TABLE person_current_state_stamp RENAME COLUMN state_version TO register_version"))
        s.execute(text("INSERT INTO person_current_state_stamp (id, register_version) "
                       "SELECT 1, version FROM register_version"))
        s.execute(text("ALTER TABLE scores DROP COLUMN explanation"))  # and none of 0018's
        s.execute(text("UPDATE alembic_version SET version_num = '0016'"))
    migrate.upgrade(force)
    assert_matches_histories(force)
    with session_scope(force) as s:
        s.execute(update(CohortMembership).where(CohortMembership.id == s.scalar(select(func.min(CohortMembership.id))))
                  .values(exited_on=CohortMembership.exited_on))
        assert not current_state.holds(s, reference_date(s))


def _drop_history_triggers(s) -> None:
    """Migration 0017's triggers and function, as a database from before it lacks them."""
    for table in HISTORY_TABLES:
        if s.get_bind().dialect.name == "postgresql":
            s.execute(text(f"DROP TRIGGER history_version_{table} ON {table}"))
        else:
            for event in ("insert", "update", "delete"):
                s.execute(text(f"DROP TRIGGER history_version_{table}_{event}"))
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("DROP FUNCTION history_version_bump()"))


def test_the_migration_fills_it_for_a_database_that_already_has_histories(force):
    with session_scope(force) as s:  # back to 0014: no current state, no kept drafts, no history triggers
        _drop_history_triggers(s)
        for table in ("person_current_state_stamp", "person_current_state", "kept_drafts"):
            s.execute(text(f"DROP TABLE {table}"))
        s.execute(text("ALTER TABLE scores DROP COLUMN explanation"))
        s.execute(text("UPDATE alembic_version SET version_num = '0014'"))
    migrate.upgrade(force)
    assert_matches_histories(force)
