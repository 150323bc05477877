"""MAPPA pages (the panels due list; the person page's MAPPA tab forms) and API, over
``views`` and ``flows``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.casefile.deps import AccessDep
from iom.casefile.routes import page_person_id, render_person
from iom.edge import form_date
from iom.errors import Conflict, FieldError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, PersonId, Text
from iom.mappa import flows, views
from iom.mappa.schemas import (CATEGORY_NAMES, LEVEL_NAMES, MAX_REASON, DueList, EndIn, MappaPart, MappaRecordOut,
                               PanelIn, PanelOut, RecordIn)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)

Level = Annotated[int | None, Query(ge=2, le=3, description="Only level 2 or level 3 cases")]
Lomu = Annotated[str | None, Query(max_length=8, description="Only cases this LOMU manages or covers")]


@pages.get("/mappa/due")
def due_page(request: Request, access: AccessDep, lomu: Annotated[str | None, Query(max_length=8)] = None,
             level: Annotated[str | None, Query(max_length=1)] = None) -> HTMLResponse:
    """The MAPPA panels due: overdue first, then due soon, filtered by LOMU and level."""
    chosen = int(level) if level in ("2", "3") else None
    found = views.due(access, lomu=lomu or None, level=chosen)
    return render(request, "mappa/due.html", access.user, found=found, lomus=views.lomu_codes(access),
                  lomu=found.lomu, level=chosen, categories=CATEGORY_NAMES)


def _number(text: str, field: str, what: str, choices) -> int:
    if text.strip() not in {str(c) for c in choices}:
        raise FieldError(f"choose the {what}: {', '.join(map(str, choices))}", field=field)
    return int(text)


def _again(request: Request, access, person_id: int, exc: Exception, field: str | None, drafts: dict,
           status_code: int) -> HTMLResponse:
    """The MAPPA tab again, with what was typed and what to put right."""
    return render_person(request, access, person_id, tab="mappa", errors=[(field or "mappa", str(exc))], drafts=drafts,
                         status_code=status_code)


@pages.post("/people/{person_id}/mappa/panels", dependencies=CSRF)
def record_panel_page(request: Request, access: AccessDep, person_id: int,
                      held_on: Annotated[Text, Form(max_length=32)] = "",
                      chair: Annotated[Text, Form(max_length=80)] = "",
                      outcome: Annotated[Text, Form(max_length=MAX_REASON)] = "") -> Response:
    person_id = page_person_id(person_id)
    try:
        flows.record_panel(access, person_id=person_id,
                           held_on=form_date(held_on, field="panel-held-on", what="the panel's date", required=True),
                           chair=chair or None, outcome=outcome or None)
    except FieldError as exc:
        return _again(request, access, person_id, exc, exc.field,
                      {"held_on": held_on, "chair": chair, "outcome": outcome}, 400)
    return RedirectResponse(f"/people/{person_id}?tab=mappa#mappa-panels", status_code=303)


@pages.post("/people/{person_id}/mappa/records", dependencies=CSRF)
def record_mappa_page(request: Request, access: AccessDep, person_id: int,
                      category: Annotated[Text, Form(max_length=2)] = "",
                      level: Annotated[Text, Form(max_length=2)] = "",
                      chairing_agency: Annotated[Text, Form(max_length=40)] = "",
                      visor_id: Annotated[Text, Form(max_length=24)] = "",
                      partnering_officer: Annotated[Text, Form(max_length=80)] = "",
                      reason: Annotated[Text, Form(max_length=MAX_REASON)] = "",
                      based_on: Annotated[int, Form(ge=0, le=MAX_ID)] = 0) -> Response:
    person_id = page_person_id(person_id)
    typed = {"category": category, "level": level, "chairing_agency": chairing_agency, "visor_id": visor_id,
             "partnering_officer": partnering_officer, "reason": reason}
    try:
        flows.record_mappa(access, person_id=person_id,
                           category=_number(category, "record-category", "category", CATEGORY_NAMES),
                           level=_number(level, "record-level", "level", LEVEL_NAMES), reason=reason,
                           chairing_agency=chairing_agency or None, visor_id=visor_id or None,
                           partnering_officer=partnering_officer or None, based_on=based_on)
    except FieldError as exc:
        return _again(request, access, person_id, exc, exc.field, typed, 400)
    except Conflict as exc:
        return _again(request, access, person_id, exc, "record-level", typed, 409)
    return RedirectResponse(f"/people/{person_id}?tab=mappa#mappa-history", status_code=303)


@pages.post("/people/{person_id}/mappa/end", dependencies=CSRF)
def end_mappa_page(request: Request, access: AccessDep, person_id: int,
                   ended_on: Annotated[Text, Form(max_length=32)] = "",
                   end_reason: Annotated[Text, Form(max_length=MAX_REASON)] = "") -> Response:
    person_id = page_person_id(person_id)
    try:
        flows.end_mappa(access, person_id=person_id,
                        ended_on=form_date(ended_on, field="end-on", what="the end date", required=True),
                        reason=end_reason)
    except FieldError as exc:
        return _again(request, access, person_id, exc, exc.field, {"ended_on": ended_on, "end_reason": end_reason}, 400)
    return RedirectResponse(f"/people/{person_id}?tab=mappa#mappa-history", status_code=303)


@api.get("/mappa/due", response_model=DueList, summary="MAPPA panels overdue or due soon in my scope (specialists)")
def due(access: AccessDep, lomu: Lomu = None, level: Level = None) -> DueList:
    return views.due(access, lomu=lomu, level=level)


@api.get("/people/{person_id}/mappa", response_model=MappaPart,
         summary="A person's MAPPA history, panels and next panel (specialists; audited)")
def person_mappa(access: AccessDep, person_id: PersonId) -> MappaPart:
    return views.person_mappa(access, person_id)


@api.post("/people/{person_id}/mappa/records", response_model=MappaRecordOut, status_code=201, dependencies=CSRF,
          summary="Record a MAPPA category and level (specialists; needs X-CSRF-Token)")
def record_mappa(access: AccessDep, person_id: PersonId, body: RecordIn) -> MappaRecordOut:
    return flows.record_mappa(access, person_id=person_id, category=body.category, level=body.level, reason=body.reason,
                              chairing_agency=body.chairing_agency, visor_id=body.visor_id,
                              partnering_officer=body.partnering_officer, effective_from=body.effective_from,
                              based_on=body.based_on)


@api.post("/people/{person_id}/mappa/panels", response_model=PanelOut, status_code=201, dependencies=CSRF,
          summary="Record a MAPPA panel held at level 2 or 3 (specialists; needs X-CSRF-Token)")
def record_panel(access: AccessDep, person_id: PersonId, body: PanelIn) -> PanelOut:
    return flows.record_panel(access, person_id=person_id, held_on=body.held_on, chair=body.chair, outcome=body.outcome)


@api.post("/people/{person_id}/mappa/end", response_model=MappaRecordOut, status_code=201, dependencies=CSRF,
          summary="End a person's MAPPA management (specialists; needs X-CSRF-Token)")
def end_mappa(access: AccessDep, person_id: PersonId, body: EndIn) -> MappaRecordOut:
    return flows.end_mappa(access, person_id=person_id, ended_on=body.ended_on, reason=body.reason)
