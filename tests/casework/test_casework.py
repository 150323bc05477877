"""Casework from the console and the services: needs, plans, reviews, adoption and exit, on a
small synthetic force, each change scoped and audited, stale writes refused and recoverable."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys

import pytest
from sqlalchemy import func, select, text

from iom.casefile.commands import command_access
from iom.casework import flows, schemas, service
from iom.casework.models import PlanAction, Revision
from iom.casework.versioning import StaleWrite
from iom.cohorts.models import CohortMembership, RiskLevelRecord
from iom.db import session_scope
from iom.errors import Conflict, FieldError
from iom.register.models import Person
from iom.security.models import AuditEvent
from iom.synth.service import generate_force

AS_OF = dt.date(2019, 3, 31)
PEOPLE = 3000


def iom(url: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "iom.cli", "--db", url, *args], capture_output=True, text=True,
                          timeout=300)


@pytest.fixture
def force(scratch_db, fresh_engine):
    generate_force(fresh_engine, seed=3, people=PEOPLE)
    return scratch_db.url, fresh_engine


def _members(engine, lomu: str | None = None, n: int = 3) -> list[str]:
    """Pseudo ids of current members (optionally managed by ``lomu``), men, in id order."""
    lomu_clause = ("AND (SELECT m.lomu_code FROM management_history m WHERE m.person_id = p.id "
                   "ORDER BY m.effective_from DESC, m.id DESC LIMIT 1) = :lomu") if lomu else ""
    with engine.connect() as c:
        return list(c.execute(text(
            "SELECT DISTINCT p.pseudo_id, p.id FROM people p JOIN cohort_memberships cm ON cm.person_id = p.id "
            f"WHERE cm.exited_on IS NULL AND p.sex = 'M' {lomu_clause} ORDER BY p.id LIMIT :n"),
            {"lomu": lomu, "n": n}).scalars())


def _audit(engine, resource: str, action: str = "write") -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).where(AuditEvent.resource == resource, AuditEvent.action == action))


def test_plan_overdue_lists_exactly_the_actions_past_due(force):
    url, engine = force
    lbm, other = _members(engine, "LBM", 2), _members(engine, "LSW", 1)
    ids = []
    for pseudo, due in ((lbm[0], "2019-03-01"), (lbm[0], "2019-04-15"), (lbm[1], "2019-03-30"), (other[0], "2019-02-01")):
        done = iom(url, "plan", "add", pseudo, "--kind", "control", "--pathway", "attitudes", "--text", "home visit",
                   "--due", due)
        assert done.returncode == 0, done.stderr
        ids.append(int(done.stdout.split("#")[1].split()[0]))
    closed = iom(url, "plan", "update", lbm[1], str(ids[2]), "--version", "1", "--status", "done", "--outcome", "visited")
    assert closed.returncode == 0, closed.stderr
    listed = iom(url, "plan", "overdue", "--lomu", "LBM", "--as-of", "2019-03-31", "--json")
    assert listed.returncode == 0, listed.stderr
    found = {row["action"]["id"] for row in json.loads(listed.stdout)}
    with engine.connect() as c:
        expected = set(c.execute(text(
            "SELECT a.id FROM plan_actions a WHERE a.status IN ('open', 'in progress') AND a.due_on < '2019-03-31' "
            "AND a.created_on <= '2019-03-31' AND (SELECT m.lomu_code FROM management_history m WHERE m.person_id = "
            "a.person_id AND m.effective_from <= '2019-03-31' ORDER BY m.effective_from DESC, m.id DESC LIMIT 1) = 'LBM'"
        )).scalars())
    assert found == expected and ids[0] in found and not {ids[1], ids[2], ids[3]} & found
    line = iom(url, "plan", "overdue", "--lomu", "LBM", "--as-of", "2019-03-31", "--summary").stdout
    assert line.startswith(f"Plan actions overdue: {len(expected):,} (")
    assert _audit(engine, "plan_action", "search") == 2  # each listing is one audited search


def test_select_apply_changes_the_cohort_by_adopts_minus_exits(force):
    url, engine = force
    assert iom(url, "score", "--train").returncode == 0
    before = json.loads(iom(url, "summary", "--json").stdout)["current_members"]
    planned = json.loads(iom(url, "select", "--npu", "WS", "--json").stdout)["rows"]
    adopts = {r["person_id"] for r in planned if r["decision"] == "adopt"}
    exits = {r["person_id"] for r in planned if r["decision"] == "exit"}
    assert adopts or exits
    dry = iom(url, "select", "--npu", "WS")
    assert "dry run" in dry.stdout and json.loads(iom(url, "summary", "--json").stdout)["current_members"] == before
    applied = iom(url, "select", "--npu", "WS", "--apply", "--user", "sup.ws")
    assert applied.returncode == 0, applied.stderr
    after = json.loads(iom(url, "summary", "--json").stdout)["current_members"]
    assert after - before == len(adopts) - len(exits)
    with session_scope(engine) as s:
        new = set(s.scalars(select(CohortMembership.person_id).where(CohortMembership.adopted_on == AS_OF,
                                                                     CohortMembership.adoption_reason.like("selection WS%"))))
        ended = set(s.scalars(select(CohortMembership.person_id).where(CohortMembership.exited_on == AS_OF,
                                                                       CohortMembership.exit_reason.like("selection WS%"))))
        logged = s.execute(select(AuditEvent.person_id, AuditEvent.detail).where(
            AuditEvent.resource == "cohort_membership", AuditEvent.username == "sup.ws")).all()
    assert new == adopts and ended == exits
    assert {pid for pid, _ in logged} == adopts | exits and len(logged) == len(adopts) + len(exits)


def test_two_edits_of_one_action_the_second_is_refused_and_both_versions_kept(force):
    _, engine = force
    pseudo = _members(engine)[0]
    with command_access(engine, user="first", purpose="test") as access:
        pid = access.session.scalar(select(Person.id).where(Person.pseudo_id == pseudo))
        action = flows.add_action(access, person_id=pid, body=schemas.ActionIn(
            kind="change", pathway="ete", description="college course", due_on=dt.date(2019, 5, 1)))
    # Both editors read version 1; the first writes, then the second, who had not seen it.
    with command_access(engine, user="first", purpose="test") as access:
        flows.change_action(access, person_id=pid, action_id=action.id,
                            change=schemas.ActionChange(version=1, status="in progress"))
    with pytest.raises(StaleWrite) as refused, command_access(engine, user="second", purpose="test") as access:
        flows.change_action(access, person_id=pid, action_id=action.id,
                            change=schemas.ActionChange(version=1, status="cancelled", outcome="not needed"))
    assert refused.value.current == {**refused.value.current, "version": 2, "status": "in progress", "changed_by": "first"}
    with session_scope(engine) as s:
        kept = s.scalars(select(Revision).where(Revision.record_id == action.id).order_by(Revision.version)).all()
        assert [(r.version, r.data["status"], r.written_by) for r in kept] == [(1, "open", "first"), (2, "in progress", "first")]
        assert s.get(PlanAction, action.id).status == "in progress"


def test_a_lost_race_after_the_check_is_refused_too(force):
    """Two sessions both pass the version check; only the first update lands."""
    _, engine = force
    pseudo = _members(engine)[0]
    with command_access(engine, user="a", purpose="test") as access:
        pid = access.session.scalar(select(Person.id).where(Person.pseudo_id == pseudo))
        action_id = flows.add_action(access, person_id=pid, body=schemas.ActionIn(
            kind="control", pathway="attitudes", description="curfew check", due_on=dt.date(2019, 4, 1))).id
    change = schemas.ActionChange(version=1, status="in progress")
    with session_scope(engine) as one:
        first = service.check_change(session=one, person_id=pid, action_id=action_id, change=change)
        with session_scope(engine) as two:
            second = service.check_change(session=two, person_id=pid, action_id=action_id, change=change)
        service.apply_change(session=one, action=first, change=change, by="a", as_of=AS_OF)
    with pytest.raises(StaleWrite), session_scope(engine) as two:
        service.apply_change(session=two, action=two.get(PlanAction, second.id), change=change, by="b", as_of=AS_OF)


def test_needs_are_kept_as_history_and_a_stale_assessment_is_refused(force):
    _, engine = force
    pseudo = _members(engine)[0]
    rate = lambda level: [schemas.NeedIn(pathway="accommodation", level=level), schemas.NeedIn(pathway="ete", level="none")]  # noqa: E731
    with command_access(engine, user="om", purpose="test") as access:
        pid = access.session.scalar(select(Person.id).where(Person.pseudo_id == pseudo))
        latest = service.latest_needs(session=access.session, person_id=pid, as_of=dt.date.max)
        base = latest.id if latest else None
        first = flows.assess_needs(access, person_id=pid, body=schemas.NeedsAssessmentIn(ratings=rate("severe"), based_on=base))
    with pytest.raises(Conflict), command_access(engine, user="om2", purpose="test") as access:
        flows.assess_needs(access, person_id=pid, body=schemas.NeedsAssessmentIn(ratings=rate("none"), based_on=base))
    with command_access(engine, user="om2", purpose="test") as access:
        flows.assess_needs(access, person_id=pid, body=schemas.NeedsAssessmentIn(ratings=rate("standard"), based_on=first.id))
        record = service.for_record(_ctx(access, pid))
    assert [n.level for n in record.needs.ratings if n.pathway == "accommodation"] == ["standard"]
    assert first.id in [a.id for a in record.needs_history]
    with pytest.raises(FieldError, match="women"), command_access(engine, user="om", purpose="test") as access:
        flows.assess_needs(access, person_id=pid, body=schemas.NeedsAssessmentIn(
            ratings=[schemas.NeedIn(pathway="abuse_sex_work", level="standard")], based_on=record.needs.id))


def _ctx(access, pid):
    from iom.casefile.access import RecordContext

    return RecordContext(access.session, access.user, pid, access.as_of, False)


def test_sequencing_rules_warn_in_words(force):
    """(One access per write, as a request or a command has: SQLite's audit append waits for
    the session's write lock.)"""
    _, engine = force
    pseudo = _members(engine)[1]
    with command_access(engine, user="om", purpose="test") as access:
        pid = access.session.scalar(select(Person.id).where(Person.pseudo_id == pseudo))
        latest = service.latest_needs(session=access.session, person_id=pid, as_of=dt.date.max)
        flows.assess_needs(access, person_id=pid, body=schemas.NeedsAssessmentIn(
            ratings=[schemas.NeedIn(pathway="accommodation", level="severe")], based_on=latest.id if latest else None))
        # Cancel whatever plan the synthetic force gave this person, so only ours counts.
        access.session.execute(text("UPDATE plan_actions SET status = 'cancelled' WHERE person_id = :p"), {"p": pid})
    with command_access(engine, user="om", purpose="test") as access:
        flows.add_action(access, person_id=pid, body=schemas.ActionIn(kind="change", pathway="ete",
                                                                      description="job club", due_on=dt.date(2019, 4, 10)))
    with command_access(engine, user="om", purpose="test") as access:
        warned = service.plan(session=access.session, person_id=pid, as_of=AS_OF).warnings
        flows.add_action(access, person_id=pid, body=schemas.ActionIn(kind="change", pathway="accommodation",
                                                                      description="housing referral", due_on=dt.date(2019, 4, 5)))
        after = service.plan(session=access.session, person_id=pid, as_of=AS_OF).warnings
    assert any("Accommodation comes before education" in w for w in warned)
    assert not any("Accommodation comes before education" in w for w in after)


def test_a_review_sets_the_next_due_date_and_a_changed_level(force):
    _, engine = force
    pseudo = _members(engine)[2]
    with command_access(engine, user="om", purpose="test") as access:
        pid = access.session.scalar(select(Person.id).where(Person.pseudo_id == pseudo))
        before = service.check_review(session=access.session, person_id=pid,
                                      body=schemas.ReviewIn(level="High"), as_of=AS_OF)[1]
        with pytest.raises(FieldError, match="the outcome is"):
            service.check_review(session=access.session, person_id=pid,
                                 body=schemas.ReviewIn(level="High", outcome="risk lowered" if before == "risk raised" else "risk raised"),
                                 as_of=AS_OF)
        with pytest.raises(FieldError, match="after"):
            flows.record_review(access, person_id=pid, body=schemas.ReviewIn(level="High", reviewed_on=AS_OF + dt.timedelta(days=1)))
        done = flows.record_review(access, person_id=pid, body=schemas.ReviewIn(level="High"))
    with command_access(engine, user="om", purpose="test") as access:
        detail = access.person(pid)
    assert done.next_due == AS_OF + dt.timedelta(days=28) and detail.next_review == done.next_due
    with session_scope(engine) as s:
        level = s.scalar(select(RiskLevelRecord.level).where(RiskLevelRecord.person_id == pid)
                         .order_by(RiskLevelRecord.effective_from.desc(), RiskLevelRecord.id.desc()).limit(1))
    assert level == "High"


def test_adopt_and_exit_from_the_console_append_to_the_history(force):
    url, engine = force
    pseudo = _members(engine)[0]
    refused = iom(url, "adopt", pseudo, "--cohort", "NOPE", "--reason", "because")
    assert refused.returncode == 2 and "no cohort 'NOPE'" in refused.stderr
    assert iom(url, "exit", pseudo, "--reason", "moved out of area").returncode == 0
    again = iom(url, "exit", pseudo, "--reason", "moved out of area")
    assert again.returncode == 2 and "not in any cohort" in again.stderr
    assert iom(url, "adopt", pseudo, "--cohort", "PPO", "--reason", "returned to the area").returncode == 0
    with session_scope(engine) as s:
        pid = s.scalar(select(Person.id).where(Person.pseudo_id == pseudo))
        rows = s.execute(select(CohortMembership.classification_code, CohortMembership.exited_on, CohortMembership.exit_reason)
                         .where(CohortMembership.person_id == pid)).all()
    assert ("PPO", None, None) in rows and any(r.exit_reason == "moved out of area" and r.exited_on == AS_OF for r in rows)
    assert _audit(engine, "cohort_membership") == 2
