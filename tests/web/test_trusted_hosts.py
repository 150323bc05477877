"""The app answers only to its configured host names (``IOM_ALLOWED_HOSTS``), and its own
redirects are paths: no page or Location header is built on a name a client sent."""

from __future__ import annotations

from fastapi.testclient import TestClient

from iom.config import Settings
from iom.synth import sample
from iom.web.app import create_app
from tests.web.conftest import SECRET


def _client(engine, **settings) -> TestClient:
    return TestClient(create_app(engine, secret=SECRET, as_of_date=sample.AS_OF, secure_cookies=False,
                                 settings=Settings(**settings)), follow_redirects=False)


def test_a_foreign_host_header_is_refused_not_redirected_to(web_db):
    client = _client(web_db[0])
    for path in ("/caseload/", "/caseload", "/login", "/api/v1/me"):
        answer = client.get(path, headers={"Host": "evil.example"})
        assert answer.status_code == 400, path
        assert "evil.example" not in answer.headers.get("location", "") and "evil.example" not in answer.text
        assert answer.headers["x-frame-options"] == "DENY"  # refused inside the security headers


def test_the_trailing_slash_redirect_is_a_path(web_db):
    answer = _client(web_db[0]).get("/caseload/?page=2")
    assert answer.status_code in (307, 308) and answer.headers["location"] == "/caseload?page=2"


def test_the_allowed_hosts_are_a_setting(web_db):
    client = _client(web_db[0], allowed_hosts=["iom.example.org", "*.iom.example.org"])
    assert client.get("/login", headers={"Host": "iom.example.org"}).status_code == 200
    assert client.get("/login", headers={"Host": "north.iom.example.org"}).status_code == 200
    assert client.get("/login").status_code == 400  # "testserver" is no longer one of them
    moved = client.get("/caseload/", headers={"Host": "iom.example.org"})
    assert moved.headers["location"] == "/caseload"
