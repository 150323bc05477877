"""The web under load and across workers: a sign-in storm is queued and answered 503 with
``Retry-After`` (never 500) while other requests go on; no free connection is a 503 too; the
pools of every worker fit the server's connections; and `iom serve --workers 2` shares the
session secret and kept forms between its processes."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time

import httpx
import pytest
from fastapi.testclient import TestClient

from iom.config import Settings
from iom.db import RESERVED_CONNECTIONS, make_engine, max_connections, pool_sizes, session_scope
from iom.errors import UserError
from iom.security import service as users
from iom.synth import sample
from iom.web.app import create_app
from tests.conftest import ON_POSTGRES
from tests.web.conftest import PASSWORD, SECRET, _free_port


def _app(engine, **settings):
    return create_app(engine, secret=SECRET, as_of_date=sample.AS_OF, secure_cookies=False, settings=Settings(**settings))


class _SlowHasher:
    """The suite's hasher, each check taking ``seconds`` (as argon2's real costs do)."""

    def __init__(self, real, seconds: float) -> None:
        self.real, self.seconds = real, seconds

    def hash(self, password):
        return self.real.hash(password)

    def verify_and_update(self, password, hash_):
        time.sleep(self.seconds)
        return self.real.verify_and_update(password, hash_)


def test_a_sign_in_storm_is_queued_then_answered_503_with_retry_after(web_db, monkeypatch):
    engine, _ = web_db
    app = _app(engine, signin_slots=1, signin_wait_seconds=0.5)
    port = _free_port()
    import uvicorn

    from iom.web.cli import server_config

    server = uvicorn.Server(server_config(app, host="127.0.0.1", port=port))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        assert thread.is_alive(), "server did not start"
        thread.join(0.05)
    base = f"http://127.0.0.1:{port}"
    try:
        signed_in = httpx.Client(base_url=base)
        assert signed_in.post("/api/v1/session", json={"username": "om_lbm", "password": PASSWORD}).status_code == 200
        monkeypatch.setattr(users, "_hasher", _SlowHasher(users._hasher, seconds=1.0))
        answers: list[httpx.Response] = []
        finished: list[float] = []
        lock = threading.Lock()

        def sign_in(name: str) -> None:
            with httpx.Client(base_url=base, timeout=30) as client:
                response = client.post("/api/v1/session", json={"username": name, "password": PASSWORD})
            with lock:
                answers.append(response)
                finished.append(time.monotonic())

        storm = [threading.Thread(target=sign_in, args=(name,)) for name in ("om_lbm", "sup_lbm", "analyst", "mappa", "admin", "om_lws")]
        for t in storm:
            t.start()
        time.sleep(0.2)  # the storm is in: one check running, the rest waiting for its slot
        me = signed_in.get("/api/v1/me")
        me_answered = time.monotonic()
        for t in storm:
            t.join()
        statuses = sorted(a.status_code for a in answers)
        assert 500 not in statuses
        assert statuses.count(200) >= 1 and statuses.count(503) >= 1, statuses
        assert set(statuses) <= {200, 503}
        for refused in (a for a in answers if a.status_code == 503):
            assert int(refused.headers["retry-after"]) >= 1
            assert "try again" in refused.json()["detail"]
        # A signed-in request is not held behind the storm: it is answered while a check runs.
        assert me.status_code == 200 and me_answered < max(finished)
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def test_no_free_connection_is_answered_503_not_500(web_db):
    engine, _ = web_db
    tight = make_engine(engine.url.render_as_string(hide_password=False), pool=(1, 0), pool_timeout=0.2)
    client = TestClient(_app(tight), raise_server_exceptions=False)
    assert client.post("/api/v1/session", json={"username": "om_lbm", "password": PASSWORD}).status_code == 200
    held = tight.connect()
    try:
        busy = client.get("/api/v1/me")
        assert busy.status_code == 503 and busy.headers["retry-after"] == "2", busy.text
        assert busy.headers["content-type"].startswith("application/problem+json")
    finally:
        held.close()
    assert client.get("/api/v1/me").status_code == 200
    tight.dispose()


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_the_pools_of_every_worker_fit_the_servers_connections(workers):
    sizes = pool_sizes(workers=workers, limit=97)
    assert workers * (sizes.requests + sizes.audit) <= 97 - RESERVED_CONNECTIONS
    assert sizes.requests >= 1 and sizes.audit >= 1


def test_too_few_connections_for_the_workers_is_refused_in_words():
    with pytest.raises(UserError, match="too few for 40 web workers"):
        pool_sizes(workers=40, limit=50)


@pytest.mark.skipif(not ON_POSTGRES, reason="max_connections is PostgreSQL's")
def test_max_connections_is_read_from_the_server(fresh_engine):
    limit = max_connections(fresh_engine)
    assert limit is not None and limit > RESERVED_CONNECTIONS


def _workers(pid: int) -> list[int]:
    """Worker processes spawned by ``pid`` (from /proc: Linux; not multiprocessing's resource tracker)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = open(f"/proc/{entry}/stat").read()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and b"spawn_main" in open(f"/proc/{entry}/cmdline", "rb").read():
                found.append(int(entry))
    return found


def test_iom_serve_with_two_workers_shares_the_secret_and_kept_forms(web_db):
    engine, people = web_db
    port = _free_port()
    env = {**os.environ, "IOM_ENV": "development", "IOM_SECRET_KEY": "", "IOM_DATABASE_URL": engine.url.render_as_string(hide_password=False)}
    server = subprocess.Popen([sys.executable, "-m", "iom.cli", "serve", "--port", str(port), "--workers", "2"],
                              env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 180  # each worker imports the whole app: slow on a busy machine
        while True:
            try:
                httpx.get(f"{base}/login", timeout=1)
                break
            except httpx.HTTPError:
                assert server.poll() is None and time.monotonic() < deadline, server.stdout.read() if server.poll() is not None else "timeout"
                time.sleep(0.2)
        assert len(_workers(server.pid)) == 2
        # No keep-alive: every request is a new connection, taken by whichever worker accepts it.
        no_reuse = httpx.Limits(max_keepalive_connections=0)
        with httpx.Client(base_url=base, limits=no_reuse) as client:
            login = client.post("/api/v1/session", json={"username": "om_lbm", "password": PASSWORD})
            assert login.status_code == 200, login.text
            answers = [client.get("/api/v1/me").status_code for _ in range(30)]
            assert answers == [200] * 30  # a throwaway secret per worker would sign half of them out
            # A form sent after the session ended is kept (by one worker) and given back (by another).
            page = f"/people/{people.birmingham}"
            shown = client.get(page)
            assert shown.status_code == 200, shown.text[-300:]
            token = shown.text.split('name="csrf_token" value="')[1].split('"')[0]
            with session_scope(engine) as session:  # signed out elsewhere
                users.end_sessions(session, users.credentials(session, username="om_lbm").user_id)
            kept = client.post(f"{page}/notes", data={"text": "Kept across workers", "csrf_token": token},
                               headers={"referer": base + page})
            assert kept.status_code == 303 and kept.headers["location"] == "/login", kept.text[-300:]
            form = client.get("/login")
            token = form.text.split('name="csrf_token" value="')[1].split('"')[0]
            back = client.post("/login", data={"username": "om_lbm", "password": PASSWORD, "csrf_token": token})
            assert back.status_code == 303 and back.headers["location"] == page
            assert "Kept across workers</textarea>" in client.get(page).text
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
