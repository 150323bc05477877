"""The approvals queue: pending overrides in scope, decided from the queue or the API, in
force only once approved."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from iom.db import session_scope
from iom.security import audit
from iom.synth import sample

scoring = pytest.importorskip("iom.scoring.service")
UNTIL = (sample.AS_OF + dt.timedelta(days=60)).isoformat()


def _decision(client, person_id):
    return next(r["decision"] for r in client.get("/api/v1/selection/BN").json()["rows"] if r["person_id"] == person_id)


def test_an_override_waits_in_the_queue_and_applies_once_approved(login, scored, web_db):
    engine, _ = web_db
    om, sup = login("om_lbm"), login("sup_lbm")
    before = _decision(om, scored.birmingham)
    made = om.post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False,
                                             "reason": "moved out of area", "until": UNTIL}).json()
    assert made["state"] == "pending" and _decision(om, scored.birmingham) == before
    queue = sup.get("/api/v1/overrides").json()
    assert queue["total"] == 1 and [o["id"] for o in queue["items"]] == [made["id"]]
    assert login("om_lws").get("/api/v1/overrides").json()["total"] == 0  # not in their scope
    analyst = login("analyst").get("/api/v1/overrides").json()
    assert analyst["items"][0]["reason"] == "withheld" and analyst["items"][0]["created_by"] == "withheld"
    page = sup.get("/approvals")
    assert page.status_code == 200 and f"Approve #{made['id']}" in page.text
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    done = sup.post(f"/overrides/{made['id']}/approve", data={"csrf_token": csrf}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/approvals"
    assert _decision(om, scored.birmingham) == "exit"
    assert sup.get("/api/v1/overrides", params={"state": "approved"}).json()["total"] == 1
    again = sup.post(f"/api/v1/overrides/{made['id']}/approve")
    assert again.status_code == 409 and "already approved by sup_lbm" in again.json()["detail"]
    revoked = om.post(f"/api/v1/overrides/{made['id']}/revoke", json={"reason": "moved back home"})
    assert revoked.status_code == 200 and revoked.json()["state"] == "revoked"
    assert _decision(om, scored.birmingham) == before
    with session_scope(engine) as session:
        events = [(e.username, e.action) for e in audit.search(session) if e.resource == "override"]
    assert ("sup_lbm", "approve") in events and ("om_lbm", "write") in events
    assert events.count(("sup_lbm", "approve")) == 1, "the refused second approval is not logged as one"


def test_a_rejection_needs_a_reason_and_the_override_never_applies(login, scored):
    om, sup = login("om_lbm"), login("sup_lbm")
    before = _decision(om, scored.birmingham)
    made = om.post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False,
                                             "reason": "moved out of area", "until": UNTIL}).json()
    assert sup.post(f"/api/v1/overrides/{made['id']}/reject", json={"reason": "no"}).status_code == 400
    assert om.post(f"/api/v1/overrides/{made['id']}/reject", json={"reason": "not my call to make"}).status_code == 403
    rejected = sup.post(f"/api/v1/overrides/{made['id']}/reject", json={"reason": "still lives in BN"})
    assert rejected.status_code == 200 and rejected.json()["state"] == "rejected"
    assert _decision(om, scored.birmingham) == before
    assert sup.get("/api/v1/overrides").json()["total"] == 0
    assert "still lives in BN" in sup.get("/approvals", params={"state": "rejected"}).text


def test_the_selection_api_pages_and_says_how_many(login, scored):
    om = login("om_lbm")
    first = om.get("/api/v1/selection/BN", params={"per_page": 1}).json()
    assert first["total"] >= 1 and len(first["rows"]) == 1 and first["page"] == 1
    beyond = om.get("/api/v1/selection/BN", params={"per_page": 1, "page": first["total"] + 1}).json()
    assert beyond["rows"] == [] and beyond["total"] == first["total"]
    assert om.get("/api/v1/selection/BN", params={"per_page": 500}).status_code == 422


def test_a_rejected_override_reads_as_rejected_on_the_timeline(login, scored):
    om, sup = login("om_lbm"), login("sup_lbm")
    made = om.post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False,
                                             "reason": "moved out of area", "until": UNTIL}).json()
    sup.post(f"/api/v1/overrides/{made['id']}/reject", json={"reason": "still lives in BN"})
    events = [e["text"] for e in om.get(f"/api/v1/people/{scored.birmingham}").json()["timeline"] if e["kind"] == "override"]
    assert events and "(rejected)" in events[0] and "awaiting approval" not in events[0]
