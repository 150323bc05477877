"""JSON API under /api/v1: the same operations as the pages. Errors are RFC 9457 problems."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from iom.errors import UserError
from iom.security import audit
from iom.security import service as users
from iom.security.roles import Principal
from iom.web import access, schemas, service
from iom.web.app import DB, CurrentUser, as_of, csrf_token, purpose_of, require_csrf, start_session

PROBLEMS = {
    status: {"model": schemas.Problem, "description": title}
    for status, title in ((400, "Bad request"), (401, "Not signed in"), (403, "Forbidden"), (404, "Not found"), (422, "Invalid input"))
}
router = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)
PersonId = Annotated[int, Path(ge=1, le=2**31 - 1, description="Internal person id")]


def _me(request: Request, user: Principal) -> schemas.Me:
    return schemas.Me(username=user.username, role=user.role, lomu_code=user.lomu_code,
                      purpose=request.session.get("purpose", "unstated"), csrf_token=csrf_token(request),
                      as_of=as_of(request))


@router.post("/session", response_model=schemas.Me, summary="Sign in (sets the session cookie)")
def sign_in(request: Request, body: schemas.LoginIn, db: DB) -> schemas.Me:
    client = request.client.host if request.client else ""
    engine = request.app.state.audit_engine
    try:
        user = users.authenticate(db, username=body.username, password=body.password,
                                  throttle=request.app.state.throttle, client=client)
    except users.LoginRefused:
        audit.record(engine, actor=Principal(username=body.username[:64], role="unknown"), action="login_failed",
                     resource="session", purpose=body.purpose, detail={"via": "api", "client": client})
        raise
    start_session(request, user, body.purpose)
    audit.record(engine, actor=user, action="login", resource="session", purpose=body.purpose, detail={"via": "api"})
    return _me(request, user)


@router.delete("/session", status_code=204, dependencies=[Depends(require_csrf)], summary="Sign out")
def sign_out(request: Request, db: DB, user: CurrentUser) -> Response:
    audit.record(request.app.state.audit_engine, actor=user, action="logout", resource="session", purpose=purpose_of(request), detail={"via": "api"})
    users.end_sessions(db, user.user_id)
    request.session.clear()
    return Response(status_code=204)


@router.get("/me", response_model=schemas.Me, summary="Who is signed in, and the CSRF token for writes")
def me(request: Request, user: CurrentUser) -> schemas.Me:
    return _me(request, user)


@router.get("/caseload", response_model=schemas.CaseloadPage, summary="Current cohort members in my scope")
def caseload(
    request: Request,
    db: DB,
    user: CurrentUser,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
    per_page: Annotated[int, Query(ge=1, le=service.MAX_PER_PAGE)] = 50,
    risk: Annotated[str | None, Query(pattern="^(High|Medium|Low)$")] = None,
    classification: Annotated[str | None, Query(max_length=12)] = None,
    npu: Annotated[str | None, Query(max_length=8)] = None,
) -> schemas.CaseloadPage:
    return access.read_caseload(request.app.state.audit_engine, db, user, as_of=as_of(request), purpose=purpose_of(request),
                                via="api", views=request.app.state.views, risk=risk, classification=classification, npu=npu, page=page, per_page=per_page)


@router.get("/people/{person_id}", response_model=schemas.PersonDetail, summary="One person's record (audited)")
def person(request: Request, db: DB, user: CurrentUser, person_id: PersonId) -> schemas.PersonDetail:
    return access.read_person(request.app.state.audit_engine, db, user, person_id, as_of=as_of(request),
                              purpose=purpose_of(request), via="api", views=request.app.state.views)


@router.post("/people/{person_id}/notes", response_model=schemas.Note, status_code=201,
             dependencies=[Depends(require_csrf)], summary="Add a note (audited; needs X-CSRF-Token)")
def add_note(request: Request, db: DB, user: CurrentUser, person_id: PersonId, body: schemas.NoteIn) -> schemas.Note:
    note = access.write_note(request.app.state.audit_engine, db, user, person_id, text=body.text, as_of=as_of(request),
                             purpose=purpose_of(request), via="api")
    return schemas.Note(id=note.id, written_at=note.written_at, author=note.author, text=note.text)


@router.get("/dashboard", response_model=schemas.Dashboard, summary="Unit dashboard figures")
def dashboard(request: Request, db: DB, user: CurrentUser) -> schemas.Dashboard:
    if not user.can("read_people"):
        raise PermissionError("this role has no unit dashboard")
    return service.dashboard(db, user, as_of=as_of(request))


@router.get("/audit", response_model=list[schemas.AuditRow], summary="Search the audit log (administrators)")
def audit_search(
    request: Request,
    db: DB,
    user: CurrentUser,
    username: Annotated[str | None, Query(max_length=64)] = None,
    person_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    action: Annotated[str | None, Query(max_length=16)] = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
    before_id: Annotated[int | None, Query(ge=1, le=2**31 - 1, description="Rows older than this id: the next page starts before the last id of this one")] = None,
    per_page: Annotated[int, Query(ge=1, le=500)] = 100,
) -> list[schemas.AuditRow]:
    if not user.can("read_audit"):
        raise PermissionError("only administrators read the audit log")
    if since and until and since > until:
        raise UserError("since is after until")
    rows = audit.search(db, username=username, person_id=person_id, action=action, since=since, until=until,
                        limit=per_page, before_id=before_id)
    audit.record(request.app.state.audit_engine, actor=user, action="search", resource="audit_log", purpose=purpose_of(request),
                 detail={"via": "api", "filters": {"username": username, "person_id": person_id, "action": action}})
    return [schemas.AuditRow.model_validate(r, from_attributes=True) for r in rows]


@router.get("/selection/{npu_code}", response_model=schemas.Selection, summary="Ranked selection for an NPU (stored scores)")
def selection(request: Request, db: DB, user: CurrentUser,
              npu_code: Annotated[str, Path(min_length=1, max_length=8)]) -> schemas.Selection:
    rows, overrides = access.read_selection(request.app.state.audit_engine, db, user, npu_code, as_of=as_of(request),
                                            purpose=purpose_of(request), via="api")
    return schemas.Selection(npu=npu_code, as_of=as_of(request), scores_stored=rows is not None,
                             rows=rows or [], overrides=overrides)


@router.post("/overrides", response_model=dict, status_code=201, dependencies=[Depends(require_csrf)],
             summary="Override a selection with a reason (audited; needs X-CSRF-Token)")
def create_override(request: Request, db: DB, user: CurrentUser, body: schemas.OverrideIn) -> dict:
    return access.write_override(request.app.state.audit_engine, db, user, body.person_id, include=body.include,
                                 reason=body.reason, until=body.until, as_of=as_of(request),
                                 purpose=purpose_of(request), via="api")


@router.post("/overrides/{override_id}/approve", response_model=dict, dependencies=[Depends(require_csrf)],
             summary="Approve an override (supervisors; not your own)")
def approve_override(request: Request, db: DB, user: CurrentUser,
                     override_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> dict:
    return access.approve_override(request.app.state.audit_engine, db, user, override_id, as_of=as_of(request),
                                   purpose=purpose_of(request), via="api")
