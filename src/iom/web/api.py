"""The shell's API: sign in, sign out, who am I. Errors are RFC 9457 problems."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from iom.http.deps import CSRF, DB, CurrentUser, as_of, csrf_token
from iom.http.schemas import PROBLEMS, Text
from iom.security.roles import Principal
from iom.web.routes import sign_in as start
from iom.web.routes import sign_out as end

router = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)


class LoginIn(BaseModel):
    username: Text = Field(min_length=1, max_length=64)
    password: Text = Field(min_length=1, max_length=256)
    purpose: Text = Field(default="case management", min_length=3, max_length=200)


class Me(BaseModel):
    username: str
    role: str
    lomu_code: str | None
    purpose: str
    csrf_token: str
    as_of: dt.date


def _me(request: Request, user: Principal) -> Me:
    return Me(username=user.username, role=user.role, lomu_code=user.lomu_code,
              purpose=request.session.get("purpose", "unstated"), csrf_token=csrf_token(request), as_of=as_of(request))


@router.post("/session", response_model=Me, summary="Sign in (sets the session cookie)")
async def sign_in(request: Request, body: LoginIn, db: DB) -> Me:
    user = await start(request, db, username=body.username, password=body.password, purpose=body.purpose)
    return _me(request, user)


@router.delete("/session", status_code=204, dependencies=CSRF, summary="Sign out")
def sign_out(request: Request, db: DB, user: CurrentUser) -> Response:
    end(request, db, user)
    return Response(status_code=204)


@router.get("/me", response_model=Me, summary="Who is signed in, and the CSRF token for writes")
def me(request: Request, user: CurrentUser) -> Me:
    return _me(request, user)
