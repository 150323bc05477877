"""Breach of orders and licences, recorded by the command and by the page: on the timeline, in
the central team's queue until its outcome, audited, refused in words, and one outcome only
when two people record at once."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import select

from iom.breach import flows
from iom.breach.schemas import OutcomeIn
from iom.casefile.commands import command_access
from iom.db import session_scope
from iom.errors import Conflict
from iom.security.models import AuditEvent
from iom.synth import sample

from tests.mappa.conftest import run_iom


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _breach_rows(engine, person_id: int) -> list[AuditEvent]:
    with session_scope(engine) as s:
        return list(s.scalars(select(AuditEvent).where(AuditEvent.resource == "breach",
                                                       AuditEvent.person_id == person_id).order_by(AuditEvent.id)))


def test_a_breach_recorded_by_the_command_and_by_the_page_is_on_the_timeline_in_the_queue_and_audited(
        web_db, scratch_db, login, people):
    engine, _ = web_db
    pseudo = "PSEUDO0001"  # the Birmingham member (sample.build)
    made = run_iom(scratch_db.url, "breach", "record", pseudo, "--kind", "licence", "--order",
                   "Licence on release, standard conditions", "--on", "2019-03-01", "--nature", "missed appointment",
                   "--action", "recall", "--user", "central.team", "--as-of", "2019-03-31")
    assert made.returncode == 0, made.stderr
    assert "breach #" in made.stdout

    om = login("om_lbm")
    page = om.get(f"/people/{people.birmingham}", params={"tab": "breaches"})
    assert page.status_code == 200 and "Licence on release, standard conditions" in page.text
    form = {"csrf_token": _token(page.text), "kind": "order", "order_name": "Community order, 12 months, unpaid work",
            "breached_on": "2019-03-20", "nature": "non-compliance", "action": "court", "details": "missed three sessions"}
    done = om.post(f"/people/{people.birmingham}/breaches", data=form, follow_redirects=False)
    assert done.status_code == 303, done.text

    record = om.get(f"/api/v1/people/{people.birmingham}").json()
    texts = [e["text"] for e in record["timeline"]]
    assert "Breach of licence (Licence on release, standard conditions): missed appointment; action: recall" in texts
    assert "Breach of order (Community order, 12 months, unpaid work): non-compliance; action: court" in texts
    assert not any("missed three sessions" in t for t in texts)  # free text never on the timeline

    queue = om.get("/api/v1/breaches").json()
    assert [r["breach"]["order_name"] for r in queue["rows"]] == [
        "Licence on release, standard conditions", "Community order, 12 months, unpaid work"]
    assert [r["days_open"] for r in queue["rows"]] == [30, 11]
    shown = om.get("/breaches")
    assert shown.status_code == 200 and "2 open breaches" in shown.text
    listed = run_iom(scratch_db.url, "breach", "queue", "--summary", "--as-of", "2019-03-31")
    assert listed.returncode == 0 and listed.stdout.strip() == "2 open breaches, the oldest open 30 days"

    writes = [e for e in _breach_rows(engine, people.birmingham) if e.action == "write"]
    assert [(e.username, json.loads(e.detail)["kind"]) for e in writes] == [("central.team", "licence"), ("om_lbm", "order")]
    with session_scope(engine) as s:
        searched = s.scalars(select(AuditEvent).where(AuditEvent.resource == "breach_queue")).all()
    assert len(searched) == 3 and all(people.birmingham in json.loads(e.detail)["people"] for e in searched)

    # Another LOMU's offender manager sees neither the breach nor the person in the queue.
    assert login("om_lws").get("/api/v1/breaches").json()["rows"] == []

    # The outcome: refused in words without an expected release, then recorded; the queue empties of it.
    first = queue["rows"][0]["breach"]
    page = om.get(f"/people/{people.birmingham}", params={"tab": "breaches"})
    refused = om.post(f"/people/{people.birmingham}/breaches/{first['id']}/outcome", data={
        "csrf_token": _token(page.text), "outcome": "returned to custody", "outcome_on": "2019-03-10",
        "version": str(first["version"])})
    assert refused.status_code == 400 and "expected release" in refused.text
    ok = om.post(f"/api/v1/people/{people.birmingham}/breaches/{first['id']}/outcome", json={
        "outcome": "returned to custody", "outcome_on": "2019-03-10", "custody_until": "2019-09-10", "version": 1})
    assert ok.status_code == 200, ok.text
    assert ok.json()["version"] == 2 and ok.json()["custody_until"] == "2019-09-10"
    assert [r["breach"]["id"] for r in om.get("/api/v1/breaches").json()["rows"]] == [queue["rows"][1]["breach"]["id"]]
    texts = [e["text"] for e in om.get(f"/api/v1/people/{people.birmingham}").json()["timeline"]]
    assert "Breach outcome: returned to custody, expected release 10 September 2019" in texts


def test_a_breach_is_refused_in_words_and_a_second_outcome_loses(web_db, scratch_db, login, people):
    engine, _ = web_db
    future = run_iom(scratch_db.url, "breach", "record", "PSEUDO0001", "--kind", "order", "--order", "Community order",
                     "--on", "2019-05-01", "--nature", "re-arrest", "--action", "warrant", "--as-of", "2019-03-31")
    assert future.returncode != 0 and "cannot be dated after" in future.stderr + future.stdout
    bad = run_iom(scratch_db.url, "breach", "record", "PSEUDO0001", "--kind", "bail", "--order", "Community order",
                  "--on", "2019-03-01", "--nature", "re-arrest", "--action", "warrant")
    assert bad.returncode != 0 and "kind" in (bad.stderr + bad.stdout)
    om = login("om_lbm")
    made = om.post(f"/api/v1/people/{people.birmingham}/breaches", json={
        "kind": "order", "order_name": "Community order", "breached_on": "2019-03-01", "nature": "re-arrest",
        "action": "warrant"})
    assert made.status_code == 201, made.text
    breach_id = made.json()["id"]
    body = OutcomeIn(outcome="withdrawn", outcome_on=sample.AS_OF, version=1)
    # Both read version 1; the first records the outcome, the second is refused before writing.
    with command_access(engine, user="first", purpose="test", as_of=sample.AS_OF) as access:
        flows.record_outcome(access, person_id=people.birmingham, breach_id=breach_id, body=body)
    with pytest.raises(Conflict), command_access(engine, user="second", purpose="test", as_of=sample.AS_OF) as access:
        flows.record_outcome(access, person_id=people.birmingham, breach_id=breach_id, body=body)
    outcomes = [e for e in _breach_rows(engine, people.birmingham) if json.loads(e.detail).get("breach_id") == breach_id]
    assert [(e.username, e.action) for e in outcomes] == [("first", "write")]
    analyst = login("analyst").get(f"/api/v1/people/{people.birmingham}").json()
    assert all(b["details"] is None for b in analyst["breaches"]["breaches"])
