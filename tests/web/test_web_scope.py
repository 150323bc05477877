"""Scoping, pseudonymisation, CSRF and the audit trail through the API and the pages."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient

from iom.db import session_scope
from iom.security import audit


def _events(engine, **filters):
    with session_scope(engine) as session:
        return [(e.username, e.action, e.resource, e.person_id, e.purpose) for e in audit.search(session, **filters)]


class TestScope:
    def test_offender_manager_sees_own_lomu_only_via_api(self, login, people):
        om = login("om_lbm")
        assert om.get(f"/api/v1/people/{people.birmingham}").status_code == 200
        other = om.get(f"/api/v1/people/{people.walsall}")
        assert other.status_code == 404
        assert other.headers["content-type"].startswith("application/problem+json")
        assert other.json()["status"] == 404
        # a missing id answers exactly like an out-of-scope one
        missing = om.get("/api/v1/people/999999")
        assert missing.status_code == 404 and missing.json()["title"] == other.json()["title"]

    def test_offender_manager_gets_404_page_for_other_lomu(self, login, people):
        om = login("om_lws")
        assert om.get(f"/people/{people.walsall}").status_code == 200
        page = om.get(f"/people/{people.birmingham}")
        assert page.status_code == 404
        assert "Quartermaine" not in page.text

    def test_scope_by_management_or_home_npu(self, login, people):
        # "moved" lives in a Walsall NPU but is managed by Birmingham: both LOMUs see them.
        assert login("om_lbm").get(f"/api/v1/people/{people.moved}").status_code == 200
        assert login("om_lws").get(f"/api/v1/people/{people.moved}").status_code == 200

    def test_caseload_lists_only_scoped_members(self, login, people):
        body = login("om_lws").get("/api/v1/caseload").json()
        ids = {row["id"] for row in body["items"]}
        assert ids == {people.walsall, people.moved}
        assert body["total"] == 2

    def test_caseload_filters_and_pagination(self, login, people):
        om = login("om_lbm")
        high = om.get("/api/v1/caseload", params={"risk": "High"}).json()
        assert {r["id"] for r in high["items"]} == {people.birmingham, people.restricted}
        first = om.get("/api/v1/caseload", params={"per_page": 1, "page": 1}).json()
        second = om.get("/api/v1/caseload", params={"per_page": 1, "page": 2}).json()
        assert first["total"] == 3 and len(first["items"]) == 1
        assert first["items"][0]["id"] != second["items"][0]["id"]
        assert om.get("/api/v1/caseload", params={"risk": "Extreme"}).status_code == 422

    def test_administrator_sees_no_person(self, login, people):
        admin = login("admin")
        assert admin.get(f"/api/v1/people/{people.birmingham}").status_code == 404

    def test_unauthenticated_is_401_for_api_and_redirect_for_pages(self, app, people):
        client = TestClient(app)
        response = client.get(f"/api/v1/people/{people.birmingham}")
        assert response.status_code == 401 and response.json()["title"] == "Unauthorized"
        page = client.get("/caseload", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"


class TestPseudonymisation:
    def test_analyst_never_sees_a_name_or_date_of_birth(self, login, people):
        analyst = login("analyst", purpose="statistical analysis")
        texts = [
            analyst.get("/api/v1/caseload").text,
            analyst.get("/caseload").text,
            analyst.get(f"/api/v1/people/{people.birmingham}").text,
            analyst.get(f"/people/{people.birmingham}").text,
            analyst.get(f"/people/{people.moved}").text,
            analyst.get(f"/api/v1/people/{people.restricted}").text,
        ]
        for text in texts:
            for name in people.names:
                assert name not in text
            assert "1990-01-0" not in text  # the sample's dates of birth
        body = analyst.get(f"/api/v1/people/{people.birmingham}").json()
        assert body["name"] is None and body["date_of_birth"] is None and body["notes"] is None
        assert body["pseudo_id"] == "PSEUDO0001"

    def test_analyst_never_sees_a_cohort_or_risk_reason(self, login, people):
        def timeline(client) -> list[str]:
            body = client.get(f"/api/v1/people/{people.birmingham}", params={"timeline_per_page": 200}).json()
            return [e["text"] for e in body["timeline"] if e["kind"] in ("cohort", "risk")]

        seen = timeline(login("om_lbm"))
        assert "Adopted to BURGLARY: sample" in seen and "High: sample review" in seen  # the sample's reasons
        hidden = timeline(login("analyst", purpose="statistical analysis"))
        assert "Adopted to BURGLARY" in hidden and "High" in hidden
        assert not any(":" in text for text in hidden)

    def test_offender_manager_does_see_the_name(self, login, people):
        assert "Quartermaine" in login("om_lbm").get(f"/people/{people.birmingham}").text

    def test_restricted_fields_need_a_specialist(self, login, people):
        om = login("om_lbm").get(f"/api/v1/people/{people.restricted}").json()
        assert om["restricted"] and om["restricted_hidden"]
        om_text = " ".join(e["text"] for e in om["timeline"])
        assert "Rape" not in om_text and "PSEUDO0004" not in om_text and "MAPPA" not in om_text
        spec = login("mappa").get(f"/api/v1/people/{people.restricted}").json()
        assert not spec["restricted_hidden"]
        assert "Rape" in " ".join(e["text"] for e in spec["timeline"])


class TestCsrf:
    def test_form_without_token_is_refused(self, login, people, web_db):
        om = login("om_lbm")
        del om.headers["X-CSRF-Token"]
        response = om.post(f"/people/{people.birmingham}/notes", data={"text": "no token"})
        assert response.status_code == 403
        wrong = om.post(f"/people/{people.birmingham}/notes", data={"text": "bad token", "csrf_token": "nope"})
        assert wrong.status_code == 403
        detail = om.get(f"/api/v1/people/{people.birmingham}").json()
        assert detail["notes"] == []

    def test_form_with_token_writes_and_audits(self, login, people, web_db):
        engine, _ = web_db
        om = login("om_lbm")
        token = om.headers.pop("X-CSRF-Token")
        page = om.get(f"/people/{people.birmingham}")
        assert re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1) == token
        response = om.post(f"/people/{people.birmingham}/notes", data={"text": "Home visit done", "csrf_token": token},
                           follow_redirects=False)
        assert response.status_code == 303
        assert "Home visit done" in om.get(f"/people/{people.birmingham}").text
        writes = _events(engine, action="write")
        assert writes == [("om_lbm", "write", "person_note", people.birmingham, "case management")]

    def test_api_write_needs_header_token(self, login, people):
        om = login("om_lbm")
        token = om.headers.pop("X-CSRF-Token")
        assert om.post(f"/api/v1/people/{people.birmingham}/notes", json={"text": "x"}).status_code == 403
        ok = om.post(f"/api/v1/people/{people.birmingham}/notes", json={"text": "via api"}, headers={"X-CSRF-Token": token})
        assert ok.status_code == 201 and ok.json()["author"] == "om_lbm"

    def test_nul_characters_are_refused_at_the_edge(self, login, people, web_db):
        om = login("om_lbm")
        query = om.get("/api/v1/caseload", params={"npu": "BE\x00"})
        assert query.status_code == 400 and query.json()["status"] == 400
        assert query.headers["x-frame-options"] == "DENY" and query.headers["cache-control"] == "no-store"
        body = om.post(f"/api/v1/people/{people.birmingham}/notes", json={"text": "a\x00b"})
        assert body.status_code == 422
        engine, _ = web_db
        assert _events(engine, action="write") == []

    def test_login_form_needs_token(self, app):
        client = TestClient(app)
        response = client.post("/login", data={"username": "om_lbm", "password": "correct horse battery staple"})
        assert response.status_code == 403


class TestAuditTrail:
    def test_every_read_is_logged_with_purpose_and_denials_too(self, login, people, web_db):
        engine, _ = web_db
        om = login("om_lbm", purpose="supervision and approval")
        om.get(f"/api/v1/people/{people.birmingham}", headers={"X-IOM-Purpose": "MAPPA review"})
        om.get(f"/people/{people.birmingham}")
        om.get(f"/people/{people.walsall}")
        events = _events(engine, username="om_lbm")
        reads = [e for e in events if e[1] in ("read", "denied")]
        assert reads == [
            ("om_lbm", "denied", "person", people.walsall, "supervision and approval"),
            ("om_lbm", "read", "person", people.birmingham, "supervision and approval"),
            ("om_lbm", "read", "person", people.birmingham, "MAPPA review"),
        ]
        with session_scope(engine) as session:
            assert audit.verify(session).ok

    def test_administrator_searches_and_exports(self, login, people):
        login("om_lbm").get(f"/api/v1/people/{people.birmingham}")
        admin = login("admin", purpose="audit review")
        rows = admin.get("/api/v1/audit", params={"person_id": people.birmingham}).json()
        assert [r["username"] for r in rows] == ["om_lbm"]
        page = admin.get("/audit", params={"person_id": str(people.birmingham)})
        assert page.status_code == 200 and "om_lbm" in page.text
        export = admin.get("/audit/export.csv")
        assert export.status_code == 200 and export.text.startswith("id,at,username")
        assert login("om_lbm").get("/api/v1/audit").status_code == 403


class TestHardening:
    def test_security_headers_and_no_store(self, login):
        response = login("om_lbm").get("/caseload")
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert "script-src" not in response.headers["content-security-policy"]  # default-src 'none' covers it
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["cache-control"] == "no-store"
        assert "<script" not in response.text

    def test_hsts_only_where_the_app_is_served_over_https(self, web_db):
        from iom.web.app import create_app

        for https, expected in ((True, "max-age=31536000; includeSubDomains"), (False, None)):
            client = TestClient(create_app(web_db[0], secret="s" * 40, secure_cookies=https))
            assert client.get("/login").headers.get("strict-transport-security") == expected

    def test_session_cookie_is_httponly_and_samesite(self, app):
        client = TestClient(app)
        response = client.post("/api/v1/session", json={"username": "om_lbm", "password": "correct horse battery staple"})
        cookie = response.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie

    def test_login_throttled_after_five_failures(self, app):
        client = TestClient(app)
        for _ in range(5):
            bad = client.post("/api/v1/session", json={"username": "om_lbm", "password": "wrong password!"})
            assert bad.status_code == 401
        locked = client.post("/api/v1/session", json={"username": "om_lbm", "password": "correct horse battery staple"})
        assert locked.status_code == 401 and "too many" in locked.json()["detail"]

    def test_unhandled_error_is_a_bare_problem(self, app, login, monkeypatch):
        from iom.casefile import record as service

        def boom(*args, **kwargs):
            raise RuntimeError("secret internals")

        monkeypatch.setattr(service, "dashboard", boom)
        response = login("om_lbm").get("/api/v1/dashboard")
        assert response.status_code == 500
        assert "secret internals" not in response.text and "Traceback" not in response.text
        assert response.json()["title"] == "Internal Server Error"

    def test_pages_render(self, login, people):
        om = login("om_lbm")
        for path in ("/caseload", "/dashboard", f"/people/{people.birmingham}"):
            response = om.get(path)
            assert response.status_code == 200, path
            assert "<h1>" in response.text and 'lang="en-GB"' in response.text
        chart = om.get("/charts/risk-split.svg")
        assert chart.status_code == 200 and chart.text.lstrip().startswith("<svg")


def test_signed_out_cookie_no_longer_works(login, people):
    om = login("om_lbm")
    stolen = dict(om.cookies)
    assert om.delete("/api/v1/session").status_code == 204
    from fastapi.testclient import TestClient as Client

    replay = Client(om.app, cookies=stolen)
    assert replay.get(f"/api/v1/people/{people.birmingham}").status_code == 401


def test_person_check_agrees_with_listing_scope(web_db):
    """scope.allows (one person, indexed look-ups) and scope.in_scope (SQL) must agree."""
    from iom.register.models import Person
    from iom.security import scope
    from iom.security.roles import Principal
    from iom.synth import sample

    engine, _ = web_db
    users = [Principal("a", "offender_manager", "LBM"), Principal("b", "supervisor", "LWS"),
             Principal("c", "analyst"), Principal("d", "mappa_specialist"), Principal("e", "administrator"),
             Principal("f", "offender_manager", None)]
    with session_scope(engine) as session:
        everyone = session.scalars(__import__("sqlalchemy").select(Person)).all()
        for user in users:
            listed = set(session.scalars(scope.people_query(user, sample.AS_OF).with_only_columns(Person.id)))
            one_by_one = {p.id for p in everyone if scope.allows(session, user, p, sample.AS_OF)}
            assert listed == one_by_one, user
