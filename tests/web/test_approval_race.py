"""Two supervisors approve the same override at the same instant, over real HTTP against a
live server on a file database: exactly one is told "approved" (200), the other "someone
else decided first" (409), and the log holds one ``approve`` row per override, the loser's
attempt being a ``denied`` row. Thirty times, so an ordering that happens to work once does
not pass."""

from __future__ import annotations

import datetime as dt
import json
import threading

import httpx
import pytest

from iom.db import session_scope
from iom.security.models import AuditEvent, User
from iom.synth import sample
from tests.web.conftest import PASSWORD

pytest.importorskip("iom.scoring.service")
ROUNDS = 30
UNTIL = (sample.AS_OF + dt.timedelta(days=60)).isoformat()


def _client(base: str, name: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=60)
    signed = client.post("/api/v1/session", json={"username": name, "password": PASSWORD})
    assert signed.status_code == 200, signed.text
    client.headers["X-CSRF-Token"] = signed.json()["csrf_token"]
    return client


def _race(clients: list[httpx.Client], override_id: int) -> list[httpx.Response]:
    barrier = threading.Barrier(len(clients))
    answers: list[httpx.Response | None] = [None] * len(clients)

    def approve(k: int) -> None:
        barrier.wait()
        answers[k] = clients[k].post(f"/api/v1/overrides/{override_id}/approve")

    threads = [threading.Thread(target=approve, args=(k,)) for k in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return answers


@pytest.fixture
def second_supervisor(web_db, password_hash):
    engine, _ = web_db
    with session_scope(engine) as session:
        session.add(User(username="sup2_lbm", password_hash=password_hash, role="supervisor", lomu_code="LBM",
                         active=True, session_epoch=0, created_at=dt.datetime.now(dt.UTC)))


def test_of_two_approvals_at_once_exactly_one_wins_every_time(serve, web_db, people, second_supervisor):
    engine, _ = web_db
    base = serve()
    om, sup_a, sup_b = (_client(base, name) for name in ("om_lbm", "sup_lbm", "sup2_lbm"))
    made = []
    try:
        for _ in range(ROUNDS):
            proposed = om.post("/api/v1/overrides", json={"person_id": people.birmingham, "include": False,
                                                         "reason": "moved out of area", "until": UNTIL})
            assert proposed.status_code == 201, proposed.text
            override_id = proposed.json()["id"]
            made.append(override_id)
            answers = _race([sup_a, sup_b], override_id)
            codes = sorted(a.status_code for a in answers)
            assert codes == [200, 409], [(a.status_code, a.text) for a in answers]
            winner = next(a for a in answers if a.status_code == 200).json()
            assert winner["state"] == "approved"
            # Revoke it so the next round may propose the same exclusion again.
            assert om.post(f"/api/v1/overrides/{override_id}/revoke",
                           json={"reason": "round over, next one"}).status_code == 200
    finally:
        for client in (om, sup_a, sup_b):
            client.close()
    with session_scope(engine) as session:
        rows = [(e.action, e.username, json.loads(e.detail)) for e in session.query(AuditEvent).filter(
            AuditEvent.resource == "override").order_by(AuditEvent.id)]
    for override_id in made:
        approvals = [who for action, who, detail in rows if action == "approve" and detail.get("override_id") == override_id]
        refusals = [who for action, who, detail in rows
                    if action == "denied" and detail.get("override_id") == override_id and detail.get("attempt") == "approve"]
        assert len(approvals) == 1, (override_id, approvals)
        assert len(refusals) == 1 and refusals != approvals, (override_id, approvals, refusals)
