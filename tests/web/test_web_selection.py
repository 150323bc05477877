"""Selection review and overrides through the API and pages, on stored scores of the sample."""

from __future__ import annotations

import datetime as dt

import pytest

from iom.db import session_scope
from iom.security import audit
from iom.synth import sample

scoring = pytest.importorskip("iom.scoring.service")


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


def test_a_selection_hides_restricted_offences_from_non_specialists(login, scored):
    """The person page hides a restricted person's offences; the selection's explanations must too."""
    om_labels = [p["label"] for r in login("om_lbm").get("/api/v1/selection/BS").json()["rows"]
                 if r["person_id"] == scored.restricted for p in r["explanation"] if p["factor"] == "crime"]
    assert om_labels and set(om_labels) == {"restricted offence"}
    specialist_labels = [p["label"] for r in login("mappa").get("/api/v1/selection/BS").json()["rows"]
                         if r["person_id"] == scored.restricted for p in r["explanation"] if p["factor"] == "crime"]
    assert any("Rape" in label for label in specialist_labels)
    assert "Rape" not in login("analyst").get("/selection/BS").text


def test_analysts_see_that_an_override_exists_but_not_its_words_or_officers(login, scored):
    until = (sample.AS_OF + dt.timedelta(days=60)).isoformat()
    reason = "Zebedee Quartermaine told PC Smith he is moving"
    made = login("om_lbm").post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False,
                                                          "reason": reason, "until": until})
    assert made.status_code == 201, made.text
    assert login("sup_lbm").post(f"/api/v1/overrides/{made.json()['id']}/approve").status_code == 200
    analyst = login("analyst")
    body = analyst.get("/api/v1/selection/BN").json()
    text = str(body) + analyst.get("/selection/BN").text
    assert "Quartermaine" not in text and "om_lbm" not in text
    assert body["overrides"][0]["include"] is False and body["overrides"][0]["reason"] == "withheld"
    row = next(r for r in body["rows"] if r["person_id"] == scored.birmingham)
    assert row["reason"] == f"excluded by override #{made.json()['id']}"
    assert reason in str(login("om_lbm").get("/api/v1/selection/BN").json())  # the unit still reads it


def test_an_override_runs_from_the_apps_date_and_must_not_end_before_it(login, scored, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    past = om.post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False, "reason": "moved away",
                                              "until": (sample.AS_OF - dt.timedelta(days=1)).isoformat()})
    assert past.status_code == 400
    with session_scope(engine) as session:
        assert not audit.search(session, action="write"), "a refused override is not logged as written"
    made = om.post("/api/v1/overrides", json={"person_id": scored.birmingham, "include": False, "reason": "moved away",
                                              "until": sample.AS_OF.isoformat()})
    assert made.status_code == 201 and made.json()["valid_from"] == sample.AS_OF.isoformat()


def test_the_override_form_is_an_audited_read_and_out_of_scope_is_denied(login, scored, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    assert om.get("/selection/BN/override", params={"person_id": scored.birmingham}).status_code == 200
    assert login("om_lws").get("/selection/WS/override", params={"person_id": scored.birmingham}).status_code == 404
    with session_scope(engine) as session:
        events = {(e.username, e.action) for e in audit.search(session, person_id=scored.birmingham)}
    assert {("om_lbm", "read"), ("om_lws", "denied")} <= events


def test_approving_an_out_of_scope_override_is_logged_as_denied(login, scored, web_db):
    engine, _ = web_db
    until = (sample.AS_OF + dt.timedelta(days=60)).isoformat()
    made = login("om_lws").post("/api/v1/overrides", json={"person_id": scored.walsall, "include": False,
                                                          "reason": "moved away", "until": until})
    assert made.status_code == 201, made.text
    assert login("sup_lbm").post(f"/api/v1/overrides/{made.json()['id']}/approve").status_code == 404
    with session_scope(engine) as session:
        assert ("sup_lbm", "denied") in {(e.username, e.action) for e in audit.search(session, person_id=scored.walsall)}
