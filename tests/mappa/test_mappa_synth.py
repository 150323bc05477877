"""The synthetic force's MAPPA records: every current MAPPA cohort member has a category and a
level, past members' records ended at their exit, panels only at level 2 or 3 at the level in
force that day, and the same seed gives the same records."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from iom.cohorts.models import CohortMembership, ManagementRecord
from iom.mappa import service
from iom.mappa.models import MappaPanel, MappaRecord
from iom.mappa.panels import panel_rules
from iom.security.roles import cli_actor
from iom.synth import params
from iom.synth.service import generate_force, reset_database

AS_OF = params.REFERENCE_DATE


def _mappa_members(session: Session, as_of: dt.date) -> set[int]:
    return set(session.scalars(select(CohortMembership.person_id).where(
        CohortMembership.classification_code == "MAPPA", CohortMembership.adopted_on <= as_of,
        (CohortMembership.exited_on.is_(None)) | (CohortMembership.exited_on > as_of))))


def test_every_current_mappa_member_has_a_category_and_a_level(force_engine):
    with Session(force_engine) as session:
        members = _mappa_members(session, AS_OF)
        current = {r.person_id: r for r in session.scalars(service.current_records(AS_OF))}
        restricted = service.restricted_people(session, sorted(members), AS_OF)
    assert len(members) == params.PUBLISHED_CLASSIFICATIONS["MAPPA"]
    assert set(current) == members == restricted
    assert all(r.category in (1, 2, 3, 4) and r.level in (1, 2, 3) for r in current.values())
    categories = [r.category for r in current.values()]
    levels = [r.level for r in current.values()]
    assert categories.count(1) + categories.count(2) > 0.85 * len(categories)  # mostly 1 and 2
    panelled = sum(level > 1 for level in levels)
    assert 0.1 * len(levels) < panelled < 0.5 * len(levels)  # a minority, but some
    assert all(r.visor_id for r in current.values() if r.category == 1)
    assert sum(bool(r.visor_id) for r in current.values() if r.category == 2) > 0.6 * categories.count(2)


def test_past_members_records_ended_at_their_exit(force_engine):
    with Session(force_engine) as session:
        exits = dict(session.execute(select(CohortMembership.person_id, CohortMembership.exited_on).where(
            CohortMembership.classification_code == "MAPPA", CohortMembership.exited_on <= AS_OF)).all())
        newest = {pid: service.newest_record(session, pid) for pid in exits}
        current = {r.person_id for r in session.scalars(service.current_records(AS_OF))}
    assert exits
    assert {pid: row.ended_on for pid, row in newest.items()} == exits
    assert not current & set(exits)


def test_chairs_partners_and_panels_follow_the_rules(force_engine):
    rules = panel_rules()
    with Session(force_engine) as session:
        records = session.scalars(select(MappaRecord)).all()
        managed = defaultdict(list)
        for m in session.execute(select(ManagementRecord.person_id, ManagementRecord.effective_from,
                                        ManagementRecord.officer)
                                 .where(ManagementRecord.person_id.in_(select(MappaRecord.person_id)))
                                 .order_by(ManagementRecord.effective_from, ManagementRecord.id)):
            managed[m.person_id].append(m)
        panels = session.scalars(select(MappaPanel)).all()
        levels_on = {(p.id): service.record_on(session, p.person_id, p.held_on) for p in panels}
        raised = session.scalar(text("SELECT COUNT(*) FROM (SELECT person_id FROM mappa_records GROUP BY person_id "
                                     "HAVING COUNT(DISTINCT level) > 1) s"))
    for r in records:
        if r.level == 1:
            assert r.chairing_agency is None
        else:
            assert r.chairing_agency in rules.chairing_agencies
        theirs = managed[r.person_id]
        at_start = [m for m in theirs if m.effective_from <= r.effective_from] or theirs[:1]
        assert r.partnering_officer == at_start[-1].officer  # the offender manager partners the record
    assert panels and all(p.held_on <= AS_OF for p in panels)
    for p in panels:
        in_force = levels_on[p.id]
        assert in_force is not None and in_force.level == p.level in (2, 3), (p.person_id, p.held_on)
    assert raised > 0  # some histories change level


def test_the_due_list_has_overdue_cases(force_engine):
    with Session(force_engine) as session:
        found = service.due_list(session, cli_actor(), as_of=AS_OF)
    assert found.overdue > 0 and found.due > 0


def test_the_same_seed_gives_the_same_records(fresh_engine):
    def rows(seed: int):
        reset_database(fresh_engine)
        generate_force(fresh_engine, seed=seed, people=1_000)
        with Session(fresh_engine) as session:
            records = session.execute(select(MappaRecord.person_id, MappaRecord.category, MappaRecord.level,
                                             MappaRecord.effective_from, MappaRecord.ended_on, MappaRecord.visor_id,
                                             MappaRecord.chairing_agency).order_by(MappaRecord.id)).all()
            held = session.execute(select(MappaPanel.person_id, MappaPanel.held_on, MappaPanel.outcome)
                                   .order_by(MappaPanel.id)).all()
            count = session.scalar(select(func.count()).select_from(MappaRecord))
        return records, held, count

    first, again, other = rows(5), rows(5), rows(6)
    assert first[2] > 0 and first == again
    assert first[:2] != other[:2]
