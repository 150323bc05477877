"""Casework through the pages and the API: the "Case plan" tab and its forms, stale writes
answered with the other person's change, scope and pseudonymisation."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from iom.db import session_scope
from iom.security.models import AuditEvent

ACTION = {"kind": "change", "pathway": "ete", "description": "Enrol on a college course", "due_on": "2019-04-20"}


def _form_token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def test_an_offender_manager_assesses_needs_and_builds_a_plan_on_the_page(login, people):
    om = login("om_lbm")
    page = om.get(f"/people/{people.birmingham}?tab=casework")
    assert page.status_code == 200 and "Case plan" in page.text and "No needs assessment yet" in page.text
    token = _form_token(page.text)
    saved = om.post(f"/people/{people.birmingham}/needs", data={
        "csrf_token": token, "based_on": "", "level-accommodation": "severe", "notes-accommodation": "sofa surfing",
        "level-ete": "standard", "assessed_on": "2019-03-20"}, follow_redirects=False)
    assert saved.status_code == 303
    added = om.post(f"/people/{people.birmingham}/plan", data={"csrf_token": token, **ACTION}, follow_redirects=False)
    assert added.status_code == 303
    page = om.get(f"/people/{people.birmingham}?tab=casework").text
    assert "sofa surfing" in page and "Enrol on a college course" in page
    assert "Accommodation comes before education" in page  # the sequencing warning, in words
    assert "0 Control (enforcement) and 1 Change (support)" in page
    missing = om.post(f"/people/{people.birmingham}/plan", data={"csrf_token": token, **ACTION, "description": " "})
    assert missing.status_code == 400 and "say what the action is" in missing.text.lower()


def test_a_stale_edit_is_refused_with_the_current_version_and_nothing_is_lost(login, people):
    first, second = login("om_lbm"), login("sup_lbm")
    made = first.post(f"/api/v1/people/{people.birmingham}/plan/actions", json=ACTION)
    assert made.status_code == 201, made.text
    action = made.json()
    ok = first.patch(f"/api/v1/people/{people.birmingham}/plan/actions/{action['id']}",
                     json={"version": 1, "status": "in progress"})
    assert ok.status_code == 200 and ok.json()["version"] == 2
    stale = second.patch(f"/api/v1/people/{people.birmingham}/plan/actions/{action['id']}",
                         json={"version": 1, "status": "done", "outcome": "enrolled"})
    assert stale.status_code == 409
    problem = stale.json()
    assert problem["current"]["version"] == 2 and problem["current"]["status"] == "in progress"
    assert problem["current"]["changed_by"] == "om_lbm"
    # The page: the form comes back with what was typed, beside the other person's change.
    page = second.get(f"/people/{people.birmingham}?tab=casework").text
    shown = second.post(f"/people/{people.birmingham}/plan/{action['id']}", data={
        "csrf_token": _form_token(page), "version": "1", "status": "done", "outcome": "enrolled at Aston"})
    assert shown.status_code == 409
    assert "changed by om_lbm" in shown.text and 'value="enrolled at Aston"' in shown.text and "in progress" in shown.text


def test_people_out_of_scope_are_not_found_and_the_attempt_is_logged(login, people, web_db):
    engine, _ = web_db
    other = login("om_lws")
    refused = other.post(f"/api/v1/people/{people.birmingham}/plan/actions", json=ACTION)
    assert refused.status_code == 404
    with session_scope(engine) as s:
        denied = s.scalar(select(func.count()).where(AuditEvent.action == "denied", AuditEvent.person_id == people.birmingham))
    assert denied >= 1
    assert other.get(f"/api/v1/people/{people.birmingham}/casework").status_code == 404


def test_analysts_read_casework_without_free_text_and_cannot_write(login, people):
    om = login("om_lbm")
    assert om.post(f"/api/v1/people/{people.birmingham}/plan/actions", json=ACTION).status_code == 201
    analyst = login("analyst", purpose="statistical analysis")
    record = analyst.get(f"/api/v1/people/{people.birmingham}/casework").json()
    assert record["plan"]["actions"] and all(a["description"] is None and a["owner"] is None for a in record["plan"]["actions"])
    assert analyst.post(f"/api/v1/people/{people.birmingham}/plan/actions", json=ACTION).status_code == 403


def test_only_a_supervisor_changes_cohort_membership(login, people):
    om, sup = login("om_lbm"), login("sup_lbm")
    body = {"change": "exit", "reason": "moved out of the force area"}
    assert om.post(f"/api/v1/people/{people.birmingham}/memberships", json=body).status_code == 403
    done = sup.post(f"/api/v1/people/{people.birmingham}/memberships", json=body)
    assert done.status_code == 201 and done.json()["memberships"] == 1
    assert sup.get("/api/v1/caseload").json()["total"] == om.get("/api/v1/caseload").json()["total"]
    assert people.birmingham not in [row["id"] for row in sup.get("/api/v1/caseload").json()["items"]]
    again = sup.post(f"/api/v1/people/{people.birmingham}/memberships", json=body)
    assert again.status_code == 409


def test_a_review_moves_the_next_review_date_on_the_caseload(login, people):
    om = login("om_lbm")
    before = {r["id"]: r for r in om.get("/api/v1/caseload").json()["items"]}[people.birmingham]
    assert before["overdue"]  # High risk set on 2019-01-10: a 28-day review was due in February
    done = om.post(f"/api/v1/people/{people.birmingham}/reviews", json={"level": "High", "notes": "stable"})
    assert done.status_code == 201 and done.json()["next_due"] == "2019-04-28"
    after = {r["id"]: r for r in om.get("/api/v1/caseload").json()["items"]}[people.birmingham]
    assert after["next_review"] == "2019-04-28" and not after["overdue"]


def test_the_overdue_page_lists_past_due_actions_in_scope(login, people):
    om = login("om_lbm")
    om.post(f"/api/v1/people/{people.birmingham}/plan/actions", json={**ACTION, "due_on": "2019-03-01"})
    page = om.get("/casework/overdue")
    assert page.status_code == 200 and "Enrol on a college course" in page.text and "30" in page.text
    assert [o["days_overdue"] for o in om.get("/api/v1/casework/overdue").json()] == [30]
    assert login("om_lws").get("/api/v1/casework/overdue").json() == []
    attention = {a["key"]: a["count"] for a in om.get("/api/v1/attention").json()}
    assert attention.get("actions_overdue") == 1
