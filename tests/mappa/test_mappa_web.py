"""MAPPA through the web: specialists record and read it, everyone else is refused or sees only
that a record is restricted, the tab and the due page exist only for specialists, and a person
who leaves MAPPA is no longer restricted."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from iom.db import session_scope
from iom.mappa.models import MappaPanel, MappaRecord
from iom.security import audit
from iom.synth import sample

VISOR = "VIS-7654321"
REASON = "violent offence with 12 months in custody; Ptolemy's sister at risk"


def _record(client, person_id: int, **body):
    data = {"category": 2, "level": 2, "chairing_agency": "National Probation Service", "visor_id": VISOR,
            "reason": REASON, "effective_from": "2019-01-01", **body}
    return client.post(f"/api/v1/people/{person_id}/mappa/records", json=data)


def _texts(record: dict) -> str:
    return " ".join(e["text"] for e in record["timeline"])


def test_the_specialist_sees_and_records_what_an_offender_manager_sees_only_as_restricted(login, people):
    specialist = login("mappa", purpose="MAPPA review")
    made = _record(specialist, people.birmingham)
    assert made.status_code == 201, made.text
    assert made.json()["partnering_officer"] == "PC Sample"  # the offender manager partners the record (000 §28)
    panel = specialist.post(f"/api/v1/people/{people.birmingham}/mappa/panels",
                            json={"held_on": "2019-01-15", "outcome": "plan agreed"})
    assert panel.status_code == 201 and panel.json()["level"] == 2
    assert panel.json()["chair"] == "National Probation Service"

    om = login("om_lbm").get(f"/api/v1/people/{people.birmingham}").json()
    assert om["restricted"] and om["restricted_hidden"] and om["mappa"] is None
    text = _texts(om)
    assert "Restricted entry" in text
    for secret in ("MAPPA", VISOR, "National Probation", "sister", "plan agreed"):
        assert secret not in text
    page = login("om_lbm").get(f"/people/{people.birmingham}")
    assert page.status_code == 200 and "?tab=mappa" not in page.text and VISOR not in page.text
    assert login("om_lbm").get(f"/people/{people.birmingham}", params={"tab": "mappa"}).status_code == 400

    seen = specialist.get(f"/api/v1/people/{people.birmingham}").json()
    assert not seen["restricted_hidden"]
    assert seen["mappa"]["current"]["level"] == 2 and seen["mappa"]["current"]["visor_id"] == VISOR
    assert seen["mappa"]["panels"][0]["held_on"] == "2019-01-15"
    assert "MAPPA category 2, level 2" in _texts(seen) and "MAPPA level 2 panel" in _texts(seen)
    tab = specialist.get(f"/people/{people.birmingham}", params={"tab": "mappa"})
    assert tab.status_code == 200 and VISOR in tab.text and 'id="mappa-panel-form"' in tab.text
    assert f'href="/people/{people.birmingham}?tab=mappa"' in specialist.get(f"/people/{people.birmingham}").text

    analyst = login("analyst", purpose="statistical analysis").get(f"/api/v1/people/{people.birmingham}")
    assert analyst.json()["mappa"] is None and VISOR not in analyst.text


def _counts(engine) -> tuple[int, int, int]:
    with session_scope(engine) as session:
        return (session.scalar(select(func.count()).select_from(MappaRecord)),
                session.scalar(select(func.count()).select_from(MappaPanel)),
                len([e for e in audit.search(session) if e.action == "write"]))


def test_every_mappa_read_and_write_is_refused_to_non_specialists(login, people, web_db):
    engine, _ = web_db
    person = people.birmingham
    before = _counts(engine)
    for name in ("om_lbm", "sup_lbm", "analyst"):
        client = login(name)
        assert _record(client, person).status_code == 403, name
        assert client.post(f"/api/v1/people/{person}/mappa/panels", json={"held_on": "2019-01-15"}).status_code == 403
        assert client.post(f"/api/v1/people/{person}/mappa/end",
                           json={"ended_on": "2019-03-01", "reason": "left"}).status_code == 403
        assert client.get(f"/api/v1/people/{person}/mappa").status_code == 403
        assert client.get("/api/v1/mappa/due").status_code == 403
        assert client.get("/mappa/due").status_code == 403
        form = client.post(f"/people/{person}/mappa/panels",
                           data={"held_on": "2019-01-15", "csrf_token": client.headers["X-CSRF-Token"]})
        assert form.status_code == 403
    assert _counts(engine) == before  # no record, no panel, no write in the audit log


def test_a_person_who_leaves_mappa_is_no_longer_restricted(login, people):
    specialist, om = login("mappa"), login("om_lbm")
    assert not om.get(f"/api/v1/people/{people.birmingham}").json()["restricted"]
    assert _record(specialist, people.birmingham, level=1, chairing_agency=None).status_code == 201
    assert om.get(f"/api/v1/people/{people.birmingham}").json()["restricted_hidden"]
    flagged = {r["id"] for r in om.get("/api/v1/caseload", params={"flag": "restricted"}).json()["items"]}
    assert people.birmingham in flagged
    ended = specialist.post(f"/api/v1/people/{people.birmingham}/mappa/end",
                            json={"ended_on": sample.AS_OF.isoformat(), "reason": "order expired"})
    assert ended.status_code == 201, ended.text
    after = om.get(f"/api/v1/people/{people.birmingham}").json()
    assert not after["restricted"] and not after["restricted_hidden"]
    flagged = {r["id"] for r in om.get("/api/v1/caseload", params={"flag": "restricted"}).json()["items"]}
    assert people.birmingham not in flagged and people.restricted in flagged  # sex-offender management still restricts
    history = specialist.get(f"/api/v1/people/{people.birmingham}/mappa").json()
    assert history["current"] is None and history["history"][0]["ended_on"] == sample.AS_OF.isoformat()


def test_a_panel_at_level_1_is_refused_in_words(login, people):
    specialist = login("mappa")
    assert _record(specialist, people.birmingham, level=1, chairing_agency=None).status_code == 201
    refused = specialist.post(f"/api/v1/people/{people.birmingham}/mappa/panels", json={"held_on": "2019-02-01"})
    assert refused.status_code == 400
    assert "only for level 2 or level 3" in refused.json()["detail"] and "level 1" in refused.json()["detail"]
    page = specialist.post(f"/people/{people.birmingham}/mappa/panels",
                           data={"held_on": "2019-02-01", "outcome": "kept words",
                                 "csrf_token": specialist.headers["X-CSRF-Token"]})
    assert page.status_code == 400
    assert "There is a problem" in page.text and 'href="#panel-held-on"' in page.text
    assert "only for level 2 or level 3" in page.text


def test_the_forms_write_with_csrf_and_show_what_to_put_right(login, people):
    specialist = login("mappa")
    token = specialist.headers.pop("X-CSRF-Token")
    url = f"/people/{people.birmingham}/mappa/records"
    form = {"category": "1", "level": "3", "chairing_agency": "police", "visor_id": VISOR, "reason": ""}
    assert specialist.post(url, data=form).status_code == 403  # no token
    missing = specialist.post(url, data={**form, "csrf_token": token})
    assert missing.status_code == 400 and 'href="#record-reason"' in missing.text
    assert f'value="{VISOR}"' in missing.text  # what was typed is kept
    done = specialist.post(url, data={**form, "reason": "registered, high risk of harm", "csrf_token": token},
                           follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"].endswith("?tab=mappa#mappa-history")
    current = specialist.get(f"/api/v1/people/{people.birmingham}/mappa").json()["current"]
    assert (current["category"], current["level"], current["chairing_agency"]) == (1, 3, "Police")
    assert current["effective_from"] == sample.AS_OF.isoformat()
    tab = specialist.get(f"/people/{people.birmingham}", params={"tab": "mappa"}).text
    based_on = re.search(r'name="based_on" value="(\d+)"', tab).group(1)
    assert int(based_on) == current["id"]
    panel = specialist.post(f"/people/{people.birmingham}/mappa/panels",
                            data={"held_on": "2019-03-31", "csrf_token": token}, follow_redirects=False)
    assert panel.status_code == 303


def test_a_change_based_on_an_older_record_is_refused_with_the_current_one(login, people):
    specialist = login("mappa")
    first = _record(specialist, people.birmingham).json()
    second = _record(specialist, people.birmingham, level=3, effective_from="2019-02-01", based_on=first["id"])
    assert second.status_code == 201
    stale = _record(specialist, people.birmingham, level=1, chairing_agency=None, effective_from="2019-03-01",
                    based_on=first["id"])
    assert stale.status_code == 409 and stale.json()["current"]["level"] == 3
    page = specialist.post(f"/people/{people.birmingham}/mappa/records",
                           data={"category": "2", "level": "1", "reason": "stepped down", "based_on": str(first["id"]),
                                 "csrf_token": specialist.headers["X-CSRF-Token"]})
    assert page.status_code == 409 and "changed since you opened it" in page.text
    assert [r["level"] for r in specialist.get(f"/api/v1/people/{people.birmingham}/mappa").json()["history"]] == [3, 2]


def test_the_due_page_nav_and_attention_are_for_specialists_only(login, people):
    specialist = login("mappa")

    def listed(**params) -> set[int]:
        return {r["person_id"] for r in specialist.get("/api/v1/mappa/due", params=params).json()["rows"]}

    before = specialist.get("/api/v1/mappa/due").json()
    assert _record(specialist, people.birmingham).status_code == 201  # level 2 since 2019-01-01, never paneled
    due = specialist.get("/api/v1/mappa/due").json()
    assert {r["person_id"] for r in due["rows"]} - {r["person_id"] for r in before["rows"]} == {people.birmingham}
    row = next(r for r in due["rows"] if r["person_id"] == people.birmingham)
    assert row["state"] == "overdue" and row["due_on"] == "2019-01-01" and row["days_overdue"] == 89
    assert due["overdue"] == before["overdue"] + 1
    assert due["by_level"]["2"]["overdue"] == before["by_level"]["2"]["overdue"] + 1
    assert people.birmingham not in listed(lomu="lws") and people.birmingham in listed(lomu="LBM")
    assert people.birmingham not in listed(level=3) and people.birmingham in listed(level=2)
    assert specialist.get("/api/v1/mappa/due", params={"lomu": "NOPE"}).status_code == 400
    assert specialist.get("/api/v1/mappa/due", params={"level": 1}).status_code == 422
    page = specialist.get("/mappa/due")
    assert page.status_code == 200 and "MAPPA panels due" in page.text and "Zebedee Quartermaine" in page.text
    assert f"MAPPA panels: {due['due']} due, {due['overdue']} overdue" in page.text
    assert 'href="/mappa/due"' in specialist.get("/caseload").text
    attention = {i["key"]: i for i in specialist.get("/api/v1/attention").json()}
    assert attention["mappa_overdue"]["count"] == due["overdue"] and attention["mappa_overdue"]["severity"] == "overdue"
    om = login("om_lbm")
    assert 'href="/mappa/due"' not in om.get("/caseload").text
    assert not any(i["key"].startswith("mappa") for i in om.get("/api/v1/attention").json())
