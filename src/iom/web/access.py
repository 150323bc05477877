"""Audited access: the only way the routes read or write a person's record.

Each function calls the web service (which scopes through ``iom.security.scope``) and appends
the audit event before anything is returned; an out-of-scope attempt is logged as ``denied``."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from iom.errors import NotFound
from iom.security import audit, scope
from iom.security.roles import Principal
from iom.web import scoring_bridge, service
from iom.web.views import Views


def read_person(engine: Engine, session: Session, user: Principal, person_id: int, *, as_of: dt.date, purpose: str, via: str,
                views: Views):
    try:
        detail = views.get(session, ("person", as_of, person_id, scope.view_key(user)),
                           lambda: service.person_detail(session, user, person_id, as_of=as_of))
    except NotFound:
        audit.record(engine, actor=user, action="denied", resource="person", person_id=person_id, purpose=purpose,
                     detail={"via": via, "why": "not found or out of scope"})
        raise
    # Scores only once scope has let the person through.
    hide = detail.restricted_hidden
    scores = views.get(session, ("explanation", as_of, person_id, hide),
                       lambda: scoring_bridge.explain(session, person_id=person_id, as_of=as_of, hide_crimes=hide))
    detail = detail.model_copy(update={"scores": scores, "notes": service.person_notes(session, user, person_id)})
    audit.record(engine, actor=user, action="read", resource="person", person_id=person_id, purpose=purpose,
                 detail={"via": via, "restricted_hidden": detail.restricted_hidden, "pseudonymised": user.pseudonymised})
    return detail


def read_caseload(engine: Engine, session: Session, user: Principal, *, as_of: dt.date, purpose: str, via: str,
                  views: Views, **filters):
    key = ("caseload", as_of, scope.view_key(user), tuple(sorted(filters.items())))
    page = views.get(session, key, lambda: service.caseload(session, user, as_of=as_of, **filters))
    audit.record(engine, actor=user, action="search", resource="caseload", purpose=purpose,
                 detail={"via": via, "filters": {k: v for k, v in filters.items() if v is not None},
                         "people": [row.id for row in page.items]})
    return page


def _scoped_person(engine: Engine, session: Session, user: Principal, person_id: int, *, as_of: dt.date,
                   purpose: str, via: str, attempt: str):
    """The person, if in scope; otherwise not found, and the attempt is logged as denied."""
    try:
        return scope.get_person(session, user, person_id, as_of)
    except NotFound:
        audit.record(engine, actor=user, action="denied", resource="person", person_id=person_id, purpose=purpose,
                     detail={"via": via, "why": "not found or out of scope", "attempt": attempt})
        raise


def read_override_subject(engine: Engine, session: Session, user: Principal, person_id: int, *, as_of: dt.date,
                          purpose: str, via: str):
    """The person an override form is about (a read of their record, audited as one)."""
    if not user.can("propose_override"):
        raise PermissionError("this role cannot override a selection")
    person = _scoped_person(engine, session, user, person_id, as_of=as_of, purpose=purpose, via=via, attempt="override form")
    audit.record(engine, actor=user, action="read", resource="person", person_id=person_id, purpose=purpose,
                 detail={"via": via, "for": "override form"})
    return person


def write_note(engine: Engine, session: Session, user: Principal, person_id: int, *, text: str, as_of: dt.date, purpose: str, via: str):
    """Scope check, then the audit row (committed), then the note: fail closed, and no write
    lock is held while the audit chain is appended."""
    if not user.can("write_notes"):
        raise PermissionError("this role cannot write notes")
    _scoped_person(engine, session, user, person_id, as_of=as_of, purpose=purpose, via=via, attempt="note")
    service.check_note(text)
    audit.record(engine, actor=user, action="write", resource="person_note", person_id=person_id, purpose=purpose,
                 detail={"via": via, "chars": len(text.strip())})
    return service.add_note(session, user, person_id, text=text, as_of=as_of)


def read_selection(engine: Engine, session: Session, user: Principal, npu_code: str, *, as_of: dt.date, purpose: str, via: str):
    """An NPU's ranked selection (stored scores) and its overrides; NPUs outside scope are not found."""
    if npu_code not in service.lomu_npus(session, user):
        raise NotFound(f"no NPU {npu_code!r} in your scope")
    rows = scoring_bridge.selection(session, npu_code=npu_code, as_of=as_of)
    overrides = scoring_bridge.overrides(session, npu_code=npu_code)
    restricted = scope.restricted_among(session, [r["person_id"] for r in rows or []], as_of)
    scoring_bridge.redact_selection(rows or [], overrides, restricted=restricted, user=user)
    audit.record(engine, actor=user, action="search", resource="selection", purpose=purpose,
                 detail={"via": via, "npu": npu_code, "people": [r["person_id"] for r in rows or []]})
    return rows, overrides


def write_override(engine: Engine, session: Session, user: Principal, person_id: int, *, include: bool, reason: str,
                   until: dt.date, as_of: dt.date, purpose: str, via: str) -> dict:
    if not user.can("propose_override"):
        raise PermissionError("this role cannot override a selection")
    _scoped_person(engine, session, user, person_id, as_of=as_of, purpose=purpose, via=via, attempt="override")
    # Checked before the audit row, so a refused override is not logged as written.
    scoring_bridge.check_override(include=include, reason=reason, until=until, as_of=as_of)
    audit.record(engine, actor=user, action="write", resource="override", person_id=person_id, purpose=purpose,
                 detail={"via": via, "include": include, "reason": reason.strip(), "until": until.isoformat()})
    return scoring_bridge.create_override(session, person_id=person_id, include=include, reason=reason, until=until,
                                          user=user, as_of=as_of)


def approve_override(engine: Engine, session: Session, user: Principal, override_id: int, *, as_of: dt.date, purpose: str, via: str) -> dict:
    if not user.can("approve_override"):
        raise PermissionError("only a supervisor can approve an override")
    person_id = scoring_bridge.override_person(session, override_id)
    if person_id is None:
        raise NotFound(f"no override #{override_id}")
    _scoped_person(engine, session, user, person_id, as_of=as_of, purpose=purpose, via=via, attempt="approve override")
    audit.record(engine, actor=user, action="approve", resource="override", person_id=person_id, purpose=purpose,
                 detail={"via": via, "override_id": override_id})
    return scoring_bridge.approve_override(session, override_id=override_id, approver=user)
