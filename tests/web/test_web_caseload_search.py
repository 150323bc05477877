"""Finding people in a caseload: by surname, pseudonym or id, within scope and audited; codes
whatever their case; sorted on request."""

from __future__ import annotations

from iom.db import session_scope
from iom.security import audit


def _ids(client, **params):
    body = client.get("/api/v1/caseload", params=params).json()
    return [row["id"] for row in body["items"]]


def test_search_by_surname_pseudonym_or_id_stays_in_scope(login, people, web_db):
    engine, _ = web_db
    om = login("om_lbm")
    assert _ids(om, q="quarterm") == [people.birmingham]  # part of a surname, any case
    assert _ids(om, q="zebedee quartermaine") == [people.birmingham]
    assert _ids(om, q="pseudo0001") == [people.birmingham]
    assert _ids(om, q=str(people.birmingham)) == [people.birmingham]
    assert _ids(login("om_lws"), q="quartermaine") == []  # out of scope: not found
    analyst = login("analyst")
    assert _ids(analyst, q="quartermaine") == []  # no names for pseudonymised readers
    assert _ids(analyst, q="PSEUDO0001") == [people.birmingham]
    with session_scope(engine) as session:
        searches = [e for e in audit.search(session, action="search") if e.username == "om_lbm"]
    assert any('"q":"quarterm"' in e.detail for e in searches)


def test_classification_and_npu_match_whatever_their_case_and_sorting_is_honoured(login, people):
    om = login("om_lbm")
    upper = _ids(om, classification="BURGLARY")
    assert upper == [people.birmingham] and _ids(om, classification="Burglary") == upper
    assert _ids(om, npu="bn") == _ids(om, npu="BN")
    by_name = om.get("/api/v1/caseload", params={"sort": "name"}).json()["items"]
    names = [r["name"].split()[-1] for r in by_name]
    assert names == sorted(names)
    assert om.get("/api/v1/caseload", params={"sort": "shoe size"}).status_code == 422


def test_officer_and_flag_filters_and_the_classification_choice_list(login, people):
    om = login("om_lbm")
    assert _ids(om, officer="pc sample") == _ids(om) and _ids(om, officer="PC Nobody") == []
    assert people.moved in _ids(om, flag="domestic abuse (3 y)")
    assert _ids(om, flag="restricted") == [people.restricted]
    assert om.get("/api/v1/caseload", params={"flag": "left-handed"}).status_code == 400
    page = om.get("/caseload").text
    assert '<option value="MSV"' in page and "Most Serious Violence" in page
    assert "Burglary" in page  # the classification's name, not the code, in the table


def test_who_is_in_a_restricted_cohort_is_no_filter_for_non_specialists(login, people):
    om = login("om_lbm")
    assert om.get("/api/v1/caseload", params={"classification": "MAPPA"}).status_code == 400
    assert '<option value="MAPPA"' not in om.get("/caseload").text
    mappa = login("mappa")
    assert _ids(mappa, classification="mappa") == [people.restricted]
    assert '<option value="MAPPA"' in mappa.get("/caseload").text
    restricted = {r["id"]: r for r in om.get("/api/v1/caseload", params={"flag": "restricted"}).json()["items"]}
    assert restricted and all("restricted" in r["flags"] for r in restricted.values())
