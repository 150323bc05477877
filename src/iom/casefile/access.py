"""Audited access: the only way the pages, the API and the commands read or write a person's
record.

One ``Access`` per request or command names who is acting, why (the stated purpose), through
what (page, api, cli) and on which date. Scope is checked in ``iom.security.scope``; every
read, write and refused attempt is appended to the audit log before anything is returned."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from iom.casefile import record, schemas
from iom.errors import NotFound, UserError
from iom.plugins import contributions, record_parts, resolve
from iom.register.models import Person
from iom.register.service import register_version
from iom.register.views import Views
from iom.security import audit, scope
from iom.security.roles import Principal

T = TypeVar("T")
#: Timeline events a record shows at once, and the most a reader may ask for.
TIMELINE_PER_PAGE = 25
MAX_TIMELINE_PER_PAGE = 200


@dataclass(frozen=True)
class RecordContext:
    """What a domain's record part or timeline source is given: a person scope has let
    through, the reader, and whether restricted fields are hidden from them."""

    session: Session
    user: Principal
    person_id: int
    as_of: dt.date
    restricted_hidden: bool


@dataclass
class Access:
    audit_engine: Engine
    session: Session
    user: Principal
    as_of: dt.date
    purpose: str
    via: str
    views: Views | None = None

    # --- the audit log and permissions -----------------------------------------------------

    def log(self, action: str, resource: str, *, person_id: int | None = None, **detail: Any) -> None:
        audit.record(self.audit_engine, actor=self.user, action=action, resource=resource, person_id=person_id,
                     purpose=self.purpose, detail={"via": self.via, **detail})

    def require(self, permission: str, refusal: str) -> None:
        if not self.user.can(permission):
            raise PermissionError(refusal)

    def kept(self, key: tuple[Hashable, ...], build: Callable[[], T]) -> T:
        """``build()``, kept per register version when this access has a view store."""
        if self.views is None:
            return build()
        return self.views.get(self.session, key, build)

    def kept_view(self, name: str, *args: Hashable, build: Callable[[], T]) -> T:
        """``kept`` for a view of this reader's scope on this access's date."""
        return self.kept((name, self.as_of, scope.view_key(self.user), *args), build)

    # --- one person -------------------------------------------------------------------------

    def subject(self, person_id: int, *, attempt: str) -> Person:
        """The person, if in scope; otherwise not found, and the attempt is logged as denied."""
        try:
            return scope.get_person(self.session, self.user, person_id, self.as_of)
        except NotFound:
            self.log("denied", "person", person_id=person_id, why="not found or out of scope", attempt=attempt)
            raise

    def read_subject(self, person_id: int, *, resource: str = "person", **detail: Any) -> Person:
        """The person a form or a command is about: a read of their record, audited as one."""
        person = self.subject(person_id, attempt=detail.get("for", resource))
        self.log("read", resource, person_id=person.id, **detail)
        return person

    def write(self, person_id: int, *, resource: str, apply: Callable[[Person], T], check: Callable[[], None] | None = None,
              action: str = "write", **detail: Any) -> T:
        """Scope, then ``check`` (a refusal is not logged as done), then the audit row
        (committed: fail closed), then ``apply`` in this session, which the caller commits."""
        person = self.subject(person_id, attempt=resource if action == "write" else f"{action} {resource}")
        if check is not None:
            check()
        self.log(action, resource, person_id=person.id, **detail)
        return apply(person)

    def person(self, person_id: int, *, timeline_page: int = 1,
               timeline_per_page: int = TIMELINE_PER_PAGE) -> schemas.PersonRecord:
        """The whole record: the register's part and every domain's parts (``RecordPart``),
        with one page of the timeline."""
        if timeline_page < 1 or not 1 <= timeline_per_page <= MAX_TIMELINE_PER_PAGE:
            raise UserError(f"timeline_page must be >= 1 and timeline_per_page between 1 and {MAX_TIMELINE_PER_PAGE}")
        key = (self.as_of, person_id, scope.view_key(self.user))
        # One version read for the record's kept parts: this read writes nothing before its audit row.
        version = register_version(self.session) if self.views is not None else None

        def kept(name: str, build: Callable[[], T]) -> T:
            return build() if self.views is None else self.views.at(version, (name, *key), build)

        try:
            base = kept("person", lambda: self._base_record(person_id))
        except NotFound:
            self.log("denied", "person", person_id=person_id, why="not found or out of scope")
            raise
        ctx = RecordContext(self.session, self.user, person_id, self.as_of, base.restricted_hidden)
        parts: dict[str, Any] = {}
        for part in record_parts():
            build = resolve(part.build)
            parts[part.name] = kept(part.name, lambda: build(ctx)) if part.kept else build(ctx)
        fresh = [event for source in contributions("live_timeline") for event in resolve(source)(ctx)]
        timeline = sorted([*base.timeline, *fresh], key=lambda e: e.on, reverse=True) if fresh else base.timeline
        start = (timeline_page - 1) * timeline_per_page
        detail = schemas.person_detail_model().model_construct(**{
            **dict(base), "timeline": timeline[start:start + timeline_per_page], "timeline_total": len(timeline),
            "timeline_page": timeline_page, "timeline_per_page": timeline_per_page, **parts})
        self.log("read", "person", person_id=person_id, restricted_hidden=base.restricted_hidden,
                 pseudonymised=self.user.pseudonymised)
        return detail

    def _base_record(self, person_id: int) -> schemas.PersonRecord:
        person = scope.get_person(self.session, self.user, person_id, self.as_of)
        restricted = scope.is_restricted(self.session, person.id, self.as_of)
        hide = restricted and not scope.shows_restricted(self.user)
        base = record.person_record(self.session, self.user, person, as_of=self.as_of, restricted=restricted, hide=hide)
        ctx = RecordContext(self.session, self.user, person.id, self.as_of, hide)
        events = [event for source in contributions("timeline") for event in resolve(source)(ctx)]
        if events:
            base.timeline = sorted([*base.timeline, *events], key=lambda e: e.on, reverse=True)
        return base

    # --- many people --------------------------------------------------------------------------

    def caseload(self, **filters: Any) -> schemas.CaseloadPage:
        # ``mine`` lists the user's own officer's people: the officer is part of what was asked.
        mine = self.user.officer if filters.get("mine") else None
        page_no, per_page = filters.pop("page", 1), filters.pop("per_page", 50)
        listing = ("caseload", self.as_of, scope.view_key(self.user), mine, tuple(sorted(filters.items())))
        keys = self.kept(listing, lambda: record.caseload_keys(self.session, self.user, as_of=self.as_of, **filters))
        page = self.kept((*listing, page_no, per_page), lambda: record.caseload_page(
            self.session, self.user, keys, as_of=self.as_of, page=page_no, per_page=per_page))
        self.log("search", "caseload", filters={k: v for k, v in {**filters, "page": page_no, "per_page": per_page}.items()
                                                    if v is not None},
                 people=[row.id for row in page.items])
        return page

    def attention(self, *, mine: bool = False) -> list[schemas.AttentionItem]:
        """What needs attention in the reader's scope (``mine``: their own caseload): the
        register's (reviews, adoptions, risk changes) and every domain's (``Domain.attention``)."""
        self.require("read_people", "this role has no caseload")
        items = self.kept_view("attention", mine, self.user.officer if mine else None,
                               build=lambda: record.attention(self.session, self.user, as_of=self.as_of, mine=mine))
        return [*items, *(item for source in contributions("attention") for item in resolve(source)(self))]

    def dashboard(self) -> schemas.Dashboard:
        self.require("read_people", "this role has no unit dashboard")
        return self.kept_view("dashboard", build=lambda: record.dashboard(self.session, self.user, as_of=self.as_of))

    def npus_in_scope(self) -> list[str]:
        """NPUs whose lists this reader may review."""
        return scope.npus_in_scope(self.session, self.user)

    def restricted_among(self, person_ids) -> set[int]:
        """Which of these people have restricted fields on this access's date."""
        return scope.restricted_among(self.session, person_ids, self.as_of)
