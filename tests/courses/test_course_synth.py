"""The synthetic force's courses, read back the way a force would: Table C from `iom courses
completion --json` equals the calibration's cohorts at this force's scale; every referral's index
offence meets its course's rules and every referral has ended; the trial's log verifies and its
course arm is the CARA referrals; `iom evaluate --programme course-arv` builds its groups from
the register with the published outcome counts scaled."""

from __future__ import annotations

import json
from collections import defaultdict

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from iom.courses import service
from iom.courses.models import CourseControl, CourseReferral
from iom.courses.rules import catalogue
from iom.referrals.models import Referral
from iom.register.models import Person
from iom.synth import params

from tests.mappa.conftest import run_iom

FATES = {"completed": "completed", "breached": "breached", "withdrawn": "withdrawn"}


@pytest.fixture(scope="module")
def scale(force_engine) -> float:
    with Session(force_engine) as session:
        return min(1.0, session.scalar(select(func.count()).select_from(Person)) / params.DEFAULT_PEOPLE)


def _expected(scale: float) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for code, cohorts in params.COURSE_COHORTS.items():
        counts = defaultdict(int)
        for c in cohorts:
            if c.fate != "control":
                counts[c.fate] += round(c.n * scale)
                counts["referred"] += round(c.n * scale)
        out[code] = dict(counts)
    return out


def test_table_c_from_the_register_is_the_calibration(force_db, scale):
    done = run_iom(force_db.url, "courses", "completion", "--json", "--user", "courses-test")
    assert done.returncode == 0, done.stderr
    lines = {line["course"]: line for line in json.loads(done.stdout)["lines"]}
    for code, want in _expected(scale).items():
        line = lines[code]
        assert {k: line[k] for k in want} == want, code
        assert line["open"] == 0 and line["rate"] == pytest.approx(want["completed"] / want["referred"])
        assert line["lower"] < line["rate"] <= line["upper"]
        assert line["published"] == catalogue().get(code).published.completion and line["check"]


def test_every_synthetic_referral_meets_its_course_and_has_ended(force_engine):
    rules = catalogue()
    with Session(force_engine) as session:
        rows = service.course_rows(session)
        assert rows
        for cr, r in rows:
            course = rules.get(cr.course_code)
            facts = service.offence_facts(session, cr.crime_id, person_id=r.person_id)
            assert service.offence_reasons(course, facts) == [], (cr.referral_id, facts)
            assert course.running_on(r.created_on) and facts.recorded_on <= r.created_on
            assert r.status in service.FATES and r.provider_code == course.provider and r.source == cr.route
        per_person = session.execute(select(CourseReferral.course_code, Referral.person_id, func.count())
                                     .join(Referral).group_by(CourseReferral.course_code, Referral.person_id)
                                     .having(func.count() > 1)).all()
        assert per_person == []  # one referral per person per course
        controls = session.scalars(select(CourseControl)).all()
        assert controls and all(service.offence_reasons(rules.get(c.course_code), service.offence_facts(
            session, c.crime_id, person_id=c.person_id)) == [] for c in controls)


def test_the_trial_log_verifies_and_its_course_arm_is_the_cara_referrals(force_engine, force_db):
    done = run_iom(force_db.url, "courses", "verify", "--course", "cara", "--json", "--user", "courses-test")
    assert done.returncode == 0, done.stderr
    check = json.loads(done.stdout)
    assert check["intact"] and check["arms"]["course"] > 0 and check["arms"]["control"] > 0
    with Session(force_engine) as session:
        log = service.trial_log(session, "cara")
        referred = {cr.crime_id for cr, _ in service.course_rows(session, course="cara")}
    assert {row.crime_id for row in log if row.arm == "course"} == referred
    assert [row.allocated_on for row in log] == sorted(row.allocated_on for row in log)


def test_the_arv_evaluation_builds_its_groups_from_the_register(force_db, scale):
    done = run_iom(force_db.url, "evaluate", "--programme", "course-arv", "--follow-up", "12", "--json")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    evaluated = [c for c in params.COURSE_COHORTS["arv"] if c.start < params.COURSE_LATER_FROM and c.outcomes]
    want, events = defaultdict(int), defaultdict(int)
    for c in evaluated:
        want[c.fate] += round(c.n * scale)
        for outcome, k in c.outcomes.items():
            events[(c.fate, outcome)] += round(k * scale)
    want["all suitable"] = want["completed"] + want["breached"]
    assert found["groups"] == dict(want) and found["compared_with"] == "D"
    for outcome, evaluation in found["evaluations"].items():
        for group in evaluation["groups"]:
            if group["group"] in ("control", "completed", "breached"):
                assert group["events"] == events[(group["group"], outcome)], (outcome, group)
