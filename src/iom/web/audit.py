"""The audit log for administrators: search page, CSV export and API. Every look is itself
audited."""

from __future__ import annotations

import datetime as dt
import json
import re
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import BaseModel

from iom.errors import UserError
from iom.http.deps import DB, CurrentUser, purpose_of, via
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS
from iom.security import audit
from iom.security.roles import Principal

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)


#: A list in an audit row's detail longer than this is shown as a count, its items on request.
SHOWN_ITEMS = 5


def readable_detail(detail: str) -> list[tuple[str, str, str | None]]:
    """An audit row's JSON detail as (key, what to show, the whole of it when that is long):
    a selection view's 50 ids read as "50 people", not a raw JSON cell."""
    try:
        data = json.loads(detail or "{}")
    except ValueError:
        return [("detail", detail, None)]
    if not isinstance(data, dict):
        return [("detail", str(data), None)]
    out = []
    for key, value in data.items():
        if isinstance(value, list) and len(value) > SHOWN_ITEMS:
            out.append((key, f"{len(value):,} {'people' if key == 'people' else 'items'}", ", ".join(map(str, value))))
        elif isinstance(value, dict):
            shown = ", ".join(f"{k} {v}" for k, v in value.items() if v not in (None, "", []))
            out.append((key, shown or "none", None))
        else:
            out.append((key, ", ".join(map(str, value)) if isinstance(value, list) else str(value), None))
    return out


class AuditRow(BaseModel):
    id: int
    at: dt.datetime
    username: str
    role: str
    action: str
    resource: str
    person_id: int | None
    purpose: str
    detail: str


def _search(request: Request, db, user: Principal, *, person_id: int | None, **filters) -> list:
    if not user.can("read_audit"):
        raise PermissionError("only administrators read the audit log")
    rows = audit.search(db, person_id=person_id, **filters)
    audit.record(request.app.state.audit_engine, actor=user, action="search", resource="audit_log", purpose=purpose_of(request),
                 detail={"via": via(request), "filters": {"username": filters.get("username"), "person_id": person_id,
                                                           "action": filters.get("action")}})
    return rows


@pages.get("/audit")
def audit_page(
    request: Request, db: DB, user: CurrentUser,
    username: Annotated[str | None, Query(max_length=64)] = None,
    person_id: Annotated[str | None, Query(max_length=12)] = None,
    action: Annotated[str | None, Query(max_length=16)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> HTMLResponse:
    if not user.can("read_audit"):
        raise PermissionError("only administrators read the audit log")
    pid = None
    if person_id:
        if not re.fullmatch(r"[0-9]{1,10}", person_id) or int(person_id) > MAX_ID:
            raise UserError("person id must be a whole number below 2,147,483,648")
        pid = int(person_id)
    rows = _search(request, db, user, person_id=pid, username=username or None, action=action or None, limit=100,
                   before_id=before_id)
    return render(request, "audit.html", user, rows=rows, username=username or "", person_id=person_id or "",
                  action=action or "", actions=audit.ACTIONS, before_id=before_id)


@pages.get("/audit/export.csv")
def audit_export(request: Request, db: DB, user: CurrentUser) -> Response:
    if not user.can("read_audit"):
        raise PermissionError("only administrators export the audit log")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.csv"
        count = audit.export(db, path)
        body = path.read_bytes()
    audit.record(request.app.state.audit_engine, actor=user, action="export", resource="audit_log", purpose=purpose_of(request),
                 detail={"via": "page", "rows": count})
    return Response(body, media_type="text/csv", headers={"content-disposition": 'attachment; filename="audit.csv"'})


@api.get("/audit", response_model=list[AuditRow], summary="Search the audit log (administrators)")
def audit_search(
    request: Request,
    db: DB,
    user: CurrentUser,
    username: Annotated[str | None, Query(max_length=64)] = None,
    person_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    action: Annotated[str | None, Query(max_length=16)] = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=MAX_ID, description="Rows older than this id: the next page starts before the last id of this one")] = None,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[AuditRow]:
    if since and until and since > until:
        raise UserError("since is after until")
    rows = _search(request, db, user, person_id=person_id, username=username, action=action, since=since, until=until,
                   limit=per_page, before_id=before_id)
    return [AuditRow.model_validate(r, from_attributes=True) for r in rows]
