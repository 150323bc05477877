"""Server-rendered pages: plain HTML forms and redirects, no JavaScript."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse

from iom.errors import NotFound, UserError
from iom.security import audit
from iom.security import service as users
from iom.security.roles import Principal
from iom.web import access, charts, scoring_bridge, service
from iom.web.schemas import Text
from iom.web.app import (
    DB, PURPOSES, CurrentUser, as_of, csrf_token, purpose_of, require_csrf, start_session, templates,
)

router = APIRouter(include_in_schema=False)
PageNo = Annotated[int, Query(ge=1, le=100_000)]


def render(request: Request, name: str, user: Principal | None, status_code: int = 200, **context) -> HTMLResponse:
    context.update(user=user, csrf=csrf_token(request), as_of=as_of(request),
                   purpose=request.session.get("purpose"))
    return templates.TemplateResponse(request, name, context, status_code=status_code)


@router.get("/")
def home(request: Request, user: CurrentUser) -> Response:
    return RedirectResponse("/audit" if user.role == "administrator" else "/caseload", status_code=303)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", None, purposes=PURPOSES, error=None)


@router.post("/login", dependencies=[Depends(require_csrf)])
def login(
    request: Request,
    db: DB,
    username: Annotated[Text, Form(max_length=64)],
    password: Annotated[Text, Form(max_length=256)],
    purpose: Annotated[Text, Form(max_length=200)] = PURPOSES[0],
) -> Response:
    client = request.client.host if request.client else ""
    engine = request.app.state.audit_engine
    try:
        user = users.authenticate(db, username=username, password=password, throttle=request.app.state.throttle, client=client)
    except users.LoginRefused as exc:
        audit.record(engine, actor=Principal(username=username[:64], role="unknown"), action="login_failed",
                     resource="session", purpose=purpose, detail={"via": "page", "client": client})
        return render(request, "login.html", None, status_code=401, purposes=PURPOSES, error=str(exc))
    start_session(request, user, purpose.strip() or PURPOSES[0])
    audit.record(engine, actor=user, action="login", resource="session", purpose=purpose, detail={"via": "page"})
    return RedirectResponse("/audit" if user.role == "administrator" else "/caseload", status_code=303)


@router.post("/logout", dependencies=[Depends(require_csrf)])
def logout(request: Request, db: DB, user: CurrentUser) -> Response:
    audit.record(request.app.state.audit_engine, actor=user, action="logout", resource="session", purpose=purpose_of(request), detail={"via": "page"})
    users.end_sessions(db, user.user_id)
    request.session.clear()
    return RedirectResponse("/login", status_code=303)


@router.post("/purpose", dependencies=[Depends(require_csrf)])
def change_purpose(request: Request, user: CurrentUser, purpose: Annotated[Text, Form(min_length=3, max_length=200)]) -> Response:
    request.session["purpose"] = purpose.strip()
    return RedirectResponse("/", status_code=303)


@router.get("/caseload")
def caseload_page(
    request: Request, db: DB, user: CurrentUser, page: PageNo = 1,
    risk: Annotated[str | None, Query(max_length=8)] = None,
    classification: Annotated[str | None, Query(max_length=12)] = None,
) -> HTMLResponse:
    if not user.can("read_people"):
        raise PermissionError("this role has no caseload")
    risk = risk or None
    classification = classification or None
    result = access.read_caseload(request.app.state.audit_engine, db, user, as_of=as_of(request), purpose=purpose_of(request),
                                  via="page", views=request.app.state.views, risk=risk, classification=classification, page=page, per_page=50)
    pages = max(1, -(-result.total // result.per_page))
    return render(request, "caseload.html", user, result=result, pages=pages, risk=risk, classification=classification)


@router.get("/people/{person_id}")
def person_page(request: Request, db: DB, user: CurrentUser, person_id: int) -> HTMLResponse:
    if not 1 <= person_id < 2**31:
        raise UserError("no such person id")
    detail = access.read_person(request.app.state.audit_engine, db, user, person_id, as_of=as_of(request),
                                purpose=purpose_of(request), via="page", views=request.app.state.views)
    return render(request, "person.html", user, person=detail)


@router.post("/people/{person_id}/notes", dependencies=[Depends(require_csrf)])
def add_note(request: Request, db: DB, user: CurrentUser, person_id: int, text: Annotated[Text, Form(max_length=5000)]) -> Response:
    if not 1 <= person_id < 2**31:
        raise UserError("no such person id")
    access.write_note(request.app.state.audit_engine, db, user, person_id, text=text, as_of=as_of(request),
                      purpose=purpose_of(request), via="page")
    return RedirectResponse(f"/people/{person_id}#notes", status_code=303)


@router.get("/dashboard")
def dashboard_page(request: Request, db: DB, user: CurrentUser) -> HTMLResponse:
    if not user.can("read_people"):
        raise PermissionError("this role has no unit dashboard")
    data = service.dashboard(db, user, as_of=as_of(request))
    return render(request, "dashboard.html", user, data=data)


@router.get("/charts/{name}.svg")
def chart(request: Request, db: DB, user: CurrentUser, name: str) -> Response:
    if name not in charts.CHARTS or not user.can("read_people"):
        raise UserError("no such chart")
    data = service.dashboard(db, user, as_of=as_of(request))
    return Response(charts.CHARTS[name](data), media_type="image/svg+xml")


@router.get("/audit")
def audit_page(
    request: Request, db: DB, user: CurrentUser,
    username: Annotated[str | None, Query(max_length=64)] = None,
    person_id: Annotated[str | None, Query(max_length=12)] = None,
    action: Annotated[str | None, Query(max_length=16)] = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
) -> HTMLResponse:
    if not user.can("read_audit"):
        raise PermissionError("only administrators read the audit log")
    pid = None
    if person_id:
        if not re.fullmatch(r"[0-9]{1,10}", person_id) or int(person_id) >= 2**31:
            raise UserError("person id must be a whole number below 2,147,483,648")
        pid = int(person_id)
    rows = audit.search(db, username=username or None, person_id=pid, action=action or None, limit=100, before_id=before_id)
    audit.record(request.app.state.audit_engine, actor=user, action="search", resource="audit_log", purpose=purpose_of(request),
                 detail={"via": "page", "filters": {"username": username, "person_id": pid, "action": action}})
    return render(request, "audit.html", user, rows=rows, username=username or "", person_id=person_id or "",
                  action=action or "", actions=audit.ACTIONS, before_id=before_id)


@router.get("/audit/export.csv")
def audit_export(request: Request, db: DB, user: CurrentUser) -> Response:
    if not user.can("read_audit"):
        raise PermissionError("only administrators export the audit log")
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "audit.csv"
        count = audit.export(db, path)
        body = path.read_bytes()
    audit.record(request.app.state.audit_engine, actor=user, action="export", resource="audit_log", purpose=purpose_of(request),
                 detail={"via": "page", "rows": count})
    return Response(body, media_type="text/csv", headers={"content-disposition": 'attachment; filename="audit.csv"'})


@router.get("/selection")
def selection_index(request: Request, db: DB, user: CurrentUser) -> HTMLResponse:
    npus = service.lomu_npus(db, user)
    if not npus:
        raise PermissionError("this role reviews no selection")
    return render(request, "selection_index.html", user, npus=npus)


@router.get("/selection/{npu_code}")
def selection_page(request: Request, db: DB, user: CurrentUser, npu_code: str) -> HTMLResponse:
    rows, overrides = access.read_selection(request.app.state.audit_engine, db, user, npu_code[:8], as_of=as_of(request),
                                            purpose=purpose_of(request), via="page")
    return render(request, "selection.html", user, npu=npu_code, rows=rows, overrides=overrides,
                  default_until=as_of(request) + dt.timedelta(days=91))


@router.get("/selection/{npu_code}/override")
def override_form(request: Request, db: DB, user: CurrentUser, npu_code: str,
                  person_id: Annotated[int, Query(ge=1, le=2**31 - 1)], include: bool = True) -> HTMLResponse:
    if not user.can("propose_override"):
        raise PermissionError("this role cannot override a selection")
    if npu_code not in service.lomu_npus(db, user):
        raise NotFound(f"no NPU {npu_code!r} in your scope")
    person = access.read_override_subject(request.app.state.audit_engine, db, user, person_id, as_of=as_of(request),
                                          purpose=purpose_of(request), via="page")
    return render(request, "override.html", user, npu=npu_code, person_id=person.id, pseudo_id=person.pseudo_id,
                  include=include, default_until=as_of(request) + dt.timedelta(days=91), error=None)


@router.post("/selection/{npu_code}/overrides", dependencies=[Depends(require_csrf)])
def create_override(
    request: Request, db: DB, user: CurrentUser, npu_code: str,
    person_id: Annotated[int, Form(ge=1, le=2**31 - 1)],
    include: Annotated[Text, Form(pattern="^(include|exclude)$")],
    reason: Annotated[Text, Form(max_length=2000)],
    until: Annotated[dt.date, Form()],
) -> Response:
    if npu_code not in service.lomu_npus(db, user):
        raise NotFound(f"no NPU {npu_code!r} in your scope")
    access.write_override(request.app.state.audit_engine, db, user, person_id, include=include == "include", reason=reason,
                          until=until, as_of=as_of(request), purpose=purpose_of(request), via="page")
    return RedirectResponse(f"/selection/{npu_code}#overrides", status_code=303)


@router.post("/overrides/{override_id}/approve", dependencies=[Depends(require_csrf)])
def approve_override(request: Request, db: DB, user: CurrentUser, override_id: int,
                     npu_code: Annotated[Text, Form(max_length=8)]) -> Response:
    if not 1 <= override_id < 2**31:
        raise NotFound(f"no override #{override_id}")
    access.approve_override(request.app.state.audit_engine, db, user, override_id, as_of=as_of(request),
                            purpose=purpose_of(request), via="page")
    return RedirectResponse(f"/selection/{npu_code}#overrides", status_code=303)
