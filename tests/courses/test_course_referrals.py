"""Course referrals through the flows on a real database: every reason a course refuses, the
interpreter refusal with its ESOL offer, a referral from a conditional caution whose condition
follows the referral, the trial log verified and replayed, and the lifecycle driven at random
with the disposal's condition always agreeing with the referral."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from iom.casefile.commands import command_access
from iom.courses import flows, service
from iom.courses.models import TrialAllocation
from iom.db import session_scope
from iom.diversion import flows as oocd
from iom.diversion.models import Condition, Disposal
from iom.errors import UserError
from iom.referrals import flows as referral_flows
from iom.referrals import lifecycle

from tests.courses.conftest import AS_OF, make_crime

LEGAL = dict(lifecycle.TABLE)


def access(engine, on: dt.date = AS_OF):
    return command_access(engine, user="course-test", purpose="test", as_of=on)


def test_a_course_refuses_with_every_reason(fresh_engine, case):
    with pytest.raises(service.CourseRefused) as exc, access(fresh_engine) as a:
        flows.refer(a, course="arv", person_id=case.person, route="plan", crime_id=case.theft)
    reasons = exc.value.reasons
    assert any("theft offences" in r for r in reasons) and any("alcohol-related" in r for r in reasons)
    assert exc.value.offer is None
    with pytest.raises(UserError, match="recorded on 2019-02-01, after 2016-06-01"), \
            access(fresh_engine, dt.date(2016, 6, 1)) as a:
        flows.refer(a, course="arv", person_id=case.person, route="plan", crime_id=case.assault)
    with pytest.raises(service.CourseRefused, match="ran from 2017-07-01 to 2018-09-30"), access(fresh_engine) as a:
        flows.refer(a, course="arda", person_id=case.person, route="plan", crime_id=case.domestic)


def test_cara_refuses_a_person_needing_an_interpreter_and_offers_esol(fresh_engine, case):
    with pytest.raises(service.CourseRefused) as exc, access(fresh_engine) as a:
        flows.refer(a, course="cara", person_id=case.person, route="plan", crime_id=case.domestic,
                    interpreter_language="pl")
    assert exc.value.reasons == ["its groups run in English and an interpreter would disrupt the group; this person "
                                 "needs a Polish interpreter"]
    offer = exc.value.offer
    assert (offer.provider, offer.pathway, offer.language) == ("esol-providers", "ete", "Polish")
    assert "ESOL condition" in str(exc.value) and "free of charge" in offer.words
    with pytest.raises(UserError, match="no language 'xx'"), access(fresh_engine) as a:
        flows.refer(a, course="cara", person_id=case.person, route="plan", crime_id=case.domestic,
                    interpreter_language="xx")
    with access(fresh_engine) as a:  # the same referral without the interpreter: the DA criteria hold
        made = flows.refer(a, course="cara", person_id=case.person, route="plan", crime_id=case.domestic)
    assert made.status == "sent" and made.course == "cara"
    with pytest.raises(service.CourseRefused, match="already been referred"), access(fresh_engine) as a:
        flows.refer(a, course="cara", person_id=case.person, route="plan", crime_id=case.domestic)


def test_the_da_domain_sends_cara_referrals_to_the_courses(fresh_engine, case):
    from iom.domestic_abuse import flows as da_flows
    from iom.domestic_abuse import service as da_service

    with pytest.raises(UserError, match="iom courses refer --course cara"), access(fresh_engine) as a:
        da_flows.refer_to_programme(a, person_id=case.person, programme="cara", reason="Standard-risk DA")
    with access(fresh_engine) as a:
        found = {e.programme: e for e in da_service.eligibility(a.session, case.person, on=AS_OF)}
    assert found["cara"].eligible and found["cara"].referred_through == "courses"
    assert found["drive"].referred_through is None  # DRIVE stays the DA domain's


def _caution(engine, case) -> int:
    with access(engine) as a:
        made = oocd.decide(a, person_id=case.person, crime_id=case.assault, tier="conditional_caution", admission=True,
                           consent=True, rationale="admitted; first offence", intervention_available=True)
    return made.id


def _walk(engine, referral_id: int, *, finish: str) -> None:
    for action in ("accept", "start"):
        with access(engine) as a:
            referral_flows.change_status(a, referral_id=referral_id, action=action, version=None)
    with access(engine) as a:
        referral_flows.record_session(a, referral_id=referral_id, version=None, held_on=AS_OF, attendance="attended")
    with access(engine) as a:
        referral_flows.change_status(a, referral_id=referral_id, action=finish, version=None,
                                     reason="Stopped attending" if finish == "end" else None,
                                     outcomes={"Completes the course": "achieved" if finish == "complete" else "not"})


@pytest.mark.parametrize("finish, condition, disposal", [("complete", "complied", "complied"),
                                                          ("end", "failed", "breached")])
def test_a_referral_from_a_conditional_caution_settles_its_condition(fresh_engine, case, finish, condition, disposal):
    made = _caution(fresh_engine, case)
    with access(fresh_engine) as a:
        referred = flows.refer(a, course="arv", person_id=case.person, route="oocd", disposal_id=made,
                               format="one Saturday")
    assert referred.crime_id == case.assault and referred.condition_id is not None
    for action, extra in (("authorise", {"rank": "sergeant"}), ("issue", {})):
        with access(fresh_engine) as a:
            oocd.change(a, disposal_id=made, action=action, **extra)
    _walk(fresh_engine, referred.referral_id, finish=finish)
    with Session(fresh_engine) as session:
        row = session.get(Condition, referred.condition_id)
        assert (row.status, row.referral_id, row.provider_code) == (condition, referred.referral_id, "cranstoun")
        assert session.get(Disposal, made).status == disposal
    with pytest.raises(UserError, match="runs as"), access(fresh_engine) as a:
        flows.refer(a, course="arv", person_id=case.person, route="plan", crime_id=case.assault, format="online")


def test_completion_counts_each_fate_with_a_wilson_interval(fresh_engine, case):
    with access(fresh_engine) as a:
        made = flows.refer(a, course="arv", person_id=case.person, route="voluntary", crime_id=case.assault)
    with access(fresh_engine) as a:
        before = service.completion(a.session, course="arv")
    assert (before.lines[0].referred, before.lines[0].open, before.lines[0].rate) == (1, 1, None)
    _walk(fresh_engine, made.referral_id, finish="complete")
    with access(fresh_engine) as a:
        line = service.completion(a.session, course="arv").lines[0]
        quarter = service.completion(a.session, course="arv", by="quarter").lines[0]
    assert (line.referred, line.completed, line.open, line.rate) == (1, 1, 0, 1.0)
    assert 0.2 < line.lower < 0.25 and line.upper == pytest.approx(1.0)  # Wilson's, not 1.0 to 1.0
    assert quarter.period == "2019 Q1"
    assert line.check == "the published 62% is not a whole number of 1 person (1/1 = 100.0%)"


def test_the_trial_log_replays_from_its_seed_and_refuses_edits(fresh_engine, case):
    with access(fresh_engine) as a:
        first = flows.allocate(a, course="cara", person_id=case.person, crime_id=case.domestic, seed=11)
    assert first.sequence == 1 and first.arm in ("control", "course")
    assert (first.referral_id is not None) == (first.arm == "course")
    with pytest.raises(UserError, match="control arm|already been referred"), access(fresh_engine) as a:
        flows.allocate(a, course="cara", person_id=case.person, crime_id=case.domestic)
    with Session(fresh_engine) as session:
        log = service.trial_log(session, "cara")
        assert service.verify_trial(log).intact
        session.expunge_all()
    log[0].arm = "course" if log[0].arm == "control" else "control"
    found = service.verify_trial(log)
    assert not found.intact and any("hash does not match" in p for p in found.problems)
    refusals = ["UPDATE trial_allocations SET arm = 'course'", "DELETE FROM trial_allocations"]
    if fresh_engine.dialect.name == "postgresql":
        refusals.append("TRUNCATE trial_allocations")  # a statement trigger: row triggers do not see it
    for statement in refusals:  # append only, in the database itself
        with pytest.raises(Exception, match="append-only"), fresh_engine.begin() as connection:
            connection.execute(text(statement))
    with Session(fresh_engine) as session:
        assert len(session.scalars(select(TrialAllocation)).all()) == 1


def test_no_illegal_change_is_reachable_and_the_condition_follows(fresh_engine, case):
    engine = fresh_engine
    made_crimes = iter(range(100, 10_000))

    class CourseReferralSteps(RuleBasedStateMachine):
        """Each example: a new alcohol-related assault, a conditional caution for it, the ARV
        referral from it, the caution issued; then the referral driven at random."""

        def __init__(self) -> None:
            super().__init__()
            with session_scope(engine) as session:
                crime = make_crime(session, case.person, "105/01", n=next(made_crimes), alcohol=True)
            with access(engine) as a:
                disposal = oocd.decide(a, person_id=case.person, crime_id=crime, tier="conditional_caution",
                                       admission=True, consent=True, rationale="admitted", intervention_available=True)
            with access(engine) as a:
                self.referred = flows.refer(a, course="arv", person_id=case.person, route="oocd",
                                            disposal_id=disposal.id)
            for action, extra in (("authorise", {"rank": "sergeant"}), ("issue", {})):
                with access(engine) as a:
                    oocd.change(a, disposal_id=disposal.id, action=action, **extra)
            self.status, self.attended = "sent", False

        @rule(action=st.sampled_from(["send", "accept", "start", "complete", "end", "cancel", "session"]),
              attendance=st.sampled_from(["attended", "did not attend"]))
        def act(self, action, attendance):
            expected = LEGAL.get((self.status, action))
            if action == "complete" and not self.attended:
                expected = None
            try:
                with access(engine) as a:
                    if action == "session":
                        done = referral_flows.record_session(a, referral_id=self.referred.referral_id, version=None,
                                                             held_on=AS_OF, attendance=attendance)
                    else:
                        done = referral_flows.change_status(
                            a, referral_id=self.referred.referral_id, action=action, version=None, reason="Reason",
                            outcomes={"Completes the course": "partly"} if action in ("complete", "end") else None)
            except UserError:
                assert expected is None, f"{self.status} → {action} is legal but was refused"
                return
            assert expected is not None and done.status == expected, f"{self.status} → {action} was written"
            self.status = expected
            self.attended |= action == "session" and attendance == "attended"

        @invariant()
        def condition_agrees(self):
            with Session(engine) as session:
                stored = session.get(Condition, self.referred.condition_id).status
                disposal = session.get(Disposal, session.get(Condition, self.referred.condition_id).disposal_id)
            want = {"completed": "complied", "ended early": "failed", "cancelled": "failed"}.get(self.status, "pending")
            assert stored == want
            assert disposal.status == {"complied": "complied", "failed": "breached"}.get(want, "issued")

    run_state_machine_as_test(CourseReferralSteps, settings=settings(
        max_examples=6, stateful_step_count=15, deadline=None, suppress_health_check=list(HealthCheck)))


def test_a_course_finished_before_the_caution_is_issued_settles_its_condition_on_issue(fresh_engine, case):
    made = _caution(fresh_engine, case)
    with access(fresh_engine) as a:
        referred = flows.refer(a, course="arv", person_id=case.person, route="oocd", disposal_id=made)
    _walk(fresh_engine, referred.referral_id, finish="complete")
    with Session(fresh_engine) as session:
        assert session.get(Condition, referred.condition_id).status == "pending"  # not issued yet: left alone
    for action, extra in (("authorise", {"rank": "sergeant"}), ("issue", {})):
        with access(fresh_engine) as a:
            oocd.change(a, disposal_id=made, action=action, **extra)
    with Session(fresh_engine) as session:
        assert session.get(Condition, referred.condition_id).status == "complied"
        assert session.get(Disposal, made).status == "complied"


@pytest.mark.parametrize("seed, arm", [(4, "control"), (1, "course")])
def test_a_person_is_in_one_group_of_an_evaluation(fresh_engine, case, seed, arm):
    with pytest.raises(UserError, match="recorded on 2019-02-01: suitability is assessed after it"), \
            access(fresh_engine) as a:
        flows.record_control(a, course="arv", person_id=case.person, crime_id=case.assault, reason="no place",
                             assessed_on=dt.date(2019, 1, 1))
    with access(fresh_engine) as a:
        flows.record_control(a, course="arv", person_id=case.person, crime_id=case.assault, reason="no place")
    with pytest.raises(service.CourseRefused, match="recorded as a control"), access(fresh_engine) as a:
        flows.refer(a, course="arv", person_id=case.person, route="plan", crime_id=case.assault)
    with access(fresh_engine) as a:  # the trial: a control-arm person is never then referred
        found = flows.allocate(a, course="cara", person_id=case.person, crime_id=case.domestic, seed=seed)
    assert found.arm == arm
    if found.arm == "control":
        with pytest.raises(service.CourseRefused, match="control arm"), access(fresh_engine) as a:
            flows.refer(a, course="cara", person_id=case.person, route="plan", crime_id=case.domestic)
    if found.arm == "course":  # a second DA offence: still allocated once
        with session_scope(fresh_engine) as session:
            again = make_crime(session, case.person, "105/DA", n=50, da=True, victim=case.victim)
        with pytest.raises(UserError, match="already in trial cara"), access(fresh_engine) as a:
            flows.allocate(a, course="cara", person_id=case.person, crime_id=again)


def test_the_first_allocation_draws_its_seed_on_the_server(fresh_engine, case):
    with access(fresh_engine) as a:
        flows.allocate(a, course="cara", person_id=case.person, crime_id=case.domestic)
    with Session(fresh_engine) as session:
        log = service.trial_log(session, "cara")
    assert len(log) == 1 and log[0].seed > 0 and service.verify_trial(log).intact
