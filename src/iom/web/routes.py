"""The shell's pages: home, sign-in, sign-out and the stated purpose. Plain HTML forms and
redirects, no JavaScript."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.http.deps import (
    CSRF,
    DB,
    PURPOSES,
    CurrentUser,
    as_of,
    purpose_of,
    start_session,
    via,
)
from iom.http.drafts import safe_path
from iom.http.pages import render
from iom.http.schemas import Text
from iom.security import audit
from iom.security import service as users
from iom.security.roles import Principal

router = APIRouter(include_in_schema=False)


def _landing(user: Principal) -> str:
    return "/audit" if user.role == "administrator" else "/caseload"


@router.get("/")
def home(user: CurrentUser) -> Response:
    return RedirectResponse(_landing(user), status_code=303)


@router.get("/login")
def login_form(request: Request) -> HTMLResponse:
    return render(request, "login.html", None, purposes=PURPOSES, error=None)


@router.post("/login", dependencies=CSRF)
async def login(
    request: Request,
    db: DB,
    username: Annotated[Text, Form(max_length=64)],
    password: Annotated[Text, Form(max_length=256)],
    purpose: Annotated[Text, Form(max_length=200)] = PURPOSES[0],
) -> Response:
    try:
        user = await sign_in(request, db, username=username, password=password, purpose=purpose.strip() or PURPOSES[0])
    except users.LoginRefused as exc:
        return render(request, "login.html", None, status_code=401, purposes=PURPOSES, error=str(exc))
    back = request.session.pop("return_to", None)
    return RedirectResponse(safe_path(back) if back else _landing(user), status_code=303)


@router.post("/logout", dependencies=CSRF)
def logout(request: Request, db: DB, user: CurrentUser) -> Response:
    sign_out(request, db, user)
    return RedirectResponse("/login", status_code=303)


@router.post("/purpose", dependencies=CSRF)
def change_purpose(request: Request, user: CurrentUser, purpose: Annotated[Text, Form(min_length=3, max_length=200)]) -> Response:
    request.session["purpose"] = purpose.strip()
    return RedirectResponse("/", status_code=303)


async def sign_in(request: Request, db, *, username: str, password: str, purpose: str) -> Principal:
    """Check the password and start the session, once one of the worker's password-check slots
    is free (``iom.web.gate``: 503 with ``Retry-After`` if none frees up in time)."""
    return await request.app.state.password_gate.run(
        lambda: _sign_in(request, db, username=username, password=password, purpose=purpose))


def _sign_in(request: Request, db, *, username: str, password: str, purpose: str) -> Principal:
    """Check the password, counted by the throttle (``iom.web.throttle``), and start the
    session. The stored hash is read and the connection given back before the check, which
    spends a core for a third of a second. A success is audited; a failure too, one row each
    up to the throttle's rate and in a summary row beyond it. The client is the peer's address
    unless a trusted proxy (``IOM_TRUSTED_PROXIES``) says otherwise."""
    client = request.client.host if request.client else "unknown"
    engine = request.app.state.audit_engine
    throttle = request.app.state.throttle
    try:
        with throttle.attempt(username=username, address=client):
            found = users.credentials(db, username=username)
            db.commit()  # ends the read: no connection is held through the password check
            user, new_hash = users.check_password(found, password)
        if new_hash:
            users.store_rehash(db, user_id=user.user_id, password_hash=new_hash)
    except users.LoginRefused as exc:
        if exc.audit_each:
            audit.record(engine, actor=Principal(username=username[:64], role="unknown"), action="login_failed",
                         resource="session", purpose=purpose, detail={"via": via(request), "client": client})
        raise
    finally:
        throttle.write_summaries(lambda summary: audit.record(
            engine, actor=Principal(username="(failed sign-ins)", role="unknown"), action="login_failed",
            resource="session", purpose="", detail={"via": via(request), **summary.detail()}))
    start_session(request, user, purpose)
    audit.record(engine, actor=user, action="login", resource="session", purpose=purpose,
                 detail={"via": via(request), "client": client})
    as_of(request)  # looked up here, in this thread and this session, not later in the event loop
    return user


def sign_out(request: Request, db, user: Principal) -> None:
    audit.record(request.app.state.audit_engine, actor=user, action="logout", resource="session",
                 purpose=purpose_of(request), detail={"via": via(request)})
    users.end_sessions(db, user.user_id)
    request.session.clear()
