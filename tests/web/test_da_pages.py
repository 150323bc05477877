"""Domestic abuse through the pages and the API: the monthly list (and its CSV) against the API,
scope and pseudonymisation, audit rows, the DA tab's forms (DASH, MARAC, SARA v3 / SAM, DRIVE),
and the pilot cohort. The sample force gets hand-made DA incidents in two LOMUs."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
from dataclasses import dataclass
from html import unescape

import pytest
from sqlalchemy import func, select

from iom.db import session_scope
from iom.domestic_abuse.rules import dash_rules
from iom.register.models import Crime, Person
from iom.security.models import AuditEvent

D = dt.date
QUESTIONS = [q.code for q in dash_rules().questions]
#: Names no sample person has, so a page can be searched for them.
NAMES = {"perp_b": ("Ignatius", "Crumplehorn"), "vic_b1": ("Griselda", "Pennyfeather"),
         "vic_b2": ("Octavia", "Thistlewood"), "perp_w": ("Cornelius", "Wobblethorpe"),
         "vic_w1": ("Euphemia", "Bramblecote"), "vic_w2": ("Leopold", "Quillfeather"),
         "stalker_w": ("Bartholomew", "Snodgrass")}
NPUS = {"perp_b": "BN", "vic_b1": "BE", "vic_b2": "BN", "perp_w": "WS", "vic_w1": "WS", "vic_w2": "WS",
        "stalker_w": "WS"}


@dataclass
class DaForce:
    ids: dict[str, int]
    pseudo: dict[str, str]

    def __getattr__(self, name: str) -> int:
        try:
            return self.ids[name]
        except KeyError:
            raise AttributeError(name) from None


@pytest.fixture
def da(web_db) -> DaForce:
    """Inside the March 2019 list's window (December to February): a serial and repeat
    perpetrator in Birmingham (LBM) with a repeat victim, a serial perpetrator in Walsall (LWS),
    and a Walsall stalker (non-DA)."""
    engine, _ = web_db
    ids, pseudo = {}, {}
    with session_scope(engine) as s:
        for n, (key, (given, family)) in enumerate(NAMES.items(), 1):
            p = Person(pseudo_id=f"DAPG{n:04d}", source_id=f"da-page-{n}", given_name=given, family_name=family,
                       date_of_birth=D(1985, 5, n), sex="M", ethnicity="W_BRI", home_npu=NPUS[key])
            s.add(p)
            s.flush()
            ids[key], pseudo[key] = p.id, p.pseudo_id
        for n, (perp, victim, on, code) in enumerate((
                ("perp_b", "vic_b1", D(2018, 12, 10), "105/DA"), ("perp_b", "vic_b1", D(2019, 2, 1), "105/DA"),
                ("perp_b", "vic_b2", D(2019, 2, 20), "008/DA"), ("perp_w", "vic_w1", D(2019, 1, 5), "105/DA"),
                ("perp_w", "vic_w2", D(2019, 1, 25), "NC/DA1"), ("stalker_w", "vic_w1", D(2019, 2, 10), "008/50"))):
            s.add(Crime(source_id=f"da-page-crime-{n}", person_id=ids[perp], involvement="suspect", committed_on=on,
                        recorded_on=on, offence_code=code, npu_code=NPUS[perp], victim_person_id=ids[victim],
                        domestic_abuse=code.endswith("DA") or "/DA" in code, outcome="pending"))
    return DaForce(ids, pseudo)


def answers(yes: int) -> dict[str, str]:
    return {code: "yes" if i < yes else "no" for i, code in enumerate(QUESTIONS)}


def dash_body(victim: int, perp: int | None, yes: int, **extra) -> dict:
    return {"victim_id": victim, "perpetrator_id": perp, "relationship": "intimate_partner", "answers": answers(yes),
            **extra}


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def _audit(engine, **where) -> int:
    with session_scope(engine) as s:
        return s.scalar(select(func.count()).select_from(AuditEvent).where(
            *(getattr(AuditEvent, k) == v for k, v in where.items())))


def _rows(found: dict, section: str) -> set[int]:
    return {r["person_id"] for s in found["sections"] if s["code"] == section for r in s["rows"]}


# --- the monthly list -------------------------------------------------------------------------------------

def test_the_list_page_shows_each_sections_count_as_the_api_gives_it(login, da):
    om = login("om_lbm")
    found = om.get("/api/v1/da/list", params={"month": "2019-03"})
    assert found.status_code == 200, found.text
    data = found.json()
    assert (data["window_start"], data["window_end"]) == ("2018-12-01", "2019-02-28")
    assert _rows(data, "serial") == {da.perp_b} and _rows(data, "repeat") == {da.perp_b}
    assert _rows(data, "repeat_victims") == {da.vic_b1}
    page = om.get("/da/list", params={"month": "2019-03"})
    assert page.status_code == 200
    shown = {code: int(n) for code, n in re.findall(r'id="da-count-([a-z_]+)">(\d+)<', page.text)}
    assert shown == {s["code"]: s["count"] for s in data["sections"]} and len(shown) == 4
    for section in data["sections"]:  # every row is in its table, linking to the person's DA tab
        for row in section["rows"]:
            assert f'id="da-{section["code"]}-{row["person_id"]}"' in page.text
    assert f'href="/people/{da.perp_b}?tab=domestic_abuse"' in page.text
    assert "Ignatius Crumplehorn" in page.text  # an offender manager sees names
    assert "2018-12-01" in page.text and "2019-02-28" in page.text and data["rules_version"] in page.text
    assert "Not at MARAC" in page.text and 'href="/da/list.csv?month=2019-03"' in page.text
    serial = next(s for s in data["sections"] if s["code"] == "serial")["rows"][0]
    for part in serial["parts"]:  # RFGV in words, part by part
        assert unescape(part["words"]) in unescape(page.text)


def test_the_section_filter_and_the_threat_list(login, da):
    om = login("om_lbm")
    one = om.get("/da/list", params={"month": "2019-03", "section": "repeat_victims"}).text
    assert 'id="da-section-repeat_victims"' in one and 'id="da-section-serial"' not in one
    made = om.post("/api/v1/da/marac-referrals", json={"victim_id": da.vic_b2, "perpetrator_id": da.perp_b,
                                                       "referring_agency": "Police", "referred_on": "2019-02-25",
                                                       "judgement_reason": "threats to kill reported by a neighbour"})
    assert made.status_code == 201, made.text
    listed = om.get("/api/v1/da/list", params={"month": "2019-03"}).json()
    row = next(r for s in listed["sections"] if s["code"] == "serial" for r in s["rows"] if r["person_id"] == da.perp_b)
    assert row["at_marac"] is True
    threat = om.get("/da/list", params={"month": "2019-03", "not_at_marac": "1"}).text
    assert f'id="da-serial-{da.perp_b}"' not in threat and f'id="da-repeat_victims-{da.vic_b1}"' in threat
    assert "Everyone in this section is at MARAC" in threat
    everyone = om.get("/da/list", params={"month": "2019-03"}).text
    assert f'id="da-serial-{da.perp_b}"' in everyone


def test_the_csv_has_a_row_per_section_and_person_as_the_api(login, da):
    om = login("om_lbm")
    data = om.get("/api/v1/da/list", params={"month": "2019-03"}).json()
    for path in ("/da/list.csv", "/api/v1/da/list.csv"):
        got = om.get(path, params={"month": "2019-03"})
        assert got.status_code == 200, got.text
        assert got.headers["content-type"].startswith("text/csv")
        assert got.headers["content-disposition"] == 'attachment; filename="da-list-2019-03.csv"'
        rows = list(csv.DictReader(io.StringIO(got.text)))
        assert {"section", "rank", "pseudo_id", "name", "score", "recency", "frequency", "gravity",
                "victims"} <= set(rows[0])
        expected = [(s["code"], r["pseudo_id"], str(r["score"])) for s in data["sections"] for r in s["rows"]]
        assert [(r["section"], r["pseudo_id"], r["score"]) for r in rows] == expected
        assert sum(s["count"] for s in data["sections"]) == len(rows)


@pytest.mark.parametrize("month, words", [("2019-13", "the month is written yyyy-mm"),
                                          ("March", "the month is written yyyy-mm"),
                                          ("2019-05", "ends after the data")])
def test_a_bad_month_shows_the_page_again_with_the_words(login, da, month, words):
    om = login("om_lbm")
    page = om.get("/da/list", params={"month": month})
    assert page.status_code == 400
    text = unescape(page.text).lower()
    assert "govuk-error-summary" in text and words in text and 'href="#da-month"' in text
    assert f'value="{month.lower()}"' in text  # what was typed stays in the box
    api = om.get("/api/v1/da/list", params={"month": month})
    assert api.status_code == 400 and words in api.json()["detail"].lower()
    assert om.get("/da/list.csv", params={"month": month}).status_code == 400
    assert om.get("/da/list", params={"month": "2019-03", "section": "gossip"}).status_code == 400


@pytest.mark.parametrize("month", ["0000-01", "0001-02"])
def test_a_month_the_calendar_cannot_list_is_refused_not_an_error(login, da, month):
    om = login("om_lbm")
    page = om.get("/da/list", params={"month": month})
    assert page.status_code == 400 and "govuk-error-summary" in page.text
    api = om.get("/api/v1/da/list", params={"month": month})
    assert api.status_code == 400 and api.headers["content-type"].startswith("application/problem+json")


def test_an_offender_manager_sees_only_their_scope(login, da, web_db):
    engine, _ = web_db
    force = login("mappa", purpose="MAPPA review").get("/api/v1/da/list", params={"month": "2019-03"}).json()
    assert _rows(force, "serial") == {da.perp_b, da.perp_w} and _rows(force, "stalking") == {da.stalker_w}
    birmingham = login("om_lbm").get("/api/v1/da/list", params={"month": "2019-03"}).json()
    walsall_om = login("om_lws")
    walsall = walsall_om.get("/api/v1/da/list", params={"month": "2019-03"}).json()
    assert _rows(birmingham, "serial") == {da.perp_b} and _rows(walsall, "serial") == {da.perp_w}
    assert _rows(birmingham, "stalking") == set() and _rows(walsall, "stalking") == {da.stalker_w}
    for section in ("serial", "repeat", "repeat_victims", "stalking"):  # the two LOMUs split the force's list
        assert _rows(birmingham, section) | _rows(walsall, section) == _rows(force, section)
    page = walsall_om.get("/da/list", params={"month": "2019-03"}).text
    assert "Cornelius Wobblethorpe" in page and "Ignatius Crumplehorn" not in page
    om = login("om_lbm")
    denied_before = _audit(engine, action="denied", person_id=da.perp_w)
    assert om.get(f"/api/v1/people/{da.perp_w}/domestic-abuse").status_code == 404
    assert om.get(f"/api/v1/people/{da.vic_w1}/marac-criteria").status_code == 404
    assert _audit(engine, action="denied", person_id=da.perp_w) == denied_before + 1
    assert om.post("/api/v1/da/dash", json=dash_body(da.vic_w1, da.perp_w, 14)).status_code == 404
    assert _audit(engine, action="denied", person_id=da.perp_w) == denied_before + 2
    assert om.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").status_code == 200


def test_an_analyst_sees_no_names_and_no_judgement_reasons(login, da):
    om = login("om_lbm")
    reason = "victim disclosed threats to kill after the call"
    raised = om.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 12, judgement_band="high",
                                                       judgement_reason=reason))
    assert raised.status_code == 201, raised.text
    assert raised.json()["judgement_reason"] == reason and raised.json()["band"] == "high"
    analyst = login("analyst", purpose="statistical analysis")
    listed = analyst.get("/api/v1/da/list", params={"month": "2019-03"}).json()
    rows = [r for s in listed["sections"] for r in s["rows"]]
    assert rows and all(r["name"] is None for r in rows)
    assert any(r["name"] == "Ignatius Crumplehorn" for s in om.get("/api/v1/da/list").json()["sections"]
               for r in s["rows"])
    page = analyst.get("/da/list", params={"month": "2019-03"}).text
    assert not any(name in page for pair in NAMES.values() for name in pair)
    assert "Names are hidden from your role" in page
    part = analyst.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").json()
    assert part["dash"] and all(d["judgement_reason"] is None for d in part["dash"])
    assert om.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").json()["dash"][0]["judgement_reason"] == reason
    tab = analyst.get(f"/people/{da.perp_b}", params={"tab": "domestic_abuse"}).text
    assert reason not in tab and "reason hidden from your role" in tab
    assert 'id="record-dash"' not in tab  # analysts do not write
    assert analyst.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 14)).status_code == 403


def test_every_read_is_audited(login, da, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    before = _audit(engine, action="search", resource="da_list")
    om.get("/api/v1/da/list", params={"month": "2019-03"})
    om.get("/da/list", params={"month": "2019-03"})
    om.get("/da/list.csv", params={"month": "2019-03"})
    assert _audit(engine, action="search", resource="da_list") == before + 3
    reads = _audit(engine, action="read", resource="domestic_abuse", person_id=da.perp_b)
    assert om.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").status_code == 200
    assert _audit(engine, action="read", resource="domestic_abuse", person_id=da.perp_b) == reads + 1
    checks = _audit(engine, action="read", resource="marac_criteria", person_id=da.vic_b1)
    assert om.get(f"/api/v1/people/{da.vic_b1}/marac-criteria").status_code == 200
    assert _audit(engine, action="read", resource="marac_criteria", person_id=da.vic_b1) == checks + 1
    cohorts = _audit(engine, action="search", resource="da_pilot_cohort")
    om.get("/api/v1/da/pilot-cohort", params={"month": "2019-03"})
    assert _audit(engine, action="search", resource="da_pilot_cohort") == cohorts + 1


# --- DASH and MARAC through the API --------------------------------------------------------------------------

def test_a_dash_of_fourteen_yes_is_high_and_judgement_never_lowers_it(login, da, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    writes = _audit(engine, action="write", resource="dash", person_id=da.perp_b)
    made = om.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 14))
    assert made.status_code == 201, made.text
    out = made.json()
    assert (out["yes_count"], out["band_by_count"], out["band"], out["marac_eligible"]) == (14, "high", "high", True)
    assert out["victim_pseudo_id"] == da.pseudo["vic_b1"] and out["recorded_by"] == "om_lbm"
    assert _audit(engine, action="write", resource="dash", person_id=da.perp_b) == writes + 1
    medium = om.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 13)).json()
    assert (medium["band"], medium["marac_eligible"]) == ("medium", False)
    lowered = om.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 14, judgement_band="medium",
                                                        judgement_reason="she says it is calmer now"))
    assert lowered.status_code == 400
    assert lowered.headers["content-type"].startswith("application/problem+json")
    assert "never lower it" in lowered.json()["detail"]
    no_csrf = om.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 14), headers={"X-CSRF-Token": "x"})
    assert no_csrf.status_code == 403
    tab = om.get(f"/people/{da.perp_b}", params={"tab": "domestic_abuse"}).text
    assert f'id="dash-{out["id"]}"' in tab and "meets the MARAC DASH criterion" in tab


def test_marac_is_refused_in_words_without_a_criterion_and_made_on_judgement(login, da):
    om = login("om_lbm")
    check = om.get(f"/api/v1/people/{da.vic_b2}/marac-criteria").json()
    assert check["criteria"] == [] and check["latest_dash_yes"] is None
    body = {"victim_id": da.vic_b2, "perpetrator_id": da.perp_b, "referring_agency": "Police"}
    refused = om.post("/api/v1/da/marac-referrals", json=body)
    assert refused.status_code == 400
    assert "meets no MARAC criterion" in refused.json()["detail"]
    assert "professional judgement" in refused.json()["detail"].lower()
    made = om.post("/api/v1/da/marac-referrals", json={**body, "judgement_reason": "escalating texts and a threat"})
    assert made.status_code == 201, made.text
    assert made.json()["criteria"] == ["professional_judgement"] and made.json()["repeat"] is False
    again = om.post("/api/v1/da/marac-referrals", json={**body, "judgement_reason": "again"})
    assert again.status_code == 400 and "already referred" in again.json()["detail"]
    part = om.get(f"/api/v1/people/{da.vic_b2}/domestic-abuse").json()
    assert [m["id"] for m in part["marac"]] == [made.json()["id"]]


def test_a_high_dash_meets_the_marac_criterion(login, da):
    om = login("om_lbm")
    dash = om.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 15)).json()
    assert om.get(f"/api/v1/people/{da.vic_b1}/marac-criteria").json()["criteria"] == ["dash_high"]
    made = om.post("/api/v1/da/marac-referrals", json={"victim_id": da.vic_b1, "perpetrator_id": da.perp_b,
                                                       "referring_agency": "Police", "dash_id": dash["id"]})
    assert made.status_code == 201, made.text
    assert made.json()["criteria"] == ["dash_high"] and made.json()["dash_id"] == dash["id"]


# --- the DA tab and its forms ---------------------------------------------------------------------------------

def test_the_tab_shows_the_persons_da_and_links_the_other_side_by_pseudo_id(login, da, people):
    om = login("om_lbm")
    tab = om.get(f"/people/{da.perp_b}", params={"tab": "domestic_abuse"})
    assert tab.status_code == 200
    text = tab.text
    assert 'aria-current="page">Domestic abuse' in text
    assert re.search(r'id="da-as-perpetrator">3 in the 12 months', text)
    assert "Serial perpetrators" in text and "Repeat perpetrators" in text  # on this month's list
    for victim in ("vic_b1", "vic_b2"):
        assert f'href="/people/{da.ids[victim]}?tab=domestic_abuse">{da.pseudo[victim]}</a>' in text
    assert "Pennyfeather" not in text  # the other side by pseudo id only
    for form in ("record-dash", "refer-marac", "start-sara", "start-sam"):
        assert f'id="{form}"' in text
    assert "DRIVE" in text and "CARA" in text and "Not eligible" in text
    victim = om.get(f"/people/{da.vic_b1}", params={"tab": "domestic_abuse"}).text
    assert re.search(r'id="da-as-victim">2 in the 12 months', victim) and "Repeat victims" in victim
    assert f'href="/people/{da.perp_b}?tab=domestic_abuse">{da.pseudo["perp_b"]}</a>' in victim
    # Person pages without DA incidents still have the tab; nobody outside scope does.
    assert om.get(f"/people/{people.birmingham}", params={"tab": "domestic_abuse"}).status_code == 200
    assert om.get(f"/people/{da.perp_w}", params={"tab": "domestic_abuse"}).status_code == 404


def test_a_dash_recorded_on_the_page_and_a_refusal_keeps_what_was_typed(login, da):
    om = login("om_lbm")
    form = om.get(f"/people/{da.perp_b}/da/dash")
    assert form.status_code == 200
    text = form.text
    for q in dash_rules().questions:
        assert f'name="answer-{q.code}"' in text and q.label in unescape(text)
        assert f'id="answer-{q.code}-no" name="answer-{q.code}" type="radio" value="no" checked' in text
    assert f'<option value="{da.vic_b1}">{da.pseudo["vic_b1"]}' in text
    fields = {"csrf_token": _token(text), "side": "perpetrator", "victim_id": str(da.vic_b1),
              "relationship": "intimate_partner", "assessed_on": "2019-03-30",
              **{f"answer-{code}": value for code, value in answers(14).items()}}
    lowered = om.post(f"/people/{da.perp_b}/da/dash", data={**fields, "judgement_band": "medium",
                                                            "judgement_reason": "calmer since the bail"})
    assert lowered.status_code == 400
    again = unescape(lowered.text)
    assert "never lower it" in again and 'href="#dash-judgement"' in again
    assert "calmer since the bail" in again  # what was typed is kept
    assert f'id="answer-{QUESTIONS[0]}-yes" name="answer-{QUESTIONS[0]}" type="radio" value="yes" checked' in again
    no_victim = om.post(f"/people/{da.perp_b}/da/dash", data={**fields, "victim_id": ""})
    assert no_victim.status_code == 400 and 'href="#dash-victim"' in no_victim.text
    saved = om.post(f"/people/{da.perp_b}/da/dash", data=fields, follow_redirects=False)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/people/{da.perp_b}?tab=domestic_abuse#da-dash"
    part = om.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").json()
    assert [(d["yes_count"], d["band"], d["assessed_on"]) for d in part["dash"]] == [(14, "high", "2019-03-30")]
    wrong = om.post(f"/people/{da.perp_b}/da/dash", data={**fields, "csrf_token": "wrong"},
                    headers={"X-CSRF-Token": "wrong"})
    assert wrong.status_code == 403
    assert len(om.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").json()["dash"]) == 1


def test_marac_from_the_victims_page_is_refused_in_words_then_made_on_judgement(login, da):
    om = login("om_lbm")
    form = om.get(f"/people/{da.vic_b2}/da/marac")
    assert form.status_code == 200 and 'name="side" value="victim"' in form.text
    fields = {"csrf_token": _token(form.text), "side": "victim", "perpetrator_id": str(da.perp_b),
              "referring_agency": "Independent domestic violence adviser (IDVA)", "judgement_reason": ""}
    refused = om.post(f"/people/{da.vic_b2}/da/marac", data=fields)
    assert refused.status_code == 400
    text = unescape(refused.text)
    assert "meets no MARAC criterion" in text and 'href="#marac-reason"' in text
    assert '<option value="Independent domestic violence adviser (IDVA)" selected>' in text
    made = om.post(f"/people/{da.vic_b2}/da/marac", data={**fields, "judgement_reason": "stalking the new address"},
                   follow_redirects=False)
    assert made.status_code == 303 and made.headers["location"].endswith("#da-marac")
    tab = om.get(f"/people/{da.vic_b2}", params={"tab": "domestic_abuse"}).text
    assert "Professional judgement (reason recorded)" in tab and "stalking the new address" in tab


def test_a_sara_draft_is_saved_updated_and_a_stale_update_is_a_conflict(login, da):
    om, sup = login("om_lbm"), login("sup_lbm", purpose="supervision and approval")
    chooser = om.get(f"/people/{da.perp_b}/da/spj")
    assert chooser.status_code == 200 and 'id="spj-instrument"' in chooser.text
    assert om.get(f"/people/{da.perp_b}/da/spj", params={"instrument": "nope"}).status_code == 400
    form = om.get(f"/people/{da.perp_b}/da/spj", params={"instrument": "sara-v3"})
    assert form.status_code == 200 and 'name="judgement-case_prioritisation"' in form.text
    assert 'name="past-N1"' in form.text and 'name="plan-supervision"' in form.text
    token = _token(form.text)
    early = om.post(f"/people/{da.perp_b}/da/spj", data={
        "csrf_token": token, "instrument": "sara-v3", "judgement-case_prioritisation": "high", "finalise": "yes"})
    assert early.status_code == 400 and "cannot be finalised" in unescape(early.text)
    saved = om.post(f"/people/{da.perp_b}/da/spj", data={
        "csrf_token": token, "instrument": "sara-v3", "victim_id": str(da.vic_b1), "past-N1": "Y", "recent-N1": "P",
        "relevance-N1": "high", "judgement-case_prioritisation": "high", "scenarios": "Repeat assault\n\nThreats",
        "plan-supervision": "Weekly home visits"}, follow_redirects=False)
    assert saved.status_code == 303
    spj = om.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").json()["spj"][0]
    assert (spj["status"], spj["version"], spj["scenarios"]) == ("draft", 1, ["Repeat assault", "Threats"])
    assert spj["ratings"]["N1"] == {"past": "Y", "recent": "P", "relevance": "high"}
    assert any("Imminence of violence" in m for m in spj["missing"])
    draft = om.get(f"/people/{da.perp_b}/da/spj/{spj['id']}").text
    assert 'name="version" value="1"' in draft and "Weekly home visits" in draft
    changed = sup.patch(f"/api/v1/spj/{spj['id']}", json={"version": 1, "judgements": {"imminent_violence": "low"}})
    assert changed.status_code == 200 and changed.json()["version"] == 2
    stale = om.post(f"/people/{da.perp_b}/da/spj/{spj['id']}", data={
        "csrf_token": token, "instrument": "sara-v3", "version": "1", "judgement-case_prioritisation": "moderate",
        "judgement-serious_physical_harm": "moderate", "judgement-imminent_violence": "low",
        "plan-supervision": "Twice-weekly visits", "finalise": "yes"})
    assert stale.status_code == 409
    text = unescape(stale.text)
    assert "was changed since you opened it" in text and "Twice-weekly visits" in text
    assert 'name="version" value="2"' in text  # the form is now based on the version it collided with
    final = om.post(f"/people/{da.perp_b}/da/spj/{spj['id']}", data={
        "csrf_token": token, "instrument": "sara-v3", "version": "2", "judgement-case_prioritisation": "moderate",
        "judgement-serious_physical_harm": "moderate", "judgement-imminent_violence": "low",
        "plan-supervision": "Twice-weekly visits", "finalise": "yes"}, follow_redirects=False)
    assert final.status_code == 303, final.text
    done = om.get(f"/api/v1/people/{da.perp_b}/domestic-abuse").json()["spj"][0]
    assert (done["status"], done["version"], done["missing"]) == ("final", 3, [])
    assert done["plan"]["supervision"] == "Twice-weekly visits" and done["finalised_by"] == "om_lbm"
    refused = om.patch(f"/api/v1/spj/{spj['id']}", json={"version": 3, "judgements": {"imminent_violence": "high"}})
    assert refused.status_code == 400 and "is final" in refused.json()["detail"]
    fixed = om.patch(f"/api/v1/spj/{spj['id']}", json={"version": 3, "instrument": "sam"})
    assert fixed.status_code == 400 and "cannot be changed" in fixed.json()["detail"]


def test_spj_through_the_api(login, da):
    om = login("om_lbm")
    made = om.post(f"/api/v1/people/{da.perp_b}/spj", json={
        "instrument": "sam", "ratings": {"N1": {"past": "Y"}},
        "judgements": {j: "low" for j in ("case_prioritisation", "continued_stalking", "serious_physical_harm",
                                          "victim_fear_reasonable")} | {"immediate_action": "no"}, "finalise": True})
    assert made.status_code == 201, made.text
    assert (made.json()["status"], made.json()["instrument"]) == ("final", "sam")
    bad = om.post(f"/api/v1/people/{da.perp_b}/spj", json={"instrument": "sara-v3", "ratings": {"Z9": {"past": "Y"}}})
    assert bad.status_code == 400 and "no factor 'Z9'" in bad.json()["detail"]
    stale = om.patch(f"/api/v1/spj/{made.json()['id'] + 1000}", json={"version": 1})
    assert stale.status_code == 404


def test_drive_after_a_high_dash_opens_the_referral(login, da):
    om = login("om_lbm")
    tab = om.get(f"/people/{da.perp_b}", params={"tab": "domestic_abuse"}).text
    assert 'id="programme-drive"' not in tab  # no DA risk yet: not eligible, no form
    refused = om.post(f"/api/v1/people/{da.perp_b}/programme-referrals",
                      json={"programme": "drive", "reason": "high-risk serial perpetrator"})
    assert refused.status_code == 400 and "DRIVE cannot take this referral" in refused.json()["detail"]
    assert om.post("/api/v1/da/dash", json=dash_body(da.vic_b1, da.perp_b, 16)).status_code == 201
    tab = om.get(f"/people/{da.perp_b}", params={"tab": "domestic_abuse"}).text
    assert 'id="programme-drive"' in tab and 'id="programme-cara"' not in tab
    token = _token(tab)
    empty = om.post(f"/people/{da.perp_b}/da/refer", data={"csrf_token": token, "programme": "drive", "reason": ""})
    assert empty.status_code == 400 and 'href="#programme-drive-reason"' in empty.text
    made = om.post(f"/people/{da.perp_b}/da/refer", data={"csrf_token": token, "programme": "drive",
                                                          "reason": "high-risk serial perpetrator"},
                   follow_redirects=False)
    refusal = re.findall(r'<a href="#[^"]+">([^<]+)</a></li>', made.text)  # the error summary, if refused
    assert made.status_code == 303 and re.fullmatch(r"/referrals/\d+", made.headers["location"]), refusal
    referral = om.get(f"/api/v1{made.headers['location']}").json()
    assert (referral["provider_code"], referral["person_id"], referral["source"]) == ("drive", da.perp_b, "marac")
    assert referral["reason"] == "high-risk serial perpetrator"


# --- the pilot cohort -----------------------------------------------------------------------------------------

def test_the_pilot_cohort_is_shown_then_saved_once(login, da):
    om, sup = login("om_lbm"), login("sup_lbm", purpose="supervision and approval")
    assert om.post("/api/v1/da/marac-referrals", json={
        "victim_id": da.vic_b2, "perpetrator_id": da.perp_b, "referring_agency": "Police",
        "referred_on": "2019-02-25", "judgement_reason": "threats to kill"}).status_code == 201
    cohort = sup.get("/api/v1/da/pilot-cohort", params={"month": "2019-03"}).json()
    assert (cohort["id"], cohort["person_ids"], cohort["size"]) == (None, [da.perp_b], 1)
    page = sup.get("/da/pilot", params={"month": "2019-03"})
    assert page.status_code == 200 and "Not saved" in page.text
    assert f'href="/people/{da.perp_b}?tab=domestic_abuse">{da.pseudo["perp_b"]}</a>' in page.text
    assert 'id="pilot-save-button"' in page.text
    assert 'id="pilot-save-button"' not in om.get("/da/pilot", params={"month": "2019-03"}).text
    assert om.post("/da/pilot", data={"csrf_token": _token(page.text), "month": "2019-03"}).status_code == 403
    saved = sup.post("/da/pilot", data={"csrf_token": _token(page.text), "month": "2019-03"}, follow_redirects=False)
    assert saved.status_code == 303 and saved.headers["location"] == "/da/pilot?month=2019-03"
    shown = sup.get("/da/pilot", params={"month": "2019-03"}).text
    assert "Saved" in shown and "by sup_lbm" in shown and 'id="pilot-save-button"' not in shown
    twice = sup.post("/da/pilot", data={"csrf_token": _token(page.text), "month": "2019-03"})
    assert twice.status_code == 409 and "a saved cohort is kept as it was" in twice.text
    api_twice = sup.post("/api/v1/da/pilot-cohort", params={"month": "2019-03"})
    assert api_twice.status_code == 409 and api_twice.json()["current"]["person_ids"] == [da.perp_b]
    bad = sup.get("/da/pilot", params={"month": "2019-3"})
    assert bad.status_code == 400 and "the month is written yyyy-mm" in unescape(bad.text).lower()


def test_the_api_pilot_cohort_is_saved_by_a_supervisor_only(login, da):
    om, sup = login("om_lbm"), login("sup_lbm", purpose="supervision and approval")
    assert om.post("/api/v1/da/pilot-cohort", params={"month": "2019-02"}).status_code == 403
    made = sup.post("/api/v1/da/pilot-cohort", params={"month": "2019-02"})
    assert made.status_code == 201, made.text
    assert made.json()["id"] is not None and made.json()["made_by"] == "sup_lbm"
