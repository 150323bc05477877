"""The web's audit CSV (``/audit/export.csv``) shows a username typed at the sign-in form as
text, never a formula (issue 17, item 5)."""

from __future__ import annotations

import csv
import io

from fastapi.testclient import TestClient

HOSTILE = '=HYPERLINK("x")'


def test_a_failed_sign_in_username_is_text_in_the_export(app, login):
    anonymous = TestClient(app, raise_server_exceptions=False)
    refused = anonymous.post("/api/v1/session", json={"username": HOSTILE, "password": "wrong", "purpose": "case management"})
    assert refused.status_code in (401, 403), refused.text
    export = login("admin", purpose="audit review").get("/audit/export.csv")
    assert export.status_code == 200
    rows = list(csv.DictReader(io.StringIO(export.text, newline="")))
    failed = [r for r in rows if r["action"] == "login_failed"]
    assert [r["username"] for r in failed] == ["'" + HOSTILE]
    assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for r in rows for cell in r.values())
