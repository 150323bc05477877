"""The case file's pages and API: caseload, the person record, the unit dashboard."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from iom.casefile import charts, record, schemas
from iom.casefile.deps import AccessDep
from iom.errors import UserError
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, PageNo, PersonId
from iom.plugins import record_parts

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)


def page_person_id(person_id: int) -> int:
    """A person id from a page's path: out of range is a plain 400 page, not a 422."""
    if not 1 <= person_id <= MAX_ID:
        raise UserError("no such person id")
    return person_id


@pages.get("/caseload")
def caseload_page(
    request: Request, access: AccessDep, page: PageNo = 1,
    risk: Annotated[str | None, Query(max_length=8)] = None,
    classification: Annotated[str | None, Query(max_length=12)] = None,
    npu: Annotated[str | None, Query(max_length=8)] = None,
    q: Annotated[str | None, Query(max_length=80)] = None,
    sort: Annotated[str, Query(pattern="^(risk|name|pseudonym|next_review)$")] = "risk",
    need: Annotated[str | None, Query(pattern="^(overdue|due_this_week|new_this_month|risk_changed)$")] = None,
    view: Annotated[str | None, Query(pattern="^(mine|unit)$")] = None,
    officer: Annotated[str | None, Query(max_length=80)] = None,
    flag: Annotated[str | None, Query(max_length=24)] = None,
) -> HTMLResponse:
    """An officer's own caseload by default (when their account is linked to one), the unit's a
    click away."""
    access.require("read_people", "this role has no caseload")
    risk = risk or None
    classification = classification or None
    view = view or ("mine" if access.user.officer else "unit")
    filters = {"risk": risk, "classification": classification, "npu": npu or None, "q": (q or "").strip() or None,
               "need": need or None, "sort": sort, "mine": view == "mine", "officer": (officer or "").strip() or None,
               "flag": flag or None}
    result = access.caseload(**filters, page=page, per_page=50)
    pages_total = max(1, -(-result.total // result.per_page))
    return render(request, "casefile/caseload.html", access.user, result=result, pages=pages_total, risk=risk,
                  classification=classification, filters=filters, sorts=record.SORTS, attention=access.attention(mine=filters["mine"]),
                  needs=record.NEEDS, flags=record.FLAGS, classifications=record.classification_choices(access.user))


@pages.get("/people/{person_id}")
def person_page(request: Request, access: AccessDep, person_id: int, tab: Annotated[str, Query(max_length=24)] = "overview",
                timeline_page: PageNo = 1) -> HTMLResponse:
    """The record in tabs: an overview (summary, latest events, each domain's summary), the
    timeline a page at a time, and a tab for each domain part that has one."""
    tabs = [("overview", "Overview"), ("timeline", "Timeline"),
            *((part.name, part.label) for part in record_parts() if part.tab_template)]
    if tab not in dict(tabs):
        raise UserError(f"no tab {tab!r} on a person's record: choose one of {', '.join(name for name, _ in tabs)}")
    return render_person(request, access, page_person_id(person_id), tab=tab, tabs=tabs, timeline_page=timeline_page)


def render_person(request: Request, access, person_id: int, *, tab: str = "overview", tabs=None, timeline_page: int = 1,
                  errors=(), drafts=None, status_code: int = 200) -> HTMLResponse:
    """The person page; a domain's form re-shows it with ``errors`` ((field id, message)) and
    what was typed (``drafts``: field id -> text), so nothing typed is lost."""
    parts = record_parts()
    tabs = tabs or [("overview", "Overview"), ("timeline", "Timeline"),
                    *((part.name, part.label) for part in parts if part.tab_template)]
    detail = access.person(person_id, timeline_page=timeline_page if tab == "timeline" else 1)
    # A part this reader may not see (None, e.g. MAPPA for non-specialists) has no tab either.
    hidden = {part.name for part in parts if part.tab_template and getattr(detail, part.name, None) is None}
    tabs = [(name, label) for name, label in tabs if name not in hidden]
    if tab in hidden:
        raise UserError(f"no tab {tab!r} on a person's record: choose one of {', '.join(n for n, _ in tabs)}")
    sections = [part.template for part in parts if part.template] if tab == "overview" else \
        [part.tab_template for part in parts if part.name == tab]
    pages_total = max(1, -(-detail.timeline_total // detail.timeline_per_page))
    return render(request, "casefile/person.html", access.user, status_code=status_code, person=detail,
                  sections=sections, tabs=tabs, tab=tab, timeline_pages=pages_total, errors=list(errors),
                  drafts=drafts or {})


@pages.get("/dashboard")
def dashboard_page(request: Request, access: AccessDep) -> HTMLResponse:
    return render(request, "casefile/dashboard.html", access.user, data=access.dashboard())


@pages.get("/charts/{name}.svg")
def chart(access: AccessDep, name: str) -> Response:
    if name not in charts.CHARTS or not access.user.can("read_people"):
        raise UserError("no such chart")
    svg = access.kept_view("chart", name, build=lambda: charts.CHARTS[name](access.dashboard()))
    return Response(svg, media_type="image/svg+xml")


@api.get("/caseload", response_model=schemas.CaseloadPage, summary="Current cohort members in my scope")
def caseload(
    access: AccessDep,
    page: PageNo = 1,
    per_page: Annotated[int, Query(ge=1, le=record.MAX_PER_PAGE)] = 50,
    risk: Annotated[str | None, Query(pattern="^(High|Medium|Low)$")] = None,
    classification: Annotated[str | None, Query(max_length=12)] = None,
    npu: Annotated[str | None, Query(max_length=8)] = None,
    q: Annotated[str | None, Query(max_length=80, description="Id, pseudonym or part of a name")] = None,
    sort: Annotated[str, Query(pattern="^(risk|name|pseudonym|next_review)$")] = "risk",
    need: Annotated[str | None, Query(pattern="^(overdue|due_this_week|new_this_month|risk_changed)$")] = None,
    mine: Annotated[bool, Query(description="Only my own caseload (my account's officer)")] = False,
    officer: Annotated[str | None, Query(max_length=80, description="Managed by this officer")] = None,
    flag: Annotated[str | None, Query(max_length=24, description="One of the caseload's flags")] = None,
) -> schemas.CaseloadPage:
    return access.caseload(risk=risk, classification=classification, npu=npu, q=q, need=need, mine=mine,
                           officer=officer, flag=flag, sort=sort, page=page, per_page=per_page)


@api.get("/attention", response_model=list[schemas.AttentionItem], summary="What needs attention in my scope")
def attention(access: AccessDep, mine: bool = False) -> list[schemas.AttentionItem]:
    return access.attention(mine=mine)


@api.get("/dashboard", response_model=schemas.Dashboard, summary="Unit dashboard figures")
def dashboard(access: AccessDep) -> schemas.Dashboard:
    return access.dashboard()


def person(access: AccessDep, person_id: PersonId, timeline_page: PageNo = 1,
           timeline_per_page: Annotated[int, Query(ge=1, le=200)] = 25) -> schemas.PersonRecord:
    return access.person(person_id, timeline_page=timeline_page, timeline_per_page=timeline_per_page)


def person_api() -> APIRouter:
    """The person endpoint, built with the app: its schema has every installed domain's parts."""
    router = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)
    router.add_api_route("/people/{person_id}", person, methods=["GET"], response_model=schemas.person_detail_model(),
                         summary="One person's record (audited)")
    return router
