"""Cohort framework pages (officers' workloads, the reset review) and API, over ``views``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse

from iom.casefile.deps import AccessDep
from iom.cohort_framework import views
from iom.cohort_framework.schemas import ExitProposals, ResetReview, UnitConsistency, Workload
from iom.http.pages import render
from iom.http.schemas import PROBLEMS

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)

Lomu = Annotated[str | None, Query(max_length=8, description="Only this LOMU")]


@pages.get("/cohorts/officers")
def officers_page(request: Request, access: AccessDep, lomu: Lomu = None) -> HTMLResponse:
    """A supervisor's page: officers' loads, the reset review and de-selection proposals."""
    work = views.workload(access, lomu=lomu or None)
    review = views.reset_review(access, lomu=work.lomu)
    exits = views.exit_proposals(access, lomu=work.lomu)
    return render(request, "cohort_framework/officers.html", access.user, work=work, review=review, exits=exits)


@api.get("/cohorts/officers", response_model=Workload, summary="Officers' workloads (supervisors; audited)")
def officers(access: AccessDep, lomu: Lomu = None) -> Workload:
    return views.workload(access, lomu=lomu)


@api.get("/cohorts/reset-review", response_model=ResetReview,
         summary="Members whose classification's eligibility has lapsed (supervisors; audited)")
def reset_review(access: AccessDep, lomu: Lomu = None) -> ResetReview:
    return views.reset_review(access, lomu=lomu)


@api.get("/cohorts/exits", response_model=ExitProposals, summary="De-selection proposals (supervisors; audited)")
def exits(access: AccessDep, lomu: Lomu = None) -> ExitProposals:
    return views.exit_proposals(access, lomu=lomu)


@api.get("/cohorts/consistency", response_model=list[UnitConsistency],
         summary="Per LOMU: members per officer, adoption and exit rates, lapsed eligibility (audited)")
def consistency(access: AccessDep, months: Annotated[int, Query(ge=1, le=60)] = 12) -> list[UnitConsistency]:
    return views.consistency(access, months=months)
