"""Web fixtures: a migrated database with the small sample, one user per role, test clients,
and the Playwright launch settings for Debian's chromium (never a downloaded browser)."""

from __future__ import annotations

import datetime as dt
import socket
import threading
import time
from pathlib import Path

import pytest
import uvicorn
from pwdlib import PasswordHash
from pwdlib.hashers.argon2 import Argon2Hasher
from fastapi.testclient import TestClient

from iom.db import session_scope
from iom.security import service as users
from iom.security.models import User
from iom.synth import sample
from iom.web.app import create_app

PASSWORD = "correct horse battery staple"
SECRET = "test-secret-" + "x" * 40
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
USERS = {
    "om_lbm": ("offender_manager", "LBM"),
    "om_lws": ("offender_manager", "LWS"),
    "sup_lbm": ("supervisor", "LBM"),
    "analyst": ("analyst", None),
    "mappa": ("mappa_specialist", None),
    "admin": ("administrator", None),
}


#: Still argon2id, with small costs: the production parameters take a third of a second per
#: sign-in here, which would dominate the suite. Hashes carry their own parameters.
FAST_HASHER = PasswordHash((Argon2Hasher(time_cost=1, memory_cost=1024, parallelism=1),))


@pytest.fixture(autouse=True)
def _fast_argon2(monkeypatch):
    monkeypatch.setattr(users, "_hasher", FAST_HASHER)


@pytest.fixture(scope="session")
def password_hash() -> str:
    return FAST_HASHER.hash(PASSWORD)


@pytest.fixture
def web_db(fresh_engine, password_hash):
    with session_scope(fresh_engine) as session:
        people = sample.build(session)
        now = dt.datetime.now(dt.UTC)
        for name, (role, lomu) in USERS.items():
            session.add(User(username=name, password_hash=password_hash, role=role, lomu_code=lomu, active=True, session_epoch=0, created_at=now))
    return fresh_engine, people


@pytest.fixture
def app(web_db):
    engine, _ = web_db
    return create_app(engine, secret=SECRET, as_of_date=sample.AS_OF, secure_cookies=False)


@pytest.fixture
def people(web_db) -> sample.Sample:
    return web_db[1]


@pytest.fixture
def login(app):
    """``login(name)`` -> a TestClient signed in through the API, with its CSRF token."""
    clients = []

    def _login(name: str, purpose: str = "case management") -> TestClient:
        client = TestClient(app, raise_server_exceptions=False)
        clients.append(client)
        response = client.post("/api/v1/session", json={"username": name, "password": PASSWORD, "purpose": purpose})
        assert response.status_code == 200, response.text
        client.headers["X-CSRF-Token"] = response.json()["csrf_token"]
        return client

    yield _login
    for client in clients:
        client.close()


@pytest.fixture(scope="session")
def browser_type_launch_args():
    return {
        "executable_path": "/usr/bin/chromium",
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"],
    }


@pytest.fixture
def credentials() -> dict[str, str]:
    return {"password": PASSWORD, "secret": SECRET}


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture
def scored(web_db):
    """The sample with scores stored as of its date (the force model trained for it)."""
    from iom.scoring import service as scoring

    engine, people = web_db
    with session_scope(engine) as session:
        scoring.score_all(session, as_of=sample.AS_OF, train=True)
    return people


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def serve(web_db, credentials):
    """``serve(score=False)`` -> the base URL of a live server (uvicorn in a thread) on this
    test's database, started after the test's own setup (and, with ``score``, after storing
    scores as of the sample date)."""
    from iom.scoring import service as scoring

    engine, _ = web_db
    servers = []

    def _serve(score: bool = False) -> str:
        if score:
            with session_scope(engine) as session:
                scoring.score_all(session, as_of=sample.AS_OF, train=True)
        app = create_app(engine, secret=credentials["secret"], as_of_date=sample.AS_OF, secure_cookies=False)
        port = _free_port()
        server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", access_log=False))
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + 10
        while not server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.05)
        return f"http://127.0.0.1:{port}"

    yield _serve
    for server, thread in servers:
        server.should_exit = True
        thread.join(timeout=10)
