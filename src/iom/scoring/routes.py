"""Selection review and overrides: pages and API, over ``views`` and ``flows``."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from iom.casefile.deps import AccessDep
from iom.errors import NotFound
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, Text
from iom.scoring import flows, views
from iom.scoring.schemas import OverrideOut

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)
#: The end date an override form offers: about a quarter.
DEFAULT_DAYS = 91


class OverrideIn(BaseModel):
    person_id: int = Field(ge=1, le=MAX_ID)
    include: bool
    reason: Text = Field(min_length=1, max_length=2000)
    until: dt.date


@pages.get("/selection")
def selection_index(request: Request, access: AccessDep) -> HTMLResponse:
    npus = access.npus_in_scope()
    if not npus:
        raise PermissionError("this role reviews no selection")
    return render(request, "scoring/selection_index.html", access.user, npus=npus)


@pages.get("/selection/{npu_code}")
def selection_page(request: Request, access: AccessDep, npu_code: str) -> HTMLResponse:
    found = views.selection(access, npu_code[:8])
    return render(request, "scoring/selection.html", access.user, npu=npu_code,
                  rows=found.rows if found.scores_stored else None, overrides=found.overrides,
                  default_until=access.as_of + dt.timedelta(days=DEFAULT_DAYS))


@pages.get("/selection/{npu_code}/override")
def override_form(request: Request, access: AccessDep, npu_code: str,
                  person_id: Annotated[int, Query(ge=1, le=MAX_ID)], include: bool = True) -> HTMLResponse:
    access.require("propose_override", "this role cannot override a selection")
    views.require_npu(access, npu_code)
    person = access.read_subject(person_id, **{"for": "override form"})
    return render(request, "scoring/override.html", access.user, npu=npu_code, person_id=person.id,
                  pseudo_id=person.pseudo_id, include=include,
                  default_until=access.as_of + dt.timedelta(days=DEFAULT_DAYS), error=None)


@pages.post("/selection/{npu_code}/overrides", dependencies=CSRF)
def create_override_page(
    access: AccessDep, npu_code: str,
    person_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    include: Annotated[Text, Form(pattern="^(include|exclude)$")],
    reason: Annotated[Text, Form(max_length=2000)],
    until: Annotated[dt.date, Form()],
) -> Response:
    views.require_npu(access, npu_code)
    flows.propose_override(access, person_id=person_id, include=include == "include", reason=reason, until=until)
    return RedirectResponse(f"/selection/{npu_code}#overrides", status_code=303)


@pages.post("/overrides/{override_id}/approve", dependencies=CSRF)
def approve_override_page(access: AccessDep, override_id: int, npu_code: Annotated[Text, Form(max_length=8)]) -> Response:
    if not 1 <= override_id <= MAX_ID:
        raise NotFound(f"no override #{override_id}")
    flows.approve_override(access, override_id=override_id)
    return RedirectResponse(f"/selection/{npu_code}#overrides", status_code=303)


@api.get("/selection/{npu_code}", response_model=views.Selection, summary="Ranked selection for an NPU (stored scores)")
def selection(access: AccessDep, npu_code: Annotated[str, Path(min_length=1, max_length=8)]) -> views.Selection:
    return views.selection(access, npu_code)


@api.post("/overrides", response_model=OverrideOut, status_code=201, dependencies=CSRF,
          summary="Override a selection with a reason (audited; needs X-CSRF-Token)")
def create_override(access: AccessDep, body: OverrideIn) -> OverrideOut:
    return flows.propose_override(access, person_id=body.person_id, include=body.include, reason=body.reason,
                                  until=body.until)


@api.post("/overrides/{override_id}/approve", response_model=OverrideOut, dependencies=CSRF,
          summary="Approve an override (supervisors; not your own)")
def approve_override(access: AccessDep, override_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> OverrideOut:
    return flows.approve_override(access, override_id=override_id)
