"""Kept views (iom.register.views): a second read is served from what was kept, a write to the
register shows at once, every read is still audited, and one reader's view never reaches a
reader with another view key."""

from __future__ import annotations

import datetime as dt

from iom.cohorts.models import RiskLevelRecord
from iom.db import session_scope
from iom.register.models import Crime
from iom.security import audit


def _audit_rows(engine) -> int:
    with session_scope(engine) as session:
        return len(audit.search(session, limit=10_000))


def _caseload_risk(client, person_id: int) -> str:
    rows = client.get("/api/v1/caseload").json()["items"]
    return next(r["risk"] for r in rows if r["id"] == person_id)


def test_a_repeated_read_is_kept_and_still_audited(app, login, people, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    before = _audit_rows(engine)
    first = om.get(f"/api/v1/people/{people.birmingham}").json()
    hits = app.state.views.hits
    second = om.get(f"/api/v1/people/{people.birmingham}").json()
    assert app.state.views.hits > hits
    assert first == second
    assert _audit_rows(engine) == before + 2


def test_a_new_risk_decision_shows_on_the_next_caseload_read(login, people, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    assert _caseload_risk(om, people.birmingham) == "High"
    with session_scope(engine) as session:
        session.add(RiskLevelRecord(person_id=people.birmingham, level="Low", effective_from=dt.date(2019, 3, 30),
                                    reason="reviewed"))
    assert _caseload_risk(om, people.birmingham) == "Low"


def test_a_new_crime_shows_on_the_next_person_read(login, people, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    url = f"/api/v1/people/{people.birmingham}"
    crimes_before = [e for e in om.get(url).json()["timeline"] if e["kind"] == "crime"]
    with session_scope(engine) as session:
        session.add(Crime(source_id="views-test", person_id=people.birmingham, involvement="offender",
                          committed_on=dt.date(2019, 3, 2), recorded_on=dt.date(2019, 3, 3), offence_code="001/00",
                          npu_code="BN", outcome="pending"))
    crimes_after = [e for e in om.get(url).json()["timeline"] if e["kind"] == "crime"]
    assert len(crimes_after) == len(crimes_before) + 1


def test_a_note_shows_at_once_though_the_record_is_kept(login, people):
    om = login("om_lbm")
    url = f"/api/v1/people/{people.birmingham}"
    om.get(url)
    assert om.post(f"{url}/notes", json={"text": "seen at home, engaging"}).status_code == 201
    assert [n["text"] for n in om.get(url).json()["notes"]] == ["seen at home, engaging"]


def test_what_an_offender_manager_was_shown_never_reaches_an_analyst(login, people):
    om, analyst = login("om_lbm"), login("analyst")
    assert om.get(f"/api/v1/people/{people.birmingham}").json()["name"]
    assert any(r["name"] for r in om.get("/api/v1/caseload").json()["items"])
    assert analyst.get(f"/api/v1/people/{people.birmingham}").json()["name"] is None
    assert all(r["name"] is None for r in analyst.get("/api/v1/caseload").json()["items"])


def test_a_running_app_moves_its_reference_date_on_with_the_data(web_db, credentials):
    """Without a frozen date the app follows the data: a newer record moves it on at once."""
    from fastapi.testclient import TestClient

    from iom.web.app import create_app

    engine, people = web_db
    client = TestClient(create_app(engine, secret=credentials["secret"], secure_cookies=False))
    signed_in = client.post("/api/v1/session", json={"username": "om_lbm", "password": credentials["password"],
                                                     "purpose": "case management"})
    before = dt.date.fromisoformat(signed_in.json()["as_of"])
    later = before + dt.timedelta(days=20)
    with session_scope(engine) as session:
        session.add(RiskLevelRecord(person_id=people.birmingham, level="Medium", effective_from=later, reason="reviewed"))
    assert client.get("/api/v1/me").json()["as_of"] == later.isoformat()
    assert _caseload_risk(client, people.birmingham) == "Medium"
    client.close()


def test_dashboard_charts_are_kept_per_register_version(app, login):
    om = login("om_lbm")
    first = om.get("/charts/risk-split.svg")
    assert first.status_code == 200 and first.headers["content-type"].startswith("image/svg+xml")
    hits = app.state.views.hits
    assert om.get("/charts/risk-split.svg").content == first.content
    assert app.state.views.hits > hits
