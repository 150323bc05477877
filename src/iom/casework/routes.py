"""Casework pages (the person page's "Case plan" tab and its forms, the overdue list) and the
JSON API. Thin: every change goes through ``iom.casework.flows``."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from iom.casefile.deps import AccessDep
from iom.casefile.routes import page_person_id, render_person
from iom.casework import flows, schemas, views
from iom.casework.pathways import pathways
from iom.edge import form_date, plain_errors
from iom.errors import Conflict, FieldError, UserError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import PROBLEMS, PageNo, PersonId

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)
TAB = "casework"
PER_PAGE = 50


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str)}


def _submit(request: Request, access, person_id: int, form: dict[str, str], *, field: str, anchor: str,
            write: Callable[[], object]) -> Response:
    """Run the write; on a refusal show the tab again with what was typed and what to put
    right (``field``: where an error without a field of its own is shown). A stale write
    (409) shows the record as it now stands, the other person's change, beside the kept form."""
    try:
        write()
    except (ValidationError, UserError) as exc:
        if isinstance(exc, ValidationError):
            exc = FieldError(plain_errors(exc.errors(), limit=1), field=field)
        return render_person(request, access, person_id, tab=TAB, errors=[(getattr(exc, "field", field), str(exc))],
                             drafts=form, status_code=409 if isinstance(exc, Conflict) else 400)
    return RedirectResponse(f"/people/{person_id}?tab={TAB}#{anchor}", status_code=303)


@pages.post("/people/{person_id}/needs", dependencies=CSRF)
async def assess_needs_page(request: Request, access: AccessDep, person_id: int) -> Response:
    pid, form = page_person_id(person_id), await _form(request)

    def write():
        ratings = [schemas.NeedIn(pathway=p.code, level=form[f"level-{p.code}"], notes=form.get(f"notes-{p.code}") or None)
                   for p in pathways().pathway if form.get(f"level-{p.code}")]
        if not ratings:
            raise FieldError("rate at least one pathway", field="needs")
        based_on = int(form["based_on"]) if form.get("based_on", "").isdigit() else None
        flows.assess_needs(access, person_id=pid, body=schemas.NeedsAssessmentIn(
            ratings=ratings, assessed_on=form_date(form.get("assessed_on", ""), field="assessed-on"), based_on=based_on))

    return _submit(request, access, pid, form, field="needs", anchor="needs", write=write)


@pages.post("/people/{person_id}/plan", dependencies=CSRF)
async def add_action_page(request: Request, access: AccessDep, person_id: int) -> Response:
    pid, form = page_person_id(person_id), await _form(request)

    def write():
        due = form_date(form.get("due_on", ""), field="action-due-on")
        if due is None:
            raise FieldError("give the date the action is due", field="action-due-on")
        flows.add_action(access, person_id=pid, body=schemas.ActionIn(
            kind=form.get("kind", ""), pathway=form.get("pathway", ""), description=form.get("description", ""),
            due_on=due, owner=form.get("owner") or None))

    return _submit(request, access, pid, form, field="action-description", anchor="plan", write=write)


@pages.post("/people/{person_id}/plan/{action_id}", dependencies=CSRF)
async def change_action_page(request: Request, access: AccessDep, person_id: int, action_id: int) -> Response:
    pid, form = page_person_id(person_id), await _form(request)

    def write():
        flows.change_action(access, person_id=pid, action_id=action_id, change=schemas.ActionChange(
            version=int(form.get("version") or 0) or 1, status=form.get("status") or None,
            outcome=form.get("outcome") or None, due_on=form_date(form.get("due_on", ""), field=f"action-{action_id}-due-on")))

    return _submit(request, access, pid, {**form, "editing": str(action_id)}, field=f"action-{action_id}-status",
                   anchor=f"action-{action_id}", write=write)


@pages.post("/people/{person_id}/reviews", dependencies=CSRF)
async def review_page(request: Request, access: AccessDep, person_id: int) -> Response:
    pid, form = page_person_id(person_id), await _form(request)

    def write():
        flows.record_review(access, person_id=pid, body=schemas.ReviewIn(
            level=form.get("level", ""), outcome=form.get("outcome") or None,
            reviewed_on=form_date(form.get("reviewed_on", ""), field="reviewed-on"), notes=form.get("notes") or None))

    return _submit(request, access, pid, form, field="review-level", anchor="reviews", write=write)


@pages.post("/people/{person_id}/membership", dependencies=CSRF)
async def membership_page(request: Request, access: AccessDep, person_id: int) -> Response:
    """Adopt into a cohort, or exit (a supervisor's decision)."""
    pid, form = page_person_id(person_id), await _form(request)

    def write():
        _change_membership(access, pid, schemas.MembershipIn(change=form.get("change", ""), cohort=form.get("cohort") or None,
                                                             reason=form.get("reason", "")))

    return _submit(request, access, pid, form, field="reason", anchor="membership", write=write)


def _change_membership(access, person_id: int, body: schemas.MembershipIn) -> int:
    if body.change == "adopt":
        if not body.cohort:
            raise FieldError("choose the cohort to adopt into", field="cohort")
        return flows.adopt(access, person_id=person_id, classification=body.cohort, reason=body.reason, on=body.on)
    return flows.exit_cohort(access, person_id=person_id, reason=body.reason, on=body.on, classification=body.cohort)


@pages.get("/casework/overdue")
def overdue_page(request: Request, access: AccessDep, lomu: Annotated[str | None, Query(max_length=8)] = None,
                 page: PageNo = 1) -> HTMLResponse:
    found = views.overdue(access, lomu=lomu or None)
    total_pages = max(1, -(-len(found) // PER_PAGE))
    return render(request, "casework/overdue.html", access.user, rows=found[(page - 1) * PER_PAGE: page * PER_PAGE],
                  total=len(found), page=page, pages=total_pages, lomu=lomu or "")


# --- API ------------------------------------------------------------------------------------------

@api.get("/people/{person_id}/casework", response_model=schemas.Casework, summary="Needs, plan and reviews (audited)")
def casework(access: AccessDep, person_id: PersonId) -> schemas.Casework:
    return views.casework(access, person_id=person_id)


@api.post("/people/{person_id}/needs", response_model=schemas.NeedsAssessment, status_code=201, dependencies=CSRF,
          summary="Record a needs assessment (audited; 409 if another was recorded since based_on)")
def assess_needs(access: AccessDep, person_id: PersonId, body: schemas.NeedsAssessmentIn) -> schemas.NeedsAssessment:
    return flows.assess_needs(access, person_id=person_id, body=body)


@api.post("/people/{person_id}/plan/actions", response_model=schemas.Action, status_code=201, dependencies=CSRF,
          summary="Add a Control or Change action (audited)")
def add_action(access: AccessDep, person_id: PersonId, body: schemas.ActionIn) -> schemas.Action:
    return flows.add_action(access, person_id=person_id, body=body)


@api.patch("/people/{person_id}/plan/actions/{action_id}", response_model=schemas.Action, dependencies=CSRF,
           summary="Change an action (audited; 409 with the current version if `version` is stale)")
def change_action(access: AccessDep, person_id: PersonId, action_id: PersonId, body: schemas.ActionChange) -> schemas.Action:
    return flows.change_action(access, person_id=person_id, action_id=action_id, change=body)


@api.post("/people/{person_id}/reviews", response_model=schemas.Review, status_code=201, dependencies=CSRF,
          summary="Record a risk review (audited)")
def add_review(access: AccessDep, person_id: PersonId, body: schemas.ReviewIn) -> schemas.Review:
    return flows.record_review(access, person_id=person_id, body=body)


@api.get("/casework/overdue", response_model=list[schemas.OverdueAction], summary="Overdue plan actions in scope (audited)")
def overdue(access: AccessDep, lomu: Annotated[str | None, Query(max_length=8)] = None) -> list[schemas.OverdueAction]:
    return views.overdue(access, lomu=lomu)


@api.post("/people/{person_id}/memberships", status_code=201, dependencies=CSRF,
          summary="Adopt into a cohort or exit (a supervisor's; audited)")
def change_membership(access: AccessDep, person_id: PersonId, body: schemas.MembershipIn) -> dict:
    changed = _change_membership(access, person_id, body)
    return {"change": body.change, "memberships": changed if body.change == "exit" else 1}
