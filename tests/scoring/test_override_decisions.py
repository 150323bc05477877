"""Decisions that hold: an override is in force only once approved, an unapproved one never
undoes an approved one, duplicates and open-ended or unexplained overrides are refused, and
of two people deciding at once one wins and the other is told."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from iom.db import session_scope
from iom.errors import Conflict, UserError
from iom.scoring import service
from iom.scoring.config import OverridePolicy, override_policy
from tests.scoring.conftest import AS_OF, build_register

UNTIL = dt.date(2019, 6, 30)


def _rows(session, day=AS_OF):
    return {r.person_id: r for r in service.select_for_npu(session, npu_code="BN", as_of=day)}


def _chosen(session):
    rows = _rows(session)
    return next(r for r in rows.values() if r.decision != "exit")


def test_the_shipped_policy_needs_approval_and_names_its_source():
    policy = override_policy()
    assert policy.need_approval and policy.reason_min_chars == 10 and policy.max_months_ahead == 12
    assert policy.version == "override-policy-v1" and policy.source


def test_an_override_takes_effect_only_once_approved(db_session, small_register):
    top = _chosen(db_session)
    made = service.create_override(db_session, person_id=top.person_id, include=False, reason="moved out of area",
                                   until=UNTIL, user="sgt.a")
    assert made.state == "pending"
    assert _rows(db_session)[top.person_id].decision != "exit"  # pending: no effect
    service.approve_override(db_session, override_id=made.id, approver="insp.b")
    assert _rows(db_session).get(top.person_id) is None or _rows(db_session)[top.person_id].decision == "exit"


def test_an_unapproved_include_does_not_reverse_an_approved_exclude(db_session, small_register):
    top = _chosen(db_session)
    exclude = service.create_override(db_session, person_id=top.person_id, include=False, reason="moved out of area",
                                      until=UNTIL, user="sgt.a")
    service.approve_override(db_session, override_id=exclude.id, approver="insp.b")
    include = service.create_override(db_session, person_id=top.person_id, include=True, reason="back in the area",
                                      until=UNTIL, user="pc.c")
    row = _rows(db_session)[top.person_id]
    assert row.decision == "exit" and row.override.id == exclude.id
    # and even under a policy that needs no approval, the approved one still wins
    lax = OverridePolicy(version="test", source="test", need_approval=False, reason_min_chars=1, max_months_ahead=12)
    assert service.active_overrides(db_session, AS_OF, [top.person_id], policy=lax)[top.person_id].id == exclude.id
    assert include.state == "pending"


def test_rejected_never_applies_and_revoked_stops(db_session, small_register):
    top = _chosen(db_session)
    made = service.create_override(db_session, person_id=top.person_id, include=False, reason="moved out of area",
                                   until=UNTIL, user="sgt.a")
    with pytest.raises(UserError, match="at least 10 characters"):
        service.reject_override(db_session, override_id=made.id, user="insp.b", reason="no")
    rejected = service.reject_override(db_session, override_id=made.id, user="insp.b", reason="still lives in BN")
    assert rejected.state == "rejected" and rejected.decision_reason == "still lives in BN"
    with pytest.raises(UserError, match="already rejected by insp.b"):
        service.approve_override(db_session, override_id=made.id, approver="insp.c")
    assert _rows(db_session)[top.person_id].decision != "exit"
    again = service.create_override(db_session, person_id=top.person_id, include=False, reason="now moved for real",
                                    until=UNTIL, user="sgt.a")  # a rejected one is no duplicate
    service.approve_override(db_session, override_id=again.id, approver="insp.b")
    revoked = service.revoke_override(db_session, override_id=again.id, user="insp.b", reason="moved back home")
    assert revoked.state == "revoked" and _rows(db_session)[top.person_id].decision != "exit"


def test_duplicates_open_ended_and_unexplained_overrides_are_refused(db_session, small_register):
    pid = small_register["ids"][0]
    with pytest.raises(UserError, match="at least 10 characters"):
        service.create_override(db_session, person_id=pid, include=True, reason="x", until=UNTIL, user="sgt.a")
    with pytest.raises(UserError, match="and by 2020-03-31"):
        service.create_override(db_session, person_id=pid, include=True, reason="known to partners",
                                until=dt.date(2099, 1, 1), user="sgt.a")
    first = service.create_override(db_session, person_id=pid, include=True, reason="known to partners",
                                    until=UNTIL, user="sgt.a")
    with pytest.raises(UserError, match=f"override #{first.id} already includes"):
        service.create_override(db_session, person_id=pid, include=True, reason="known to partners too",
                                until=UNTIL, user="pc.c")


def test_of_two_people_approving_at_once_one_wins_and_the_other_is_told(fresh_engine):
    with session_scope(fresh_engine) as session:
        ids = build_register(session, people=60)["ids"]
        made = service.create_override(session, person_id=int(ids[0]), include=True, reason="known to partners",
                                       until=UNTIL, user="sgt.a", valid_from=AS_OF)
    first, second = Session(fresh_engine), Session(fresh_engine)
    try:
        row_a = service.get_override(first, made.id)
        row_b = service.get_override(second, made.id)  # both read it pending
        service.check_decision(row_a, decider="insp.b")
        service.check_decision(row_b, decider="insp.c")
        service.approve_override(first, override_id=made.id, approver="insp.b")
        first.commit()
        with pytest.raises(Conflict, match="decided by someone else"):
            service.approve_override(second, override_id=made.id, approver="insp.c")
        second.rollback()
    finally:
        first.close()
        second.close()
    with session_scope(fresh_engine) as session:
        assert service.get_override(session, made.id).approved_by == "insp.b"


def test_a_selection_page_is_the_same_rows_as_the_whole_list_with_their_explanations(db_session, small_register):
    whole = service.select_for_npu(db_session, npu_code="BN", as_of=AS_OF)
    assert len(whole) > 20
    rows, total, counts = service.selection_page(db_session, npu_code="BN", as_of=AS_OF, page=2, per_page=10)
    assert total == len(whole) and rows == whole[10:20]
    assert counts == {d: sum(r.decision == d for r in whole) for d in ("adopt", "keep", "exit")}
    last, _, _ = service.selection_page(db_session, npu_code="BN", as_of=AS_OF, page=total // 10 + 2, per_page=10)
    assert last == []
