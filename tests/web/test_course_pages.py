"""Courses through the pages and the API: the catalogue with Table C (completion with its Wilson
interval beside the published figure) and places; the form that refers a disposal's person to
a course (the referral becomes the disposal's condition; a refusal gives every reason, and the
ESOL offer when an interpreter is the bar); the JSON API (errors are problems); completing the
referral complies with the issued disposal's condition. Then a browser journey: a person
referred to ARV from a conditional caution, the referral accepted, started, a session
attended and completed. The sample's Birmingham person gets hand-made crimes of their own;
screenshots go to test-artifacts/ (``courses-*.png``)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from html import unescape

import pytest
from sqlalchemy import func, select

from iom.courses.rules import catalogue
from iom.db import session_scope
from iom.register.models import Crime
from iom.security.models import AuditEvent
from tests.web.browser_steps import sign_in

D = dt.date
ARV = "Alcohol Related Violence course"
RATIONALE = "admitted at once; drunk in the night-time economy, a course is available"


@dataclass
class Case:
    person: int
    #: Common assault (violence against the person, gravity 2), alcohol-related: ARV takes it.
    drunk_assault: int
    #: Common assault, not alcohol-related: ARV does not.
    sober_assault: int
    #: Harassment, alarm or distress (public order, gravity 1), alcohol-related.
    drunk_public_order: int
    walsall_person: int
    #: The Walsall person's drunk assault: out of Birmingham's scope.
    walsall: int


@pytest.fixture
def case(web_db, people) -> Case:
    engine, _ = web_db
    ids = {}
    with session_scope(engine) as s:
        for key, pid, code, on, alcohol in (("drunk_assault", people.birmingham, "105/01", D(2019, 2, 1), True),
                                            ("sober_assault", people.birmingham, "105/01", D(2019, 2, 10), False),
                                            ("drunk_public_order", people.birmingham, "125/10", D(2019, 2, 20), True),
                                            ("walsall", people.walsall, "105/01", D(2019, 2, 5), True)):
            crime = Crime(source_id=f"course-page-{key}", person_id=pid, involvement="offender", committed_on=on,
                          recorded_on=on, offence_code=code, npu_code="BN", alcohol_related=alcohol, outcome="pending")
            s.add(crime)
            s.flush()
            ids[key] = crime.id
    return Case(person=people.birmingham, walsall_person=people.walsall, **ids)


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _audit(engine, **where) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            *(getattr(AuditEvent, k) == v for k, v in where.items())))


def caution(client, person_id: int, crime_id: int, tier: str = "conditional_caution") -> dict:
    """A conditional caution (or another tier) of the crime, proposed with no condition yet,
    through the API."""
    made = client.post(f"/api/v1/people/{person_id}/oocd",
                       json={"crime_id": crime_id, "tier": tier, "admission": True, "consent": True,
                             "intervention_available": True, "rationale": RATIONALE})
    assert made.status_code == 201, made.text
    assert made.json()["status"] == "proposed"
    return made.json()


def _refer_form(client, disposal_id: int, **data):
    form = client.get(f"/oocd/{disposal_id}/course")
    assert form.status_code == 200, form.text
    return client.post(f"/oocd/{disposal_id}/course", data={"csrf_token": _token(form.text), **data},
                       follow_redirects=False)


def _words(html: str) -> str:
    """A page's text as a reader sees it: no tags, spaces collapsed."""
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html)).split())


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert body["status"] == status and "Traceback" not in response.text
    return body


# --- the catalogue, Table C, places ----------------------------------------------------------------

def test_the_courses_page_shows_the_catalogue_table_c_and_places(login, web_db):
    engine, _ = web_db
    analyst = login("analyst", purpose="statistical analysis")
    reads = _audit(engine, action="read", resource="course_completion")
    page = analyst.get("/courses")
    assert page.status_code == 200, page.text
    text = unescape(page.text)
    for course in catalogue().course:
        assert f'id="course-{course.code}"' in page.text and course.name in text
        assert f'id="tablec-{course.code}"' in page.text and f'id="places-{course.code}"' in page.text
    assert "Table C: referrals and completion" in text and "95% Wilson interval" in text
    # ARV: its provider, dates, funding, format, language, venues and eligibility in words.
    card = _words(re.search(r'id="course-arv".*?id="course-cara"', page.text, re.DOTALL).group(0))
    assert "Cranstoun" in card and "funded until 31 March 2020" in card and "Two weeknights, one Saturday" in card
    assert "Since 1 January 2017" in card and "6 to 14 people" in card and "Birmingham city centre" in card
    assert "Pay to attend No: free to the person" in card and "Languages English" in card
    eligibility = re.search(r'id="course-arv-eligibility">(.*?)</ul>', text, re.DOTALL).group(1)
    assert "violence against the person, criminal damage and arson or public order offences" in eligibility
    assert "alcohol-related" in eligibility and "not domestic abuse" in eligibility and "gravity is 3 or less" in eligibility
    assert "Cranstoun's courses take adults" in eligibility
    assert re.search(r'id="course-arda-running">not running<', page.text)
    assert re.search(r'id="course-vac-pay">Yes', page.text)
    # No referral yet: no rate, the published figure beside it.
    assert re.search(r'id="tablec-arv-referred">0<', page.text) and re.search(r'id="tablec-arv-rate">–', page.text)
    assert "62%" in re.search(r'id="tablec-arv-published">(.*?)</td>', text).group(1)
    assert re.search(r'id="places-arv-waiting">0<', page.text)
    assert "PSEUDO" not in page.text  # counts only
    assert _audit(engine, action="read", resource="course_completion") == reads + 1

    by_quarter = analyst.get("/courses", params={"by": "quarter", "start": "2018-04-01", "end": "2019-03-31"})
    assert by_quarter.status_code == 200 and "Referred from" in by_quarter.text
    wrong = analyst.get("/courses", params={"start": "2019-03-31", "end": "2018-04-01"})
    assert wrong.status_code == 400 and 'href="#end"' in wrong.text and "before it starts" in unescape(wrong.text)
    assert 'id="course-arv"' in wrong.text  # the catalogue is still shown
    bad_day = analyst.get("/courses", params={"start": "31/03/2019"})
    assert bad_day.status_code == 400 and 'href="#start"' in bad_day.text
    assert analyst.get("/courses", params={"by": "week"}).status_code == 400

    admin = login("admin", purpose="audit review")
    assert admin.get("/courses").status_code == 403


# --- refer from a disposal -----------------------------------------------------------------------------

def test_a_referral_from_the_form_becomes_the_disposals_condition(login, case, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    disposal = caution(om, case.person, case.drunk_assault)
    form = om.get(f"/oocd/{disposal['id']}/course", params={"course": "arv"})
    assert form.status_code == 200, form.text
    assert 'id="course-form"' in form.text and re.search(r'<option value="arv" selected>', form.text)
    assert f"(crime #{case.drunk_assault})" in form.text and '<option value="pl">Polish</option>' in form.text
    assert f'href="/people/{case.person}?tab=diversion#oocd-{disposal["id"]}"' in form.text  # back to the disposal

    writes = _audit(engine, action="write", resource="course_referral", person_id=case.person)
    bad_format = _refer_form(om, disposal["id"], course="arv", format="half day")
    assert bad_format.status_code == 400 and 'href="#course-format"' in bad_format.text
    assert "two weeknights or one Saturday" in unescape(bad_format.text)
    no_course = _refer_form(om, disposal["id"], reason="kept when refused")
    assert no_course.status_code == 400 and 'href="#course"' in no_course.text and "Choose the course" in no_course.text
    assert "kept when refused" in no_course.text
    assert _audit(engine, action="write", resource="course_referral", person_id=case.person) == writes

    made = _refer_form(om, disposal["id"], course="arv", format="two weeknights")
    assert made.status_code == 303, made.text
    referral_id = int(re.fullmatch(r"/referrals/(\d+)", made.headers["location"]).group(1))
    assert _audit(engine, action="write", resource="course_referral", person_id=case.person) == writes + 1
    shown = om.get(made.headers["location"])
    assert shown.status_code == 200 and re.search(r'id="referral-status">sent<', shown.text)
    assert "Cranstoun" in shown.text and "Completes the course" in shown.text
    condition = om.get(f"/api/v1/oocd/{disposal['id']}").json()["conditions"]
    assert [(c["description"], c["provider_code"], c["referral_id"], c["status"]) for c in condition] == [
        (f"Attend the {ARV}", "cranstoun", referral_id, "pending")]
    course = om.get(f"/api/v1/courses/referrals/{referral_id}").json()
    assert (course["course"], course["route"], course["crime_id"], course["format"]) == (
        "arv", "oocd", case.drunk_assault, "two weeknights")
    assert course["condition_id"] == condition[0]["id"]

    again = _refer_form(om, disposal["id"], course="arv")
    assert again.status_code == 400 and "already been referred to it" in unescape(again.text)
    page = om.get("/courses").text
    assert re.search(r'id="tablec-arv-referred">1<', page) and re.search(r'id="tablec-arv-open">1<', page)
    assert re.search(r'id="places-arv-waiting">1<', page)


def test_an_interpreter_need_is_refused_with_the_reasons_and_the_esol_offer(login, case, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    disposal = caution(om, case.person, case.drunk_assault)
    writes = _audit(engine, action="write", resource="course_referral", person_id=case.person)
    refused = _refer_form(om, disposal["id"], course="arv", interpreter_language="pl", reason="kept when refused")
    assert refused.status_code == 400
    text = unescape(refused.text)
    summary = re.search(r'class="govuk-error-summary".*?</ul>', text, re.DOTALL).group(0)
    assert 'href="#course"' in summary and "needs a Polish interpreter" in summary and "its groups run in english" in summary.lower()
    offer = re.search(r'id="esol-offer".*?</form>', text, re.DOTALL).group(0)
    assert "ESOL providers" in offer and "free of charge as part of a conditional caution" in offer
    assert f'action="/oocd/{disposal["id"]}/conditions"' in offer
    assert 'name="provider" value="esol-providers"' in offer and 'name="pathway" value="ete"' in offer
    assert re.search(r'<option value="pl" selected>Polish', refused.text) and "kept when refused" in text
    assert _audit(engine, action="write", resource="course_referral", person_id=case.person) == writes

    # The offer's button adds the ESOL condition through the disposal's condition form.
    fields = dict(re.findall(r'<input type="hidden" name="([a-z_]+)" value="([^"]*)"', offer))
    added = om.post(f"/oocd/{disposal['id']}/conditions", data=fields, follow_redirects=False)
    assert added.status_code == 303 and added.headers["location"].startswith(f"/people/{case.person}?tab=diversion")
    conditions = om.get(f"/api/v1/oocd/{disposal['id']}").json()["conditions"]
    assert [(c["kind"], c["provider_code"]) for c in conditions] == [("rehabilitative", "esol-providers")]
    esol = om.get(f"/api/v1/referrals/{conditions[0]['referral_id']}").json()
    assert (esol["provider_code"], esol["pathway"], esol["source"]) == ("esol-providers", "ete", "oocd")

    # Someone who needs no interpreter, or one in a language the course runs in, is taken.
    english = _refer_form(om, disposal["id"], course="arv", interpreter_language="en")
    assert english.status_code == 303, english.text


def test_an_offence_the_course_does_not_take_gives_every_reason(login, case):
    om = login("om_lbm")
    sober = caution(om, case.person, case.sober_assault)
    refused = _refer_form(om, sober["id"], course="arv")
    assert refused.status_code == 400 and "not recorded as alcohol-related" in unescape(refused.text)
    assert 'id="esol-offer"' not in refused.text
    cara = _refer_form(om, sober["id"], course="cara", interpreter_language="pl")
    text = unescape(cara.text)
    assert cara.status_code == 400
    messages = re.findall(r'id="course-error(?:-\d+)?"><span class="govuk-visually-hidden">Error:</span> (.*?)</p>', text)
    assert len(messages) >= 3, messages  # every reason by the field, one a line
    assert any("not recorded as domestic abuse" in m for m in messages)
    assert any("Polish interpreter" in m for m in messages) and 'id="esol-offer"' in cara.text
    unknown = _refer_form(om, sober["id"], course="nope")
    assert unknown.status_code == 400 and "no course 'nope'" in unescape(unknown.text).lower()

    # Once the disposal is issued a course can no longer be one of its conditions.
    sup = login("sup_lbm", purpose="supervision and approval")
    with_condition = om.post(f"/api/v1/oocd/{sober['id']}/conditions",
                             json={"kind": "rehabilitative", "description": "Attend an anger management course"})
    authorised = sup.post(f"/api/v1/oocd/{sober['id']}/changes",
                          json={"action": "authorise", "version": with_condition.json()["version"], "rank": "sergeant"})
    issued = om.post(f"/api/v1/oocd/{sober['id']}/changes", json={"action": "issue", "version": authorised.json()["version"]})
    assert issued.status_code == 200, issued.text
    drunk = caution(om, case.person, case.drunk_public_order, "community_resolution")
    assert _refer_form(om, drunk["id"], course="arv").status_code == 303  # another disposal's crime is taken
    closed = om.get(f"/oocd/{sober['id']}/course")
    assert closed.status_code == 200 and 'id="refer-closed"' in closed.text


def test_the_form_is_scoped_and_for_writers(login, case, web_db):
    engine, _ = web_db
    lws = login("om_lws")
    walsall = caution(lws, case.walsall_person, case.walsall)
    om = login("om_lbm")
    assert om.get(f"/oocd/{walsall['id']}/course").status_code == 404  # out of Birmingham's scope
    token = _token(om.get("/courses").text)
    denied = _audit(engine, action="denied", person_id=case.walsall_person)
    posted = om.post(f"/oocd/{walsall['id']}/course", data={"csrf_token": token, "course": "arv"})
    assert posted.status_code == 404
    assert _audit(engine, action="denied", person_id=case.walsall_person) == denied + 1
    assert om.get("/oocd/999999/course").status_code == 404
    assert om.get(f"/oocd/{2**40}/course").status_code == 404
    no_token = om.post(f"/oocd/{walsall['id']}/course", data={"course": "arv"}, headers={"X-CSRF-Token": "wrong"})
    assert no_token.status_code == 403
    analyst = login("analyst", purpose="statistical analysis")
    assert analyst.get(f"/oocd/{walsall['id']}/course").status_code == 403


# --- the API -----------------------------------------------------------------------------------------------

def test_the_api_refers_and_a_bad_course_is_a_problem(login, case, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    disposal = caution(om, case.person, case.drunk_assault)
    body = {"course": "arv", "person_id": case.person, "route": "oocd", "disposal_id": disposal["id"]}

    bad = _problem(om.post("/api/v1/courses/referrals", json={**body, "course": "nope"}), 400)
    assert "no course 'nope'" in bad["detail"] and "arv" in bad["detail"]
    language = _problem(om.post("/api/v1/courses/referrals", json={**body, "interpreter_language": "pl"}), 400)
    assert "Polish interpreter" in language["detail"] and "ESOL" in language["detail"]
    unknown_language = _problem(om.post("/api/v1/courses/referrals", json={**body, "interpreter_language": "xx"}), 400)
    assert "no language 'xx'" in unknown_language["detail"]
    _problem(om.post("/api/v1/courses/referrals", json={**body, "extra": 1}), 422)
    _problem(om.post("/api/v1/courses/referrals", json={**body, "route": "court"}), 422)
    _problem(om.post("/api/v1/courses/referrals", json={**body, "person_id": 2**40}), 422)
    _problem(om.post("/api/v1/courses/referrals", json={**body, "reason": "a\x00b"}), 422)
    no_disposal = _problem(om.post("/api/v1/courses/referrals", json={**body, "disposal_id": None}), 400)
    assert "names the disposal" in no_disposal["detail"]
    sober = _problem(om.post("/api/v1/courses/referrals", json={"course": "arv", "person_id": case.person,
                                                                "route": "plan", "crime_id": case.sober_assault}), 400)
    assert "not recorded as alcohol-related" in sober["detail"]
    assert om.post("/api/v1/courses/referrals", json=body, headers={"X-CSRF-Token": ""}).status_code == 403

    writes = _audit(engine, action="write", resource="course_referral", person_id=case.person)
    made = om.post("/api/v1/courses/referrals", json=body)
    assert made.status_code == 201, made.text
    out = made.json()
    assert (out["course"], out["course_name"], out["route"], out["crime_id"], out["status"]) == (
        "arv", ARV, "oocd", case.drunk_assault, "sent")
    assert out["condition_id"] is not None and out["created_on"] == "2019-03-31"
    assert _audit(engine, action="write", resource="course_referral", person_id=case.person) == writes + 1
    again = _problem(om.post("/api/v1/courses/referrals", json=body), 400)
    assert "already been referred" in again["detail"]
    plan = om.post("/api/v1/courses/referrals", json={"course": "arv", "person_id": case.person, "route": "voluntary",
                                                      "crime_id": case.drunk_public_order, "format": "one Saturday"})
    assert plan.status_code == 201, plan.text
    assert (plan.json()["route"], plan.json()["condition_id"], plan.json()["format"]) == ("voluntary", None, "one Saturday")

    reads = _audit(engine, action="read", resource="course_referral", person_id=case.person)
    got = om.get(f"/api/v1/courses/referrals/{out['referral_id']}")
    assert got.status_code == 200 and got.json() == out
    assert _audit(engine, action="read", resource="course_referral", person_id=case.person) == reads + 1
    _problem(om.get("/api/v1/courses/referrals/999999"), 404)

    lws = login("om_lws")
    _problem(lws.get(f"/api/v1/courses/referrals/{out['referral_id']}"), 404)  # out of scope
    _problem(lws.post("/api/v1/courses/referrals", json={**body, "disposal_id": None, "route": "plan",
                                                         "crime_id": case.drunk_public_order}), 404)
    analyst = login("analyst", purpose="statistical analysis")
    _problem(analyst.post("/api/v1/courses/referrals", json=body), 403)


def test_completion_and_places_through_the_api(login, case):
    analyst = login("analyst", purpose="statistical analysis")
    listed = analyst.get("/api/v1/courses")
    assert listed.status_code == 200 and [c["code"] for c in listed.json()["course"]] == [
        c.code for c in catalogue().course]
    table = analyst.get("/api/v1/courses/completion")
    assert table.status_code == 200, table.text
    lines = {line["course"]: line for line in table.json()["lines"]}
    assert set(lines) == {c.code for c in catalogue().course}
    assert (lines["arv"]["referred"], lines["arv"]["rate"], lines["arv"]["published"]) == (0, None, "62%")
    quarter = analyst.get("/api/v1/courses/completion", params={"by": "quarter", "course": "arv"})
    assert quarter.status_code == 200 and quarter.json()["by"] == "quarter"
    _problem(analyst.get("/api/v1/courses/completion", params={"by": "week"}), 422)
    _problem(analyst.get("/api/v1/courses/completion", params={"course": "nope"}), 400)
    _problem(analyst.get("/api/v1/courses/completion", params={"start": "2019-03-31", "end": "2018-01-01"}), 400)
    _problem(analyst.get("/api/v1/courses/completion", params={"start": "0001-01-01"}), 400)
    places = analyst.get("/api/v1/courses/places", params={"as_of": "2019-03-31"})
    assert places.status_code == 200 and {p["course"] for p in places.json()} == set(lines)
    assert {p["course"]: p["running"] for p in places.json()}["arda"] is False
    _problem(analyst.get("/api/v1/courses/places", params={"as_of": "0001-01-01"}), 400)
    _problem(login("admin", purpose="audit review").get("/api/v1/courses/completion"), 403)


def test_completing_the_referral_complies_with_the_issued_disposals_condition(login, case):
    om, sup = login("om_lbm"), login("sup_lbm", purpose="supervision and approval")
    disposal = caution(om, case.person, case.drunk_assault)
    made = om.post("/api/v1/courses/referrals", json={"course": "arv", "person_id": case.person, "route": "oocd",
                                                      "disposal_id": disposal["id"]})
    assert made.status_code == 201, made.text
    referral_id = made.json()["referral_id"]
    current = om.get(f"/api/v1/oocd/{disposal['id']}").json()
    authorised = sup.post(f"/api/v1/oocd/{disposal['id']}/changes",
                          json={"action": "authorise", "version": current["version"], "rank": "sergeant"})
    assert authorised.status_code == 200, authorised.text
    issued = om.post(f"/api/v1/oocd/{disposal['id']}/changes",
                     json={"action": "issue", "version": authorised.json()["version"]})
    assert issued.status_code == 200 and issued.json()["status"] == "issued", issued.text

    def step(path: str, **body) -> dict:
        version = om.get(f"/api/v1/referrals/{referral_id}").json()["version"]
        response = om.post(f"/api/v1/referrals/{referral_id}/{path}", json={"version": version, **body})
        assert response.status_code in (200, 201), response.text
        return response.json()

    step("transitions", action="accept")
    step("transitions", action="start")
    step("sessions", held_on="2019-03-31", attendance="attended")
    done = step("transitions", action="complete",
                outcomes=[{"desired_outcome": "Completes the course", "achievement": "achieved"}])
    assert done["status"] == "completed"
    after = om.get(f"/api/v1/oocd/{disposal['id']}").json()
    assert after["status"] == "complied" and after["conditions"][0]["status"] == "complied"
    arv = {line["course"]: line for line in om.get("/api/v1/courses/completion").json()["lines"]}["arv"]
    assert (arv["referred"], arv["completed"], arv["rate"], arv["rate_text"]) == (1, 1, 1.0, "100.0%")
    assert 0 < arv["lower"] < 0.5 and arv["upper"] == pytest.approx(1.0)  # Wilson's interval for 1 of 1
    assert "62%" in arv["check"]


# --- in the browser -------------------------------------------------------------------------------------------

def _click(page, selector: str, url) -> None:
    """Click a form's button and wait for the page it leads to, with no error."""
    with page.expect_navigation(url=url):
        page.locator(selector).click()
    assert page.locator(".govuk-error-summary").count() == 0, page.locator(".govuk-error-summary").inner_text()


@pytest.mark.browser
def test_refer_a_person_to_arv_from_a_conditional_caution_record_attendance_complete(page, serve, login, case,
                                                                                    credentials, artifacts):
    disposal = caution(login("om_lbm"), case.person, case.drunk_assault)["id"]
    base = serve()
    tab = re.compile(r"tab=diversion(#[\w-]+)?$")
    referral_page = re.compile(r"/referrals/\d+(#[\w-]+)?$")
    sign_in(page, base, "sup_lbm", credentials["password"])

    # The disposal on the person's Diversion tab, then the course form for it.
    page.goto(f"{base}/people/{case.person}?tab=diversion#oocd-{disposal}")
    assert page.locator(f"#oocd-{disposal}-status").inner_text().strip().lower() == "proposed"
    with page.expect_navigation(url=re.compile(rf"/oocd/{disposal}/course$")):
        page.locator(f"#oocd-{disposal}-course").click()
    assert page.get_by_role("heading", name="Refer to a course").is_visible()
    page.get_by_label("Course", exact=True).select_option("arv")
    page.get_by_label("Format (optional)").select_option("two weeknights")
    page.screenshot(path=str(artifacts / "courses-refer.png"), full_page=True)
    # First as someone who needs a Polish interpreter: refused, with ESOL offered instead.
    page.get_by_label("Interpreter needed").select_option("pl")
    with page.expect_navigation():
        page.locator("#course-submit").click()
    assert "Polish interpreter" in page.locator(".govuk-error-summary").inner_text()
    assert page.locator("#esol-offer").is_visible() and page.locator("#esol-submit").is_visible()
    assert page.get_by_label("Format (optional)").input_value() == "two weeknights"  # what was chosen is kept
    page.screenshot(path=str(artifacts / "courses-esol-offer.png"), full_page=True)
    page.get_by_label("Interpreter needed").select_option("")
    _click(page, "#course-submit", referral_page)
    referral_id = int(re.search(r"/referrals/(\d+)", page.url).group(1))
    assert page.locator("#referral-status").inner_text() == "sent"
    assert page.get_by_role("heading", name=f"Referral #{referral_id} to Cranstoun").is_visible()

    # The condition is on the disposal: authorise and issue it, then follow the condition's referral.
    page.goto(f"{base}/people/{case.person}?tab=diversion#oocd-{disposal}")
    conditions = page.locator(f"#oocd-{disposal}-conditions-table")
    assert f"Attend the {ARV}" in conditions.inner_text()
    page.locator(f"#oocd-{disposal}-rank").select_option("sergeant")
    _click(page, f"#oocd-{disposal}-authorise", tab)
    _click(page, f"#oocd-{disposal}-issue", tab)
    assert page.locator(f"#oocd-{disposal}-status").inner_text().strip().lower() == "issued"
    with page.expect_navigation(url=referral_page):
        conditions.get_by_role("link", name=f"referral #{referral_id}").click()

    # The provider accepts it, it starts, a session is attended, and it is completed.
    _click(page, "#accept-button", referral_page)
    assert page.locator("#referral-status").inner_text() == "accepted"
    _click(page, "#start-button", referral_page)
    assert page.locator("#referral-status").inner_text() == "in progress"
    page.locator("#session-held-on").fill("2019-03-31")
    page.locator("#session-attendance-attended").check()
    page.locator("#session-behaviour").fill("engaged well in the group")
    _click(page, "#session-button", referral_page)
    assert "attended" in page.locator("#referral-sessions").inner_text()
    page.locator("#complete-form").get_by_label("Completes the course").select_option("achieved")
    _click(page, "#complete-button", referral_page)
    assert page.locator("#referral-status").inner_text() == "completed"
    outcomes = page.locator("#referral-outcomes").inner_text()
    assert "Completes the course" in outcomes and "achieved" in outcomes
    page.screenshot(path=str(artifacts / "courses-completed.png"), full_page=True)

    # The caution's condition followed the referral: complied with, and so the caution.
    page.goto(f"{base}/people/{case.person}?tab=diversion#oocd-{disposal}")
    assert "complied" in page.locator(f"#oocd-{disposal}-conditions-table").inner_text().lower()
    assert page.locator(f"#oocd-{disposal}-status").inner_text().strip().lower() == "complied"

    # Table C counts it.
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Courses").click()
    page.wait_for_url(re.compile(r"/courses$"))
    assert page.locator("#tablec-arv-referred").inner_text() == "1"
    assert page.locator("#tablec-arv-completed").inner_text() == "1"
    page.screenshot(path=str(artifacts / "courses-table-c.png"), full_page=True)
