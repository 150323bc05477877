"""Request dependencies: one unit of work, the signed-in user, purpose, date and CSRF."""

from __future__ import annotations

import datetime as dt
import hmac
import secrets
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, FastAPI, Request
from sqlalchemy.orm import Session

from iom.db import session_scope
from iom.http.drafts import CARRIED
from iom.register.service import reference_date
from iom.security import service as users
from iom.security.roles import Principal

SESSION_HOURS = 8
PURPOSES = ("case management", "supervision and approval", "MAPPA review", "statistical analysis", "audit review")


class NotAuthenticated(Exception):
    """No valid session: pages redirect to the login form, the API answers 401."""


class CsrfError(Exception):
    """A state-changing request without the session's CSRF token."""


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


CSRF = [Depends(require_csrf)]


def get_db(request: Request) -> Iterator[Session]:
    """One unit of work per request: committed when the handler returns."""
    with session_scope(request.app.state.engine) as session:
        request.state.db = session  # the request's own, for look-ups made on its behalf
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
        request.state.ended_uid = user_id  # whose work a kept draft is (``iom.http.drafts``)
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


def current_as_of(app: FastAPI, session: Session | None = None) -> dt.date:
    """The app's reference date: the one it was built with (tests, a review frozen on a date),
    else ``iom.register.service.reference_date``. Kept per register version and calendar day,
    so a long-running server moves on with imports and with the date, and pays the look-up
    once per change rather than per request. Read through ``session`` when given (a request's
    own: a second pooled connection per request could exhaust the pool)."""
    if app.state.fixed_as_of is not None:
        return app.state.fixed_as_of
    if session is not None:
        return app.state.views.get(session, ("reference date", dt.date.today()), lambda: reference_date(session))
    with session_scope(app.state.engine) as own:
        return app.state.views.get(own, ("reference date", dt.date.today()), lambda: reference_date(own))


def as_of(request: Request) -> dt.date:
    """This request's reference date, looked up once per request."""
    if getattr(request.state, "as_of", None) is None:
        request.state.as_of = current_as_of(request.app, getattr(request.state, "db", None))
    return request.state.as_of


def via(request: Request) -> str:
    return "api" if request.url.path.startswith("/api/") else "page"


def start_session(request: Request, user: Principal, purpose: str) -> None:
    """A fresh session (a new CSRF token), keeping only where to return and a kept draft."""
    carried = {key: request.session[key] for key in CARRIED if key in request.session}
    request.session.clear()
    request.session.update(carried)
    request.session.update(
        uid=user.user_id, epoch=user.session_epoch, purpose=purpose, csrf=secrets.token_urlsafe(32),
        issued=int(dt.datetime.now(dt.UTC).timestamp()),
    )
