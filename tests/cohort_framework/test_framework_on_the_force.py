"""The cohort framework on a small synthetic force (seed 1), through the real ``iom`` command:
every proposed adoption is eligible for its classification and says by which rule, the reset
review matches an independent reading of the register, and after ``select --apply`` no officer
is over capacity unless a supervisor gave a reason."""

from __future__ import annotations

import datetime as dt
import json
from collections import Counter, defaultdict
from pathlib import Path

import pytest
from sqlalchemy import text

from iom.casefile.commands import command_access
from iom.cohort_framework import flows
from iom.cohort_framework.rules import workload_rules
from iom.errors import FieldError
from iom.register.service import init_database
from iom.synth.service import generate_force

from tests.conftest import ScratchDatabase
from tests.mappa.conftest import run_iom as iom

AS_OF = dt.date(2019, 3, 31)
WINDOW_START = dt.date(2018, 3, 31)  # twelve calendar months before AS_OF: offences after it count
PEOPLE = 3000
ADULT_ONLY = {"HCCU", "BURGLARY", "ROBBERY", "VEHICLE", "MSV", "PPO"}


def _age(born, on: dt.date) -> int:
    born = dt.date.fromisoformat(str(born))  # SQLite returns text to a plain query
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def _scored_force(tmp: Path) -> ScratchDatabase:
    db = ScratchDatabase(tmp)
    engine = db.engine()
    init_database(engine)
    generate_force(engine, seed=1, people=PEOPLE)
    done = iom(db.url, "score", "--train")
    assert done.returncode == 0, done.stderr
    return db


@pytest.fixture(scope="module")
def force(tmp_path_factory):
    """Read-only for the tests that use it: proposals and the reset review."""
    db = _scored_force(tmp_path_factory.mktemp("framework"))
    yield db
    db.drop()


@pytest.fixture
def own_force(tmp_path):
    db = _scored_force(tmp_path)
    yield db
    db.drop()


def _people(engine) -> dict[int, dt.date]:
    with engine.connect() as c:
        return dict(c.execute(text("SELECT id, date_of_birth FROM people")).all())


def test_every_proposed_adoption_is_eligible_for_its_classification_by_a_named_rule(force):
    listed = iom(force.url, "select", "--npu", "all", "--json")
    assert listed.returncode == 0, listed.stderr
    adopts = [r for npu in json.loads(listed.stdout) for r in npu["rows"] if r["decision"] == "adopt"]
    assert len(adopts) > 20
    born = _people(force.engines[0])
    with force.engines[0].connect() as c:
        recent = Counter()
        for pid, code in c.execute(text(
                "SELECT c.person_id, o.cohort_classification FROM crimes c JOIN offences o ON o.code = c.offence_code "
                "WHERE o.is_crime AND c.committed_on > :start AND c.committed_on <= :d"),
                {"start": WINDOW_START, "d": AS_OF}):
            recent[(pid, code)] += 1
            recent[(pid, None)] += 1
    for row in adopts:
        assert row["classification"] and row["eligibility"], row
        age = _age(born[row["person_id"]], AS_OF)
        if age < 18:
            assert row["classification"] == "DYO", (age, row)  # a 17-year-old is never proposed for Core
        else:
            assert row["classification"] != "DYO", (age, row)  # an adult never for DYO
        if row["classification"] in ("BURGLARY", "ROBBERY", "VEHICLE", "MSV"):
            assert recent[(row["person_id"], row["classification"])] >= 1, row
        if row["classification"] == "DYO":
            assert recent[(row["person_id"], None)] >= 2, row


def _independent_lapsed(engine) -> set[int]:
    """Membership ids whose classification's default rule fails on AS_OF, read with plain SQL."""
    p = {"d": AS_OF, "start": WINDOW_START}
    with engine.connect() as c:
        members = c.execute(text(
            "SELECT m.id, m.person_id, m.classification_code FROM cohort_memberships m "
            "WHERE m.adopted_on <= :d AND (m.exited_on IS NULL OR m.exited_on > :d)"), p).all()
        born = dict(c.execute(text("SELECT id, date_of_birth FROM people")).all())
        crimes = c.execute(text(
            "SELECT c.person_id, o.cohort_classification, o.offence_group FROM crimes c "
            "JOIN offences o ON o.code = c.offence_code WHERE o.is_crime AND c.committed_on > :start "
            "AND c.committed_on <= :d"), p).all()
        risk = dict(c.execute(text(
            "SELECT r.person_id, r.level FROM risk_level_history r WHERE r.effective_from <= :d AND NOT EXISTS ("
            "SELECT 1 FROM risk_level_history n WHERE n.person_id = r.person_id AND n.effective_from <= :d AND "
            "(n.effective_from > r.effective_from OR (n.effective_from = r.effective_from AND n.id > r.id)))"), p).all())
        mappa = dict(c.execute(text(
            "SELECT r.person_id, r.level FROM mappa_records r WHERE r.effective_from <= :d "
            "AND (r.ended_on IS NULL OR r.ended_on > :d) AND NOT EXISTS ("
            "SELECT 1 FROM mappa_records n WHERE n.person_id = r.person_id AND n.effective_from <= :d AND "
            "(n.effective_from > r.effective_from OR (n.effective_from = r.effective_from AND n.id > r.id)))"), p).all())
        class_a = set(c.execute(text(
            "SELECT person_id FROM vulnerability_markers WHERE marker = 'CLASS_A' AND started_on <= :d "
            "AND (ended_on IS NULL OR ended_on > :d)"), p).scalars())
    count: dict[tuple[int, str], int] = defaultdict(int)
    for pid, code, group in crimes:
        count[(pid, "any")] += 1
        count[(pid, code)] += 1
        if group in ("Theft offences", "Robbery") or code in ("BURGLARY", "VEHICLE"):
            count[(pid, "acquisitive")] += 1
    lapsed = set()
    for mid, pid, code in members:
        age = _age(born[pid], AS_OF)
        holds = {
            "MAPPA": mappa.get(pid) in (2, 3),
            "DYO": age <= 17 and count[(pid, "any")] >= 2,
            "HCCU": age >= 18 and pid in class_a and count[(pid, "acquisitive")] >= 1,
            "MSV": age >= 18 and count[(pid, "MSV")] >= 1,
            "PPO": age >= 18 and count[(pid, "any")] >= 6,
        }
        for core in ("BURGLARY", "ROBBERY", "VEHICLE"):
            holds[core] = age >= 18 and count[(pid, core)] >= 1 and risk.get(pid) in (None, "High", "Medium")
        if code in holds and not holds[code]:
            lapsed.add(mid)
    return lapsed


def test_the_reset_review_lists_exactly_the_members_whose_eligibility_has_lapsed(force):
    done = iom(force.url, "cohort", "reset-review", "--as-of", "2019-03-31", "--json")
    assert done.returncode == 0, done.stderr
    review = json.loads(done.stdout)
    listed = {m["membership_id"] for m in review["lapsed"]}
    expected = _independent_lapsed(force.engines[0])
    assert len(listed) == len(expected) and listed == expected
    assert 0 < len(listed) < review["members_checked"]
    assert all(m["why"] for m in review["lapsed"])
    line = iom(force.url, "cohort", "reset-review", "--as-of", "2019-03-31", "--summary").stdout
    assert line.startswith(f"reset review: {len(expected):,} of {review['members_checked']:,} memberships")


def _loads(engine) -> dict[tuple[str, str], int]:
    """Each officer's points on AS_OF from the latest management and risk rows, read with SQL."""
    work = workload_rules()
    latest = ("SELECT {cols} FROM {t} r WHERE r.effective_from <= :d AND NOT EXISTS (SELECT 1 FROM {t} n WHERE "
              "n.person_id = r.person_id AND n.effective_from <= :d AND (n.effective_from > r.effective_from OR "
              "(n.effective_from = r.effective_from AND n.id > r.id)))")
    with engine.connect() as c:
        members = set(c.execute(text("SELECT person_id FROM cohort_memberships WHERE adopted_on <= :d AND "
                                     "(exited_on IS NULL OR exited_on > :d)"), {"d": AS_OF}).scalars())
        managed = c.execute(text(latest.format(cols="r.person_id, r.lomu_code, r.officer, r.offender_type",
                                               t="management_history")), {"d": AS_OF}).all()
        risk = dict(c.execute(text(latest.format(cols="r.person_id, r.level", t="risk_level_history")),
                              {"d": AS_OF}).all())
    loads: dict[tuple[str, str], int] = defaultdict(int)
    for pid, lomu, officer, kind, in managed:
        if pid in members and officer:
            loads[(lomu, officer)] += work.points[kind][risk.get(pid) or work.unassessed_level]
    return loads


def test_after_select_apply_no_officer_is_over_capacity_unless_a_supervisor_gave_a_reason(own_force, tmp_path,
                                                                                         monkeypatch):
    engine = own_force.engines[0]
    applied = iom(own_force.url, "select", "--npu", "all", "--apply", "--user", "sup.all")
    assert applied.returncode == 0, applied.stderr
    assert "allocated to an officer" in applied.stdout
    capacity = workload_rules().capacity_points
    loads = _loads(engine)
    assert loads and max(loads.values()) <= capacity
    with engine.connect() as c:
        allocated = c.execute(text("SELECT COUNT(*) FROM officer_allocations WHERE over_capacity_reason IS NULL "
                                   "AND load_before + points <= capacity")).scalar()
        adopted = c.execute(text("SELECT COUNT(*) FROM cohort_memberships WHERE adoption_reason LIKE 'selection %' "
                                 "AND adopted_on = :d"), {"d": AS_OF}).scalar()
    assert allocated > 0 and adopted >= allocated

    # A supervisor takes the fullest officer over capacity: refused without a reason, kept with one.
    (lomu, officer), load = max(loads.items(), key=lambda kv: kv[1])
    rules_dir = tmp_path / "rules"
    rules_dir.mkdir()
    shipped = Path(workload_rules.__code__.co_filename).parent / "data" / "workload-v1.toml"
    (rules_dir / "workload-v1.toml").write_text(
        shipped.read_text().replace(f"capacity_points = {capacity}", f"capacity_points = {load + 1}"))
    monkeypatch.setenv("IOM_RULES_DIR", str(rules_dir))
    with engine.connect() as c:
        other = c.execute(text(
            "SELECT m.person_id FROM management_history m JOIN cohort_memberships cm ON cm.person_id = m.person_id "
            "WHERE m.lomu_code = :lomu AND m.officer <> :officer AND cm.exited_on IS NULL ORDER BY m.person_id LIMIT 1"),
            {"lomu": lomu, "officer": officer}).scalar()
    with pytest.raises(FieldError, match="over capacity"), \
            command_access(engine, user="sup.all", purpose="test", as_of=AS_OF) as access:
        flows.allocate(access, person_id=other, officer=officer)
    with command_access(engine, user="sup.all", purpose="test", as_of=AS_OF) as access:
        made = flows.allocate(access, person_id=other, officer=officer, reason="continuity: the same family")
    assert made.over_capacity_reason == "continuity: the same family"
    shown = json.loads(iom(own_force.url, "cohort", "officers", "--lomu", lomu, "--json").stdout)
    mine = next(o for o in shown["officers"] if o["officer"] == officer)
    assert mine["points"] > mine["capacity"] and mine["overridden"]
    for o in shown["officers"]:
        assert o["points"] <= o["capacity"] or o["overridden"], o
    with engine.connect() as c:
        logged = c.execute(text("SELECT COUNT(*) FROM audit_log WHERE resource = 'allocation' AND person_id = :p"),
                           {"p": other}).scalar()
    assert logged == 1  # the refusal wrote no audit row; the allocation one
