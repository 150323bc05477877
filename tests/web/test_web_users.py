"""User management in the browser, for administrators only, every change audited."""

from __future__ import annotations

import re

from iom.db import session_scope
from iom.security import audit
from iom.security import service as users


def _token(page) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)


def test_an_administrator_adds_links_resets_and_deactivates(login, web_db):
    engine, _ = web_db
    admin = login("admin")
    admin.headers.pop("X-CSRF-Token")
    page = admin.get("/admin/users")
    assert page.status_code == 200 and "om_lbm" in page.text
    token = _token(page)
    added = admin.post("/admin/users", data={"csrf_token": token, "username": "pc_new", "role": "offender_manager",
                                             "lomu": "LBM", "officer": "PC Sample"})
    assert added.status_code == 200 and "Password for pc_new" in added.text
    password = re.search(r'govuk-panel__body">([^<]+)<', added.text).group(1).strip()
    assert len(password) >= 12
    refused = admin.post("/admin/users", data={"csrf_token": token, "username": "pc_two", "role": "offender_manager"})
    assert refused.status_code == 400 and "needs --lomu" in refused.text and 'value="pc_two"' in refused.text
    with session_scope(engine) as session:
        assert users.get_user(session, "pc_new").officer == "PC Sample"
    moved = admin.post("/admin/users/pc_new/update", data={"csrf_token": token, "role": "supervisor", "lomu": "LWS",
                                                           "officer": ""})
    assert moved.status_code == 200
    reset = admin.post("/admin/users/pc_new/reset-password", data={"csrf_token": token})
    assert "Password for pc_new" in reset.text and password not in reset.text
    assert admin.post("/admin/users/pc_new/deactivate", data={"csrf_token": token}).status_code == 200
    assert admin.post("/admin/users/admin/deactivate", data={"csrf_token": token}).status_code == 400
    with session_scope(engine) as session:
        gone = users.get_user(session, "pc_new")
        assert (gone.role, gone.lomu_code, gone.officer, gone.active) == ("supervisor", "LWS", None, False)
        changes = [e.detail for e in audit.search(session) if e.resource == "user" and e.action == "write"]
    assert len(changes) == 4 and all(password not in c for c in changes)


def test_only_administrators_manage_users(login):
    assert login("sup_lbm").get("/admin/users").status_code == 403


def test_the_audit_log_reads_as_words_not_raw_json():
    from iom.web.audit import readable_detail

    rows = readable_detail('{"via": "page", "npu": "BN", "people": [1, 2, 3, 4, 5, 6, 7], "filters": {"risk": "High", "q": null}}')
    assert rows == [("via", "page", None), ("npu", "BN", None), ("people", "7 people", "1, 2, 3, 4, 5, 6, 7"),
                    ("filters", "risk High", None)]
    assert readable_detail("not json") == [("detail", "not json", None)]


def test_the_audit_page_shows_a_selection_view_as_a_count(login, people):
    login("om_lbm").get("/api/v1/caseload")
    page = login("admin").get("/audit")
    assert page.status_code == 200 and "<strong>via</strong>: api" in page.text
