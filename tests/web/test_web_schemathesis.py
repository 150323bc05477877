"""Schemathesis against the OpenAPI schema, in process: no generated input gives a 5xx, and
every error is an RFC 9457 problem with no stack trace."""

from __future__ import annotations

import pytest
import schemathesis  # noqa: F401
import schemathesis.openapi
from hypothesis import HealthCheck, given, settings


@pytest.fixture
def signed_in(login):
    client = login("sup_lbm")
    return dict(client.cookies), client.headers["X-CSRF-Token"]


def _check(case, cookies: dict, token: str) -> None:
    response = case.call(cookies=cookies, headers={**(case.headers or {}), "X-CSRF-Token": token})
    assert response.status_code < 500, f"{case.method} {case.formatted_path}: {response.text}"
    if response.status_code >= 400:
        content_type = response.headers.get("content-type") or [""]
        content_type = content_type[0] if isinstance(content_type, list) else content_type
        assert content_type.startswith("application/problem+json"), response.text
        body = response.json()
        assert body["status"] == response.status_code and "Traceback" not in response.text


def test_no_server_error_on_any_input(app, signed_in):
    """Every operation (sign-out last, as it ends the session), 30 generated cases each."""
    cookies, token = signed_in
    schema = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    operations.sort(key=lambda op: (op.method.upper() == "DELETE", op.path, op.method))
    assert len(operations) >= 10
    calls = []
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def run(case):
            calls.append(operation.path)
            _check(case, cookies, token)

        run()
    assert len(set(calls)) == len({op.path for op in operations}) and len(calls) > 100


def test_schema_lists_the_operations(app):
    from fastapi.testclient import TestClient

    paths = TestClient(app).get("/api/v1/openapi.json").json()["paths"]
    assert {"/api/v1/caseload", "/api/v1/people/{person_id}", "/api/v1/audit", "/api/v1/session"} <= set(paths)
    assert not any(p.startswith("/people") for p in paths)  # pages stay out of the API schema
