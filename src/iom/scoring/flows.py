"""Overrides change state here, and only here: proposed, approved, revoked. Each is scoped
and checked before its audit row, so a refusal is never logged as done; pages, the API and
the commands all call these."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access
from iom.scoring import service
from iom.scoring.schemas import OverrideOut

RESOURCE = "override"


def propose_override(access: Access, *, person_id: int, include: bool, reason: str, until: dt.date) -> OverrideOut:
    """Include or exclude a person from the selection from the access's date until ``until``."""
    access.require("propose_override", "this role cannot override a selection")
    return access.write(
        person_id, resource=RESOURCE, include=include, reason=reason.strip(), until=until.isoformat(),
        check=lambda: service.check_override(include=include, reason=reason, until=until, valid_from=access.as_of),
        apply=lambda person: OverrideOut.model_validate(service.create_override(
            access.session, person_id=person.id, include=include, reason=reason, until=until,
            user=access.user.username, valid_from=access.as_of)),
    )


def approve_override(access: Access, *, override_id: int) -> OverrideOut:
    """A second person's approval (never the proposer's own)."""
    access.require("approve_override", "only a supervisor can approve an override")
    row = service.get_override(access.session, override_id)
    return access.write(
        row.person_id, resource=RESOURCE, action="approve", override_id=override_id,
        check=lambda: service.check_approval(row, approver=access.user.username),
        apply=lambda person: OverrideOut.model_validate(service.approve_override(
            access.session, override_id=override_id, approver=access.user.username)),
    )


def revoke_override(access: Access, *, override_id: int) -> OverrideOut:
    """End an override now: later selections no longer apply it."""
    access.require("propose_override", "this role cannot revoke an override")
    row = service.get_override(access.session, override_id)
    return access.write(
        row.person_id, resource=RESOURCE, revoke=override_id,
        apply=lambda person: OverrideOut.model_validate(service.revoke_override(
            access.session, override_id=override_id, user=access.user.username)),
    )
