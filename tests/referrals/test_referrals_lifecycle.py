"""The lifecycle: the machine's transitions are exactly the MoJ service's, and driven through
the flows at random no illegal change is ever written while every legal one succeeds. A stale
version is refused in the service too, with both versions kept."""

from __future__ import annotations

import datetime as dt

import hypothesis.strategies as st
import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule, run_state_machine_as_test
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from iom.casefile.commands import command_access
from iom.casework.models import Revision
from iom.casework.versioning import StaleWrite
from iom.cohorts.models import ManagementRecord
from iom.db import session_scope
from iom.errors import UserError
from iom.referrals import flows, lifecycle, service
from iom.referrals.models import Referral, ReferralEvent, ReferralOutcome, ReferralSession
from iom.register.models import Person

AS_OF = dt.date(2019, 3, 31)
#: The MoJ "refer and monitor an intervention" service's changes, written out by hand.
LEGAL = {
    ("draft", "send"): "sent", ("draft", "cancel"): "cancelled",
    ("sent", "accept"): "accepted", ("sent", "cancel"): "cancelled",
    ("accepted", "start"): "in progress", ("accepted", "cancel"): "cancelled",
    ("in progress", "session"): "in progress", ("in progress", "complete"): "completed",
    ("in progress", "end"): "ended early",
}
STATUSES = ("draft", "sent", "accepted", "in progress", "completed", "ended early", "cancelled")
ACTIONS = ("send", "accept", "start", "session", "complete", "end", "cancel")
DESIRED = ["Finds paid work", "Writes a CV"]


def test_the_machine_allows_exactly_the_services_changes():
    assert lifecycle.TABLE == LEGAL
    assert set(lifecycle.STATUSES) == set(STATUSES) and lifecycle.FINAL == {"completed", "ended early", "cancelled"}
    for status in STATUSES:
        for action in ACTIONS:
            if (status, action) in LEGAL:
                assert lifecycle.after(status, action) == LEGAL[(status, action)]
            else:
                with pytest.raises(UserError, match=r"referral .*cannot be "):
                    lifecycle.after(status, action)


@pytest.mark.parametrize("status, action, words", [
    ("completed", "send", "a completed referral cannot be sent (it has ended, so nothing more can change)"),
    ("sent", "start", "a sent referral cannot be started (from here it can be accepted or cancelled)"),
    ("in progress", "cancel", "a referral in progress cannot be cancelled (from here it can be given sessions, "
                              "completed or ended early)"),
])
def test_a_refusal_says_why_in_words(status, action, words):
    with pytest.raises(UserError) as exc:
        lifecycle.after(status, action)
    assert str(exc.value) == words


@pytest.fixture
def person(fresh_engine) -> int:
    with session_scope(fresh_engine) as session:
        p = Person(pseudo_id="LIFE0001", source_id="life-1", given_name="Test", family_name="Lifecycle",
                   date_of_birth=dt.date(1985, 1, 1), sex="M", ethnicity="W_BRI", home_npu="BW")
        session.add(p)
        session.flush()
        session.add(ManagementRecord(person_id=p.id, effective_from=dt.date(2018, 1, 1), offender_type="Core",
                                     lead_agency="Police", lomu_code="LBM", officer="PC Test"))
        return p.id


def test_no_illegal_change_is_reachable_and_every_legal_one_succeeds(fresh_engine, person):
    engine = fresh_engine

    class Referrals(RuleBasedStateMachine):
        """A model of one referral beside the stored one: each step asks the flows for a change
        (sometimes on an old version); the model says whether it must succeed."""

        def __init__(self) -> None:
            super().__init__()
            with command_access(engine, user="hypothesis", purpose="test", as_of=AS_OF) as access:
                made = flows.make_referral(access, person_id=person, provider="mind", pathway="health",
                                           reason="Low mood", desired_outcomes=DESIRED)
            self.id, self.status, self.version, self.attended = made.id, "draft", 1, 0

        def _try(self, action: str, stale: bool, **kwargs) -> None:
            version = self.version - 1 if stale else self.version
            expected = LEGAL.get((self.status, action))
            if action == "complete" and not self.attended:
                expected = None  # the service's own rule: a completion follows a session attended
            try:
                with command_access(engine, user="hypothesis", purpose="test", as_of=AS_OF) as access:
                    if action == "session":
                        done = flows.record_session(access, referral_id=self.id, version=version, held_on=AS_OF,
                                                    **kwargs)
                    else:
                        done = flows.change_status(access, referral_id=self.id, action=action, version=version,
                                                   **kwargs)
            except StaleWrite:
                assert stale, "a current version was refused as stale"
                return
            except UserError as exc:
                assert expected is None, f"{self.status} → {action} is legal but was refused: {exc}"
                assert "cannot be" in str(exc) or "session attended" in str(exc), str(exc)
                return
            assert not stale, "a stale version was accepted"
            assert expected is not None, f"{self.status} → {action} is illegal but was written"
            assert done.status == expected and done.version == self.version + 1
            self.status, self.version = expected, self.version + 1
            event(f"reached {expected}")
            if action == "session" and kwargs["attendance"] != "did not attend":
                self.attended += 1

        @rule()
        def forward(self):
            """The next step a referral usually takes, so walks reach the later statuses."""
            nxt = {"draft": "send", "sent": "accept", "accepted": "start"}.get(self.status)
            if nxt:
                self._try(nxt, False)
            else:
                self._try("session", False, attendance="attended", behaviour="Engaged")

        @rule(action=st.sampled_from(["send", "accept", "start"]), stale=st.booleans())
        def move(self, action, stale):
            self._try(action, stale and self.version > 1)

        @rule(stale=st.booleans(), reason=st.sampled_from(["Declined", "Moved away"]))
        def cancel(self, stale, reason):
            self._try("cancel", stale and self.version > 1, reason=reason)

        @rule(attendance=st.sampled_from(["attended", "late", "did not attend"]), stale=st.booleans())
        def session(self, attendance, stale):
            self._try("session", stale and self.version > 1, attendance=attendance, behaviour=None)

        @rule(action=st.sampled_from(["complete", "end"]), grade=st.sampled_from(["achieved", "partly", "not"]))
        def finish(self, action, grade):
            self._try(action, False, reason="Stopped coming" if action == "end" else None,
                      outcomes={d: grade for d in DESIRED})

        @precondition(lambda self: self.status in lifecycle.FINAL)
        @rule(action=st.sampled_from(ACTIONS))
        def anything_after_the_end(self, action):
            extra = {"attendance": "attended", "behaviour": None} if action == "session" else {"reason": "x"}
            self._try(action, False, **extra)

        @invariant()
        def stored_as_modelled(self):
            with Session(engine) as session:
                stored = session.get(Referral, self.id)
                assert (stored.status, stored.version) == (self.status, self.version)
                events = session.scalars(select(ReferralEvent).where(ReferralEvent.referral_id == self.id)
                                         .order_by(ReferralEvent.id)).all()
                assert len(events) == self.version  # one event per version
                steps = {(s, t) for (s, _), t in LEGAL.items()}
                assert events[0].from_status is None and events[0].to_status == "draft"
                for before, after in zip(events, events[1:]):
                    assert after.from_status == before.to_status and (after.from_status, after.to_status) in steps
                kept = session.scalars(select(Revision.version).where(Revision.record_kind == "referral",
                                                                      Revision.record_id == self.id)).all()
                assert sorted(kept) == list(range(1, self.version + 1))
                outcomes = session.scalar(select(func.count()).where(ReferralOutcome.referral_id == self.id))
                assert outcomes == (len(DESIRED) if self.status in ("completed", "ended early") else 0)
                assert (stored.ended_on is not None) == (self.status in lifecycle.FINAL)

    run_state_machine_as_test(Referrals, settings=settings(max_examples=30, stateful_step_count=15, deadline=None,
                                                           database=None, suppress_health_check=list(HealthCheck)))


def test_a_stale_write_in_the_service_keeps_both_versions(fresh_engine, person):
    with command_access(fresh_engine, user="first", purpose="test", as_of=AS_OF) as access:
        made = flows.make_referral(access, person_id=person, provider="mind", pathway="health", reason="Low mood",
                                   send=True)
    with command_access(fresh_engine, user="second", purpose="test", as_of=AS_OF) as access:
        flows.change_status(access, referral_id=made.id, action="accept", version=made.version)
    with pytest.raises(StaleWrite) as exc:
        with command_access(fresh_engine, user="first", purpose="test", as_of=AS_OF) as access:
            flows.change_status(access, referral_id=made.id, action="cancel", version=made.version, reason="Declined")
    assert exc.value.current["version"] == 3 and exc.value.current["status"] == "accepted"
    assert exc.value.current["changed_by"] == "second" and exc.value.expected == made.version == 2
    with Session(fresh_engine) as session:
        kept = {r.version: r for r in service.revisions(session, referral_id=made.id)}
        assert kept[2].data["status"] == "sent" and kept[2].written_by == "first"
        assert kept[3].data["status"] == "accepted" and kept[3].written_by == "second"
        assert session.get(Referral, made.id).status == "accepted"
        assert session.scalar(select(func.count()).select_from(ReferralSession)) == 0


def test_a_race_lost_after_the_audit_row_is_refused_and_changes_nothing(fresh_engine, person):
    """Two writers both pass the check; the conditional update lets the first one win."""
    with command_access(fresh_engine, user="first", purpose="test", as_of=AS_OF) as access:
        made = flows.make_referral(access, person_id=person, provider="mind", pathway="health", reason="Low mood",
                                   send=True)
    with command_access(fresh_engine, user="second", purpose="test", as_of=AS_OF) as access:
        referral = service.get_referral(access.session, made.id)
        service.check_change(access.session, referral, action="accept", version=2, on=AS_OF)
        with command_access(fresh_engine, user="first", purpose="test", as_of=AS_OF) as other:
            flows.change_status(other, referral_id=made.id, action="cancel", version=2, reason="Declined")
        with pytest.raises(StaleWrite):
            service.apply_change(access.session, referral, action="accept", based_on=2, by="second", on=AS_OF)
        access.session.rollback()
    with Session(fresh_engine) as session:
        assert session.get(Referral, made.id).status == "cancelled"
        assert session.scalar(select(func.count()).where(ReferralEvent.referral_id == made.id)) == 3
