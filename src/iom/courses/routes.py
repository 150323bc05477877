"""Course pages and API, over ``flows`` and the service's aggregates: the catalogue with Table C
(completion per course with its Wilson interval, beside the published figure) and places and
waiting; the form that refers a person to a course from one of their out-of-court disposals
(the referral becomes the disposal's condition); and the JSON API. A refusal comes back as the
form again with what was typed and every reason (400), with the ESOL offer when language is
the bar. A referral's later steps are the referral's own page (``/referrals/{id}``)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Form, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from iom.casefile.deps import AccessDep
from iom.courses import flows, service, views
from iom.courses.rules import Catalogue, Course, catalogue
from iom.courses.schemas import Completion, CourseReferralOut, PlacesLine, ReferIn
from iom.diversion import service as diversion
from iom.diversion import views as diversion_views
from iom.edge import form_date
from iom.errors import FieldError, NotFound, UserError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, Text
from iom.referrals.providers import Ineligible, directory

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)

READ = "read_people"
MAX_REASON = 2000
BY = ("course", "year", "quarter")
#: The refer form's field ids, by the field a refusal names.
REFER_FIELDS = {"course": "course", "format": "course-format", "interpreter": "course-interpreter",
                "interpreter_language": "course-interpreter", "reason": "course-reason"}
#: The condition the ESOL offer adds to the disposal (the diversion condition form's fields).
ESOL_KIND = "rehabilitative"

ReferralId = Annotated[int, Path(ge=1, le=MAX_ID, description="Referral id")]
CourseCode = Annotated[str | None, Query(max_length=24, description="One course's code (default: every course)")]
Day = Annotated[dt.date | None, Query(description="YYYY-MM-DD")]
By = Annotated[str, Query(pattern="^(course|year|quarter)$", description="One line per course, or per course and "
                                                                         "year or quarter")]


# --- what the pages show -------------------------------------------------------------------------

def _course_view(rules: Catalogue, course: Course, on: dt.date) -> dict:
    try:
        provider = directory().get(course.provider).name
    except UserError:
        provider = course.provider
    evaluation = None
    if course.evaluation is not None:
        evaluation = ("By a randomised trial ({} control to {} course)".format(*course.evaluation.ratio)
                      if course.evaluation.control == "randomised"
                      else "Against suitable people recorded as not referred")
    return {"code": course.code, "name": course.name, "provider": provider, "provider_code": course.provider,
            "since": course.since, "ended_on": course.ended_on, "running": course.running_on(on),
            "funding": course.funding, "funded_until": course.funded_until,
            "funding_ended": course.funded_until is not None and course.funded_until < on,
            "pay_to_attend": course.pay_to_attend, "formats": course.formats,
            "languages": [rules.languages.get(c, c) for c in course.languages], "group_min": course.group_min,
            "group_max": course.group_max, "places_per_month": course.places_per_month, "venues": course.venues,
            "description": course.description, "eligibility": service.eligibility_words(course), "evaluation": evaluation,
            "source": course.source}


# --- pages: the catalogue, Table C, places ---------------------------------------------------------

@pages.get("/courses")
def courses_page(request: Request, access: AccessDep,
                 start: Annotated[str, Query(max_length=32)] = "",
                 end: Annotated[str, Query(max_length=32)] = "",
                 by: Annotated[str, Query(max_length=12)] = "course") -> HTMLResponse:
    """The catalogue, Table C for the period asked for (every referral by default), and places."""
    access.require(READ, "this role cannot read the courses")
    rules = catalogue()
    typed = {"start": start, "end": end, "by": by}
    errors: list[tuple[str, str]] = []
    found = None
    try:
        if by not in BY:
            raise FieldError(f"show Table C by {service.join_words(list(BY))}", field="by")
        found = views.completion(access, start=form_date(start, field="start", what="the period's start"),
                           end=form_date(end, field="end", what="the period's end"), by=by)
    except FieldError as exc:
        errors = [({"to": "end", "from": "start"}.get(exc.field, exc.field or "start"), str(exc))]
    return render(request, "courses/courses.html", access.user, status_code=400 if errors else 200,
                  courses=[_course_view(rules, c, access.as_of) for c in rules.course], rules_version=rules.version,
                  esol=rules.esol_provider, completion=found, places=views.places(access), errors=errors, drafts=typed)


# --- pages: refer to a course from a disposal ----------------------------------------------------------

def _disposal_id(value: int) -> int:
    if not 1 <= value <= MAX_ID:
        raise NotFound(f"no disposal #{value}")
    return value


def _refer_form(request: Request, access, disposal_id: int, *, errors=(), drafts=None, offer=None,
                status_code: int = 200) -> HTMLResponse:
    """The form, over the disposal as its person's record holds it (a read, audited)."""
    disposal = diversion_views.disposal(access, disposal_id)
    rules = catalogue()
    return render(request, "courses/refer.html", access.user, status_code=status_code, disposal=disposal,
                  courses=[_course_view(rules, c, access.as_of) for c in rules.course],
                  languages=sorted(rules.languages.items(), key=lambda item: item[1]), errors=list(errors),
                  drafts=drafts or {}, offer=offer, esol_kind=ESOL_KIND)


@pages.get("/oocd/{disposal_id}/course")
def refer_page(request: Request, access: AccessDep, disposal_id: int,
               course: Annotated[str, Query(max_length=24)] = "") -> HTMLResponse:
    """The form to refer the disposal's person to a course for its offence: the referral becomes
    one of the disposal's conditions."""
    access.require(flows.PERMISSION, "this role cannot make referrals")
    return _refer_form(request, access, _disposal_id(disposal_id), drafts={"course": course})


@pages.post("/oocd/{disposal_id}/course", dependencies=CSRF)
def refer_from_disposal_page(request: Request, access: AccessDep, disposal_id: int,
                             course: Annotated[Text, Form(max_length=24)] = "",
                             format: Annotated[Text, Form(max_length=40)] = "",
                             interpreter_language: Annotated[Text, Form(max_length=8)] = "",
                             reason: Annotated[Text, Form(max_length=MAX_REASON)] = "") -> Response:
    """Makes the referral (and the disposal's condition), or shows the form again with what was
    typed and every reason it was refused: with the ESOL offer when the course's language is
    the bar."""
    disposal_id = _disposal_id(disposal_id)
    typed = {"course": course, "format": format, "interpreter_language": interpreter_language, "reason": reason}
    try:
        if not course.strip():
            raise FieldError("choose the course", field="course")
        # Whose disposal it is; the write itself is scoped and audited (flows).
        person_id = diversion.get_disposal(access.session, disposal_id).person_id
        made = flows.refer(access, course=course.strip(), person_id=person_id, route="oocd", disposal_id=disposal_id,
                           format=format.strip() or None, interpreter_language=interpreter_language.strip() or None,
                           reason=reason.strip() or None)
    except UserError as exc:
        if isinstance(exc, NotFound):
            raise
        if isinstance(exc, (service.CourseRefused, Ineligible)):
            errors = [("course", words) for words in exc.reasons]
        else:
            errors = [(REFER_FIELDS.get(getattr(exc, "field", None) or "", "course"), str(exc))]
        return _refer_form(request, access, disposal_id, errors=errors, drafts=typed,
                           offer=getattr(exc, "offer", None), status_code=400)
    return RedirectResponse(f"/referrals/{made.referral_id}", status_code=303)


# --- API ------------------------------------------------------------------------------------------------

@api.get("/courses", response_model=Catalogue, summary="The course catalogue in force: providers, dates, funding, "
                                                        "formats, languages, group sizes, venues and eligibility")
def courses(access: AccessDep) -> Catalogue:
    access.require(READ, "this role cannot read the courses")
    return catalogue()


@api.get("/courses/completion", response_model=Completion,
         summary="Table C from the records: course referrals in the period and what became of them, the completion "
                 "rate with a 95% Wilson interval, beside the published figure")
def course_completion(access: AccessDep, start: Day = None, end: Day = None, course: CourseCode = None,
                      by: By = "course") -> Completion:
    return views.completion(access, start=start, end=end, course=course, by=by)


@api.get("/courses/places", response_model=list[PlacesLine],
         summary="Places and waiting per course on a day (default: the data's date)")
def course_places(access: AccessDep, as_of: Day = None) -> list[PlacesLine]:
    return views.places(access, as_of=as_of)


@api.post("/courses/referrals", response_model=CourseReferralOut, status_code=201, dependencies=CSRF,
          summary="Refer a person to a course: from an out-of-court disposal (its condition), a plan or voluntarily; "
                  "refused with every reason, and the ESOL offer where language is the bar (needs X-CSRF-Token)")
def refer(access: AccessDep, body: ReferIn) -> CourseReferralOut:
    return flows.refer(access, course=body.course, person_id=body.person_id, route=body.route, crime_id=body.crime_id,
                       disposal_id=body.disposal_id, format=body.format,
                       interpreter_language=body.interpreter_language, reason=body.reason)


@api.get("/courses/referrals/{referral_id}", response_model=CourseReferralOut,
         summary="Which course a referral is to, and how it came (audited); its lifecycle is /referrals/{id}")
def course_referral(access: AccessDep, referral_id: ReferralId) -> CourseReferralOut:
    return views.course_referral(access, referral_id)
