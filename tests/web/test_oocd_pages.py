"""Out-of-court disposals through the API and the pages: a decision refused or allowed by the
policy's rules, conditions, authorisation (supervisors only), issue, compliance and breach with
its consequence, audit rows, scope, pseudonymisation, the Diversion tab's forms (refusals shown
again with what was typed), Table A and the scrutiny panel's report, samples and verdicts. The
sample's Birmingham person gets hand-made crimes of their own."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from html import unescape

import pytest
from sqlalchemy import func, select

from iom.cohorts.models import ManagementRecord
from iom.db import session_scope
from iom.diversion.rules import policies
from iom.register.models import Crime, Person
from iom.security.models import AuditEvent

D = dt.date
RATIONALE = "first offence, admitted at once; the owner wants the damage put right"
VICTIM = "the owner would accept an apology and payment for the wing mirror"


@dataclass
class Crimes:
    person: int
    #: Interfering with a motor vehicle: summary, gravity 1, a hate crime (the scrutiny panel's).
    summary: int
    #: Common assault: summary, gravity 2 (a conditional caution, with an intervention).
    assault: int
    #: Harassment, alarm or distress (s.5): summary, gravity 1.
    public_order: int
    #: Walsall's person's crime: out of Birmingham's scope.
    walsall: int


@pytest.fixture
def crimes(web_db, people) -> Crimes:
    engine, _ = web_db
    ids = {}
    with session_scope(engine) as s:
        for key, pid, code, on, hate in (("summary", people.birmingham, "126/01", D(2019, 1, 15), True),
                                         ("assault", people.birmingham, "105/01", D(2019, 2, 1), False),
                                         ("public_order", people.birmingham, "125/10", D(2019, 2, 20), False),
                                         ("walsall", people.walsall, "126/01", D(2019, 1, 20), False)):
            crime = Crime(source_id=f"oocd-page-{key}", person_id=pid, involvement="offender", committed_on=on,
                          recorded_on=on, offence_code=code, npu_code="BN", hate=hate, outcome="pending")
            s.add(crime)
            s.flush()
            ids[key] = crime.id
    return Crimes(person=people.birmingham, **ids)


def _audit(engine, **where) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            *(getattr(AuditEvent, k) == v for k, v in where.items())))


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def decision(crime_id: int, tier: str, **extra) -> dict:
    return {"crime_id": crime_id, "tier": tier, "admission": True, "consent": True, "rationale": RATIONALE,
            "victim_views": VICTIM, **extra}


def _decide(client, person_id: int, body: dict) -> dict:
    made = client.post(f"/api/v1/people/{person_id}/oocd", json=body)
    assert made.status_code == 201, made.text
    return made.json()


def _change(client, disposal: dict, action: str, **extra):
    return client.post(f"/api/v1/oocd/{disposal['id']}/changes",
                       json={"action": action, "version": disposal["version"], **extra})


def issued(om, sup, person_id: int, body: dict, condition: str = "Write a letter of apology") -> dict:
    """A disposal decided, given a condition, authorised by a sergeant and issued, through the API."""
    made = _decide(om, person_id, body)
    with_condition = om.post(f"/api/v1/oocd/{made['id']}/conditions",
                             json={"kind": "reparative", "description": condition})
    assert with_condition.status_code == 201, with_condition.text
    authorised = _change(sup, with_condition.json(), "authorise", rank="sergeant")
    assert authorised.status_code == 200, authorised.text
    out = _change(om, authorised.json(), "issue")
    assert out.status_code == 200, out.text
    return out.json()


# --- the lifecycle through the API ---------------------------------------------------------------

def test_a_community_resolution_is_decided_authorised_issued_and_complied_with(login, crimes, web_db):
    engine, _ = web_db
    om, sup = login("om_lbm"), login("sup_lbm", purpose="supervision and approval")
    options = om.get(f"/api/v1/people/{crimes.person}/oocd/options", params={"crime_id": crimes.summary})
    assert options.status_code == 200, options.text
    by_tier = {o["tier"]: o for o in options.json()}
    assert set(by_tier) == {t.code for t in policies().get(None).tier}
    assert by_tier["community_resolution"]["allowed"] and by_tier["community_resolution"]["authority"] == "sergeant"
    assert by_tier["community_resolution"]["gravity"] == 1
    assert not by_tier["conditional_caution"]["allowed"]  # gravity 1 points to a community resolution

    refused = om.post(f"/api/v1/people/{crimes.person}/oocd",
                      json=decision(crimes.summary, "community_resolution", admission=False))
    assert refused.status_code == 400
    assert "no admission" in refused.json()["detail"] and "admit the offence" in refused.json()["detail"]

    writes = _audit(engine, action="write", resource="oocd", person_id=crimes.person)
    made = _decide(om, crimes.person, decision(crimes.summary, "community_resolution"))
    assert (made["status"], made["tier"], made["gravity"], made["base_gravity"]) == ("proposed", "community_resolution", 1, 1)
    assert made["authority_required"] == "sergeant" and made["outside_criteria"] == []
    assert made["allowed"] == ["authorise", "withdraw"] and made["rationale"] == RATIONALE
    assert _audit(engine, action="write", resource="oocd", person_id=crimes.person) == writes + 1

    with_condition = om.post(f"/api/v1/oocd/{made['id']}/conditions",
                             json={"kind": "reparative", "description": "Pay for the wing mirror",
                                   "due_on": "2019-05-31"})
    assert with_condition.status_code == 201, with_condition.text
    condition = with_condition.json()["conditions"][0]
    assert (condition["kind"], condition["status"], condition["due_on"]) == ("reparative", "pending", "2019-05-31")

    assert _change(om, made, "authorise", rank="sergeant").status_code == 403  # an offender manager cannot
    authorised = _change(sup, made, "authorise", rank="sergeant")
    assert authorised.status_code == 200, authorised.text
    assert (authorised.json()["status"], authorised.json()["authoriser_rank"]) == ("authorised", "sergeant")
    stale = _change(om, made, "issue")  # the version before authorisation
    assert stale.status_code == 409 and stale.json()["current"]["status"] == "authorised"
    out = _change(om, authorised.json(), "issue")
    assert out.status_code == 200 and out.json()["status"] == "issued" and out.json()["issued_on"] == "2019-03-31"

    done = om.post(f"/api/v1/oocd/conditions/{condition['id']}/done", json={"complied": True})
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "complied" and done.json()["conditions"][0]["status"] == "complied"
    assert [e["to_status"] for e in done.json()["events"]] == ["proposed", "authorised", "issued", "complied"]
    assert done.json()["allowed"] == []
    assert _audit(engine, action="write", resource="oocd", person_id=crimes.person) == writes + 3
    assert _audit(engine, action="write", resource="oocd_condition", person_id=crimes.person) >= 2
    again = om.get(f"/api/v1/oocd/{made['id']}").json()
    assert again["status"] == "complied" and again == om.get(f"/api/v1/people/{crimes.person}/oocd").json()["disposals"][0]


def test_a_failed_condition_breaches_a_conditional_caution_which_is_prosecuted(login, crimes):
    om, sup = login("om_lbm"), login("sup_lbm")
    without = om.post(f"/api/v1/people/{crimes.person}/oocd", json=decision(crimes.assault, "conditional_caution"))
    assert without.status_code == 400 and "needs an intervention" in without.json()["detail"]
    made = _decide(om, crimes.person, decision(crimes.assault, "conditional_caution", intervention_available=True))
    assert made["breach_leads_to"] == "prosecuted"
    refused = _change(sup, made, "authorise", rank="sergeant")
    assert refused.status_code == 200  # authorised without conditions ...
    no_conditions = _change(om, refused.json(), "issue")
    assert no_conditions.status_code == 400 and "add at least one" in no_conditions.json()["detail"]
    with_condition = om.post(f"/api/v1/oocd/{made['id']}/conditions",
                             json={"kind": "rehabilitative", "description": "Attend an anger management course"})
    assert with_condition.status_code == 201, with_condition.text
    out = _change(om, with_condition.json(), "issue")
    assert out.status_code == 200, out.text
    condition = out.json()["conditions"][0]
    breached = om.post(f"/api/v1/oocd/conditions/{condition['id']}/done", json={"complied": False})
    assert breached.status_code == 200, breached.text
    assert breached.json()["status"] == "breached" and breached.json()["conditions"][0]["status"] == "failed"
    assert breached.json()["allowed"] == ["prosecute", "fine"]
    fined = _change(om, breached.json(), "fine")
    assert fined.status_code == 400 and "prosecution for the original offence" in fined.json()["detail"]
    prosecuted = _change(om, breached.json(), "prosecute", reason="CPS to charge the assault")
    assert prosecuted.status_code == 200, prosecuted.text
    assert prosecuted.json()["status"] == "prosecuted" and prosecuted.json()["closed_on"] == "2019-03-31"
    assert prosecuted.json()["events"][-1]["reason"] == "CPS to charge the assault"


def test_issuing_a_youth_disposal_refers_them_to_the_youth_offending_service(login, web_db):
    engine, _ = web_db
    with session_scope(engine) as s:
        young = Person(pseudo_id="OOCDYOUTH1", source_id="oocd-youth-1", given_name="Young", family_name="Offender",
                       date_of_birth=D(2003, 5, 1), sex="M", ethnicity="W_BRI", home_npu="BN")
        s.add(young)
        s.flush()
        s.add(ManagementRecord(person_id=young.id, effective_from=D(2018, 6, 1), offender_type="Core",
                               lead_agency="Police", lomu_code="LBM", officer="PC Sample"))
        crime = Crime(source_id="oocd-youth-crime", person_id=young.id, involvement="offender",
                      committed_on=D(2019, 1, 5), recorded_on=D(2019, 1, 5), offence_code="126/01", npu_code="BN",
                      outcome="pending")
        s.add(crime)
        s.flush()
        person_id, crime_id = young.id, crime.id
    om, sup = login("om_lbm"), login("sup_lbm")
    out = issued(om, sup, person_id, decision(crime_id, "community_resolution"))
    assert out["youth"] is True and out["status"] == "issued"
    referrals = om.get(f"/api/v1/people/{person_id}/referrals").json()
    assert [r["provider_code"] for r in referrals] == [policies().youth_provider]
    assert f"referral #{referrals[0]['id']}" in out["events"][-1]["reason"]


def test_out_of_scope_is_not_found_and_logged_denied(login, crimes, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    made = _decide(om, crimes.person, decision(crimes.summary, "community_resolution"))
    walsall = login("om_lws")
    denied = _audit(engine, action="denied", person_id=crimes.person)
    assert walsall.get(f"/api/v1/oocd/{made['id']}").status_code == 404
    assert walsall.get(f"/api/v1/people/{crimes.person}/oocd").status_code == 404
    assert walsall.post(f"/api/v1/oocd/{made['id']}/changes", json={"action": "withdraw"}).status_code == 404
    assert walsall.get(f"/people/{crimes.person}", params={"tab": "diversion"}).status_code == 404
    assert _audit(engine, action="denied", person_id=crimes.person) == denied + 4
    assert om.get(f"/api/v1/oocd/{made['id']}").json()["status"] == "proposed"  # nothing changed
    # Someone else's crime cannot be disposed of on this record.
    other = om.post(f"/api/v1/people/{crimes.person}/oocd", json=decision(crimes.walsall, "community_resolution"))
    assert other.status_code == 400 and "not one of this person's" in other.json()["detail"]


def test_an_analyst_sees_no_rationale_or_victims_views_and_cannot_write(login, crimes):
    om = login("om_lbm")
    made = _decide(om, crimes.person, decision(crimes.summary, "community_resolution"))
    analyst = login("analyst", purpose="statistical analysis")
    seen = analyst.get(f"/api/v1/oocd/{made['id']}")
    assert seen.status_code == 200, seen.text
    assert seen.json()["rationale"] is None and seen.json()["victim_views"] is None
    assert seen.json()["tier"] == "community_resolution"
    assert om.get(f"/api/v1/oocd/{made['id']}").json()["rationale"] == RATIONALE
    tab = analyst.get(f"/people/{crimes.person}", params={"tab": "diversion"})
    assert tab.status_code == 200 and f'id="oocd-{made["id"]}"' in tab.text
    assert RATIONALE not in unescape(tab.text) and VICTIM not in unescape(tab.text)
    assert "hidden from your role" in tab.text
    assert 'id="oocd-decide-form"' not in tab.text and "/oocd/" + str(made["id"]) + "/change" not in tab.text
    assert analyst.post(f"/api/v1/people/{crimes.person}/oocd",
                        json=decision(crimes.assault, "community_resolution")).status_code == 403


def test_an_analyst_does_not_get_the_rationale_through_the_history(login, crimes):
    made = _decide(login("om_lbm"), crimes.person, decision(crimes.summary, "community_resolution"))
    seen = login("analyst", purpose="statistical analysis").get(f"/api/v1/oocd/{made['id']}").json()
    assert all(e["reason"] != RATIONALE for e in seen["events"])


# --- the Diversion tab's forms -------------------------------------------------------------------------

def test_the_tab_decides_and_a_refusal_keeps_what_was_typed(login, crimes, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    tab = om.get(f"/people/{crimes.person}", params={"tab": "diversion"})
    assert tab.status_code == 200 and 'id="oocd-decide-form"' in tab.text and "No out-of-court disposals" in tab.text
    for t in policies().get(None).tier:
        assert f'value="{t.code}"' in tab.text
    for f in policies().gravity.factors:
        assert f'id="oocd-factor-{f.code}"' in tab.text
    token = _token(tab.text)
    form = {"csrf_token": token, "crime_id": str(crimes.summary), "tier": "community_resolution",
            "policy": "npcc-2017", "consent": "yes", "factors": ["remorse"], "victim_views": VICTIM,
            "rationale": RATIONALE}
    writes = _audit(engine, action="write", resource="oocd", person_id=crimes.person)
    refused = om.post(f"/people/{crimes.person}/oocd", data=form)  # not admitted
    assert refused.status_code == 400
    text = unescape(refused.text)
    assert "govuk-error-summary" in text and 'href="#oocd-tier"' in text and "no admission" in text
    assert RATIONALE in text and VICTIM in text  # what was typed is kept
    assert re.search(r'id="oocd-factor-remorse"[^>]*checked', refused.text)
    assert _audit(engine, action="write", resource="oocd", person_id=crimes.person) == writes

    made = om.post(f"/people/{crimes.person}/oocd", data={**form, "admission": "yes"}, follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].startswith(f"/people/{crimes.person}?tab=diversion")
    assert _audit(engine, action="write", resource="oocd", person_id=crimes.person) == writes + 1
    found = om.get(f"/api/v1/people/{crimes.person}/oocd").json()["disposals"]
    assert len(found) == 1 and found[0]["factors"] == ["remorse"] and found[0]["gravity"] == 1
    shown = om.get(f"/people/{crimes.person}", params={"tab": "diversion"}).text
    d = found[0]["id"]
    assert f'id="oocd-{d}-status">proposed<' in shown and RATIONALE in unescape(shown)
    assert f'id="oocd-{d}-condition-form"' in shown  # a condition can be added before it is issued
    assert f'id="oocd-{d}-authorise"' not in shown and f'id="oocd-{d}-awaiting"' in shown  # not a supervisor
    again = om.post(f"/people/{crimes.person}/oocd", data={**form, "admission": "yes"})
    assert again.status_code == 400 and f"already has disposal #{d}" in unescape(again.text)
    assert f'id="oocd-{d}-withdraw"' in shown
    withdrawn = om.post(f"/oocd/{d}/change", data={"csrf_token": token, "action": "withdraw", "version": "1",
                                                   "reason": "the owner withdrew the complaint"},
                        follow_redirects=False)
    assert withdrawn.status_code == 303
    out = om.get(f"/api/v1/oocd/{d}").json()
    assert (out["status"], out["events"][-1]["reason"]) == ("withdrawn", "the owner withdrew the complaint")
    assert "Community resolution withdrawn: the owner withdrew the complaint" in unescape(
        om.get(f"/people/{crimes.person}", params={"tab": "timeline"}).text)
    assert om.post(f"/people/{crimes.person}/oocd", data={**form, "admission": "yes"},
                   follow_redirects=False).status_code == 303  # a withdrawn disposal leaves the crime open
    bad_crime = om.post(f"/people/{crimes.person}/oocd", data={**form, "admission": "yes", "crime_id": "x1"})
    assert bad_crime.status_code == 400 and 'href="#oocd-crime"' in bad_crime.text


def test_the_tabs_forms_take_a_disposal_to_complied_and_another_to_breached(login, crimes):
    sup = login("sup_lbm", purpose="supervision and approval")
    token = _token(sup.get(f"/people/{crimes.person}", params={"tab": "diversion"}).text)

    def post(path: str, **data):
        return sup.post(path, data={"csrf_token": token, **data}, follow_redirects=False)

    def disposal(crime_id: int) -> dict:
        return next(x for x in sup.get(f"/api/v1/people/{crimes.person}/oocd").json()["disposals"]
                    if x["crime_id"] == crime_id)

    assert post(f"/people/{crimes.person}/oocd", crime_id=str(crimes.summary), tier="community_resolution",
                admission="yes", consent="yes", rationale=RATIONALE).status_code == 303
    d = disposal(crimes.summary)
    refused = post(f"/oocd/{d['id']}/conditions", kind="reparative", description="", due_on="2019-05-01")
    assert refused.status_code == 400 and f'href="#oocd-{d["id"]}-condition-description"' in refused.text
    assert 'value="2019-05-01"' in refused.text
    past = post(f"/oocd/{d['id']}/conditions", kind="reparative", description="Apologise", due_on="2019-03-01")
    assert past.status_code == 400 and "after today" in unescape(past.text)
    assert post(f"/oocd/{d['id']}/conditions", kind="reparative", description="Write a letter of apology",
                due_on="2019-05-01").status_code == 303
    d = disposal(crimes.summary)
    tab = sup.get(f"/people/{crimes.person}", params={"tab": "diversion"}).text
    assert f'id="oocd-{d["id"]}-authorise"' in tab and f'id="oocd-{d["id"]}-rank"' in tab
    no_rank = post(f"/oocd/{d['id']}/change", action="authorise", version=str(d["version"]))
    assert no_rank.status_code == 400 and f'href="#oocd-{d["id"]}-rank"' in no_rank.text
    assert post(f"/oocd/{d['id']}/change", action="authorise", version=str(d["version"]),
                rank="sergeant").status_code == 303
    stale = post(f"/oocd/{d['id']}/change", action="issue", version=str(d["version"]))
    assert stale.status_code == 409 and "changed since you opened it" in unescape(stale.text)
    d = disposal(crimes.summary)
    assert d["status"] == "authorised"
    assert post(f"/oocd/{d['id']}/change", action="issue", version=str(d["version"])).status_code == 303
    d = disposal(crimes.summary)
    condition = d["conditions"][0]
    tab = sup.get(f"/people/{crimes.person}", params={"tab": "diversion"}).text
    assert f'id="condition-{condition["id"]}-complied"' in tab and f'id="oocd-{d["id"]}-condition-form"' not in tab
    assert post(f"/oocd/conditions/{condition['id']}/done", complied="yes",
                disposal_id=str(d["id"])).status_code == 303
    tab = sup.get(f"/people/{crimes.person}", params={"tab": "diversion"}).text
    assert f'id="oocd-{d["id"]}-status">complied<' in tab
    assert f'id="condition-{condition["id"]}-status">complied<' in tab
    twice = post(f"/oocd/conditions/{condition['id']}/done", complied="yes", disposal_id=str(d["id"]))
    assert twice.status_code == 400 and f'href="#condition-{condition["id"]}-status"' in twice.text

    assert post(f"/people/{crimes.person}/oocd", crime_id=str(crimes.assault), tier="conditional_caution",
                admission="yes", consent="yes", intervention_available="yes", rationale=RATIONALE).status_code == 303
    c = disposal(crimes.assault)
    assert post(f"/oocd/{c['id']}/conditions", kind="rehabilitative",
                description="Attend an anger management course").status_code == 303
    c = disposal(crimes.assault)
    assert c["conditions"][0]["due_on"] == str(D(2019, 3, 31) + dt.timedelta(days=policies().default_condition_days))
    assert post(f"/oocd/{c['id']}/change", action="authorise", version=str(c["version"]),
                rank="inspector").status_code == 303
    c = disposal(crimes.assault)
    assert post(f"/oocd/{c['id']}/change", action="issue", version=str(c["version"])).status_code == 303
    c = disposal(crimes.assault)
    assert post(f"/oocd/conditions/{c['conditions'][0]['id']}/done", complied="no",
                disposal_id=str(c["id"])).status_code == 303
    c = disposal(crimes.assault)
    tab = sup.get(f"/people/{crimes.person}", params={"tab": "diversion"}).text
    assert c["status"] == "breached" and f'id="oocd-{c["id"]}-status">breached<' in tab
    assert f'id="oocd-{c["id"]}-prosecute"' in tab and f'id="oocd-{c["id"]}-fine"' not in tab
    assert post(f"/oocd/{c['id']}/change", action="prosecute", version=str(c["version"])).status_code == 303
    assert disposal(crimes.assault)["status"] == "prosecuted"
    timeline = sup.get(f"/people/{crimes.person}", params={"tab": "timeline"}).text
    assert "Conditional caution breached" in timeline and "Community resolution complied with" in timeline


def test_the_options_page_names_each_rule(login, crimes):
    om = login("om_lbm")
    page = om.get(f"/people/{crimes.person}/oocd/options", params={"crime_id": crimes.summary})
    assert page.status_code == 200
    api = om.get(f"/api/v1/people/{crimes.person}/oocd/options", params={"crime_id": crimes.summary}).json()
    for option in api:
        assert f'id="option-{option["tier"]}"' in page.text
        for words in option["bars"] + option["outside"]:
            assert unescape(words[1:]) in unescape(page.text)
    assert any(o["bars"] for o in api)
    other = om.get(f"/people/{crimes.person}/oocd/options", params={"crime_id": crimes.walsall})
    assert other.status_code == 400 and "not one of this person&#39;s" in other.text


# --- Table A and the scrutiny panel ----------------------------------------------------------------------

def test_table_a_shows_the_records_beside_the_papers_figures(login, crimes):
    om, sup = login("om_lbm"), login("sup_lbm")
    issued(om, sup, crimes.person, decision(crimes.summary, "community_resolution"))
    issued(om, sup, crimes.person, decision(crimes.assault, "conditional_caution", intervention_available=True))
    api = om.get("/api/v1/oocd/volumes", params={"fy": [2017, 2018]})
    assert api.status_code == 200, api.text
    found = api.json()
    rows = {r["fy"]: r for r in found["rows"]}
    assert rows[2018]["counts"]["adult_cr"] == 1 and rows[2018]["counts"]["adult_caution"] == 1
    assert rows[2018]["total"] == 2 and rows[2017]["total"] == 0
    assert om.get("/api/v1/oocd/volumes").json() == found  # 2017 and 2018 by default
    page = om.get("/oocd", params={"fy": ["2017", "2018"]})
    assert page.status_code == 200
    for row in found["rows"]:
        for key, n in row["counts"].items():
            assert f'id="tablea-{row["fy"]}-{key}">{n:,}<' in page.text
            assert f'id="tablea-{row["fy"]}-{key}-paper">{row["published"][key]:,}<' in page.text
        assert f'id="tablea-{row["fy"]}-total">{row["total"]:,}<' in page.text
        assert f'id="tablea-{row["fy"]}-total-paper">{row["published_total"]:,}<' in page.text
    assert found["statements"] and all(unescape(s) in unescape(page.text) for s in found["statements"])
    assert om.get("/oocd").text.count('id="tablea-20') == page.text.count('id="tablea-20')
    one = om.get("/oocd", params={"fy": ["2018", ""]})  # the form's empty box is left out
    assert one.status_code == 200 and 'id="tablea-2018"' in one.text and 'id="tablea-2017"' not in one.text
    bad = om.get("/oocd", params={"fy": "next"})
    assert bad.status_code == 400 and "govuk-error-summary" in bad.text
    assert om.get("/api/v1/oocd/volumes", params={"fy": 3000}).status_code == 422


def test_the_scrutiny_panel_samples_gives_verdicts_and_reports(login, crimes, web_db):
    engine, _ = web_db
    om, sup = login("om_lbm"), login("sup_lbm", purpose="supervision and approval")
    hate = issued(om, sup, crimes.person, decision(crimes.summary, "community_resolution"))
    issued(om, sup, crimes.person, decision(crimes.public_order, "community_resolution"))  # not a hate crime
    assert om.get("/scrutiny").status_code == 403 and om.get("/api/v1/scrutiny/report").status_code == 403
    preview = sup.get("/api/v1/scrutiny/preview", params={"category": "hate", "month": "2019-04", "seed": 7, "n": 5})
    assert preview.status_code == 200, preview.text
    assert preview.json()["id"] is None and [i["disposal_id"] for i in preview.json()["items"]] == [hate["id"]]
    assert preview.json()["population"] == 1

    page = sup.get("/scrutiny")
    assert page.status_code == 200 and "No sample is saved yet" in page.text
    token = _token(page.text)
    shown = sup.post("/scrutiny/samples", data={"csrf_token": token, "category": "hate", "month": "2019-04", "n": "5",
                                                "seed": "7"})
    assert shown.status_code == 200 and "Not saved" in shown.text and crimes_pseudo(sup, crimes) in shown.text
    bad = sup.post("/scrutiny/samples", data={"csrf_token": token, "category": "hate", "month": "0000-01", "n": "5",
                                              "seed": "7"})
    assert bad.status_code == 400 and 'href="#scrutiny-month"' in bad.text and 'value="0000-01"' in bad.text
    writes = _audit(engine, action="write", resource="scrutiny_sample")
    saved = sup.post("/scrutiny/samples", data={"csrf_token": token, "category": "hate", "month": "2019-04", "n": "5",
                                                "seed": "7", "save": "yes"}, follow_redirects=False)
    assert saved.status_code == 303, saved.text
    sample_id = int(saved.headers["location"].rsplit("/", 1)[1])
    assert _audit(engine, action="write", resource="scrutiny_sample") == writes + 1
    twice = sup.post("/scrutiny/samples", data={"csrf_token": token, "category": "hate", "month": "2019-04", "n": "5",
                                                "seed": "7", "save": "yes"})
    assert twice.status_code == 409 and f'href="/scrutiny/samples/{sample_id}"' in twice.text
    api_twice = sup.post("/api/v1/scrutiny/samples", json={"category": "hate", "month": "2019-04", "n": 5, "seed": 7})
    assert api_twice.status_code == 409 and api_twice.json()["current"]["id"] == sample_id
    may = sup.post("/api/v1/scrutiny/samples", json={"category": "hate", "month": "2019-05", "n": 5, "seed": 7})
    assert may.status_code == 201 and may.json()["id"] not in (None, sample_id)
    assert [i["disposal_id"] for i in may.json()["items"]] == [hate["id"]]  # March is in May's window too

    sample = sup.get(f"/scrutiny/samples/{sample_id}")
    assert sample.status_code == 200 and f'href="/people/{crimes.person}?tab=diversion"' in sample.text
    assert f'id="item-{hate["id"]}-form"' in sample.text
    no_verdict = sup.post(f"/scrutiny/samples/{sample_id}/verdicts",
                          data={"csrf_token": token, "disposal_id": str(hate["id"]), "comment": "kept"})
    assert no_verdict.status_code == 400 and f'href="#verdict-{hate["id"]}"' in no_verdict.text
    action = "Remind officers to record the victim's views in full"
    assert sup.post(f"/scrutiny/samples/{sample_id}/verdicts",
                    data={"csrf_token": token, "disposal_id": str(hate["id"]), "verdict": "appropriate_with_comments",
                          "comment": "proportionate", "action": action},
                    follow_redirects=False).status_code == 303
    assert _audit(engine, action="write", resource="scrutiny_verdict") == 1

    report = sup.get("/api/v1/scrutiny/report")
    assert report.status_code == 200, report.text
    row, waiting = report.json()["rows"]  # by month: April's panel has its verdict, May's none yet
    assert (row["sample_id"], row["reviewed"], row["appropriate"], row["share"]) == (sample_id, 1, 1, 1.0)
    assert row["actions"] == [action] and 0 < row["low"] < row["high"] == pytest.approx(1.0)
    assert (waiting["month"], waiting["reviewed"], waiting["share"]) == ("2019-05", 0, None)
    page = sup.get("/scrutiny").text
    assert f'id="scrutiny-{sample_id}-share">{row["share"] * 100:.0f}%<' in page
    assert f'id="scrutiny-{sample_id}-interval">{row["low"] * 100:.1f}% to {row["high"] * 100:.1f}%<' in page
    assert f'id="scrutiny-{waiting["sample_id"]}-share"><span class="iom-secondary">no verdicts yet<' in page
    assert unescape(action) in unescape(page) and 'href="/scrutiny.csv"' in page
    for path in ("/scrutiny.csv", "/api/v1/scrutiny/report.csv"):
        got = sup.get(path)
        assert got.status_code == 200 and got.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(got.text)))
        assert [(r["month"], r["reviewed"], r["percent_appropriate"], r["wilson_low"]) for r in rows] == [
            ("2019-04", "1", "100", f"{row['low'] * 100:.1f}"), ("2019-05", "0", "", "")]
    analyst = login("analyst", purpose="statistical analysis")
    assert analyst.get(f"/api/v1/scrutiny/samples/{sample_id}").json()["items"][0]["verdict"] == \
        "appropriate_with_comments"


def crimes_pseudo(client, crimes: Crimes) -> str:
    return client.get(f"/api/v1/people/{crimes.person}").json()["pseudo_id"]
