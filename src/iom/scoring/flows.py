"""Overrides change state here, and only here: proposed, then approved or rejected, and
revoked. Each is scoped and checked before its audit row, so a refusal is never logged as
done; each change is a conditional update, so of two people deciding at once one wins and the
other is told (409) and logged as denied. Pages, the API and the commands all call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from iom.casefile.access import Access
from iom.errors import Conflict
from iom.scoring import service
from iom.scoring.models import Override
from iom.scoring.schemas import OverrideOut

RESOURCE = "override"


def propose_override(access: Access, *, person_id: int, include: bool, reason: str, until: dt.date) -> OverrideOut:
    """Include or exclude a person from the selection from the access's date until ``until``;
    in force once approved (under the default policy)."""
    access.require("propose_override", "this role cannot override a selection")
    return access.write(
        person_id, resource=RESOURCE, include=include, reason=reason.strip(), until=until.isoformat(),
        check=lambda: service.check_new_override(access.session, person_id=person_id, include=include, reason=reason,
                                                 until=until, valid_from=access.as_of),
        apply=lambda person: OverrideOut.model_validate(service.create_override(
            access.session, person_id=person.id, include=include, reason=reason, until=until,
            user=access.user.username, valid_from=access.as_of)),
    )


def _decision(access: Access, row: Override, *, action: str, check: Callable[[], None], apply: Callable[[], Override],
              **detail) -> OverrideOut:
    """``check`` re-reads the override under the decisions' lock (``get_override(lock=True)``),
    so of two deciders the second reads what the first left: already decided is a Conflict,
    logged as denied (never as the decision) and answered 409."""
    def refused() -> None:
        access.log("denied", RESOURCE, person_id=row.person_id, why="decided by someone else first",
                   attempt=action, override_id=row.id)

    def checked() -> None:
        try:
            check()
        except Conflict:
            refused()
            raise

    def run(_person) -> OverrideOut:
        try:
            return OverrideOut.model_validate(apply())
        except Conflict:
            refused()
            raise

    return access.write(row.person_id, resource=RESOURCE, action=action, override_id=row.id, check=checked, apply=run,
                        **detail)


def approve_override(access: Access, *, override_id: int) -> OverrideOut:
    """A second person's approval (never the proposer's own)."""
    access.require("approve_override", "only a supervisor can approve an override")
    row = service.get_override(access.session, override_id)
    who = access.user.username
    return _decision(access, row, action="approve",
                     check=lambda: service.check_decision(service.get_override(access.session, override_id, lock=True),
                                                          decider=who),
                     apply=lambda: service.approve_override(access.session, override_id=override_id, approver=who))


def reject_override(access: Access, *, override_id: int, reason: str) -> OverrideOut:
    """A second person's refusal, with the reason: the override never takes effect."""
    access.require("approve_override", "only a supervisor can reject an override")
    row = service.get_override(access.session, override_id)
    who = access.user.username

    return _decision(access, row, action="write", decision="reject", reason=reason.strip(),
                     check=lambda: service.check_rejection(service.get_override(access.session, override_id, lock=True),
                                                           decider=who, reason=reason),
                     apply=lambda: service.reject_override(access.session, override_id=override_id, user=who,
                                                          reason=reason))


def revoke_override(access: Access, *, override_id: int, reason: str) -> OverrideOut:
    """End an override now, with the reason: later selections no longer apply it."""
    access.require("propose_override", "this role cannot revoke an override")
    row = service.get_override(access.session, override_id)
    return _decision(access, row, action="write",
                     check=lambda: service.check_revocation(service.get_override(access.session, override_id, lock=True),
                                                            reason=reason),
                     revoke=override_id, reason=reason.strip(),
                     apply=lambda: service.revoke_override(access.session, override_id=override_id,
                                                          user=access.user.username, reason=reason))
