"""Forms that keep work: a refused form comes back with what was typed and what to put right,
in plain words, and nothing is written or logged as written."""

from __future__ import annotations

import re

import pytest

from iom.db import session_scope
from iom.security import audit

scoring = pytest.importorskip("iom.scoring.service")


def _token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_a_bad_override_date_shows_the_form_again_with_the_reason_kept(login, scored, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    form = om.get("/selection/BN/override", params={"person_id": scored.birmingham, "include": "false"})
    sent = {"csrf_token": _token(form), "person_id": scored.birmingham, "include": "exclude",
            "reason": "moved to Leeds with family", "until": "2019-02-30"}
    again = om.post("/selection/BN/overrides", data=sent, follow_redirects=False)
    assert again.status_code == 400
    assert "There is a problem" in again.text and "moved to Leeds with family</textarea>" in again.text
    assert 'href="#until"' in again.text and "2019-02-30" in again.text and "Input should be" not in again.text
    too_far = om.post("/selection/BN/overrides", data={**sent, "until": "2021-01-01"}, follow_redirects=False)
    assert too_far.status_code == 400 and "and by 2020-03-31" in too_far.text
    short = om.post("/selection/BN/overrides", data={**sent, "until": "2019-06-30", "reason": "moved"})
    assert short.status_code == 400 and 'href="#reason"' in short.text and "at least 10 characters" in short.text
    with session_scope(engine) as session:
        assert not [e for e in audit.search(session, action="write")], "a refused form is not logged as written"
    done = om.post("/selection/BN/overrides", data={**sent, "until": "2019-06-30"}, follow_redirects=False)
    assert done.status_code == 303


def test_an_empty_note_shows_the_record_again_with_an_error(login, people):
    om = login("om_lbm")
    page = om.get(f"/people/{people.birmingham}")
    again = om.post(f"/people/{people.birmingham}/notes", data={"csrf_token": _token(page), "text": "   "},
                    follow_redirects=False)
    assert again.status_code == 400 and "There is a problem" in again.text and "A note needs some text" in again.text
    assert 'href="#note-text"' in again.text


def test_a_note_sent_after_the_session_ended_is_kept_through_signing_in_again(login, people, web_db, credentials):
    engine, _ = web_db
    om = login("om_lbm")
    om.headers.pop("X-CSRF-Token")  # a browser sends the form's token only
    page = om.get(f"/people/{people.birmingham}")
    with session_scope(engine) as session:  # the session ends (signed out elsewhere)
        from iom.security import service as users
        from iom.security.models import User

        users.end_sessions(session, session.query(User).filter_by(username="om_lbm").one().id)
    url = f"http://testserver/people/{people.birmingham}"
    sent = om.post(f"/people/{people.birmingham}/notes", data={"csrf_token": _token(page), "text": "Seen at the hostel, sober"},
                   headers={"referer": url}, follow_redirects=False)
    assert sent.status_code == 303 and sent.headers["location"] == "/login", sent.text[-400:]
    form = om.get("/login")
    back = om.post("/login", data={"csrf_token": _token(form), "username": "om_lbm", "password": credentials["password"],
                                   "purpose": "case management"}, follow_redirects=False)
    assert back.status_code == 303 and back.headers["location"] == f"/people/{people.birmingham}"
    again = om.get(back.headers["location"])
    assert "Seen at the hostel, sober</textarea>" in again.text and "what you had typed" in again.text
    assert "Seen at the hostel, sober</textarea>" not in om.get(f"/people/{people.birmingham}").text  # once only
    with session_scope(engine) as session:
        assert not [e for e in audit.search(session, action="write")], "nothing was written on the user's behalf"


def test_a_return_address_never_leaves_the_site(login):
    from iom.http.drafts import safe_path

    assert [safe_path(p) for p in ("/people/1?tab=timeline", "//evil.example/x", "https://evil.example", "/\\evil", None)] == [
        "/people/1?tab=timeline", "/", "/", "/", "/"]


def test_bad_input_is_told_in_plain_words(login):
    om = login("om_lbm")
    body = om.get("/api/v1/caseload", params={"per_page": "lots"}).json()
    assert body["status"] == 422 and body["detail"] == "per page must be a whole number"
    too_big = om.get("/api/v1/caseload", params={"per_page": 5000}).json()["detail"]
    assert too_big == "per page is too large (at most 200)"
    page = om.get("/people/abc")
    assert page.status_code == 422 and "person id must be a whole number" in page.text and "Input should" not in page.text


def test_a_kept_draft_is_never_shown_to_someone_else_signing_in(login, people, web_db, credentials):
    from iom.security import service as users
    from iom.security.models import User

    engine, _ = web_db
    om = login("om_lbm")
    om.headers.pop("X-CSRF-Token")
    page = om.get(f"/people/{people.birmingham}")
    with session_scope(engine) as session:
        users.end_sessions(session, session.query(User).filter_by(username="om_lbm").one().id)
    om.post(f"/people/{people.birmingham}/notes", data={"csrf_token": _token(page), "text": "Private words"},
            headers={"referer": f"http://testserver/people/{people.birmingham}"}, follow_redirects=False)
    form = om.get("/login")
    other = om.post("/login", data={"csrf_token": _token(form), "username": "sup_lbm", "password": credentials["password"],
                                    "purpose": "case management"}, follow_redirects=False)
    assert other.status_code == 303
    assert "Private words" not in om.get(other.headers["location"]).text
