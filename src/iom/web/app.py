"""The FastAPI application: sessions, CSRF, security headers, problem-details errors.

``create_app(engine)`` builds one app per database; ``iom serve`` runs it under uvicorn."""

from __future__ import annotations

import datetime as dt
import hmac
import json
import logging
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from iom.db import make_engine, session_scope
from iom.errors import NotFound, UserError
from iom.security import service as users
from iom.security.roles import Principal
from iom.security.settings import is_development, secret_key
from iom.web import service
from iom.web.views import Views

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
templates = Jinja2Templates(directory=str(HERE / "templates"))
SESSION_HOURS = 8
PURPOSES = ("case management", "supervision and approval", "MAPPA review", "statistical analysis", "audit review")

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class NotAuthenticated(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    """A bare problem-details response, written below the framework (the middleware's own
    refusals and the last-resort 500); ``send`` adds the security headers."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class SecurityMiddleware:
    """Adds security headers and ``no-store`` to every response; turns any unhandled error into
    a bare 500 (problem details for the API), so no stack trace ever reaches a client."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False
        is_static = scope["path"].startswith("/static/")

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [h for h in message.get("headers", []) if h[0].lower() not in {k for k, _ in SECURITY_HEADERS}]
                headers.extend(SECURITY_HEADERS)
                if not is_static:
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        if b"%00" in scope.get("query_string", b"") or "\x00" in scope["path"]:
            await _send_problem(send_with_headers, 400, "Bad Request", "the request must not contain NUL characters")
            return
        try:
            await self.app(scope, receive, send_with_headers)
        except Exception:
            log.exception("unhandled error on %s", scope.get("path"))
            if started:
                raise
            await _send_problem(send_with_headers, 500, "Internal Server Error", "the server could not complete the request")


def problem(status: int, title: str, detail: str | None = None, *, instance: str | None = None, headers: dict | None = None) -> JSONResponse:
    content = {"type": "about:blank", "title": title, "status": status}
    if detail:
        content["detail"] = detail
    if instance:
        content["instance"] = instance
    return JSONResponse(content, status_code=status, media_type="application/problem+json", headers=headers)


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _error(request: Request, status: int, title: str, detail: str | None = None) -> Response:
    if _is_api(request):
        return problem(status, title, detail, instance=request.url.path)
    user = getattr(request.state, "user", None)
    return templates.TemplateResponse(
        request, "error.html", {"status": status, "title": title, "detail": detail, "user": user, "csrf": csrf_token(request)},
        status_code=status,
    )


def csrf_token(request: Request) -> str:
    if "csrf" not in request.session:
        request.session["csrf"] = secrets.token_urlsafe(32)
    return request.session["csrf"]


async def require_csrf(request: Request) -> None:
    """Unsafe methods must echo the session's token, as a form field or ``X-CSRF-Token``."""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return
    expected = request.session.get("csrf")
    sent = request.headers.get("x-csrf-token")
    if sent is None and request.headers.get("content-type", "").startswith(("application/x-www-form-urlencoded", "multipart/form-data")):
        form = await request.form()
        value = form.get("csrf_token")
        sent = value if isinstance(value, str) else None
    if not expected or not sent or not hmac.compare_digest(expected, sent):
        raise CsrfError()


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the handler returns."""
    with session_scope(request.app.state.engine) as session:
        yield session


# "function": committed when the handler returns, before the response is sent, so a client
# never hears "created" about a write that then fails to commit.
DB = Annotated[Session, Depends(get_db, scope="function")]


def current_user(request: Request, db: DB) -> Principal:
    user_id = request.session.get("uid")
    issued = request.session.get("issued", 0)
    if not user_id or dt.datetime.now(dt.UTC).timestamp() - issued > SESSION_HOURS * 3600:
        raise NotAuthenticated()
    user = users.load_principal(db, user_id, request.session.get("epoch", -1))
    if user is None:
        request.session.clear()
        raise NotAuthenticated()
    request.state.user = user
    # End the read transaction: the handler runs in another worker thread, perhaps after a
    # wait, and should not hold a pooled connection meanwhile (a pool smaller than the number
    # of waiting requests would otherwise deadlock against the thread pool).
    db.commit()
    return user


CurrentUser = Annotated[Principal, Depends(current_user)]


def purpose_of(request: Request) -> str:
    """The stated purpose: ``X-IOM-Purpose`` header (API) or the one chosen at sign-in."""
    stated = request.headers.get("x-iom-purpose", "").strip()[:200]
    return stated or request.session.get("purpose", "unstated")


def current_as_of(app: FastAPI) -> dt.date:
    """The app's reference date: the one it was built with (tests, a review frozen on a date),
    else the data's latest date capped at today. Kept per register version and calendar day,
    so a long-running server moves on with imports and with the date, and pays the look-up
    (a scan of the crimes) once per change rather than per request."""
    if app.state.fixed_as_of is not None:
        return app.state.fixed_as_of
    with session_scope(app.state.engine) as session:
        return app.state.views.get(session, ("reference date", dt.date.today()), lambda: service.reference_date(session))


def as_of(request: Request) -> dt.date:
    """This request's reference date, looked up once per request."""
    if getattr(request.state, "as_of", None) is None:
        request.state.as_of = current_as_of(request.app)
    return request.state.as_of


def start_session(request: Request, user: Principal, purpose: str) -> None:
    request.session.clear()
    request.session.update(
        uid=user.user_id, epoch=user.session_epoch, purpose=purpose, csrf=secrets.token_urlsafe(32),
        issued=int(dt.datetime.now(dt.UTC).timestamp()),
    )


def create_app(engine: Engine, *, secret: str | None = None, as_of_date: dt.date | None = None,
               secure_cookies: bool | None = None) -> FastAPI:
    """The app on ``engine``. ``secret`` defaults to IOM_SECRET_KEY (see security.settings);
    ``as_of_date`` freezes the reference date (default: it follows the data, see ``as_of``)."""
    app = FastAPI(
        title="IOM API",
        version="1",
        description="Integrated Offender Management. Every person read or write is audited.",
        docs_url=None,
        redoc_url=None,
        openapi_url="/api/v1/openapi.json",
    )
    app.state.engine = engine
    # The audit log gets a pool of its own: a request holds a pooled connection while it
    # appends, so sharing one pool could exhaust it under load and deadlock.
    app.state.audit_engine = make_engine(engine.url.render_as_string(hide_password=False))
    app.state.throttle = users.LoginThrottle()
    app.state.views = Views()
    app.state.fixed_as_of = as_of_date
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or secret_key(),
        session_cookie="iom_session",
        max_age=SESSION_HOURS * 3600,
        same_site="strict",
        https_only=(not is_development()) if secure_cookies is None else secure_cookies,
    )
    app.add_middleware(SecurityMiddleware)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return problem(401, "Unauthorized", "sign in first (POST /api/v1/session)", instance=request.url.path)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        return _error(request, 403, "Forbidden", "missing or wrong CSRF token: reload the page and try again")

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "Not Found", str(exc))

    @app.exception_handler(users.LoginRefused)
    async def _refused(request: Request, exc: users.LoginRefused) -> Response:
        return _error(request, 401, "Unauthorized", str(exc))

    @app.exception_handler(UserError)
    async def _user_error(request: Request, exc: UserError) -> Response:
        return _error(request, 400, "Bad Request", str(exc))

    @app.exception_handler(PermissionError)
    async def _forbidden(request: Request, exc: PermissionError) -> Response:
        return _error(request, 403, "Forbidden", str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()))
            parts.append(f"{where}: {err.get('msg', 'invalid')}")
        return _error(request, 422, "Unprocessable Content", "; ".join(parts) or "invalid request")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not Found", 405: "Method Not Allowed", 401: "Unauthorized", 403: "Forbidden"}
        return _error(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail) if exc.detail else None)

    from iom.web import api, routes

    app.include_router(api.router)
    app.include_router(routes.router)
    return app
