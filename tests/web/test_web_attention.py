"""What needs attention: counts that match the people they link to, overdue marked as such."""

from __future__ import annotations

import datetime as dt

from iom.synth import sample


def test_attention_counts_match_the_people_behind_them(login, people):
    om = login("om_lbm")
    items = {i["key"]: i for i in om.get("/api/v1/attention").json()}
    assert set(items) == {"overdue", "due_this_week", "new_this_month", "risk_changed"}
    for key, item in items.items():
        listed = om.get("/api/v1/caseload", params={"need": key, "per_page": 200}).json()
        assert listed["total"] == item["count"], key
        assert item["href"] == f"/caseload?need={key}&view=unit"
    overdue = om.get("/api/v1/caseload", params={"need": "overdue"}).json()["items"]
    assert overdue and all(r["overdue"] and dt.date.fromisoformat(r["next_review"]) < sample.AS_OF for r in overdue)
    assert people.birmingham in {r["id"] for r in overdue}  # High risk, reviewed 2019-01-10: due 2019-02-07
    assert items["overdue"]["severity"] == "overdue"
    page = om.get("/caseload").text
    assert "Reviews overdue" in page


def test_supervisors_see_overrides_awaiting_approval(login, people):
    om, sup = login("om_lbm"), login("sup_lbm")
    until = (sample.AS_OF + dt.timedelta(days=30)).isoformat()
    assert om.post("/api/v1/overrides", json={"person_id": people.birmingham, "include": True,
                                             "reason": "known to partners", "until": until}).status_code == 201
    pending = {i["key"]: i for i in sup.get("/api/v1/attention").json()}["overrides_pending"]
    assert pending["count"] == 1 and pending["href"] == "/approvals"
    assert "overrides_pending" not in {i["key"] for i in om.get("/api/v1/attention").json()}


def test_the_selection_s_adopt_and_exit_counts_are_in_the_attention_list(login, web_db):
    from iom.db import session_scope
    from iom.scoring import service

    engine, _ = web_db
    om = login("om_lbm")
    assert not [i for i in om.get("/api/v1/attention").json() if i["key"].startswith("selection_")]  # none stored
    with session_scope(engine) as session:
        service.score_all(session, as_of=sample.AS_OF, train=True)
        rows = service.select_for_npu(session, npu_code="BN", as_of=sample.AS_OF)
    items = {i["key"]: i for i in om.get("/api/v1/attention").json()}
    assert items["selection_adopt_BN"]["count"] == sum(r.decision == "adopt" for r in rows)
    assert items["selection_exit_BN"]["count"] == sum(r.decision == "exit" for r in rows)
    assert items["selection_adopt_BN"]["href"] == "/selection/BN"
