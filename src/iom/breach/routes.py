"""Breach pages (the queue; the person page's Breaches tab forms) and API, over ``views`` and
``flows``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from iom.breach import flows, views
from iom.breach.schemas import MAX_DETAILS, BreachIn, BreachOut, OutcomeIn, Queue
from iom.casefile.deps import AccessDep
from iom.casefile.routes import page_person_id, render_person
from iom.edge import field_refusal, form_date
from iom.errors import Conflict, FieldError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, PersonId, Text

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)

BreachId = Annotated[int, Path(ge=1, le=MAX_ID, description="Breach id")]
Lomu = Annotated[str | None, Query(max_length=8, description="Only breaches of people this LOMU manages")]


@pages.get("/breaches")
def queue_page(request: Request, access: AccessDep, lomu: Lomu = None) -> HTMLResponse:
    """The central team's queue: open breaches, oldest first."""
    found = views.queue(access, lomu=lomu or None)
    return render(request, "breach/queue.html", access.user, found=found)


def _again(request: Request, access, person_id: int, exc: Exception, field: str, drafts: dict,
           status_code: int) -> HTMLResponse:
    return render_person(request, access, person_id, tab="breaches", errors=[(field, str(exc))], drafts=drafts,
                         status_code=status_code)


_FIELDS = {"kind": "breach-kind", "order_name": "breach-order", "nature": "breach-nature", "action": "breach-action",
           "details": "breach-details", "breached_on": "breach-on", "outcome": "outcome-choice"}


@pages.post("/people/{person_id}/breaches", dependencies=CSRF)
def record_page(request: Request, access: AccessDep, person_id: int,
                kind: Annotated[Text, Form(max_length=16)] = "",
                order_name: Annotated[Text, Form(max_length=120)] = "",
                breached_on: Annotated[Text, Form(max_length=32)] = "",
                nature: Annotated[Text, Form(max_length=32)] = "",
                action: Annotated[Text, Form(max_length=16)] = "",
                details: Annotated[Text, Form(max_length=MAX_DETAILS)] = "") -> Response:
    person_id = page_person_id(person_id)
    typed = {"kind": kind, "order_name": order_name, "breached_on": breached_on, "nature": nature, "action": action,
             "details": details}
    try:
        on = form_date(breached_on, field="breach-on", what="the breach's date", required=True)
        body = BreachIn(kind=kind, order_name=order_name, breached_on=on, nature=nature, action=action,
                        details=details or None)
        flows.record_breach(access, person_id=person_id, body=body)
    except ValidationError as exc:
        refused = field_refusal(exc.errors(), _FIELDS, "breach")
        return _again(request, access, person_id, refused, refused.field, typed, 400)
    except FieldError as exc:
        return _again(request, access, person_id, exc, exc.field or "breach", typed, 400)
    return RedirectResponse(f"/people/{person_id}?tab=breaches#breach-history", status_code=303)


@pages.post("/people/{person_id}/breaches/{breach_id}/outcome", dependencies=CSRF)
def outcome_page(request: Request, access: AccessDep, person_id: int, breach_id: int,
                 outcome: Annotated[Text, Form(max_length=32)] = "",
                 outcome_on: Annotated[Text, Form(max_length=32)] = "",
                 custody_until: Annotated[Text, Form(max_length=32)] = "",
                 version: Annotated[int, Form(ge=1, le=MAX_ID)] = 1) -> Response:
    person_id = page_person_id(person_id)
    typed = {"outcome": outcome, "outcome_on": outcome_on, "custody_until": custody_until}
    try:
        body = OutcomeIn(outcome=outcome,
                         outcome_on=form_date(outcome_on, field="outcome-on", what="the outcome's date", required=True),
                         custody_until=form_date(custody_until, field="custody-until", what="the expected release"),
                         version=version)
        flows.record_outcome(access, person_id=person_id, breach_id=min(breach_id, MAX_ID), body=body)
    except ValidationError as exc:
        refused = field_refusal(exc.errors(), _FIELDS, "outcome-choice")
        return _again(request, access, person_id, refused, refused.field, typed, 400)
    except FieldError as exc:
        return _again(request, access, person_id, exc, exc.field or "outcome-choice", typed, 400)
    except Conflict as exc:
        return _again(request, access, person_id, exc, "outcome-choice", typed, 409)
    return RedirectResponse(f"/people/{person_id}?tab=breaches#breach-history", status_code=303)


@api.get("/breaches", response_model=Queue, summary="Open breaches in my scope, oldest first (audited)")
def queue(access: AccessDep, lomu: Lomu = None) -> Queue:
    return views.queue(access, lomu=lomu)


@api.post("/people/{person_id}/breaches", response_model=BreachOut, status_code=201, dependencies=CSRF,
          summary="Record a breach of an order or licence (needs X-CSRF-Token)")
def record(access: AccessDep, person_id: PersonId, body: BreachIn) -> BreachOut:
    return flows.record_breach(access, person_id=person_id, body=body)


@api.post("/people/{person_id}/breaches/{breach_id}/outcome", response_model=BreachOut, dependencies=CSRF,
          summary="Record a breach's outcome (409 if someone else did first; needs X-CSRF-Token)")
def outcome(access: AccessDep, person_id: PersonId, breach_id: BreachId, body: OutcomeIn) -> BreachOut:
    return flows.record_outcome(access, person_id=person_id, breach_id=breach_id, body=body)
