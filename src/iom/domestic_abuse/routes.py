"""Domestic-abuse pages (the monthly list and its CSV for the meeting, the pilot cohort, the
person page's DA tab and the DASH, MARAC and SARA v3 / SAM forms) and the JSON API. Thin: reads
go through ``views``, writes through ``flows``; refusals become problems (API) or the form again
with what was typed (pages)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from iom.casefile.deps import AccessDep
from iom.casefile.routes import page_person_id, render_person
from iom.domestic_abuse import flows, views
from iom.domestic_abuse.rules import (
    INSTRUMENT_FILES,
    dash_rules,
    instrument,
    marac_rules,
    monthly_list_rules,
)
from iom.domestic_abuse.schemas import (
    SECTIONS,
    DaPart,
    DashIn,
    DashOut,
    MaracCheck,
    MaracIn,
    MaracOut,
    MonthlyList,
    PilotCohort,
    ProgrammeReferralIn,
    SpjIn,
    SpjOut,
    SpjUpdate,
)
from iom.edge import field_refusal, form_date
from iom.errors import Conflict, FieldError, NotFound, UserError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, PersonId, Text
from iom.referrals.schemas import ReferralDetail

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)

TAB = "domestic_abuse"
Month = Annotated[str | None, Query(max_length=7, description="The list's month, YYYY-MM (default: the data's "
                                                             "month); it covers the calendar months before it")]
PageMonth = Annotated[str | None, Query(max_length=40)]
SpjId = Annotated[int, Path(ge=1, le=MAX_ID, description="SARA v3 / SAM record id")]
CSV_RESPONSE = {200: {"content": {"text/csv": {}}, "description": "The list as CSV, one row per person per section"}}

#: Where each form's input errors are shown: schema field -> the page's field id.
DASH_FIELDS = {"victim_id": "dash-victim", "perpetrator_id": "dash-perpetrator", "assessed_on": "dash-assessed-on",
               "relationship": "dash-relationship", "answers": "dash-answers", "judgement_band": "dash-judgement",
               "judgement_reason": "dash-judgement-reason"}
MARAC_FIELDS = {"victim_id": "marac-victim", "perpetrator_id": "marac-perpetrator", "referred_on": "marac-referred-on",
                "referring_agency": "marac-agency", "judgement_reason": "marac-reason", "dash_id": "marac-dash"}
SPJ_FIELDS = {"instrument": "spj-instrument", "victim_id": "spj-victim", "assessed_on": "spj-assessed-on",
              "ratings": "spj-ratings", "judgements": "spj-judgements", "scenarios": "spj-scenarios", "plan": "spj-plan",
              "version": "spj-form"}
#: The list page's filters, by the field a refusal names.
LIST_FIELDS = {"month": "da-month", "section": "da-section"}


# --- reading a form ------------------------------------------------------------------------------

async def _form(request: Request) -> dict[str, str]:
    """The form's text fields (not the CSRF token): what is kept if the form comes back."""
    form = await request.form()
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token"}


def _choice_id(text: str | None, field: str, what: str) -> int | None:
    """An id chosen from a select: empty is none chosen."""
    text = (text or "").strip()
    if not text:
        return None
    if not text.isascii() or not text.isdigit() or not 1 <= int(text) <= MAX_ID:
        raise FieldError(f"choose {what} from the list", field=field)
    return int(text)


def _parties(person_id: int, form: dict[str, str], prefix: str) -> tuple[int, int | None]:
    """(victim, perpetrator) of a DASH or a MARAC referral made from this person's record:
    they are the perpetrator (the victim chosen) or the victim (the perpetrator chosen, if known)."""
    side = form.get("side", "perpetrator")
    if side == "victim":
        return person_id, _choice_id(form.get("perpetrator_id"), f"{prefix}-perpetrator", "the perpetrator")
    if side != "perpetrator":
        raise FieldError("say whether this person is the victim or the perpetrator", field=f"{prefix}-side")
    victim = _choice_id(form.get("victim_id"), f"{prefix}-victim", "the victim")
    if victim is None:
        raise FieldError("choose the victim", field=f"{prefix}-victim")
    return victim, person_id


def _spj_content(form: dict[str, str], code: str) -> dict:
    """A SARA v3 or SAM form's ratings, judgements, scenarios and plan, as ``SpjIn`` takes them."""
    tool = instrument(code, field="spj-instrument")
    ratings = {}
    for factor in tool.factors:
        values = {part: form.get(f"{part}-{factor.code}") or None for part in ("past", "recent", "relevance")}
        if any(values.values()):
            ratings[factor.code] = values
    return {"ratings": ratings,
            "judgements": {j.code: form.get(f"judgement-{j.code}", "") for j in tool.judgements},
            "scenarios": [line for line in form.get("scenarios", "").splitlines() if line.strip()],
            "plan": {p.code: form.get(f"plan-{p.code}", "") for p in tool.plan},
            "finalise": form.get("finalise") == "yes"}


def _refusal(exc: Exception, fields: dict[str, str], default: str) -> FieldError | UserError:
    """A validation error as a refusal by its field; others as they are."""
    if not isinstance(exc, ValidationError):
        return exc  # type: ignore[return-value]
    return field_refusal(exc.errors(), fields, default)


def _submit(form: dict[str, str], *, again: Callable[..., HTMLResponse], fields: dict[str, str], default: str,
            write: Callable[[], str]) -> Response:
    """Run the write and go where it says; on a refusal show the form again with what was typed
    and the words by their field (400), or, if someone changed the record first, 409."""
    try:
        target = write()
    except (ValidationError, UserError) as exc:
        if isinstance(exc, NotFound):
            raise
        refused = _refusal(exc, fields, default)
        conflict = isinstance(refused, Conflict)
        kept = {k: v for k, v in form.items() if not (conflict and k == "version")}
        return again(errors=[(getattr(refused, "field", None) or default, str(refused))], drafts=kept,
                     status_code=409 if conflict else 400)
    return RedirectResponse(target, status_code=303)


def _to_tab(person_id: int, anchor: str) -> str:
    return f"/people/{person_id}?tab={TAB}#{anchor}"


# --- what pages and API share -------------------------------------------------------------------------

def _record_dash(access, body: DashIn) -> DashOut:
    return flows.record_dash(access, victim_id=body.victim_id, perpetrator_id=body.perpetrator_id,
                             relationship=body.relationship, answers=dict(body.answers),
                             judgement_band=body.judgement_band, judgement_reason=body.judgement_reason,
                             assessed_on=body.assessed_on)


def _refer_to_marac(access, body: MaracIn) -> MaracOut:
    return flows.refer_to_marac(access, victim_id=body.victim_id, perpetrator_id=body.perpetrator_id,
                                referring_agency=body.referring_agency, judgement_reason=body.judgement_reason,
                                dash_id=body.dash_id, referred_on=body.referred_on)


def _save_spj(access, person_id: int, body: SpjIn) -> SpjOut:
    return flows.save_spj(access, person_id=person_id, instrument=body.instrument, victim_id=body.victim_id,
                          ratings=body.ratings, judgements=body.judgements, scenarios=list(body.scenarios),
                          plan=dict(body.plan), finalise=body.finalise, assessed_on=body.assessed_on)


def _update_spj(access, spj_id: int, body: SpjUpdate) -> SpjOut:
    fixed = sorted({"instrument", "victim_id", "assessed_on"} & body.model_fields_set)
    if fixed:
        raise FieldError(f"a record's {', '.join(f.replace('_id', '').replace('_', ' ') for f in fixed)} cannot be "
                         "changed: start a new assessment instead", field=SPJ_FIELDS[fixed[0]])
    return flows.update_spj(access, spj_id=spj_id, version=body.version, ratings=body.ratings,
                            judgements=body.judgements, scenarios=list(body.scenarios), plan=dict(body.plan),
                            finalise=body.finalise)


def _csv(found: MonthlyList) -> Response:
    return Response(views.list_csv(found), media_type="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="da-list-{found.month}.csv"'})


# --- pages: the monthly list and the pilot cohort ---------------------------------------------------------

def _section_choices() -> list[tuple[str, str]]:
    rules = monthly_list_rules()
    return [(code, getattr(rules.sections, code).label) for code in SECTIONS]


@pages.get("/da/list")
def list_page(request: Request, access: AccessDep, month: PageMonth = None,
              section: Annotated[str | None, Query(max_length=40)] = None,
              not_at_marac: Annotated[str | None, Query(max_length=8)] = None) -> HTMLResponse:
    """The month's list, a table per section ranked by RFGV; a month that cannot be listed
    shows the page again with the words (400)."""
    chosen = (section or "").strip() or None
    context = {"month": (month or "").strip(), "section": chosen, "sections": _section_choices(),
               "not_at_marac": (not_at_marac or "").strip().lower() in ("1", "on", "yes", "true")}
    try:
        if chosen is not None and chosen not in SECTIONS:
            raise FieldError(f"the section is one of {', '.join(SECTIONS)}, not {chosen!r}", field="section")
        found = views.monthly_list(access, month=month)
    except FieldError as exc:
        return render(request, "domestic_abuse/list.html", access.user, status_code=400, found=None,
                      errors=[(LIST_FIELDS.get(exc.field, "da-month"), str(exc))], **context)
    return render(request, "domestic_abuse/list.html", access.user, found=found, errors=[], **context)


@pages.get("/da/list.csv")
def list_csv_page(access: AccessDep, month: PageMonth = None) -> Response:
    """The month's list as one CSV for the MARAC / MATAC meeting."""
    return _csv(views.monthly_list(access, month=month))


def _pilot(request: Request, access, month: str | None, *, errors=(), status_code: int = 200) -> HTMLResponse:
    try:
        cohort = views.pilot_cohort(access, month=month)
    except FieldError as exc:
        cohort, errors, status_code = None, [*errors, ("pilot-month", str(exc))], 400
    return render(request, "domestic_abuse/pilot.html", access.user, status_code=status_code, cohort=cohort,
                  month=(month or "").strip(), errors=list(errors))


@pages.get("/da/pilot")
def pilot_page(request: Request, access: AccessDep, month: PageMonth = None) -> HTMLResponse:
    """The month's SARA v3 / SAM pilot cohort (at MARAC and on the serial list), saved or not."""
    return _pilot(request, access, month)


@pages.post("/da/pilot", dependencies=CSRF)
def save_pilot_page(request: Request, access: AccessDep, month: Annotated[Text, Form(max_length=40)] = "") -> Response:
    """Save the month's cohort (a supervisor's); a month already saved is shown as it was (409)."""
    chosen = month.strip() or None
    try:
        saved = flows.save_pilot_cohort(access, month=chosen)
    except Conflict as exc:
        return _pilot(request, access, chosen, errors=[("pilot-save", str(exc))], status_code=409)
    except FieldError as exc:
        return render(request, "domestic_abuse/pilot.html", access.user, status_code=400, cohort=None,
                      month=month.strip(), errors=[("pilot-month", str(exc))])
    return RedirectResponse(f"/da/pilot?month={saved.month}", status_code=303)


# --- pages: the forms behind the person page's DA tab --------------------------------------------------------

def _writer_record(access, person_id: int):
    """The record a DA form is about, for a writer who sees its DA part (audited as a read)."""
    access.require(flows.WRITE, "this role cannot record domestic-abuse assessments or referrals")
    record = access.person(person_id)
    if getattr(record, TAB, None) is None:
        raise PermissionError("this record's domestic-abuse part is not shown to your role")
    return record


def _form_page(request: Request, access, person_id: int, template: str, *, errors=(), drafts=None,
               status_code: int = 200, **context) -> HTMLResponse:
    """A DA form about this person (its choices come from the rules in force), with what was typed."""
    return render(request, template, access.user, status_code=status_code, person=_writer_record(access, person_id),
                  errors=list(errors), drafts=drafts or {}, **context)


def _dash_form(request: Request, access, person_id: int, **kept) -> HTMLResponse:
    rules = dash_rules()
    return _form_page(request, access, person_id, "domestic_abuse/dash_form.html", rules=rules,
                      high_yes=marac_rules().dash_high_yes, **kept)


@pages.get("/people/{person_id}/da/dash")
def dash_page(request: Request, access: AccessDep, person_id: int) -> HTMLResponse:
    return _dash_form(request, access, page_person_id(person_id))


@pages.post("/people/{person_id}/da/dash", dependencies=CSRF)
async def record_dash_page(request: Request, access: AccessDep, person_id: int) -> Response:
    pid, form = page_person_id(person_id), await _form(request)

    def write() -> str:
        victim, perpetrator = _parties(pid, form, "dash")
        answers = {q.code: form[f"answer-{q.code}"] for q in dash_rules().questions if form.get(f"answer-{q.code}")}
        _record_dash(access, DashIn(
            victim_id=victim, perpetrator_id=perpetrator, relationship=form.get("relationship", ""), answers=answers,
            assessed_on=form_date(form.get("assessed_on"), field="dash-assessed-on", what="the date of the DASH"),
            judgement_band=form.get("judgement_band") or None, judgement_reason=form.get("judgement_reason") or None))
        return _to_tab(pid, "da-dash")

    return _submit(form, again=lambda **kept: _dash_form(request, access, pid, **kept), fields=DASH_FIELDS,
                   default="dash-answers", write=write)


def _marac_form(request: Request, access, person_id: int, **kept) -> HTMLResponse:
    rules = marac_rules()
    return _form_page(request, access, person_id, "domestic_abuse/marac_form.html", agencies=rules.referring_agencies,
                      criteria=rules.criteria_words(), **kept)


@pages.get("/people/{person_id}/da/marac")
def marac_page(request: Request, access: AccessDep, person_id: int) -> HTMLResponse:
    return _marac_form(request, access, page_person_id(person_id))


@pages.post("/people/{person_id}/da/marac", dependencies=CSRF)
async def refer_to_marac_page(request: Request, access: AccessDep, person_id: int) -> Response:
    pid, form = page_person_id(person_id), await _form(request)

    def write() -> str:
        victim, perpetrator = _parties(pid, form, "marac")
        _refer_to_marac(access, MaracIn(
            victim_id=victim, perpetrator_id=perpetrator, referring_agency=form.get("referring_agency", ""),
            referred_on=form_date(form.get("referred_on"), field="marac-referred-on", what="the date of the referral"),
            judgement_reason=form.get("judgement_reason") or None,
            dash_id=_choice_id(form.get("dash_id"), "marac-dash", "the DASH")))
        return _to_tab(pid, "da-marac")

    return _submit(form, again=lambda **kept: _marac_form(request, access, pid, **kept), fields=MARAC_FIELDS,
                   default="marac-reason", write=write)


def _spj_form(request: Request, access, person_id: int, *, code: str | None = None, spj_id: int | None = None,
              errors=(), drafts=None, status_code: int = 200) -> HTMLResponse:
    """A new SARA v3 or SAM record's form (or the choice of instrument first), or a draft's."""
    record = _writer_record(access, person_id)
    spj = None
    if spj_id is not None:
        spj = next((s for s in getattr(record, TAB).spj if s.id == spj_id), None)
        if spj is None:
            raise NotFound(f"no SARA/SAM record #{spj_id} on this person's record")
        code = spj.instrument
    tool = instrument(code) if code in INSTRUMENT_FILES else None
    if code and tool is None and not errors:
        errors = [("spj-instrument", f"the instrument is one of {', '.join(INSTRUMENT_FILES)}, not {code!r}")]
        status_code = 400
    return render(request, "domestic_abuse/spj_form.html", access.user, status_code=status_code, person=record,
                  tool=tool, spj=spj, instruments=[(c, instrument(c).name) for c in INSTRUMENT_FILES],
                  errors=list(errors), drafts=drafts or {})


@pages.get("/people/{person_id}/da/spj")
def spj_page(request: Request, access: AccessDep, person_id: int,
             instrument_code: Annotated[str, Query(alias="instrument", max_length=16)] = "") -> HTMLResponse:
    return _spj_form(request, access, page_person_id(person_id), code=instrument_code.strip() or None)


@pages.post("/people/{person_id}/da/spj", dependencies=CSRF)
async def save_spj_page(request: Request, access: AccessDep, person_id: int) -> Response:
    pid, form = page_person_id(person_id), await _form(request)
    code = form.get("instrument", "")

    def write() -> str:
        _save_spj(access, pid, SpjIn(
            instrument=code, victim_id=_choice_id(form.get("victim_id"), "spj-victim", "the victim"),
            assessed_on=form_date(form.get("assessed_on"), field="spj-assessed-on", what="the date of the assessment"),
            **_spj_content(form, code)))
        return _to_tab(pid, "da-spj")

    return _submit(form, again=lambda **kept: _spj_form(request, access, pid, code=code, **kept), fields=SPJ_FIELDS,
                   default="spj-judgements", write=write)


@pages.get("/people/{person_id}/da/spj/{spj_id}")
def spj_draft_page(request: Request, access: AccessDep, person_id: int, spj_id: SpjId) -> HTMLResponse:
    return _spj_form(request, access, page_person_id(person_id), spj_id=spj_id)


@pages.post("/people/{person_id}/da/spj/{spj_id}", dependencies=CSRF)
async def update_spj_page(request: Request, access: AccessDep, person_id: int, spj_id: SpjId) -> Response:
    """A draft changed, and perhaps finalised, from the version the writer saw (409 if stale)."""
    pid, form = page_person_id(person_id), await _form(request)

    def write() -> str:
        version = _choice_id(form.get("version"), "spj-form", "the version")
        saved = _update_spj(access, spj_id, SpjUpdate(version=version or 0, **_spj_content(form, form.get(
            "instrument", ""))))
        return _to_tab(pid, f"spj-{saved.id}")

    return _submit(form, again=lambda **kept: _spj_form(request, access, pid, spj_id=spj_id, **kept),
                   fields=SPJ_FIELDS, default="spj-judgements", write=write)


@pages.post("/people/{person_id}/da/refer", dependencies=CSRF)
async def refer_to_programme_page(request: Request, access: AccessDep, person_id: int) -> Response:
    """A referral to DRIVE or CARA from the DA tab; made, it opens on the referral's own page."""
    pid, form = page_person_id(person_id), await _form(request)
    code = form.get("programme", "").strip().lower()

    def write() -> str:
        body = ProgrammeReferralIn(programme=code, reason=form.get("reason", ""))
        made = flows.refer_to_programme(access, person_id=pid, programme=body.programme, reason=body.reason)
        return f"/referrals/{made.id}"

    def again(*, errors, drafts, status_code) -> HTMLResponse:
        shown = [(f"programme-{code}-reason" if field == "reason" else f"programme-{code}", words)
                 for field, words in errors]
        return render_person(request, access, pid, tab=TAB, errors=shown, drafts=drafts, status_code=status_code)

    return _submit(form, again=again, fields={"reason": "reason"}, default="programme", write=write)


# --- API ------------------------------------------------------------------------------------------------------

@api.get("/da/list", response_model=MonthlyList,
         summary="The month's domestic-abuse list in my scope, RFGV-ranked per section (audited)")
def monthly_list(access: AccessDep, month: Month = None) -> MonthlyList:
    return views.monthly_list(access, month=month)


@api.get("/da/list.csv", response_class=Response, responses=CSV_RESPONSE,
         summary="The month's domestic-abuse list as CSV for the meeting (audited)")
def monthly_list_csv(access: AccessDep, month: Month = None) -> Response:
    return _csv(views.monthly_list(access, month=month))


@api.get("/people/{person_id}/domestic-abuse", response_model=DaPart,
         summary="A person's DA incidents, DASH, MARAC, SARA / SAM and DRIVE / CARA eligibility (audited)")
def person_da(access: AccessDep, person_id: PersonId) -> DaPart:
    return views.person_da(access, person_id)


@api.get("/people/{person_id}/marac-criteria", response_model=MaracCheck,
         summary="Which MARAC criteria a victim's case meets today (audited)")
def marac_criteria(access: AccessDep, person_id: PersonId) -> MaracCheck:
    return views.marac_check(access, person_id)


@api.post("/da/dash", response_model=DashOut, status_code=201, dependencies=CSRF,
          summary="Record a DASH: banded by its yes-count, raised (never lowered) by judgement (needs X-CSRF-Token)")
def record_dash(access: AccessDep, body: DashIn) -> DashOut:
    return _record_dash(access, body)


@api.post("/da/marac-referrals", response_model=MaracOut, status_code=201, dependencies=CSRF,
          summary="Refer a victim's case to MARAC: refused in words unless a criterion is met (needs X-CSRF-Token)")
def refer_to_marac(access: AccessDep, body: MaracIn) -> MaracOut:
    return _refer_to_marac(access, body)


@api.post("/people/{person_id}/spj", response_model=SpjOut, status_code=201, dependencies=CSRF,
          summary="Start a SARA v3 or SAM record, a draft unless finalised (needs X-CSRF-Token)")
def save_spj(access: AccessDep, person_id: PersonId, body: SpjIn) -> SpjOut:
    return _save_spj(access, person_id, body)


@api.patch("/spj/{spj_id}", response_model=SpjOut, dependencies=CSRF,
           summary="Change or finalise a SARA v3 / SAM draft (409 with the current record if `version` is stale)")
def update_spj(access: AccessDep, spj_id: SpjId, body: SpjUpdate) -> SpjOut:
    return _update_spj(access, spj_id, body)


@api.post("/people/{person_id}/programme-referrals", response_model=ReferralDetail, status_code=201,
          dependencies=CSRF, summary="Refer a perpetrator to DRIVE or CARA (refused with the unmet criteria in words)")
def refer_to_programme(access: AccessDep, person_id: PersonId, body: ProgrammeReferralIn) -> ReferralDetail:
    return flows.refer_to_programme(access, person_id=person_id, programme=body.programme, reason=body.reason)


@api.get("/da/pilot-cohort", response_model=PilotCohort,
         summary="The month's SARA v3 / SAM pilot cohort: saved, or as it would be saved now (audited)")
def pilot_cohort(access: AccessDep, month: Month = None) -> PilotCohort:
    return views.pilot_cohort(access, month=month)


@api.post("/da/pilot-cohort", response_model=PilotCohort, status_code=201, dependencies=CSRF,
          summary="Save the month's pilot cohort (supervisors; 409 if the month was saved already)")
def save_pilot_cohort(access: AccessDep, month: Month = None) -> PilotCohort:
    return flows.save_pilot_cohort(access, month=month)
