"""Selection review and overrides through the API and pages, on stored scores of the sample."""

from __future__ import annotations

import datetime as dt

import pytest

from iom.db import session_scope
from iom.security import audit
from iom.web import sample

scoring = pytest.importorskip("iom.scoring.service")


@pytest.fixture
def scored(web_db):
    engine, people = web_db
    with session_scope(engine) as session:
        scoring.score_all(session, as_of=sample.AS_OF)
    return people


def test_selection_without_stored_scores_says_so(login):
    body = login("om_lbm").get("/api/v1/selection/BN").json()
    assert body["scores_stored"] is False and body["rows"] == []
    assert "No scores are stored" in login("om_lbm").get("/selection/BN").text


def test_selection_is_scoped_to_own_lomu_npus(login, scored):
    om = login("om_lbm")
    rows = om.get("/api/v1/selection/BN").json()["rows"]
    assert [r["person_id"] for r in rows] == [scored.birmingham]
    assert om.get("/api/v1/selection/WS").status_code == 404
    assert om.get("/selection/WS").status_code == 404


def test_override_then_supervisor_approval_is_audited(login, scored, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    until = (sample.AS_OF + dt.timedelta(days=60)).isoformat()
    missing_reason = om.post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False, "reason": "", "until": until})
    assert missing_reason.status_code == 422
    made = om.post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False,
                                             "reason": "Moved out of area", "until": until})
    assert made.status_code == 201, made.text
    override_id = made.json()["id"]
    # an offender manager cannot approve; a supervisor can
    assert om.post(f"/api/v1/overrides/{override_id}/approve").status_code == 403
    approved = login("sup_lbm").post(f"/api/v1/overrides/{override_id}/approve")
    assert approved.status_code == 200 and approved.json()["approved_by"] == "sup_lbm"
    # out of scope: another LOMU cannot override a Birmingham person
    other = login("om_lws").post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": True,
                                                          "reason": "x", "until": until})
    assert other.status_code == 404
    with session_scope(engine) as session:
        events = [(e.username, e.action, e.resource, e.person_id) for e in audit.search(session) if e.resource == "override"]
        assert audit.verify(session).ok
    assert events == [("sup_lbm", "approve", "override", scored.birmingham),
                      ("om_lbm", "write", "override", scored.birmingham)]
    rows = login("om_lbm").get("/api/v1/selection/BN").json()["rows"]
    assert rows[0]["decision"] == "exit" and "excluded by override" in rows[0]["reason"]


def test_person_page_shows_stored_explanation(login, scored):
    text = login("om_lbm").get(f"/people/{scored.birmingham}").text
    assert "Murder" in text and "composite" in text


def test_analyst_cannot_override(login, scored):
    response = login("analyst").post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": True,
                                                               "reason": "x", "until": "2019-06-01"})
    assert response.status_code == 403
