"""The fairness audit as a page: for supervisors and analysts, on a stored selection only, and
an uploaded file of scores audited the same way (multipart, CSRF, size-limited)."""

from __future__ import annotations

import datetime as dt
import re

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
    assert "Disparities the intervals support" in page.text and "Compared with <strong>" in page.text
    assert re.search(r"\d+%<br><span class=\"govuk-body-s iom-secondary\">\d+(\.\d)?% to \d+(\.\d)?%</span>", page.text)


def _token(text: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', text).group(1)


def _csv(groups: dict[str, tuple[int, int]]) -> bytes:
    """``{group: (people, selected)}``; every fifth person reoffended."""
    lines = ["ethnicity,risk,reoffended"]
    for name, (people, chosen) in groups.items():
        lines += [f"{name},{0.9 if i < chosen else 0.1},{int(i % 5 == 0)}" for i in range(people)]
    return ("\n".join(lines) + "\n").encode()


FIELDS = {"group_col": "ethnicity", "score_col": "risk", "threshold": "0.5", "outcome_col": "reoffended"}


def test_an_uploaded_file_is_audited_on_the_page(login):
    analyst = login("analyst")
    token = _token(analyst.get("/fairness", params={"as_of": AUDITED.isoformat()}).text)
    del analyst.headers["X-CSRF-Token"]  # the form's own token, as a browser sends it
    body = _csv({"W": (2000, 20), "S": (30, 0), "B": (400, 120)})
    page = analyst.post("/fairness/file", data={"csrf_token": token, **FIELDS},
                        files={"file": ("scores.csv", body, "text/csv")})
    assert page.status_code == 200, page.text
    assert "File scores.csv" in page.text and "By ethnicity" in page.text
    assert "30% (95% 26% to 35%) of ethnicity B were selected" in page.text
    assert "of ethnicity S were selected" in page.text.split("Gaps within chance")[1]  # 0 of 30: within chance
    refused = analyst.post("/fairness/file", data={"csrf_token": token, **FIELDS, "score_col": "score"},
                           files={"file": ("scores.csv", body, "text/csv")})
    assert refused.status_code == 400 and "has no column &#39;score&#39;" in refused.text
    assert 'value="score"' in refused.text  # what was typed is kept


def test_an_upload_needs_the_token_the_role_and_a_bounded_size(login):
    from iom.scoring.routes import MAX_UPLOAD_BYTES, UPLOAD_SLACK

    analyst = login("analyst")
    token = analyst.headers.pop("X-CSRF-Token")
    body = _csv({"W": (100, 10)})
    assert analyst.post("/fairness/file", data=FIELDS, files={"file": ("s.csv", body)}).status_code == 403
    big = b"ethnicity,risk,reoffended\n" + b"W,0.1,0\n" * ((MAX_UPLOAD_BYTES + UPLOAD_SLACK) // 8 + 1)
    too_big = analyst.post("/fairness/file", data={"csrf_token": token, **FIELDS}, files={"file": ("s.csv", big)})
    assert too_big.status_code == 413 and "iom fairness --file" in too_big.text
    om = login("om_lbm")
    om_token = om.headers.pop("X-CSRF-Token")
    assert om.post("/fairness/file", data={"csrf_token": om_token, **FIELDS},
                   files={"file": ("s.csv", body)}).status_code == 403
