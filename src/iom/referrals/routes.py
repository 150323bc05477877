"""Referrals in the browser and the API: the provider directory, the form to refer, a
referral's page with its lifecycle, sessions and outcomes; thin over ``views`` and ``flows``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.casefile.deps import AccessDep
from iom.casefile.routes import page_person_id
from iom.casework.pathways import pathways
from iom.casework.versioning import StaleWrite
from iom.edge import parse_date
from iom.errors import FieldError, NotFound, UserError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, PageNo, PersonId, Text
from iom.referrals import flows, lifecycle, service, views
from iom.referrals.providers import Ineligible
from iom.referrals.schemas import (MAX_OUTCOME, MAX_OUTCOMES, MAX_REASON, DirectoryOut, ReferralDetail, ReferralIn,
                                   ReferralOut, ReferralPage, RevisionOut, SessionIn, TransitionIn)

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)
ReferralId = Annotated[int, Path(ge=1, le=MAX_ID, description="Referral id")]
#: The create form's field ids, by the name a refusal gives.
NEW_FIELDS = {"provider": "provider", "pathway": "pathway", "reason": "reason", "desired_outcomes": "desired-outcomes"}
ATTENDANCE = ("attended", "late", "did not attend")


def _referral_id(referral_id: int) -> int:
    if not 1 <= referral_id <= MAX_ID:
        raise NotFound(f"no referral #{referral_id}")
    return referral_id


def _errors(exc: UserError, *, fields: dict[str, str], default: str) -> list[tuple[str, str]]:
    """(field id, message) pairs for the error summary: one per broken rule for a refusal."""
    if isinstance(exc, Ineligible):
        return [(fields.get("provider", default), words) for words in exc.reasons]
    field = getattr(exc, "field", None)
    return [(fields.get(field, default) if field else default, str(exc))]


# --- pages ----------------------------------------------------------------------------------

@pages.get("/providers")
def providers_page(request: Request, access: AccessDep) -> HTMLResponse:
    access.require("read_people", "this role has no provider directory")
    return render(request, "referrals/providers.html", access.user, directory=service.directory_out(),
                  pathway_names={p.code: p.name for p in pathways().pathway})


def _new_form(request: Request, access, person, *, errors=(), drafts=None, status_code: int = 200) -> HTMLResponse:
    return render(request, "referrals/new.html", access.user, status_code=status_code, person_id=person.id,
                  pseudo_id=person.pseudo_id, person_name=f"{person.given_name} {person.family_name}",
                  directory=service.directory_out(), pathways=pathways().for_sex(person.sex), errors=list(errors),
                  drafts=drafts or {}, max_outcomes=MAX_OUTCOMES)


@pages.get("/people/{person_id}/referrals/new")
def new_referral_page(request: Request, access: AccessDep, person_id: int,
                      provider: Annotated[str, Query(max_length=40)] = "") -> HTMLResponse:
    access.require(flows.PERMISSION, "this role cannot make referrals")
    person = access.read_subject(page_person_id(person_id), resource="referral", **{"for": "referral form"})
    return _new_form(request, access, person, drafts={"provider": provider})


@pages.post("/people/{person_id}/referrals", dependencies=CSRF)
def make_referral_page(
    request: Request, access: AccessDep, person_id: int,
    provider: Annotated[Text, Form(max_length=40)] = "",
    pathway: Annotated[Text, Form(max_length=24)] = "",
    reason: Annotated[Text, Form(max_length=MAX_REASON)] = "",
    desired_outcomes: Annotated[Text, Form(max_length=MAX_OUTCOMES * (MAX_OUTCOME + 2))] = "",
    source: Annotated[Text, Form(pattern="^(plan|oocd|voluntary|marac|other)$")] = "plan",
    send: Annotated[Text, Form(max_length=3)] = "",
) -> Response:
    """Makes the referral, or shows the form again with what was typed and every reason it was refused."""
    person_id = page_person_id(person_id)
    try:
        if not provider.strip():
            raise FieldError("choose a provider", field="provider")
        if not pathway.strip():
            raise FieldError("choose the pathway the referral serves", field="pathway")
        made = flows.make_referral(access, person_id=person_id, provider=provider.strip(), pathway=pathway.strip(),
                                   reason=reason, desired_outcomes=desired_outcomes.splitlines(), source=source,
                                   send=send == "yes")
    except FieldError as exc:
        person = access.subject(person_id, attempt="referral form")
        drafts = {"provider": provider, "pathway": pathway, "reason": reason, "desired_outcomes": desired_outcomes,
                  "source": source, "send": send}
        return _new_form(request, access, person, errors=_errors(exc, fields=NEW_FIELDS, default="provider"),
                         drafts=drafts, status_code=400)
    return RedirectResponse(f"/referrals/{made.id}", status_code=303)


def _referral_page(request: Request, access, referral_id: int, *, errors=(), drafts=None, stale=None,
                   status_code: int = 200) -> HTMLResponse:
    detail = views.referral(access, referral_id)
    return render(request, "referrals/referral.html", access.user, status_code=status_code, referral=detail,
                  pathway_names={p.code: p.name for p in pathways().pathway}, errors=list(errors), drafts=drafts or {},
                  stale=stale, attendance=ATTENDANCE)


@pages.get("/referrals/{referral_id}")
def referral_page(request: Request, access: AccessDep, referral_id: int) -> HTMLResponse:
    return _referral_page(request, access, _referral_id(referral_id))


def _refused(request: Request, access, referral_id: int, exc: UserError, *, form: str, drafts: dict) -> HTMLResponse:
    """The referral page again, with what was typed kept: a stale write shows the other
    person's change (409) beside the form, now based on the version it collided with."""
    if isinstance(exc, StaleWrite):
        return _referral_page(request, access, referral_id, errors=[(f"{form}-form", str(exc))], drafts=drafts,
                              stale=exc.current, status_code=409)
    fields = {name: f"{form}-{name.replace('_', '-')}" for name in ("reason", "outcomes", "held_on", "attendance",
                                                                     "behaviour")}
    return _referral_page(request, access, referral_id, errors=_errors(exc, fields=fields, default=f"{form}-form"),
                          drafts=drafts, status_code=400)


@pages.post("/referrals/{referral_id}/transitions", dependencies=CSRF)
def change_referral_page(
    request: Request, access: AccessDep, referral_id: int,
    action: Annotated[Text, Form(pattern="^(send|accept|start|complete|end|cancel)$")],
    version: Annotated[int, Form(ge=1, le=MAX_ID)],
    reason: Annotated[Text, Form(max_length=MAX_REASON)] = "",
    outcome: Annotated[list[str], Form(max_length=MAX_OUTCOMES)] = [],  # noqa: B006 (FastAPI copies defaults)
) -> Response:
    """One lifecycle action from the referral page; ``outcome`` holds a grade per desired
    outcome, in the order the page lists them."""
    referral_id = _referral_id(referral_id)
    drafts = {f"{action}-reason": reason, **{f"{action}-outcome-{i}": g for i, g in enumerate(outcome)}}
    try:
        graded = None
        if action in ("complete", "end"):
            # The write itself is scoped and audited (flows); this only pairs grades with outcomes.
            desired = service.get_referral(access.session, referral_id).desired_outcomes or []
            graded = {d: g for d, g in zip(desired, outcome) if g}
        flows.change_status(access, referral_id=referral_id, action=action, version=version, reason=reason or None,
                            outcomes=graded)
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(request, access, referral_id, exc, form=action, drafts=drafts)
    return RedirectResponse(f"/referrals/{referral_id}", status_code=303)


@pages.post("/referrals/{referral_id}/sessions", dependencies=CSRF)
def record_session_page(
    request: Request, access: AccessDep, referral_id: int,
    version: Annotated[int, Form(ge=1, le=MAX_ID)],
    held_on: Annotated[Text, Form(max_length=32)] = "",
    attendance: Annotated[Text, Form(max_length=16)] = "",
    behaviour: Annotated[Text, Form(max_length=MAX_REASON)] = "",
) -> Response:
    referral_id = _referral_id(referral_id)
    drafts = {"session-held-on": held_on, "session-attendance": attendance, "session-behaviour": behaviour}
    try:
        try:
            day = parse_date(held_on)
        except ValueError:
            raise FieldError(f"the session's date must be a date like {access.as_of.isoformat()}"
                             + (f", not {held_on.strip()!r}" if held_on.strip() else ""), field="held_on") from None
        if attendance not in ATTENDANCE:
            raise FieldError("say whether the person attended, was late or did not attend", field="attendance")
        flows.record_session(access, referral_id=referral_id, version=version, held_on=day, attendance=attendance,
                             behaviour=behaviour or None)
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        return _refused(request, access, referral_id, exc, form="session", drafts=drafts)
    return RedirectResponse(f"/referrals/{referral_id}#sessions", status_code=303)


# --- API ------------------------------------------------------------------------------------

@api.get("/providers", response_model=DirectoryOut, summary="The provider directory, with each eligibility rule in words")
def providers(access: AccessDep) -> DirectoryOut:
    access.require("read_people", "this role has no provider directory")
    return service.directory_out()


@api.get("/people/{person_id}/referrals", response_model=list[ReferralOut], summary="A person's referrals (audited)")
def person_referrals(access: AccessDep, person_id: PersonId) -> list[ReferralOut]:
    return views.person_referrals(access, person_id)


@api.post("/people/{person_id}/referrals", response_model=ReferralDetail, status_code=201, dependencies=CSRF,
          summary="Refer a person to a provider (refused with the rules' words if ineligible; needs X-CSRF-Token)")
def make_referral(access: AccessDep, person_id: PersonId, body: ReferralIn) -> ReferralDetail:
    return flows.make_referral(access, person_id=person_id, provider=body.provider, pathway=body.pathway,
                               reason=body.reason, desired_outcomes=body.desired_outcomes, source=body.source,
                               send=body.send)


@api.get("/referrals", response_model=ReferralPage, summary="Referrals in my scope, newest first")
def referrals(access: AccessDep, page: PageNo = 1,
              per_page: Annotated[int, Query(ge=1, le=views.MAX_PER_PAGE)] = 50,
              provider: Annotated[str | None, Query(max_length=40)] = None,
              status: Annotated[str | None, Query(pattern="^(" + "|".join(lifecycle.STATUSES) + ")$")] = None,
              ) -> ReferralPage:
    return views.in_scope(access, provider=provider, status=status, page=page, per_page=per_page)


@api.get("/referrals/{referral_id}", response_model=ReferralDetail, summary="One referral (audited)")
def referral(access: AccessDep, referral_id: ReferralId) -> ReferralDetail:
    return views.referral(access, referral_id)


@api.get("/referrals/{referral_id}/revisions", response_model=list[RevisionOut],
         summary="Every version of a referral as written (not for pseudonymised readers)")
def revisions(access: AccessDep, referral_id: ReferralId) -> list[RevisionOut]:
    return views.revisions(access, referral_id)


@api.post("/referrals/{referral_id}/transitions", response_model=ReferralDetail, dependencies=CSRF,
          summary="Move a referral along its lifecycle (409 with the current version if yours is stale)")
def change_referral(access: AccessDep, referral_id: ReferralId, body: TransitionIn) -> ReferralDetail:
    graded = {o.desired_outcome: o.achievement for o in body.outcomes}
    notes = {o.desired_outcome: o.notes for o in body.outcomes if o.notes}
    if len(graded) != len(body.outcomes):
        raise FieldError("each desired outcome is graded once", field="outcomes")
    return flows.change_status(access, referral_id=referral_id, action=body.action, version=body.version,
                               reason=body.reason, outcomes=graded, notes=notes)


@api.post("/referrals/{referral_id}/sessions", response_model=ReferralDetail, status_code=201, dependencies=CSRF,
          summary="Record a session of a referral in progress (409 if your version is stale)")
def record_session(access: AccessDep, referral_id: ReferralId, body: SessionIn) -> ReferralDetail:
    return flows.record_session(access, referral_id=referral_id, version=body.version, held_on=body.held_on,
                                attendance=body.attendance, behaviour=body.behaviour)
