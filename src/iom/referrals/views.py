"""Referrals read through audited access: one referral, a person's, or every one in scope.
A referral of someone outside the reader's scope is not found (logged as denied)."""

from __future__ import annotations

from iom.casefile.access import Access
from iom.errors import NotFound
from iom.referrals import service
from iom.referrals.schemas import ReferralDetail, ReferralOut, ReferralPage, RevisionOut

RESOURCE = "referral"
MAX_PER_PAGE = 200


def referral(access: Access, referral_id: int) -> ReferralDetail:
    found = _readable(access, referral_id, attempt="referral")
    return service.referral_detail(access.session, found, shows_text=not access.user.pseudonymised)


def person_referrals(access: Access, person_id: int) -> list[ReferralOut]:
    person = access.read_subject(person_id, resource=RESOURCE, **{"for": "referral list"})
    return service.person_referrals(access.session, person_id=person.id, shows_text=not access.user.pseudonymised)


def in_scope(access: Access, *, person_id: int | None = None, provider: str | None = None, status: str | None = None,
             page: int = 1, per_page: int = 50) -> ReferralPage:
    """Referrals of people in the reader's scope (one person's, with ``person_id``)."""
    access.require("read_people", "this role sees no referrals")
    if person_id is not None:
        access.subject(person_id, attempt="referral list")
    found = service.referrals_in_scope(access.session, user=access.user, as_of=access.as_of, person_id=person_id,
                                       provider=provider, status=status, page=page, per_page=per_page)
    filters = {k: v for k, v in {"person_id": person_id, "provider": provider, "status": status}.items() if v is not None}
    access.log("search", RESOURCE, filters=filters, referrals=[r.id for r in found.items],
               people=sorted({r.person_id for r in found.items}))
    return found


def revisions(access: Access, referral_id: int) -> list[RevisionOut]:
    """Every version written (free text included): not for pseudonymised readers."""
    if access.user.pseudonymised:
        raise PermissionError("pseudonymised readers do not see a referral's revisions (they hold free text)")
    _readable(access, referral_id, attempt="referral revisions")
    return [RevisionOut(version=r.version, written_by=r.written_by, written_at=r.written_at, data=r.data)
            for r in service.revisions(access.session, referral_id=referral_id)]


def _readable(access: Access, referral_id: int, *, attempt: str):
    found = service.get_referral(access.session, referral_id)
    try:
        access.read_subject(found.person_id, resource=RESOURCE, referral_id=referral_id, **{"for": attempt})
    except NotFound:
        raise NotFound(f"no referral #{referral_id}") from None
    return found
