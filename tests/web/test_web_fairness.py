"""The fairness audit as a page: for supervisors and analysts, on a stored selection only."""

from __future__ import annotations

import datetime as dt

from iom.db import session_scope
from tests.scoring.conftest import build_register

AUDITED = dt.date(2017, 9, 30)


def test_without_stored_scores_the_page_says_how_to_store_them(login):
    page = login("sup_lbm").get("/fairness", params={"as_of": AUDITED.isoformat()})
    assert page.status_code == 200 and "No scores are stored for 30 September 2017" in page.text
    assert "iom score --train --as-of 2017-09-30" in page.text
    assert login("om_lbm").get("/fairness").status_code == 403


def test_on_a_stored_selection_the_page_shows_the_audit_in_words(login, web_db):
    from iom.scoring import service

    engine, _ = web_db
    with session_scope(engine) as session:
        build_register(session, people=400)
        service.score_all(session, as_of=AUDITED, train=True)
    page = login("analyst").get("/fairness", params={"as_of": AUDITED.isoformat()})
    assert page.status_code == 200 and "By ethnicity" in page.text and "By sex" in page.text
    assert "Disparities beyond the thresholds" in page.text
