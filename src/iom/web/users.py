"""User management for administrators: add, change role, LOMU and officer, deactivate,
reset a password. Every change is audited; a new or reset password is shown once, never sent
or stored in clear."""

from __future__ import annotations

import secrets
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse

from iom.errors import UserError
from iom.http.deps import CSRF, DB, CurrentUser, purpose_of
from iom.http.pages import render
from iom.http.schemas import Text
from iom.security import audit
from iom.security import service as users
from iom.security.models import ROLES
from iom.security.roles import LABELS, Principal

pages = APIRouter(include_in_schema=False)
ACTIONS = ("deactivate", "activate", "reset-password", "update")


def _require(user: Principal) -> None:
    if not user.can("manage_users"):
        raise PermissionError("only administrators manage users")


def _page(request: Request, db, user: Principal, *, shown: tuple[str, str] | None = None, errors=(), status_code=200,
          form: dict | None = None) -> HTMLResponse:
    lomus = users.lomu_codes(db)
    return render(request, "users.html", user, status_code=status_code, people=users.list_users(db), roles=ROLES,
                  labels=LABELS, lomus=lomus, shown=shown, errors=list(errors), form=form or {})


def _log(request: Request, user: Principal, action: str, **detail) -> None:
    audit.record(request.app.state.audit_engine, actor=user, action=action, resource="user", purpose=purpose_of(request),
                 detail={"via": "page", **detail})


@pages.get("/admin/users")
def users_page(request: Request, db: DB, user: CurrentUser) -> HTMLResponse:
    _require(user)
    _log(request, user, "search")
    return _page(request, db, user)


@pages.post("/admin/users", dependencies=CSRF)
def add_user(request: Request, db: DB, user: CurrentUser,
             username: Annotated[Text, Form(max_length=64)] = "", role: Annotated[Text, Form(max_length=24)] = "",
             lomu: Annotated[Text, Form(max_length=8)] = "", officer: Annotated[Text, Form(max_length=80)] = "") -> HTMLResponse:
    """Adds the user with a random first password, shown once on the page that follows."""
    _require(user)
    form = {"username": username, "role": role, "lomu": lomu, "officer": officer}
    password = secrets.token_urlsafe(12)
    fields = dict(username=username, password=password, role=role, lomu_code=lomu or None, officer=officer or None)
    try:
        users.check_new_user(db, **fields)
    except UserError as exc:
        return _page(request, db, user, errors=[("username", str(exc))], status_code=400, form=form)
    # The audit row first (committed, fail closed), then the write: no write lock is held while
    # the audit chain is appended.
    _log(request, user, "write", change="add", username=username.strip(), role=role, lomu=lomu or None,
         officer=officer or None)
    added = users.add_user(db, **fields)
    return _page(request, db, user, shown=(added.username, password))


@pages.post("/admin/users/{username}/{action}", dependencies=CSRF)
def change_user(request: Request, db: DB, user: CurrentUser, username: str, action: str,
                role: Annotated[Text, Form(max_length=24)] = "", lomu: Annotated[Text, Form(max_length=8)] = "",
                officer: Annotated[Text, Form(max_length=80)] = "") -> HTMLResponse:
    _require(user)
    if action not in ACTIONS:
        raise UserError(f"no action {action!r}: one of {', '.join(ACTIONS)}")
    if username == user.username and action in ("deactivate", "update"):
        raise UserError("you cannot deactivate or change your own account: ask another administrator")
    # Checked, then audited (committed), then written: see ``add_user``.
    shown = None
    if action == "update":
        users.check_update(db, username=username, role=role, lomu_code=lomu, officer=officer)
        _log(request, user, "write", change="update", username=username, role=role, lomu=lomu or None,
             officer=officer or None)
        users.update_user(db, username=username, role=role, lomu_code=lomu, officer=officer)
    else:
        users.get_user(db, username)
        _log(request, user, "write", change=action.replace("-", " "), username=username)
        if action == "reset-password":
            shown = (username, users.reset_password(db, username=username))
        else:
            users.set_active(db, username=username, active=action == "activate")
    return _page(request, db, user, shown=shown)
