"""Diversion pages and API, over ``views`` and ``flows``: the person page's Diversion tab and its
forms (decide, conditions, authorise, issue, withdraw, compliance and what follows a breach),
the tier options for one of the person's crimes, Table A from the records, and the scrutiny
panel (its report and CSV, dip samples and verdicts). Refusals come back as the form again
with what was typed and the words by their field (400), or 409 if the record changed first."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from iom.casefile.deps import AccessDep
from iom.casefile.routes import page_person_id, render_person
from iom.diversion import flows, views
from iom.diversion.rules import scrutiny_rules
from iom.diversion.schemas import (MAX_TEXT, ChangeIn, ConditionDoneIn, ConditionIn, DecisionIn, DisposalOut,
                                   DiversionPart, Sample, ScrutinyReport, TierOption, VerdictIn, Volumes)
from iom.diversion.scrutiny import report_csv
from iom.edge import form_date
from iom.errors import Conflict, FieldError, NotFound, UserError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, PersonId, Text

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)

TAB = "diversion"
RANKS = ("sergeant", "inspector")
#: Table A's financial years when none are asked for (the paper's 2017/18 and 2018/19).
DEFAULT_YEARS = (2017, 2018)
FIRST_YEAR, LAST_YEAR = 1990, 2100
MAX_YEARS = 20
MONTH = re.compile(r"^([0-9]{4})-([0-9]{2})$")

DisposalId = Annotated[int, Path(ge=1, le=MAX_ID, description="Out-of-court disposal id")]
ConditionId = Annotated[int, Path(ge=1, le=MAX_ID, description="Condition id")]
SampleId = Annotated[int, Path(ge=1, le=MAX_ID, description="Scrutiny sample id")]
Year = Annotated[int, Field(ge=FIRST_YEAR, le=LAST_YEAR)]
Years = Annotated[list[Year] | None, Query(max_length=MAX_YEARS,
                                           description="Financial years by their first year (2017 = 2017/18); "
                                                       "default 2017 and 2018")]
PanelMonth = Annotated[str, Query(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$", description="The panel's month, YYYY-MM")]
CSV_RESPONSE = {200: {"content": {"text/csv": {}}, "description": "The scrutiny report as CSV, one row per panel"}}


class SampleIn(BaseModel):
    """A dip sample to draw and keep for the panel's verdicts (once per category and month)."""

    model_config = ConfigDict(extra="forbid")

    category: str = Field(max_length=24, description="hate, sexual, serious_assault or weapons")
    month: str = Field(pattern=r"^(19|20)[0-9]{2}-(0[1-9]|1[0-2])$", description="The panel's month, YYYY-MM")
    n: int = Field(30, ge=1, le=500, description="How many disposals")
    seed: int = Field(ge=0, le=MAX_ID, description="The same seed gives the same sample")


# --- what the tab's forms offer ----------------------------------------------------------------

# --- reading a form ------------------------------------------------------------------------------

def _yes(value: str) -> bool:
    return value.strip().lower() in ("yes", "on", "true", "1")


def _whole(text: str, field: str, what: str, *, low: int = 1, high: int = MAX_ID) -> int:
    text = text.strip()
    if not text:
        raise FieldError(f"give {what}", field=field)
    if not text.isascii() or not text.isdigit() or not low <= int(text) <= high:
        raise FieldError(f"{what} is a whole number from {low:,} to {high:,}, not {text!r}", field=field)
    return int(text)


def _month(text: str) -> str:
    found = MONTH.match(text.strip())
    if not found or not 1900 <= int(found.group(1)) <= 2099 or not 1 <= int(found.group(2)) <= 12:
        raise FieldError("the panel's month is written YYYY-MM, like 2019-04"
                         + (f", not {text.strip()!r}" if text.strip() else ""), field="scrutiny-month")
    return text.strip()


def _disposal_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"no disposal #{value}")
    return value


def _years(values: list[str] | None) -> list[int]:
    """The years asked for (empty boxes left out), or the default ones."""
    typed = [value.strip() for value in values or () if value.strip()]
    if not typed:
        return list(DEFAULT_YEARS)
    years = set()
    for text in typed:
        if not text.isascii() or not text.isdigit() or not FIRST_YEAR <= int(text) <= LAST_YEAR:
            raise FieldError(f"a financial year is given by its first year, {FIRST_YEAR} to {LAST_YEAR} (2017 is "
                             f"2017/18), not {text!r}", field="oocd-fy")
        years.add(int(text))
    if len(years) > MAX_YEARS:
        raise FieldError(f"at most {MAX_YEARS} financial years at once", field="oocd-fy")
    return sorted(years)


# --- pages: the Diversion tab's forms ------------------------------------------------------------

def _to_tab(person_id: int, anchor: str | None = None) -> RedirectResponse:
    return RedirectResponse(f"/people/{person_id}?tab={TAB}" + (f"#{anchor}" if anchor else ""), status_code=303)


def _again(request: Request, access, person_id: int, exc: UserError, field: str, drafts: dict) -> HTMLResponse:
    """The Diversion tab again, with what was typed and the words by their field: 400 for a
    refusal, 409 when someone changed the disposal first (the tab shows it as it now is)."""
    conflict = isinstance(exc, Conflict)
    return render_person(request, access, person_id, tab=TAB, errors=[(field, str(exc))], drafts=drafts,
                         status_code=409 if conflict else 400)


def _person_of(access, disposal_id: int) -> int:
    """Whose record a disposal's form is on (a read of it, audited: the tab is shown again)."""
    return views.disposal(access, disposal_id).person_id


@pages.post("/people/{person_id}/oocd", dependencies=CSRF)
def decide_page(request: Request, access: AccessDep, person_id: int,
                crime_id: Annotated[Text, Form(max_length=12)] = "",
                tier: Annotated[Text, Form(max_length=32)] = "",
                policy: Annotated[Text, Form(max_length=24)] = "",
                admission: Annotated[Text, Form(max_length=3)] = "",
                consent: Annotated[Text, Form(max_length=3)] = "",
                victim_views: Annotated[Text, Form(max_length=MAX_TEXT)] = "",
                factors: Annotated[list[str], Form(max_length=20)] = [],  # noqa: B006 (FastAPI copies defaults)
                custody_expected: Annotated[Text, Form(max_length=3)] = "",
                intervention_available: Annotated[Text, Form(max_length=3)] = "",
                dpp_consent: Annotated[Text, Form(max_length=3)] = "",
                rationale: Annotated[Text, Form(max_length=MAX_TEXT)] = "") -> Response:
    """Propose a disposal of one of the person's crimes; refused with every rule that bars it."""
    person_id = page_person_id(person_id)
    typed = {"crime_id": crime_id, "tier": tier, "policy": policy, "admission": admission, "consent": consent,
             "victim_views": victim_views, "factors": [f for f in factors if f], "custody_expected": custody_expected,
             "intervention_available": intervention_available, "dpp_consent": dpp_consent, "rationale": rationale}
    try:
        if not tier.strip():
            raise FieldError("choose the disposal", field="oocd-tier")
        made = flows.decide(access, person_id=person_id, crime_id=_whole(crime_id, "oocd-crime", "the crime"),
                            tier=tier.strip(), policy=policy.strip() or None, admission=_yes(admission),
                            consent=_yes(consent), victim_views=victim_views or None, factors=typed["factors"],
                            rationale=rationale, custody_expected=_yes(custody_expected),
                            intervention_available=_yes(intervention_available), dpp_consent=_yes(dpp_consent))
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        return _again(request, access, person_id, exc, getattr(exc, "field", None) or "oocd-tier", typed)
    return _to_tab(made.person_id, f"oocd-{made.id}")


@pages.post("/oocd/{disposal_id}/change", dependencies=CSRF)
def change_page(request: Request, access: AccessDep, disposal_id: int,
                action: Annotated[Text, Form(max_length=16)] = "",
                version: Annotated[Text, Form(max_length=12)] = "",
                rank: Annotated[Text, Form(max_length=12)] = "",
                reason: Annotated[Text, Form(max_length=MAX_TEXT)] = "") -> Response:
    """Authorise (with the rank), issue, withdraw, or what follows a breach, from the version
    the writer saw."""
    disposal_id = _disposal_id(disposal_id)
    typed = {f"d{disposal_id}-rank": rank, f"d{disposal_id}-reason": reason, f"d{disposal_id}-action": action}
    try:
        changed = flows.change(access, disposal_id=disposal_id, action=action.strip(),
                               version=_whole(version, f"oocd-{disposal_id}-action", "the version"),
                               rank=rank.strip() or None, reason=reason.strip() or None)
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        field = {"oocd-rank": f"oocd-{disposal_id}-rank"}.get(getattr(exc, "field", None), f"oocd-{disposal_id}-action")
        return _again(request, access, _person_of(access, disposal_id), exc, field, typed)
    return _to_tab(changed.person_id, f"oocd-{changed.id}")


@pages.post("/oocd/{disposal_id}/conditions", dependencies=CSRF)
def add_condition_page(request: Request, access: AccessDep, disposal_id: int,
                       kind: Annotated[Text, Form(max_length=16)] = "",
                       description: Annotated[Text, Form(max_length=MAX_TEXT)] = "",
                       due_on: Annotated[Text, Form(max_length=32)] = "",
                       provider: Annotated[Text, Form(max_length=40)] = "",
                       pathway: Annotated[Text, Form(max_length=40)] = "") -> Response:
    """A condition with its deadline; a provider condition refers the person to the provider."""
    disposal_id = _disposal_id(disposal_id)
    prefix = f"oocd-{disposal_id}-condition"
    typed = {f"c{disposal_id}-kind": kind, f"c{disposal_id}-description": description, f"c{disposal_id}-due": due_on,
             f"c{disposal_id}-provider": provider, f"c{disposal_id}-pathway": pathway}
    try:
        if not kind.strip():
            raise FieldError("choose the kind of condition", field="condition-kind")
        changed = flows.add_condition(access, disposal_id=disposal_id, kind=kind.strip(), description=description,
                                      due_on=form_date(due_on, field="condition-due", what="the deadline"),
                                      provider=provider.strip() or None, pathway=pathway.strip() or None)
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        fields = {"condition-kind": f"{prefix}-kind", "condition-description": f"{prefix}-description",
                  "condition-due": f"{prefix}-due", "condition-pathway": f"{prefix}-pathway",
                  "provider": f"{prefix}-provider", "pathway": f"{prefix}-pathway"}
        field = fields.get(getattr(exc, "field", None), f"{prefix}-kind")
        return _again(request, access, _person_of(access, disposal_id), exc, field, typed)
    return _to_tab(changed.person_id, f"oocd-{changed.id}-conditions")


@pages.post("/oocd/conditions/{condition_id}/done", dependencies=CSRF)
def condition_done_page(request: Request, access: AccessDep, condition_id: int,
                        disposal_id: Annotated[int, Form(ge=1, le=MAX_ID)],
                        complied: Annotated[Text, Form(max_length=3)] = "") -> Response:
    """A condition complied with ("yes") or not ("no"): the disposal follows. ``disposal_id``:
    the disposal whose tab the buttons are on, shown again on a refusal."""
    if not 1 <= condition_id <= MAX_ID:
        raise NotFound(f"no condition #{condition_id}")
    field = f"condition-{condition_id}-status"
    try:
        if complied.strip().lower() not in ("yes", "no"):
            raise FieldError("say whether the condition was complied with", field="condition-status")
        changed = flows.mark_condition(access, condition_id=condition_id, complied=complied.strip().lower() == "yes")
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        return _again(request, access, _person_of(access, disposal_id), exc, field, {})
    return _to_tab(changed.person_id, f"oocd-{changed.id}-conditions")


@pages.get("/people/{person_id}/oocd/options")
def options_page(request: Request, access: AccessDep, person_id: int,
                 crime_id: Annotated[str, Query(max_length=12)] = "",
                 policy: Annotated[str, Query(max_length=24)] = "") -> HTMLResponse:
    """Each tier of the policy for one of the person's crimes (admitted and agreed), every rule in words."""
    person_id = page_person_id(person_id)
    context = {"person_id": person_id, "crime_id": crime_id.strip(), "policy": policy.strip(),
               "choices": views.form_choices()}
    try:
        found = views.options(access, person_id=person_id, crime_id=_whole(crime_id, "oocd-crime", "the crime"),
                              policy=policy.strip() or None, admission=True, consent=True)
    except FieldError as exc:
        return render(request, "diversion/options.html", access.user, status_code=400, options=None,
                      errors=[(exc.field, str(exc))], **context)
    return render(request, "diversion/options.html", access.user, options=found, errors=[], **context)


# --- pages: Table A ------------------------------------------------------------------------------

@pages.get("/oocd")
def volumes_page(request: Request, access: AccessDep,
                 fy: Annotated[list[str] | None, Query(max_length=MAX_YEARS)] = None) -> HTMLResponse:
    """Table A from the disposal records, beside the paper's figures, and what they say in words."""
    try:
        years = _years(fy)
    except FieldError as exc:
        access.require(views.READ, "this role cannot read disposal volumes")
        return render(request, "diversion/volumes.html", access.user, status_code=400, found=None, years=fy or [],
                      errors=[(exc.field, str(exc))])
    found = views.volumes(access, years)
    return render(request, "diversion/volumes.html", access.user, found=found, years=years, errors=[])


# --- pages: the scrutiny panel ----------------------------------------------------------------------

def _scrutiny(request: Request, access, *, errors=(), drafts=None, existing: int | None = None,
              status_code: int = 200) -> HTMLResponse:
    return render(request, "diversion/scrutiny.html", access.user, status_code=status_code, found=views.report(access),
                  rules=scrutiny_rules(), errors=list(errors), drafts=drafts or {}, existing=existing)


@pages.get("/scrutiny")
def scrutiny_page(request: Request, access: AccessDep) -> HTMLResponse:
    """The panel's report (% appropriate with a Wilson interval, the actions) and the form to
    draw a dip sample."""
    return _scrutiny(request, access)


@pages.get("/scrutiny.csv")
def scrutiny_csv_page(access: AccessDep) -> Response:
    return _report_csv(views.report(access))


def _report_csv(found: ScrutinyReport) -> Response:
    return Response(report_csv(found), media_type="text/csv",
                    headers={"Content-Disposition": 'attachment; filename="scrutiny-report.csv"'})


@pages.post("/scrutiny/samples", dependencies=CSRF)
def draw_sample_page(request: Request, access: AccessDep,
                     category: Annotated[Text, Form(max_length=24)] = "",
                     month: Annotated[Text, Form(max_length=16)] = "",
                     n: Annotated[Text, Form(max_length=6)] = "",
                     seed: Annotated[Text, Form(max_length=12)] = "",
                     save: Annotated[Text, Form(max_length=3)] = "") -> Response:
    """A seeded dip sample: shown (nothing kept), or saved for the panel's verdicts."""
    typed = {"category": category, "month": month, "n": n, "seed": seed, "save": save}
    try:
        if not category.strip():
            raise FieldError("choose the crime category", field="scrutiny-category")
        values = {"category": category.strip(), "month": _month(month),
                  "n": _whole(n, "scrutiny-n", "the number of disposals", high=500),
                  "seed": _whole(seed, "scrutiny-seed", "the seed", low=0)}
        if _yes(save):
            saved = flows.save_sample(access, **values)
            return RedirectResponse(f"/scrutiny/samples/{saved.id}", status_code=303)
        drawn = views.preview_sample(access, **values)
    except Conflict as exc:
        existing = (exc.current or {}).get("id")
        return _scrutiny(request, access, errors=[("scrutiny-save", str(exc))], drafts=typed, existing=existing,
                         status_code=409)
    except FieldError as exc:
        field = {"month": "scrutiny-month"}.get(exc.field, exc.field)
        return _scrutiny(request, access, errors=[(field, str(exc))], drafts=typed, status_code=400)
    return render(request, "diversion/sample.html", access.user, sample=drawn, rules=scrutiny_rules(), errors=[],
                  drafts={})


def _sample_page(request: Request, access, sample_id: int, *, errors=(), drafts=None,
                 status_code: int = 200) -> HTMLResponse:
    return render(request, "diversion/sample.html", access.user, status_code=status_code,
                  sample=views.sample(access, sample_id), rules=scrutiny_rules(), errors=list(errors),
                  drafts=drafts or {})


def _sample_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"no scrutiny sample #{value}")
    return value


@pages.get("/scrutiny/samples/{sample_id}")
def sample_page(request: Request, access: AccessDep, sample_id: int) -> HTMLResponse:
    """A saved sample's disposals with the panel's verdict form for each."""
    return _sample_page(request, access, _sample_id(sample_id))


@pages.post("/scrutiny/samples/{sample_id}/verdicts", dependencies=CSRF)
def verdict_page(request: Request, access: AccessDep, sample_id: int,
                 disposal_id: Annotated[int, Form(ge=1, le=MAX_ID)],
                 verdict: Annotated[Text, Form(max_length=32)] = "",
                 comment: Annotated[Text, Form(max_length=MAX_TEXT)] = "",
                 action: Annotated[Text, Form(max_length=MAX_TEXT)] = "") -> Response:
    sample_id = _sample_id(sample_id)
    typed = {f"v{disposal_id}-verdict": verdict, f"v{disposal_id}-comment": comment, f"v{disposal_id}-action": action}
    try:
        if not verdict.strip():
            raise FieldError("choose the panel's verdict", field="scrutiny-verdict")
        flows.record_verdict(access, sample_id=sample_id, disposal_id=disposal_id, verdict=verdict.strip(),
                             comment=comment or None, action=action or None)
    except FieldError as exc:
        return _sample_page(request, access, sample_id, errors=[(f"verdict-{disposal_id}", str(exc))], drafts=typed,
                            status_code=400)
    return RedirectResponse(f"/scrutiny/samples/{sample_id}#item-{disposal_id}", status_code=303)


# --- API --------------------------------------------------------------------------------------------

@api.get("/people/{person_id}/oocd", response_model=DiversionPart,
         summary="A person's out-of-court disposals, their conditions and history (audited)")
def person_disposals(access: AccessDep, person_id: PersonId) -> DiversionPart:
    return views.person_disposals(access, person_id)


@api.get("/people/{person_id}/oocd/options", response_model=list[TierOption],
         summary="Each tier of a policy for one of the person's crimes, admitted and agreed: allowed, allowed with "
                 "an Inspector's authority, or barred, every rule in words (audited)")
def options(access: AccessDep, person_id: PersonId, crime_id: Annotated[int, Query(ge=1, le=MAX_ID)],
            policy: Annotated[str | None, Query(max_length=24)] = None) -> list[TierOption]:
    return views.options(access, person_id=person_id, crime_id=crime_id, policy=policy, admission=True, consent=True)


@api.post("/people/{person_id}/oocd", response_model=DisposalOut, status_code=201, dependencies=CSRF,
          summary="Propose an out-of-court disposal of one of the person's crimes: refused, in words, for every "
                  "rule that bars it (needs X-CSRF-Token)")
def decide(access: AccessDep, person_id: PersonId, body: DecisionIn) -> DisposalOut:
    return flows.decide(access, person_id=person_id, crime_id=body.crime_id, tier=body.tier, policy=body.policy,
                        admission=body.admission, consent=body.consent, victim_views=body.victim_views,
                        factors=body.factors, rationale=body.rationale, custody_expected=body.custody_expected,
                        intervention_available=body.intervention_available, dpp_consent=body.dpp_consent)


@api.get("/oocd/volumes", response_model=Volumes,
         summary="Table A from the records: disposals issued per financial year beside the published figures")
def volumes(access: AccessDep, fy: Years = None) -> Volumes:
    return views.volumes(access, sorted(set(fy or DEFAULT_YEARS)))


@api.get("/oocd/{disposal_id}", response_model=DisposalOut,
         summary="One out-of-court disposal, its conditions and history (audited)")
def disposal(access: AccessDep, disposal_id: DisposalId) -> DisposalOut:
    return views.disposal(access, disposal_id)


@api.post("/oocd/{disposal_id}/changes", response_model=DisposalOut, dependencies=CSRF,
          summary="Authorise (supervisors, with the rank), issue, withdraw, prosecute or fine after a breach "
                  "(409 with the current disposal if `version` is stale; needs X-CSRF-Token)")
def change(access: AccessDep, disposal_id: DisposalId, body: ChangeIn) -> DisposalOut:
    return flows.change(access, disposal_id=disposal_id, action=body.action, version=body.version, rank=body.rank,
                        reason=body.reason)


@api.post("/oocd/{disposal_id}/conditions", response_model=DisposalOut, status_code=201, dependencies=CSRF,
          summary="Add a condition with its deadline; a provider condition refers the person (needs X-CSRF-Token)")
def add_condition(access: AccessDep, disposal_id: DisposalId, body: ConditionIn) -> DisposalOut:
    return flows.add_condition(access, disposal_id=disposal_id, kind=body.kind, description=body.description,
                               due_on=body.due_on, provider=body.provider, pathway=body.pathway)


@api.post("/oocd/conditions/{condition_id}/done", response_model=DisposalOut, dependencies=CSRF,
          summary="A condition complied with or not: the disposal is complied with once every condition is, "
                  "breached when one is not (needs X-CSRF-Token)")
def condition_done(access: AccessDep, condition_id: ConditionId, body: ConditionDoneIn) -> DisposalOut:
    return flows.mark_condition(access, condition_id=condition_id, complied=body.complied)


@api.get("/scrutiny/report", response_model=ScrutinyReport,
         summary="The scrutiny panel's report: % appropriate per panel with a 95% Wilson interval, and actions")
def scrutiny_report(access: AccessDep) -> ScrutinyReport:
    return views.report(access)


@api.get("/scrutiny/report.csv", response_class=Response, responses=CSV_RESPONSE,
         summary="The scrutiny panel's report as CSV for publication")
def scrutiny_report_csv(access: AccessDep) -> Response:
    return _report_csv(views.report(access))


@api.get("/scrutiny/preview", response_model=Sample,
         summary="A seeded dip sample as it would be drawn now (nothing kept; audited)")
def preview_sample(access: AccessDep, category: Annotated[str, Query(max_length=24)], month: PanelMonth,
                   seed: Annotated[int, Query(ge=0, le=MAX_ID)],
                   n: Annotated[int, Query(ge=1, le=500)] = 30) -> Sample:
    return views.preview_sample(access, category=category, month=month, n=n, seed=seed)


@api.post("/scrutiny/samples", response_model=Sample, status_code=201, dependencies=CSRF,
          summary="Draw and keep a dip sample for a panel (409 if the category and month have one; needs X-CSRF-Token)")
def save_sample(access: AccessDep, body: SampleIn) -> Sample:
    return flows.save_sample(access, category=body.category, month=body.month, n=body.n, seed=body.seed)


@api.get("/scrutiny/samples/{sample_id}", response_model=Sample, summary="A saved dip sample and its verdicts")
def sample(access: AccessDep, sample_id: SampleId) -> Sample:
    return views.sample(access, sample_id)


@api.post("/scrutiny/samples/{sample_id}/verdicts", response_model=Sample, dependencies=CSRF,
          summary="Record the panel's verdict on one sampled disposal (needs X-CSRF-Token)")
def record_verdict(access: AccessDep, sample_id: SampleId, body: VerdictIn) -> Sample:
    return flows.record_verdict(access, sample_id=sample_id, disposal_id=body.disposal_id, verdict=body.verdict,
                                comment=body.comment, action=body.action)
