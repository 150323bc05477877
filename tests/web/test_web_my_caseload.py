"""My caseload: a user linked to an officer starts on the people that officer manages."""

from __future__ import annotations

from iom.db import session_scope
from iom.security import service as users


def _link(engine, officer):
    with session_scope(engine) as session:
        users.link_officer(session, username="om_lbm", officer=officer)


def _ids(client, **params):
    return {row["id"] for row in client.get("/api/v1/caseload", params=params).json()["items"]}


def test_an_officer_sees_their_own_caseload_first_and_the_lomu_a_click_away(login, people, web_db):
    engine, _ = web_db
    unit = _ids(login("om_lbm"))
    _link(engine, "PC Sample")  # the sample's officer for every LBM-managed person
    om = login("om_lbm")
    mine = _ids(om, mine=True)
    assert mine and mine <= unit and people.walsall not in mine
    page = om.get("/caseload")
    assert "My caseload: PC Sample" in page.text and "Show the whole LOMU" in page.text
    assert "Caseload: LOMU LBM" in om.get("/caseload", params={"view": "unit"}).text
    _link(engine, "PC Nobody")
    assert _ids(login("om_lbm"), mine=True) == set()


def test_an_unlinked_user_asking_for_their_own_caseload_is_told_how(login):
    refused = login("om_lbm").get("/api/v1/caseload", params={"mine": True})
    assert refused.status_code == 400 and "iom users link" in refused.json()["detail"]
