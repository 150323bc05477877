"""Referrals through the API and the pages: refusals in the rules' words, stale versions as
409 with both versions recoverable, scope (404 and a denied audit row), analysts without free
text, and forms that come back with what was typed."""

from __future__ import annotations

import json
import re

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from iom.db import session_scope
from iom.referrals.models import Referral, ReferralEvent
from iom.security import audit

REASON = "Out of work since the summer: wants help back into a job"
OUTCOMES = ["Finds paid work", "Writes a CV"]


def _make(client, person_id: int, **extra) -> dict:
    body = {"provider": "thrive-into-work", "pathway": "ete", "reason": REASON, "desired_outcomes": OUTCOMES, **extra}
    made = client.post(f"/api/v1/people/{person_id}/referrals", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def _move(client, referral: dict, action: str, **extra):
    return client.post(f"/api/v1/referrals/{referral['id']}/transitions",
                       json={"action": action, "version": referral["version"], **extra})


def _count(engine, model) -> int:
    with Session(engine) as session:
        return session.scalar(select(func.count()).select_from(model))


def _token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


class TestApi:
    def test_a_referral_is_made_and_moved_along_its_lifecycle(self, login, cast, web_db):
        om = login("om_lbm")
        made = _make(om, cast.bw_adult, send=True)
        assert (made["status"], made["version"], made["allowed_actions"]) == ("sent", 2, ["accept", "cancel"])
        assert [e["to_status"] for e in made["events"]] == ["draft", "sent"]
        accepted = _move(om, made, "accept").json()
        started = _move(om, accepted, "start").json()
        session = om.post(f"/api/v1/referrals/{made['id']}/sessions",
                          json={"version": started["version"], "held_on": "2019-03-31", "attendance": "late",
                                "behaviour": "Apologised, then joined in"})
        assert session.status_code == 201 and session.json()["sessions"][0]["attendance"] == "late"
        done = _move(om, session.json(), "complete", outcomes=[
            {"desired_outcome": "Finds paid work", "achievement": "partly"},
            {"desired_outcome": "Writes a CV", "achievement": "achieved", "notes": "CV sent to two employers"}])
        assert done.status_code == 200, done.text
        final = done.json()
        assert final["status"] == "completed" and final["ended_on"] == "2019-03-31" and final["version"] == 6
        assert final["outcomes"][1] == {"desired_outcome": "Writes a CV", "achievement": "achieved",
                                        "notes": "CV sent to two employers"}
        again = _move(om, final, "cancel", reason="changed my mind")
        assert again.status_code == 400 and again.json()["detail"].startswith("a completed referral cannot be cancelled")
        listed = om.get(f"/api/v1/people/{cast.bw_adult}/referrals").json()
        assert [r["id"] for r in listed] == [made["id"]]
        record = om.get(f"/api/v1/people/{cast.bw_adult}").json()
        assert record["referrals"][0]["status"] == "completed"
        texts = [e["text"] for e in record["timeline"] if e["kind"] == "referral"]
        assert "Referral to Thrive into Work completed" in texts
        assert "Referral to Thrive into Work made (education, training and employment)" in texts

    def test_a_refusal_is_a_400_with_every_broken_rules_words_and_writes_nothing(self, login, cast, web_db):
        engine, _ = web_db
        om = login("om_lbm")
        refused = om.post(f"/api/v1/people/{cast.youth}/referrals",
                          json={"provider": "new-chance", "pathway": "ete", "reason": REASON})
        assert refused.status_code == 400
        problem = refused.json()
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert "New Chance takes women" in problem["detail"] and "New Chance takes adults" in problem["detail"]
        bad = om.post(f"/api/v1/people/{cast.bw_adult}/referrals", json={"provider": "mind", "pathway": "health"})
        assert bad.status_code == 422 and "reason is needed" in bad.json()["detail"]
        assert _count(engine, Referral) == 0
        with session_scope(engine) as session:
            assert not [e for e in audit.search(session, action="write")]

    def test_a_stale_version_is_a_409_with_the_current_one_and_both_are_recoverable(self, login, cast, web_db):
        engine, _ = web_db
        om, supervisor = login("om_lbm"), login("sup_lbm")
        made = _make(om, cast.bw_adult, send=True)  # both read version 2
        assert _move(supervisor, made, "accept").status_code == 200
        stale = _move(om, made, "cancel", reason="The person declined")
        assert stale.status_code == 409
        problem = stale.json()
        assert problem["current"]["version"] == 3 and problem["current"]["status"] == "accepted"
        assert problem["current"]["changed_by"] == "sup_lbm" and "you had version 2" in problem["detail"]
        revisions = om.get(f"/api/v1/referrals/{made['id']}/revisions").json()
        assert [(r["version"], r["data"]["status"], r["written_by"]) for r in revisions] == [
            (1, "draft", "om_lbm"), (2, "sent", "om_lbm"), (3, "accepted", "sup_lbm")]
        assert revisions[1]["data"]["reason"] == REASON  # the version the writer had is kept too
        with Session(engine) as session:
            assert session.get(Referral, made["id"]).status == "accepted"
            assert session.scalar(select(func.count()).where(ReferralEvent.referral_id == made["id"])) == 3
        with session_scope(engine) as session:
            denied = [e for e in audit.search(session, action="denied") if e.resource == "referral"]
        assert len(denied) == 1 and json.loads(denied[0].detail)["why"] == "stale version"
        # with the current version, the same change goes through
        current = {**made, "version": problem["current"]["version"]}
        assert _move(om, current, "cancel", reason="The person declined").json()["status"] == "cancelled"

    def test_another_lomus_offender_manager_gets_404_and_a_denied_audit_row(self, login, cast, web_db):
        engine, _ = web_db
        made = _make(login("om_lbm"), cast.bw_adult)
        other = login("om_lws")
        for response in (other.get(f"/api/v1/referrals/{made['id']}"),
                         _move(other, made, "send"),
                         other.post(f"/api/v1/referrals/{made['id']}/sessions",
                                    json={"version": 1, "held_on": "2019-03-31", "attendance": "attended"}),
                         other.get(f"/api/v1/referrals/{made['id']}/revisions")):
            assert response.status_code == 404 and response.json()["detail"] == f"no referral #{made['id']}"
        assert other.get(f"/api/v1/people/{cast.bw_adult}/referrals").status_code == 404
        assert other.get("/api/v1/referrals").json()["total"] == 0
        assert other.get(f"/referrals/{made['id']}").status_code == 404
        with session_scope(engine) as session:
            denied = audit.search(session, action="denied", username="om_lws")
            assert len(denied) == 6 and {e.person_id for e in denied} == {cast.bw_adult}
            assert session.get(Referral, made["id"]).status == "draft"
        assert login("sup_lbm").get("/api/v1/referrals").json()["total"] == 1

    def test_analysts_see_referrals_without_free_text_and_cannot_change_them(self, login, cast, web_db):
        om = login("om_lbm")
        made = _make(om, cast.bw_adult, send=True)
        accepted = _move(om, made, "accept").json()
        started = _move(om, accepted, "start").json()
        om.post(f"/api/v1/referrals/{made['id']}/sessions", json={"version": started["version"], "held_on": "2019-03-31",
                                                                   "attendance": "attended", "behaviour": "Talked of his son"})
        analyst = login("analyst", purpose="statistical analysis")
        seen = analyst.get(f"/api/v1/referrals/{made['id']}").json()
        assert seen["status"] == "in progress" and seen["provider_code"] == "thrive-into-work"
        assert seen["reason"] is None and seen["desired_outcomes"] is None and seen["end_reason"] is None
        assert all(e["reason"] is None for e in seen["events"]) and seen["sessions"][0]["behaviour"] is None
        record = analyst.get(f"/api/v1/people/{cast.bw_adult}").json()
        assert record["referrals"][0]["reason"] is None
        listed = analyst.get("/api/v1/referrals").json()["items"]
        assert listed and all(r["reason"] is None for r in listed)
        for page in (analyst.get(f"/referrals/{made['id']}").text,
                     analyst.get(f"/people/{cast.bw_adult}", params={"tab": "referrals"}).text):
            assert REASON not in page and "Talked of his son" not in page and "Writes a CV" not in page
            assert "hidden from your role" in page
        assert analyst.get(f"/api/v1/referrals/{made['id']}/revisions").status_code == 403
        assert _move(analyst, seen, "end", reason="x").status_code == 403
        assert analyst.post(f"/api/v1/people/{cast.bw_adult}/referrals",
                            json={"provider": "mind", "pathway": "health", "reason": "x"}).status_code == 403

    def test_the_directory_and_lists_filter(self, login, cast):
        om = login("om_lbm")
        directory = om.get("/api/v1/providers").json()
        better = next(p for p in directory["providers"] if p["code"] == "better-pathways")
        assert [r["kind"] for r in better["rules"]] == ["min_age", "home_npus", "requires_markers"]
        _make(om, cast.bw_adult)
        _make(om, cast.smi, provider="better-pathways", pathway="health", send=True)
        assert om.get("/api/v1/referrals", params={"status": "sent"}).json()["total"] == 1
        assert om.get("/api/v1/referrals", params={"provider": "thrive-into-work"}).json()["total"] == 1
        assert om.get("/api/v1/referrals", params={"status": "lost"}).status_code == 422
        assert om.get("/api/v1/referrals", params={"provider": "nobody"}).status_code == 400
        assert login("admin", purpose="audit review").get("/api/v1/providers").status_code == 403


class TestPages:
    def test_the_referrals_tab_and_the_form_to_refer(self, login, cast, web_db):
        om = login("om_lbm")
        tab = om.get(f"/people/{cast.bw_adult}", params={"tab": "referrals"})
        assert tab.status_code == 200 and 'aria-current="page">Referrals' in tab.text
        assert 'id="referrals-table"' in tab.text and "No referrals." in tab.text
        assert f'href="/people/{cast.bw_adult}/referrals/new"' in tab.text
        form = om.get(f"/people/{cast.bw_adult}/referrals/new")
        assert form.status_code == 200 and 'id="provider"' in form.text and 'value="thrive-into-work"' in form.text
        sent = {"csrf_token": _token(form), "provider": "thrive-into-work", "pathway": "ete", "reason": REASON,
                "desired_outcomes": "Finds paid work\nWrites a CV\n", "source": "plan", "send": "yes"}
        made = om.post(f"/people/{cast.bw_adult}/referrals", data=sent, follow_redirects=False)
        assert made.status_code == 303 and made.headers["location"].startswith("/referrals/")
        page = om.get(made.headers["location"])
        assert "Referral #" in page.text and 'id="referral-status">sent' in page.text
        assert 'id="accept-form"' in page.text and 'id="cancel-form"' in page.text and 'id="start-form"' not in page.text
        assert "<li>Writes a CV</li>" in page.text
        tab = om.get(f"/people/{cast.bw_adult}", params={"tab": "referrals"})
        assert "Thrive into Work" in tab.text and "No referrals." not in tab.text

    def test_a_refused_referral_shows_the_form_again_with_each_rules_words(self, login, cast, web_db):
        engine, _ = web_db
        om = login("om_lbm")
        form = om.get(f"/people/{cast.youth}/referrals/new")
        sent = {"csrf_token": _token(form), "provider": "new-chance", "pathway": "ete", "reason": "Asked for support",
                "desired_outcomes": "Starts college"}
        again = om.post(f"/people/{cast.youth}/referrals", data=sent, follow_redirects=False)
        assert again.status_code == 400 and "There is a problem" in again.text
        summary = again.text.split('govuk-error-summary__list">')[1].split("</ul>")[0]
        assert summary.count('href="#provider"') == 2
        assert "New Chance takes women" in summary and "New Chance takes adults" in summary
        assert "Asked for support</textarea>" in again.text and "Starts college</textarea>" in again.text
        assert 'value="new-chance" selected' in again.text
        empty = om.post(f"/people/{cast.youth}/referrals", data={"csrf_token": _token(form), "reason": "x"},
                        follow_redirects=False)
        assert empty.status_code == 400 and 'href="#provider"' in empty.text and "Choose a provider" in empty.text
        assert _count(engine, Referral) == 0

    def test_lifecycle_forms_on_the_referral_page(self, login, cast):
        om = login("om_lbm")
        made = _make(om, cast.bw_adult, send=True)
        url = f"/referrals/{made['id']}"
        page = om.get(url)
        token = _token(page)
        for action in ("accept", "start"):
            version = re.search(r'id="referral-version">(\d+)<', om.get(url).text).group(1)
            moved = om.post(f"{url}/transitions", data={"csrf_token": token, "action": action, "version": version},
                            follow_redirects=False)
            assert moved.status_code == 303
        page = om.get(url)
        assert 'id="session-form"' in page.text and 'id="complete-outcome-1"' in page.text
        version = re.search(r'id="referral-version">(\d+)<', page.text).group(1)
        bad = om.post(f"{url}/sessions", data={"csrf_token": token, "version": version, "held_on": "2019-02-30",
                                               "attendance": "attended", "behaviour": "Calm"}, follow_redirects=False)
        assert bad.status_code == 400 and 'href="#session-held-on"' in bad.text and "Calm</textarea>" in bad.text
        ok = om.post(f"{url}/sessions", data={"csrf_token": token, "version": version, "held_on": "2019-03-31",
                                              "attendance": "did not attend"}, follow_redirects=False)
        assert ok.status_code == 303
        version = str(int(version) + 1)
        none_yet = om.post(f"{url}/transitions", data={"csrf_token": token, "action": "complete", "version": version,
                                                       "outcome": ["achieved", "not"]}, follow_redirects=False)
        assert none_yet.status_code == 400 and "at least one session attended" in none_yet.text
        half = om.post(f"{url}/transitions", data={"csrf_token": token, "action": "end", "version": version,
                                                   "reason": "Stopped coming", "outcome": ["not", ""]},
                       follow_redirects=False)
        assert half.status_code == 400 and 'href="#end-outcomes"' in half.text and "Writes a CV" in half.text
        assert "Stopped coming</textarea>" in half.text
        ended = om.post(f"{url}/transitions", data={"csrf_token": token, "action": "end", "version": version,
                                                    "reason": "Stopped coming", "outcome": ["not", "partly"]},
                        follow_redirects=False)
        assert ended.status_code == 303
        final = om.get(url).text
        assert 'id="referral-status">ended early' in final and "Stopped coming" in final
        assert "partly achieved" in final and 'id="end-form"' not in final

    def test_a_stale_form_comes_back_with_the_other_persons_change(self, login, cast):
        om, supervisor = login("om_lbm"), login("sup_lbm")
        made = _make(om, cast.bw_adult, send=True)
        page = om.get(f"/referrals/{made['id']}")  # om sees version 2
        assert _move(supervisor, made, "accept").status_code == 200
        stale = om.post(f"/referrals/{made['id']}/transitions",
                        data={"csrf_token": _token(page), "action": "cancel", "version": "2",
                              "reason": "The person moved to Leeds"}, follow_redirects=False)
        assert stale.status_code == 409
        assert 'id="stale-change"' in stale.text and "sup_lbm changed this referral" in stale.text
        assert "now version 3, accepted" in stale.text and 'id="referral-version">3<' in stale.text
        assert "The person moved to Leeds</textarea>" in stale.text  # what was typed is kept
        assert 'name="version" value="3"' in stale.text  # sending again is based on their change

    def test_the_provider_directory_page_is_in_the_navigation(self, login):
        om = login("om_lbm")
        page = om.get("/providers")
        assert page.status_code == 200 and 'href="/providers"' in page.text
        assert 'id="provider-thrive-into-work"' in page.text
        assert "Thrive into Work takes people living in the Birmingham West, Dudley or Sandwell NPUs" in page.text
        assert 'href="/providers"' not in login("admin", purpose="audit review").get("/users").text


@pytest.mark.parametrize("path", ["/referrals/0", "/referrals/99999", "/referrals/4294967296"])
def test_a_missing_referral_is_a_plain_404_page(login, path):
    assert login("om_lbm").get(path).status_code == 404
