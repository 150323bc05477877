"""Selection review and overrides: pages and API, over ``views`` and ``flows``."""

from __future__ import annotations

import datetime as dt
import io
from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Path, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from starlette.datastructures import FormData
from starlette.datastructures import UploadFile as StarletteUploadFile

from iom.casefile.deps import AccessDep
from iom.edge import clean_text, parse_date
from iom.errors import FieldError, NotFound, UserError
from iom.http.deps import CSRF
from iom.http.pages import render
from iom.http.schemas import MAX_ID, PROBLEMS, PageNo, Text
from iom.scoring import flows, service, views
from iom.scoring.schemas import OverrideOut

pages = APIRouter(include_in_schema=False)
api = APIRouter(prefix="/api/v1", tags=["api"], responses=PROBLEMS)
#: The end date an override form offers: about a quarter.
DEFAULT_DAYS = 91


class DecisionIn(BaseModel):
    reason: Text = Field(min_length=1, max_length=2000)


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
def selection_page(request: Request, access: AccessDep, npu_code: str, page: PageNo = 1) -> HTMLResponse:
    found = views.selection(access, npu_code[:8], page=page, per_page=50)
    return render(request, "scoring/selection.html", access.user, npu=npu_code,
                  rows=found.rows if found.scores_stored else None, overrides=found.overrides, found=found,
                  pages=max(1, -(-found.total // found.per_page)),
                  default_until=access.as_of + dt.timedelta(days=DEFAULT_DAYS))


def _override_form(request: Request, access, npu_code: str, person, *, include: bool, reason: str = "",
                   until: str | None = None, errors=(), status_code: int = 200) -> HTMLResponse:
    example = (access.as_of + dt.timedelta(days=DEFAULT_DAYS)).isoformat()
    return render(request, "scoring/override.html", access.user, status_code=status_code, npu=npu_code,
                  person_id=person.id, pseudo_id=person.pseudo_id, include=include, reason=reason,
                  until=until or example, example_until=example, errors=list(errors))


@pages.get("/selection/{npu_code}/override")
def override_form(request: Request, access: AccessDep, npu_code: str,
                  person_id: Annotated[int, Query(ge=1, le=MAX_ID)], include: bool = True) -> HTMLResponse:
    access.require("propose_override", "this role cannot override a selection")
    views.require_npu(access, npu_code)
    person = access.read_subject(person_id, **{"for": "override form"})
    return _override_form(request, access, npu_code, person, include=include)


@pages.post("/selection/{npu_code}/overrides", dependencies=CSRF)
def create_override_page(
    request: Request, access: AccessDep, npu_code: str,
    person_id: Annotated[int, Form(ge=1, le=MAX_ID)],
    include: Annotated[Text, Form(pattern="^(include|exclude)$")],
    reason: Annotated[Text, Form(max_length=2000)] = "",
    until: Annotated[Text, Form(max_length=32)] = "",
) -> Response:
    """Records the override, or shows the form again with what was typed and what to put right."""
    views.require_npu(access, npu_code)
    try:
        try:
            end = parse_date(until.strip())
        except ValueError:
            raise FieldError(f"the end date must be a date like {access.as_of + dt.timedelta(days=DEFAULT_DAYS)}, "
                             f"not {until.strip()!r}" if until.strip() else "say until when the override runs",
                             field="until") from None
        flows.propose_override(access, person_id=person_id, include=include == "include", reason=reason, until=end)
    except FieldError as exc:
        person = access.subject(person_id, attempt="override form")
        return _override_form(request, access, npu_code, person, include=include == "include", reason=reason,
                              until=until, errors=[(exc.field, str(exc))], status_code=400)
    return RedirectResponse(f"/selection/{npu_code}#overrides", status_code=303)


@pages.post("/overrides/{override_id}/approve", dependencies=CSRF)
def approve_override_page(access: AccessDep, override_id: int, npu_code: Annotated[Text, Form(max_length=8)] = "") -> Response:
    """From a selection page (back to it) or the approvals queue (back to the queue)."""
    if not 1 <= override_id <= MAX_ID:
        raise NotFound(f"no override #{override_id}")
    flows.approve_override(access, override_id=override_id)
    return RedirectResponse(f"/selection/{npu_code}#overrides" if npu_code else "/approvals", status_code=303)


@pages.get("/approvals")
def approvals_page(request: Request, access: AccessDep, page: PageNo = 1,
                   state: Annotated[str, Query(pattern="^(pending|approved|rejected|revoked)$")] = "pending") -> HTMLResponse:
    """The approvals queue: overrides awaiting a decision on people in the reader's scope."""
    found = views.overrides_queue(access, state=state, page=page, per_page=50)
    return render(request, "scoring/approvals.html", access.user, found=found, pages=max(1, -(-found.total // found.per_page)))


#: Decisions with a reason, from the approvals queue: the flow, and where to go back to.
DECISIONS = {"reject": (flows.reject_override, "/approvals"), "revoke": (flows.revoke_override, "/approvals?state=approved")}


@pages.post("/overrides/{override_id}/{decision}", dependencies=CSRF)
def decide_override_page(access: AccessDep, override_id: int, decision: str,
                         reason: Annotated[Text, Form(max_length=2000)] = "") -> Response:
    if decision not in DECISIONS or not 1 <= override_id <= MAX_ID:
        raise NotFound(f"no override #{override_id} to {decision}")
    flow, back = DECISIONS[decision]
    flow(access, override_id=override_id, reason=reason)
    return RedirectResponse(back, status_code=303)


@api.get("/overrides", response_model=views.OverridePage, summary="Overrides in my scope by state (pending: the approvals queue)")
def overrides(access: AccessDep, page: PageNo = 1,
              per_page: Annotated[int, Query(ge=1, le=views.MAX_PER_PAGE)] = 50,
              state: Annotated[str, Query(pattern="^(pending|approved|rejected|revoked)$")] = "pending") -> views.OverridePage:
    return views.overrides_queue(access, state=state, page=page, per_page=per_page)


@api.post("/overrides/{override_id}/reject", response_model=OverrideOut, dependencies=CSRF,
          summary="Reject an override, with a reason (supervisors; not your own)")
def reject_override(access: AccessDep, override_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: DecisionIn) -> OverrideOut:
    return flows.reject_override(access, override_id=override_id, reason=body.reason)


@api.post("/overrides/{override_id}/revoke", response_model=OverrideOut, dependencies=CSRF,
          summary="Revoke an override now, with a reason")
def revoke_override(access: AccessDep, override_id: Annotated[int, Path(ge=1, le=MAX_ID)], body: DecisionIn) -> OverrideOut:
    return flows.revoke_override(access, override_id=override_id, reason=body.reason)


#: The largest CSV the fairness page takes (about 200,000 rows of a few columns); the command
#: `iom fairness --file` reads larger files.
MAX_UPLOAD_BYTES = 10 * 1024 * 1024
#: The form's other fields and the multipart framing, on top of the file.
UPLOAD_SLACK = 64 * 1024


def _fairness_page(request: Request, access, *, day: dt.date, config, file_report=None, upload=None,
                   upload_error: tuple[str, str] | None = None, status_code: int = 200) -> HTMLResponse:
    """The register's audit (when scores are stored for ``day``) with the upload form and,
    after an upload, the file's audit; the register's is never computed here, only read."""
    from iom.scoring.fairness import fairness_audit, template_helpers

    report = None
    if service.stored_run(access.session, as_of=day) is not None:
        report = access.kept(("fairness", day), lambda: fairness_audit(access.session, as_of=day, config=config))
    return render(request, "scoring/fairness_page.html", access.user, status_code=status_code, report=report, day=day,
                  file_report=file_report, upload=upload or {}, errors=[upload_error] if upload_error else [],
                  max_upload_mb=MAX_UPLOAD_BYTES // (1024 * 1024), **template_helpers())


@pages.get("/fairness")
def fairness_page(request: Request, access: AccessDep,
                  as_of: Annotated[dt.date | None, Query(description="Date of the selection audited")] = None) -> HTMLResponse:
    """The ethics committee's fairness audit of a stored selection (a page never scores: it
    says how to store one when none is), and a form to audit a file of scores the same way."""
    from iom.scoring.config import load_config
    from iom.scoring.fairness import default_audit_date

    access.require("review_fairness", "this role does not review the fairness audit")
    config = load_config()
    day = as_of or default_audit_date(access.session, config)
    response = _fairness_page(request, access, day=day, config=config)
    access.log("read", "fairness_audit", as_of=day.isoformat(), stored=response.context["report"] is not None)
    return response


def _upload_size(request: Request) -> None:
    """Refuse a body over the limit before it is read (the CSRF check reads the form)."""
    length = request.headers.get("content-length", "")
    if not length.isdigit():
        raise HTTPException(411, "send the file as a form upload, with its length")
    if int(length) > MAX_UPLOAD_BYTES + UPLOAD_SLACK:
        raise HTTPException(413, f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB, the most this page "
                                 "takes: use `iom fairness --file` at the console")


async def _upload_form(request: Request):
    return await request.form()  # parsed once: the CSRF check has read it


@pages.post("/fairness/file", dependencies=[Depends(_upload_size), *CSRF])
def fairness_file_page(request: Request, access: AccessDep, form: Annotated[FormData, Depends(_upload_form)]) -> HTMLResponse:
    """Audit an uploaded CSV of scores and outcomes: the same analysis as `iom fairness --file`.
    The file is read in memory and not kept; the audit log records who audited which file."""
    from iom.scoring.config import load_config
    from iom.scoring.fairness import default_audit_date, file_audit

    access.require("review_fairness", "this role does not review the fairness audit")
    config = load_config()
    day = default_audit_date(access.session, config) if service.reference_date_or_none(access.session) else access.as_of
    fields = {k: str(form.get(k) or "")[:200] for k in ("group_col", "score_col", "outcome_col", "threshold", "reference")}
    upload = form.get("file")
    try:
        for key, value in fields.items():
            try:
                fields[key] = clean_text(value)
            except ValueError as exc:
                raise FieldError(f"this field {exc}", field=key) from None
        if not isinstance(upload, StarletteUploadFile) or not upload.filename:
            raise FieldError("choose a CSV file to audit", field="file")
        for key, words in (("group_col", "the group column"), ("score_col", "the score column"),
                           ("outcome_col", "the outcome column")):
            if not fields[key]:
                raise FieldError(f"name {words}", field=key)
        try:
            threshold = float(fields["threshold"])
        except ValueError:
            raise FieldError(f"the threshold must be a number, like 0.5, not {fields['threshold']!r}"
                             if fields["threshold"] else "give the threshold: a score at or above it counts as selected",
                             field="threshold") from None
        data = upload.file.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise FieldError(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB", field="file")
        name = "".join(c for c in upload.filename if c.isprintable())[:120]
        try:
            report = file_audit(io.BytesIO(data), source=name, group_cols=[fields["group_col"]],
                                score_col=fields["score_col"], outcome_col=fields["outcome_col"], threshold=threshold,
                                reference=fields["reference"] or None, config=config)
        except FieldError:
            raise
        except UserError as exc:
            raise FieldError(str(exc), field="file") from None
    except FieldError as exc:
        return _fairness_page(request, access, day=day, config=config, upload=fields,
                              upload_error=(exc.field, str(exc)), status_code=400)
    access.log("read", "fairness_file", file=name, rows=report.people, flags=len(report.flags))
    return _fairness_page(request, access, day=day, config=config, file_report=report, upload=fields)


@api.get("/selection/{npu_code}", response_model=views.Selection, summary="Ranked selection for an NPU (stored scores)")
def selection(access: AccessDep, npu_code: Annotated[str, Path(min_length=1, max_length=8)], page: PageNo = 1,
              per_page: Annotated[int, Query(ge=1, le=views.MAX_PER_PAGE)] = 50) -> views.Selection:
    return views.selection(access, npu_code, page=page, per_page=per_page)


@api.post("/overrides", response_model=OverrideOut, status_code=201, dependencies=CSRF,
          summary="Override a selection with a reason (audited; needs X-CSRF-Token)")
def create_override(access: AccessDep, body: OverrideIn) -> OverrideOut:
    return flows.propose_override(access, person_id=body.person_id, include=body.include, reason=body.reason,
                                  until=body.until)


@api.post("/overrides/{override_id}/approve", response_model=OverrideOut, dependencies=CSRF,
          summary="Approve an override (supervisors; not your own)")
def approve_override(access: AccessDep, override_id: Annotated[int, Path(ge=1, le=MAX_ID)]) -> OverrideOut:
    return flows.approve_override(access, override_id=override_id)
