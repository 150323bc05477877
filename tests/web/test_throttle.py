"""The sign-in throttle (``iom.web.throttle``) through the app: limits per username and per
address together, attempts being checked are not failures, counts shared by every process on
one database, proxy headers believed only from configured proxies, and failures beyond a rate
audited in one summary row per address and window."""

from __future__ import annotations

import datetime as dt
import json
import threading

import httpx
import pytest
import time_machine
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import select

from iom.config import Settings
from iom.db import session_scope
from iom.security import service as users
from iom.security.models import AuditEvent
from iom.synth import sample
from iom.web.app import create_app
from iom.web.cli import server_config
from tests.web.conftest import PASSWORD, SECRET, _free_port

WRONG = "not the password at all"


def _app(engine, **settings):
    return create_app(engine, secret=SECRET, as_of_date=sample.AS_OF, secure_cookies=False,
                      settings=Settings(**settings))


def _sign_in(client, name: str, password: str = PASSWORD, **headers) -> httpx.Response:
    return client.post("/api/v1/session", json={"username": name, "password": password}, headers=headers)


def _events(engine, action: str) -> list[tuple[str, dict]]:
    with session_scope(engine) as session:
        rows = session.scalars(select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)).all()
        return [(row.username, json.loads(row.detail)) for row in rows]


class _CountingHasher:
    """The suite's hasher, counting password checks; ``meet`` makes that many checks wait for
    each other, so they are certainly in flight together."""

    def __init__(self, real, meet: int | None = None) -> None:
        self.real, self.checked, self._lock = real, [], threading.Lock()
        self.barrier = threading.Barrier(meet, timeout=30) if meet else None

    def hash(self, password):
        return self.real.hash(password)

    def verify_and_update(self, password, hash_):
        with self._lock:
            self.checked.append(password)
        if self.barrier is not None:
            self.barrier.wait()
        return self.real.verify_and_update(password, hash_)


def _at_once(calls) -> list:
    """Run each call in its own thread, all released together."""
    barrier = threading.Barrier(len(calls))
    answers = [None] * len(calls)

    def run(k):
        barrier.wait()
        answers[k] = calls[k]()

    threads = [threading.Thread(target=run, args=(k,)) for k in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


def test_five_failures_lock_the_username_but_not_others_at_the_same_address(web_db):
    engine, _ = web_db
    client = TestClient(_app(engine))
    for _ in range(5):
        assert _sign_in(client, "om_lbm", WRONG).status_code == 401
    locked = _sign_in(client, "om_lbm")
    assert locked.status_code == 401 and "too many" in locked.json()["detail"]
    # The same address, another user: a shared office is not locked out by one person.
    assert _sign_in(TestClient(_app(engine)), "sup_lbm").status_code == 200
    # The username, from another address: locked too (guessing is spread over addresses).
    elsewhere = TestClient(_app(engine), client=("10.9.9.9", 5000))
    assert "too many" in _sign_in(elsewhere, "om_lbm").json()["detail"]


def test_an_address_has_a_limit_of_its_own_over_all_usernames(web_db):
    engine, _ = web_db
    app = _app(engine, login_failures_per_address=6)
    office = TestClient(app)
    for k in range(6):  # one guess at each of six names: no username reaches its own limit
        assert "wrong username" in _sign_in(office, f"someone{k}", WRONG).json()["detail"]
    assert "too many" in _sign_in(office, "sup_lbm").json()["detail"]
    assert _sign_in(TestClient(app, client=("10.9.9.9", 5000)), "sup_lbm").status_code == 200


def test_a_success_forgives_the_username_but_the_address_still_counts(web_db):
    engine, _ = web_db
    app = _app(engine, login_failures_per_address=8)
    client = TestClient(app)
    for _ in range(4):
        _sign_in(client, "om_lbm", WRONG)
    assert _sign_in(client, "om_lbm").status_code == 200
    for _ in range(4):  # four more: the username starts afresh after its success
        assert "wrong username" in _sign_in(client, "om_lbm", WRONG).json()["detail"]
    assert "too many" in _sign_in(client, "analyst").json()["detail"]  # the address has had eight


def test_every_process_on_one_database_counts_the_same_attempts(web_db):
    """Two apps on one database stand for two worker processes."""
    engine, _ = web_db
    first, second = TestClient(_app(engine)), TestClient(_app(engine))
    for k in range(5):
        _sign_in(first if k % 2 else second, "om_lbm", WRONG)
    assert "too many" in _sign_in(first, "om_lbm").json()["detail"]
    assert "too many" in _sign_in(second, "om_lbm").json()["detail"]


def test_ten_simultaneous_right_passwords_for_one_user_all_get_in(web_db, monkeypatch):
    """Five checks are held in flight together (the user's limit), so the other five arrive
    while five attempts are still being checked: they wait for them, they are not refused."""
    engine, _ = web_db
    app = _app(engine)
    hasher = _CountingHasher(users._hasher, meet=5)
    monkeypatch.setattr(users, "_hasher", hasher)
    clients = [TestClient(app) for _ in range(10)]
    answers = _at_once([lambda c=c: _sign_in(c, "om_lbm") for c in clients])
    assert [a.status_code for a in answers] == [200] * 10, [a.text for a in answers if a.status_code != 200]
    assert _events(engine, "login_failed") == []
    assert len(_events(engine, "login")) == 10


def test_a_burst_of_guesses_gets_no_more_checks_than_the_limit(web_db, monkeypatch):
    engine, _ = web_db
    app = _app(engine)
    hasher = _CountingHasher(users._hasher)
    monkeypatch.setattr(users, "_hasher", hasher)
    clients = [TestClient(app) for _ in range(20)]
    answers = _at_once([lambda c=c: _sign_in(c, "om_lbm", WRONG) for c in clients])
    assert len(hasher.checked) == 5
    assert sum("too many" in a.text for a in answers) == 15
    assert "too many" in _sign_in(clients[0], "om_lbm").text  # the right password, after them


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(web_db):
    engine, _ = web_db
    spoofing = TestClient(_app(engine, login_failures_per_address=3))
    for k in range(3):
        _sign_in(spoofing, f"someone{k}", WRONG, **{"X-Forwarded-For": f"203.0.113.{k}"})
    refused = _sign_in(spoofing, "sup_lbm", **{"X-Forwarded-For": "203.0.113.99"})
    assert "too many" in refused.json()["detail"], "a new X-Forwarded-For must not be a new address"
    assert {detail["client"] for _, detail in _events(engine, "login_failed")} == {"testclient"}

    proxied = TestClient(_app(engine, trusted_proxies=["testclient"]))
    assert _sign_in(proxied, "analyst", WRONG, **{"X-Forwarded-For": "198.51.100.7"}).status_code == 401
    assert _events(engine, "login_failed")[-1][1]["client"] == "198.51.100.7"


@pytest.fixture
def live(web_db):
    """``live(app)`` -> the base URL of ``app`` served as `iom serve` serves it."""
    servers = []

    def _live(app) -> str:
        port = _free_port()
        server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("server did not start")
            thread.join(0.05)
        return f"http://127.0.0.1:{port}"

    yield _live
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)


def test_iom_serve_does_not_believe_forwarded_for_from_loopback(web_db, live):
    engine, _ = web_db
    base = live(_app(engine, login_failures_per_address=3))
    with httpx.Client(base_url=base) as client:
        for k in range(3):
            assert _sign_in(client, f"someone{k}", WRONG, **{"X-Forwarded-For": f"203.0.113.{k}"}).status_code == 401
        refused = _sign_in(client, "sup_lbm", **{"X-Forwarded-For": "203.0.113.99"})
    assert "too many" in refused.json()["detail"]
    assert {detail["client"] for _, detail in _events(engine, "login_failed")} == {"127.0.0.1"}


def test_failures_beyond_the_rate_are_audited_in_one_row_per_window(web_db):
    engine, _ = web_db
    app = _app(engine, login_failures_logged_each=3, login_window_seconds=900)
    client = TestClient(app)
    start = dt.datetime(2030, 1, 7, 9, 0, 5, tzinfo=dt.UTC)
    with time_machine.travel(start, tick=False):
        for k in range(12):  # 12 names, 4 of them 3 times: some reach the username limit too
            _sign_in(client, f'=HYPERLINK("x{k % 4}")', WRONG)
    each = _events(engine, "login_failed")
    assert len(each) == 3 and all(not detail.get("summary") for _, detail in each)
    with time_machine.travel(start + dt.timedelta(minutes=16), tick=False):
        assert _sign_in(client, "sup_lbm").status_code == 200  # the first sign-in after the window
        assert _sign_in(client, "analyst").status_code == 200  # and another: nothing twice
    rows = _events(engine, "login_failed")
    summaries = [detail for _, detail in rows if detail.get("summary")]
    assert len(rows) == 4 and len(summaries) == 1
    assert summaries[0]["failures"] == 9 and summaries[0]["client"] == "testclient"
    assert summaries[0]["from"].startswith("2030-01-07T09:00:00") and summaries[0]["until"].startswith("2030-01-07T09:15:00")
    assert sorted(summaries[0]["usernames"]) == [f'=hyperlink("x{k}")' for k in range(4)]


def test_the_login_page_says_too_many_and_is_audited(web_db):
    """The form too, not only the API: it shares the throttle."""
    import re

    engine, _ = web_db
    client = TestClient(_app(engine))
    for _ in range(6):
        page = client.get("/login")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        answer = client.post("/login", data={"csrf_token": csrf, "username": "om_lbm", "password": WRONG})
    assert answer.status_code == 401 and "too many" in answer.text
    assert [detail["via"] for _, detail in _events(engine, "login_failed")] == ["page"] * 6
