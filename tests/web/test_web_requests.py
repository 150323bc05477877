"""How requests end: a write is committed before it is reported, the audit log pages without
repeats, odd input is a 4xx, and the dashboard covers exactly the months it says."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session

from iom.notes.models import PersonNote


def test_a_note_that_fails_to_commit_is_not_reported_as_created(login, people):
    def mark(session, _context, _instances):
        if any(isinstance(obj, PersonNote) for obj in session.new):
            session.info["wrote a note"] = True

    def refuse(session):
        if session.info.get("wrote a note"):
            raise RuntimeError("the disk is full")

    om = login("om_lbm")
    event.listen(Session, "before_flush", mark)
    event.listen(Session, "before_commit", refuse)
    try:
        answer = om.post(f"/api/v1/people/{people.birmingham}/notes", json={"text": "seen at home"})
    finally:
        event.remove(Session, "before_commit", refuse)
        event.remove(Session, "before_flush", mark)
    assert answer.status_code == 500
    assert om.get(f"/api/v1/people/{people.birmingham}").json()["notes"] == []


def test_audit_pages_follow_on_without_repeating_a_row(login, people):
    om = login("om_lbm")
    for _ in range(12):
        om.get(f"/api/v1/people/{people.birmingham}")
    admin = login("admin")
    first = admin.get("/api/v1/audit", params={"per_page": 5}).json()
    second = admin.get("/api/v1/audit", params={"per_page": 5, "before_id": first[-1]["id"]}).json()
    ids = [r["id"] for r in first + second]
    assert len(ids) == len(set(ids)) == 10
    assert ids == sorted(ids, reverse=True)


def test_odd_person_ids_on_the_audit_page_are_refused_not_500(login):
    admin = login("admin")
    for value in ("²", "12a", "99999999999", "2147483648"):
        assert admin.get("/audit", params={"person_id": value}).status_code == 400, value
    assert admin.get("/audit", params={"person_id": "2147483647"}).status_code == 200


def test_the_dashboard_trend_has_the_24_calendar_months_to_its_date(login):
    trend = login("om_lbm").get("/api/v1/dashboard").json()["reoffending_trend"]
    months = [m for m, _ in trend]
    assert len(months) == 24 and months[-1] == "2019-03" and months[0] == "2017-04"
