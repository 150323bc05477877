"""The shell: the FastAPI application with sessions, security headers and problem-details
errors, and every domain's routers (``Domain.routers``). Nothing here names a domain.

``create_app(engine)`` builds one app per database; ``iom serve`` runs it under uvicorn."""

from __future__ import annotations

import datetime as dt
import json
import logging
import mimetypes
from contextlib import asynccontextmanager
from pathlib import Path

import anyio.to_thread
from sqlalchemy.exc import TimeoutError as PoolTimeout

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.engine import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from iom.config import Settings

from iom.db import PoolSizes, make_engine, max_connections, pool_sizes
from iom.edge import plain_error
from iom.errors import Conflict, NotFound, Unavailable, UserError
from iom.http.deps import SESSION_HOURS, CsrfError, NotAuthenticated, csrf_token
from iom.http.drafts import Drafts
from iom.http.pages import templates
from iom.plugins import contributions, resolve
from iom.register.views import Views
from iom.security import service as users
from iom.security.settings import is_development, secret_key
from iom.web.gate import PasswordGate
from iom.web.models import KeptDraft
from iom.web.throttle import Limits, LoginThrottle

log = logging.getLogger(__name__)
HERE = Path(__file__).parent

SECURITY_HEADERS = [
    (b"content-security-policy",
     b"default-src 'none'; style-src 'self'; img-src 'self'; font-src 'self'; form-action 'self'; "
     b"frame-ancestors 'none'; base-uri 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"permissions-policy", b"camera=(), microphone=(), geolocation=()"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


async def _send_problem(send: Send, status: int, title: str, detail: str) -> None:
    """A bare problem-details response, written below the framework (the middleware's own
    refusals and the last-resort 500); ``send`` adds the security headers."""
    body = json.dumps({"type": "about:blank", "title": title, "status": status, "detail": detail}).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/problem+json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


#: Served only over HTTPS (outside development): browsers refuse plain HTTP for a year.
HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")


def _relative(location: bytes, scope: Scope) -> bytes:
    """A redirect to this app's own origin as a path (Starlette's trailing-slash redirect is
    absolute, built on the request's ``Host``): never a name a client sent."""
    host = next((value for name, value in scope.get("headers", []) if name == b"host"), b"")
    for scheme in (b"http://", b"https://"):
        origin = scheme + host
        if host and location.startswith(origin) and location[len(origin):len(origin) + 1] in (b"/", b"?", b""):
            return location[len(origin):] or b"/"
    return location


class SecurityMiddleware:
    """Adds security headers (and HSTS where the app is served over HTTPS) and ``no-store`` to
    every response; makes redirects to the app itself relative; turns any unhandled error into
    a bare 500 (problem details for the API), so no stack trace ever reaches a client."""

    def __init__(self, app: ASGIApp, *, https: bool = False) -> None:
        self.app = app
        self.headers = [*SECURITY_HEADERS, HSTS] if https else list(SECURITY_HEADERS)

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
                headers = [(k, _relative(v, scope) if k.lower() == b"location" else v)
                           for k, v in message.get("headers", []) if k.lower() not in {k for k, _ in self.headers}]
                headers.extend(self.headers)
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




def problem(status: int, title: str, detail: str | None = None, *, instance: str | None = None, headers: dict | None = None,
            extra: dict | None = None) -> JSONResponse:
    content = {"type": "about:blank", "title": title, "status": status, **(extra or {})}
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
    return templates().TemplateResponse(
        request, "error.html", {"status": status, "title": title, "detail": detail, "user": user, "csrf": csrf_token(request)},
        status_code=status,
    )


def _busy(request: Request, detail: str, retry_after: int) -> Response:
    """503 with ``Retry-After``: saturation is answered, never left to time out or fail."""
    response = _error(request, 503, "Service Unavailable", detail)
    response.headers["retry-after"] = str(retry_after)
    return response


def app_from_environment() -> FastAPI:
    """One worker's app, built from the environment alone (``IOM_DATABASE_URL``,
    ``IOM_WEB_WORKERS``, ``IOM_SECRET_KEY``): what each process of `iom serve --workers N` runs,
    so any worker can serve any request."""
    settings = Settings()
    probe = make_engine(settings.database_url, pool=(1, 0))
    try:
        sizes = pool_sizes(workers=settings.web_workers, limit=max_connections(probe))
    finally:
        probe.dispose()
    engine = make_engine(settings.database_url, pool=(sizes.requests, 0), pool_timeout=10)
    return create_app(engine, settings=settings, pools=sizes)


def create_app(engine: Engine, *, secret: str | None = None, as_of_date: dt.date | None = None,
               secure_cookies: bool | None = None, settings: Settings | None = None,
               pools: PoolSizes | None = None) -> FastAPI:
    """The app on ``engine``. ``secret`` defaults to IOM_SECRET_KEY (see security.settings);
    ``as_of_date`` freezes the reference date (default: it follows the data, see ``as_of``);
    ``settings`` (default: the environment's) gives the allowed hosts, trusted proxies, the
    sign-in throttle's limits and the worker count; ``pools`` the connection budget (default:
    ``iom.db.pool_sizes`` for that worker count and the database's ``max_connections``)."""
    settings = settings or Settings()
    pools = pools or pool_sizes(workers=settings.web_workers, limit=max_connections(engine))

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        # No more request threads than request connections: a request beyond them waits for a
        # thread (cheaply, in the event loop) rather than holding one while it waits for a
        # connection, and the pool is never exhausted by the threads alone.
        anyio.to_thread.current_default_thread_limiter().total_tokens = pools.requests
        yield

    app = FastAPI(
        lifespan=lifespan,
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
    app.state.audit_engine = make_engine(engine.url.render_as_string(hide_password=False), pool=(pools.audit, 0),
                                         pool_timeout=10)
    app.state.pools = pools
    app.state.throttle = LoginThrottle(app.state.audit_engine, Limits.from_settings(settings))
    app.state.password_gate = PasswordGate.from_settings(settings)
    app.state.views = Views()
    app.state.drafts = Drafts(engine=app.state.audit_engine, table=KeptDraft.__table__)
    app.state.fixed_as_of = as_of_date
    https = (not is_development()) if secure_cookies is None else secure_cookies
    app.add_middleware(
        SessionMiddleware,
        secret_key=secret or secret_key(),
        session_cookie="iom_session",
        # The cookie outlives the session (checked against "issued"), so a form sent after the
        # session ended still says whose it was, and its draft is kept for them alone.
        max_age=2 * SESSION_HOURS * 3600,
        same_site="strict",
        https_only=https,
    )
    # Outermost first: headers on every answer; then the Host check, before anything reads it;
    # then a trusted proxy's client address (none unless IOM_TRUSTED_PROXIES names one).
    if settings.trusted_proxies:
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.trusted_proxies)
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.allowed_hosts, www_redirect=False)
    app.add_middleware(SecurityMiddleware, https=https)
    # static/vendor/ holds GOV.UK Frontend's CSS, fonts and images (copied by `make install`).
    # Python 3.11 knows .woff2 only from the host's /etc/mime.types: name it here.
    mimetypes.add_type("font/woff2", ".woff2")
    mimetypes.add_type("font/woff", ".woff")
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.exception_handler(NotAuthenticated)
    async def _unauthenticated(request: Request, exc: NotAuthenticated) -> Response:
        if _is_api(request):
            return problem(401, "Unauthorized", "sign in first (POST /api/v1/session)", instance=request.url.path)
        await app.state.drafts.keep(request)
        return RedirectResponse("/login", status_code=303)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError) -> Response:
        if not _is_api(request) and "uid" not in request.session and request.url.path != "/login":
            # The session ended (its cookie with it): sign in again, and keep what was typed.
            await app.state.drafts.keep(request)
            return RedirectResponse("/login", status_code=303)
        return _error(request, 403, "Forbidden", "missing or wrong CSRF token: reload the page and try again")

    @app.exception_handler(NotFound)
    async def _not_found(request: Request, exc: NotFound) -> Response:
        return _error(request, 404, "Not Found", str(exc))

    @app.exception_handler(Conflict)
    async def _conflict(request: Request, exc: Conflict) -> Response:
        if _is_api(request) and exc.current is not None:
            # RFC 9457 extension member: the record as it now stands, so the client loses nothing.
            return problem(409, "Conflict", str(exc), instance=request.url.path, extra={"current": exc.current})
        return _error(request, 409, "Conflict", str(exc))

    @app.exception_handler(Unavailable)
    async def _unavailable(request: Request, exc: Unavailable) -> Response:
        return _busy(request, str(exc), exc.retry_after)

    @app.exception_handler(PoolTimeout)
    async def _no_connection(request: Request, exc: PoolTimeout) -> Response:
        log.warning("no database connection free for %s within the pool timeout", request.url.path)
        return _busy(request, "the server is busy: try again in a few seconds", 2)

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
        parts = [plain_error(err) for err in exc.errors()[:5]]
        return _error(request, 422, "Unprocessable Content", "; ".join(parts) or "the request could not be read")

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        titles = {404: "Not Found", 405: "Method Not Allowed", 401: "Unauthorized", 403: "Forbidden"}
        return _error(request, exc.status_code, titles.get(exc.status_code, "Error"), str(exc.detail) if exc.detail else None)

    for target in contributions("routers"):
        router = resolve(target)
        app.include_router(router if isinstance(router, APIRouter) else router())
    return app
