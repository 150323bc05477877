"""What the case file and the selection pages show of scoring: stored scores only (a page
never starts a scoring run), with the person page's rules applied to every reader."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel
from sqlalchemy import func, select

from iom.casefile.access import Access, RecordContext
from iom.casefile.schemas import AttentionItem, TimelineEvent
from iom.errors import NotFound, UserError
from iom.register.models import Person
from iom.scoring import service
from iom.scoring.models import Override
from iom.scoring.schemas import Explanation, ExplanationPart, OverrideOut, SelectionRow
from iom.security import scope

#: Override fields that are free text or name officers: not for pseudonymised readers.
OVERRIDE_WORDS = ("reason", "created_by", "approved_by", "revoked_by", "rejected_by", "decision_reason")
WITHHELD = "withheld"
#: The most rows any list here returns at once.
MAX_PER_PAGE = 200


class Selection(BaseModel):
    npu: str
    as_of: dt.date
    scores_stored: bool
    #: Rows in the whole list, and how many of them are adopt, keep and exit.
    total: int = 0
    decisions: dict[str, int] = {}
    page: int = 1
    per_page: int = 50
    rows: list[SelectionRow]
    #: Overrides on the people of this page (the approvals queue lists them all).
    overrides: list[OverrideOut]


def _hide_crimes(parts: list[ExplanationPart]) -> list[ExplanationPart]:
    """What a non-specialist sees of a restricted person's offences in an explanation."""
    return [p.model_copy(update={"label": "restricted offence"}) if p.factor == "crime" else p for p in parts]


def _pseudonymised(override: OverrideOut) -> OverrideOut:
    return override.model_copy(update={k: WITHHELD for k in OVERRIDE_WORDS if getattr(override, k) is not None})


def record_scores(ctx: RecordContext) -> list[Explanation]:
    """The record's stored scores with their explanation; [] when none are stored."""
    if service.stored_run(ctx.session, as_of=ctx.as_of) is None:
        return []
    try:
        explained = service.explain(ctx.session, person_id=ctx.person_id, as_of=ctx.as_of)
    except UserError:
        return []
    if ctx.restricted_hidden:
        explained = explained.model_copy(update={"parts": _hide_crimes(explained.parts)})
    return [explained]


def override_events(ctx: RecordContext) -> list[TimelineEvent]:
    """Overrides on the person's timeline (overrides change without a register version)."""
    events = []
    rows = ctx.session.scalars(select(Override).where(Override.person_id == ctx.person_id, Override.valid_from <= ctx.as_of))
    for row in rows:
        state = "awaiting approval" if row.state == "pending" else row.state
        by = "" if ctx.user.pseudonymised else f" by {row.created_by}: {row.reason}"
        events.append(TimelineEvent(on=row.valid_from, kind="override",
                                    text=f"Override #{row.id}: {'include' if row.include else 'exclude'} until {row.until}"
                                         f" ({state}){by}"))
    return events


def require_npu(access: Access, npu_code: str) -> None:
    """NotFound for an NPU outside the reader's scope (never a 403: no oracle)."""
    if npu_code not in access.npus_in_scope():
        raise NotFound(f"no NPU {npu_code!r} in your scope")


def selection(access: Access, npu_code: str, *, page: int = 1, per_page: int = 50) -> Selection:
    """One page of an NPU's ranked selection (stored scores) and the overrides on its people,
    audited as a search of that page; NPUs outside the reader's scope are not found."""
    require_npu(access, npu_code)
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise UserError(f"page must be >= 1 and per_page between 1 and {MAX_PER_PAGE}")
    stored = service.stored_run(access.session, as_of=access.as_of) is not None
    rows, total, decisions = (service.selection_page(access.session, npu_code=npu_code, as_of=access.as_of, page=page,
                                                     per_page=per_page) if stored else ([], 0, {}))
    on_page = {r.person_id for r in rows}
    overrides = [OverrideOut.model_validate(o) for o in service.list_overrides(access.session, npu_code=npu_code)
                 if o.person_id in on_page]
    if not access.user.can("read_restricted"):
        restricted = access.restricted_among([r.person_id for r in rows])
        rows = [r.model_copy(update={"explanation": _hide_crimes(r.explanation)}) if r.person_id in restricted else r
                for r in rows]
    if access.user.pseudonymised:
        rows = [_pseudonymise_row(r) for r in rows]
        overrides = [_pseudonymised(o) for o in overrides]
    access.log("search", "selection", npu=npu_code, page=page, total=total, people=[r.person_id for r in rows])
    return Selection(npu=npu_code, as_of=access.as_of, scores_stored=stored, total=total, decisions=decisions, page=page,
                     per_page=per_page, rows=rows, overrides=overrides)


def _pseudonymise_row(row: SelectionRow) -> SelectionRow:
    if row.override is None:
        return row
    ov = _pseudonymised(row.override)
    return row.model_copy(update={"override": ov,
                                  "reason": f"{'included' if ov.include else 'excluded'} by override #{ov.id}"})


#: The record's ``scores`` field.
ScoreList = list[Explanation]


class OverridePage(BaseModel):
    state: str
    total: int
    page: int
    per_page: int
    items: list[OverrideOut]



def overrides_queue(access: Access, *, state: str = "pending", page: int = 1, per_page: int = 50) -> OverridePage:
    """Overrides on people in the reader's scope in one state (pending: the approvals queue),
    oldest first, one page at a time; audited as a search, by count."""
    if state not in STATES:
        raise UserError(f"state must be one of {', '.join(STATES)}")
    if page < 1 or not 1 <= per_page <= MAX_PER_PAGE:
        raise UserError(f"page must be >= 1 and per_page between 1 and {MAX_PER_PAGE}")
    query = (select(Override).join(Person, Person.id == Override.person_id)
             .where(scope.in_scope(access.user, access.as_of), STATES[state]))
    total = access.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = access.session.scalars(query.order_by(Override.created_at, Override.id)
                                  .offset((page - 1) * per_page).limit(per_page))
    items = [OverrideOut.model_validate(r) for r in rows]
    if access.user.pseudonymised:
        items = [_pseudonymised(o) for o in items]
    access.log("search", "override", state=state, page=page, total=total, overrides=[o.id for o in items])
    return OverridePage(state=state, total=total, page=page, per_page=per_page, items=items)


STATES = {
    "pending": (Override.approved_at.is_(None) & Override.rejected_at.is_(None) & Override.revoked_at.is_(None)),
    "approved": (Override.approved_at.is_not(None) & Override.revoked_at.is_(None)),
    "rejected": Override.rejected_at.is_not(None),
    "revoked": Override.revoked_at.is_not(None),
}


def attention(access: Access) -> list[AttentionItem]:
    """For a LOMU's staff: whom the stored selection now marks to adopt or exit in each of its
    NPUs; for those who decide them, overrides awaiting a decision on people in scope."""
    items = []
    if access.user.scope == "lomu" and service.stored_run(access.session, as_of=access.as_of) is not None:
        for npu in access.npus_in_scope():
            decisions = access.kept_view("selection decisions", npu, build=lambda npu=npu: service.selection_page(
                access.session, npu_code=npu, as_of=access.as_of, page=1, per_page=1)[2])
            for decision, label in (("adopt", "to adopt"), ("exit", "to exit")):
                items.append(AttentionItem(key=f"selection_{decision}_{npu}", label=f"NPU {npu}: selection marks {label}",
                                           count=decisions.get(decision, 0), href=f"/selection/{npu}"))
    if access.user.can("approve_override"):
        query = (select(func.count()).select_from(Override).join(Person, Person.id == Override.person_id)
                 .where(scope.in_scope(access.user, access.as_of), STATES["pending"]))
        count = access.session.scalar(query) or 0
        items.append(AttentionItem(key="overrides_pending", label="Overrides awaiting approval", count=count,
                                   href="/approvals", severity="overdue" if count else "info"))
    return items
