"""Referrals change here, and only here: made (and perhaps sent), then moved along the
lifecycle, with sessions on the way. Each change goes through ``Access.write``: scope first (a
person outside it is not found, and the attempt logged as denied), then the check (eligibility,
the lifecycle, the version the writer saw), then the audit row, then the change. Pages, the
API and the commands all call these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import TypeVar

from iom.casefile.access import Access
from iom.casework.versioning import StaleWrite
from iom.errors import NotFound
from iom.referrals import service
from iom.referrals.schemas import ReferralDetail

RESOURCE = "referral"
#: Referrals are casework: the roles that write case plans make and move them.
PERMISSION = "write_casework"
T = TypeVar("T")


def make_referral(access: Access, *, person_id: int, provider: str, pathway: str, reason: str,
                  desired_outcomes: Sequence[str] = (), source: str = "plan", send: bool = False,
                  through: str | None = None) -> ReferralDetail:
    """A referral dated on the access's day, refused with every broken rule's words if the
    provider's rules do not take this person on that day. ``through``: the domain making it
    (DRIVE and CARA take referrals only through domestic abuse)."""
    access.require(PERMISSION, "this role cannot make referrals")
    outcomes = list(desired_outcomes)
    return access.write(
        person_id, resource=RESOURCE, provider=provider, pathway=pathway, send=send,
        check=lambda: service.check_new_referral(access.session, person_id=person_id, provider_code=provider,
                                                 pathway=pathway, reason=reason, desired_outcomes=outcomes,
                                                 on=access.as_of, through=through),
        apply=lambda person: service.referral_detail(access.session, service.create_referral(
            access.session, person_id=person.id, provider_code=provider, pathway=pathway, reason=reason,
            desired_outcomes=outcomes, source=source, by=access.user.username, on=access.as_of, send=send,
            through=through), shows_text=True),
    )


def change_status(access: Access, *, referral_id: int, action: str, version: int | None, reason: str | None = None,
                  outcomes: dict[str, str] | None = None, notes: dict[str, str] | None = None) -> ReferralDetail:
    """Send, accept, start, complete, end early or cancel, on the access's day. ``version``
    is the one the writer saw (None only at the console): an older one is a ``StaleWrite``."""
    access.require(PERMISSION, "this role cannot change referrals")
    session = access.session
    seen: dict[str, int] = {}

    def check() -> None:
        referral = service.get_referral(session, referral_id, lock=True)
        service.check_change(session, referral, action=action, version=version, on=access.as_of, reason=reason,
                             outcomes=outcomes)
        seen["version"] = referral.version

    def apply(_person) -> ReferralDetail:
        referral = service.apply_change(session, service.get_referral(session, referral_id), action=action,
                                        based_on=seen["version"], by=access.user.username, on=access.as_of,
                                        reason=reason, outcomes=outcomes, notes=notes)
        return service.referral_detail(session, referral, shows_text=True)

    return _write(access, referral_id, action=action, version=version, check=check, apply=apply)


def record_session(access: Access, *, referral_id: int, version: int | None, held_on: dt.date, attendance: str,
                   behaviour: str | None = None) -> ReferralDetail:
    """A session of a referral in progress, with its attendance and behaviour notes."""
    access.require(PERMISSION, "this role cannot record sessions")
    session = access.session
    seen: dict[str, int] = {}

    def check() -> None:
        referral = service.get_referral(session, referral_id, lock=True)
        service.check_session(session, referral, version=version, held_on=held_on, attendance=attendance,
                              behaviour=behaviour, on=access.as_of)
        seen["version"] = referral.version

    def apply(_person) -> ReferralDetail:
        referral = service.add_session(session, service.get_referral(session, referral_id), based_on=seen["version"],
                                       held_on=held_on, attendance=attendance, behaviour=behaviour,
                                       by=access.user.username, on=access.as_of)
        return service.referral_detail(session, referral, shows_text=True)

    return _write(access, referral_id, action="session", version=version, check=check, apply=apply,
                  held_on=held_on.isoformat(), attendance=attendance)


def _write(access: Access, referral_id: int, *, action: str, version: int | None, check: Callable[[], None],
           apply: Callable[..., T], **detail) -> T:
    """``Access.write`` on the referral's person. Out of scope reads as no such referral (no
    oracle); a stale version is logged as denied, then refused; so is a race lost after the
    audit row (two writers who both passed the check: the conditional update lets one win)."""
    referral = service.get_referral(access.session, referral_id)
    person_id = referral.person_id

    def refused(exc: StaleWrite, why: str) -> None:
        access.log("denied", RESOURCE, person_id=person_id, why=why, attempt=action, referral_id=referral_id,
                   based_on=exc.expected, current=exc.current_version)

    def checked() -> None:
        try:
            check()
        except StaleWrite as exc:
            refused(exc, "stale version")
            raise

    def applied(person):
        try:
            return apply(person)
        except StaleWrite as exc:
            refused(exc, "changed by someone else first")
            raise

    try:
        return access.write(person_id, resource=RESOURCE, check=checked, apply=applied, referral_id=referral_id,
                            change=action, based_on=version, **detail)
    except NotFound:
        raise NotFound(f"no referral #{referral_id}") from None
