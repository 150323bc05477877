"""The lead-agency check: none on the synthetic force (the generator follows the rule), exactly
the rows a test breaks afterwards, through the service and the real command, audited."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.casework import lead_agency
from iom.cohorts import service as cohorts
from iom.cohorts.models import CohortMembership, ManagementRecord
from iom.cohorts.rules import lead_agency_rules
from iom.db import session_scope
from iom.register.models import Person
from iom.register.service import init_database
from iom.security import audit
from iom.synth import params, sample
from iom.synth.service import generate_force

from tests.conftest import ScratchDatabase

AS_OF = params.REFERENCE_DATE


def iom(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, *args], capture_output=True, text=True,
                          timeout=180)


def test_age_counts_birthdays():
    assert lead_agency.age_on(dt.date(2001, 3, 31), dt.date(2019, 3, 31)) == 18
    assert lead_agency.age_on(dt.date(2001, 4, 1), dt.date(2019, 3, 31)) == 17
    assert lead_agency.age_on(dt.date(2000, 2, 29), dt.date(2018, 2, 28)) == 17


def test_the_synthetic_force_has_no_mismatches(force_engine):
    with Session(force_engine) as session:
        assert lead_agency.mismatches(session=session, as_of=AS_OF) == []
        assert cohorts.count_current_members(session, AS_OF) == params.PUBLISHED_MEMBERS


def test_the_sample_breaks_the_rule_where_police_lead_high_risk(db_session):
    """The sample names the police for everyone: its two high-risk members need the NPS; a
    member with no management record at all is reported as such."""
    people = sample.build(db_session)
    unmanaged = Person(pseudo_id="PSEUDO0099", source_id="sample-99", given_name="Ada", family_name="Nomanager",
                       date_of_birth=dt.date(1985, 5, 5), sex="F", ethnicity="W_BRI", home_npu="BN")
    db_session.add(unmanaged)
    db_session.flush()
    db_session.add(CohortMembership(person_id=unmanaged.id, classification_code="PPO", adopted_on=dt.date(2018, 6, 1)))
    db_session.flush()
    found = {m.person_id: m for m in lead_agency.mismatches(session=db_session, as_of=sample.AS_OF)}
    assert set(found) == {people.birmingham, people.restricted, unmanaged.id}
    high = found[people.birmingham]
    assert (high.recorded_agency, high.allowed_agencies, high.risk_level) == ("Police", ("National Probation Service",), "High")
    assert high.reason == lead_agency_rules().rule[1].reason and high.rule == "high risk"
    assert found[unmanaged.id].recorded_agency is None
    only_lws = lead_agency.mismatches(session=db_session, as_of=sample.AS_OF, lomu="LWS")
    assert only_lws == []  # the Walsall member is medium risk, police-led: allowed


@pytest.fixture(scope="module")
def small_force(tmp_path_factory):
    """A small force of its own (the test writes to it)."""
    db = ScratchDatabase(tmp_path_factory.mktemp("lead_agency"))
    engine = db.engine()
    init_database(engine)
    generate_force(engine, seed=3, people=2_000)
    yield db.url, engine
    db.drop()


def _break_three(engine) -> dict[int, str]:
    """A newer management record with an agency the rule refuses, for three current members:
    an under-18 (the YOT must lead), a high-risk adult (the NPS) and a low-risk adult (CRC or
    police). Returns person → the agency written."""
    rules = lead_agency_rules()
    with session_scope(engine) as session:
        levels = cohorts.current_risk_levels(session, AS_OF)
        managed = cohorts.current_management(session, AS_OF)
        people = {p.id: p for p in session.scalars(select(Person).where(Person.id.in_(list(levels))))}
        by_rule: dict[str, int] = {}
        for pid in sorted(levels):
            rule = rules.applying(age=lead_agency.age_on(people[pid].date_of_birth, AS_OF), risk_level=levels[pid])
            by_rule.setdefault(rule.name, pid)
        wrong = {"youth": "Police", "high risk": "Probation provider (CRC)", "otherwise": "Youth Offending Team"}
        assert set(by_rule) == set(wrong)
        written = {}
        for name, pid in by_rule.items():
            old = managed[pid]
            session.add(ManagementRecord(person_id=pid, effective_from=AS_OF - dt.timedelta(days=3),
                                         offender_type=old.offender_type, lead_agency=wrong[name],
                                         lomu_code=old.lomu_code, officer=old.officer, reason="test: wrong agency"))
            written[pid] = wrong[name]
    return written


def test_exactly_the_three_broken_rows_are_reported_by_the_service_and_the_command(small_force):
    url, engine = small_force
    before = iom(url, "check", "lead-agency", "--as-of", AS_OF.isoformat())
    assert before.returncode == 0, before.stderr
    assert "0 mismatches among 650 current members" in before.stdout

    written = _break_three(engine)
    with session_scope(engine) as session:
        found = lead_agency.mismatches(session=session, as_of=AS_OF)
        pseudo = dict(session.execute(select(Person.id, Person.pseudo_id).where(Person.id.in_(list(written)))).all())
    assert {m.person_id: m.recorded_agency for m in found} == written
    assert all(m.recorded_agency not in m.allowed_agencies for m in found)

    shown = iom(url, "check", "lead-agency", "--as-of", AS_OF.isoformat(), "--user", "checker")
    assert shown.returncode == 0, shown.stderr
    assert "3 mismatches among 650 current members" in shown.stdout
    assert all(p in shown.stdout for p in pseudo.values())

    as_json = iom(url, "check", "lead-agency", "--as-of", AS_OF.isoformat(), "--json")
    assert as_json.returncode == 0, as_json.stderr
    report = json.loads(as_json.stdout)
    assert report["count"] == 3 and report["checked"] == 650 and report["rules_version"] == "lead-agency-v1"
    assert {m["person_id"]: m["recorded_agency"] for m in report["mismatches"]} == written

    # One LOMU: only its members are checked and shown.
    lomu = report["mismatches"][0]["lomu_code"]
    here = json.loads(iom(url, "check", "lead-agency", "--as-of", AS_OF.isoformat(), "--lomu", lomu, "--json").stdout)
    assert {m["person_id"] for m in here["mismatches"]} == {m["person_id"] for m in report["mismatches"]
                                                            if m["lomu_code"] == lomu}
    with session_scope(engine) as session:
        in_lomu = sum(r.lomu_code == lomu for pid, r in cohorts.current_management(session, AS_OF).items()
                      if pid in set(session.scalars(cohorts.current_member_ids(AS_OF))))
    assert here["checked"] == in_lomu

    # The read is audited: one search row for the command, naming the people it reported.
    with session_scope(engine) as session:
        rows = [e for e in audit.search(session, username="checker", action="search") if e.resource == "lead_agency_check"]
    assert len(rows) == 1
    detail = json.loads(rows[0].detail)
    assert sorted(detail["people"]) == sorted(written) and detail["checked"] == 650 and detail["via"] == "cli"


def test_an_unknown_lomu_is_refused_plainly(small_force):
    url, _ = small_force
    result = iom(url, "check", "lead-agency", "--lomu", "NOPE")
    assert result.returncode == 2
    assert "no LOMU 'NOPE'" in result.stderr and "Traceback" not in result.stderr
