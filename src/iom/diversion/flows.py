"""Out-of-court disposals change state here, and only here: a decision, its conditions (a
course or provider condition makes a referral), authorisation, issue, compliance, breach (by a
condition marked failed or a deadline passed) and what follows a breach; the scrutiny panel's
samples and verdicts. Each person's change goes through ``Access.write``: scope, the check,
the audit row, then the change; every change is a ``DisposalEvent`` on the person's timeline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from iom.casefile.access import Access
from iom.diversion import scrutiny, service
from iom.diversion.models import ScrutinySample
from iom.diversion.rules import policies
from iom.diversion.schemas import DisposalOut, Sample
from iom.errors import FieldError, NotFound
from iom.referrals import flows as referral_flows

#: Officers decide and set conditions (casework); supervisors authorise.
DECIDE = "write_casework"
AUTHORISE = "authorise_oocd"
SCRUTINISE = "scrutinise_oocd"


def _out(access: Access, row) -> DisposalOut:
    return service.disposal_out(access.session, row, hide_text=access.user.pseudonymised)


def decide(access: Access, *, person_id: int, crime_id: int, tier: str, admission: bool, consent: bool, rationale: str,
           victim_views: str | None = None, factors: Sequence[str] = (), policy: str | None = None,
           custody_expected: bool = False, intervention_available: bool = False,
           dpp_consent: bool = False) -> DisposalOut:
    """A proposed disposal of one of the person's crimes, refused with every rule that bars it."""
    access.require(DECIDE, "this role cannot decide out-of-court disposals")
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_decision(
            access.session, person_id=person_id, crime_id=crime_id, tier=tier, policy=policy, admission=admission,
            consent=consent, victim_views=victim_views, factors=list(factors), rationale=rationale,
            custody_expected=custody_expected, intervention_available=intervention_available,
            dpp_consent=dpp_consent, on=access.as_of))

    return access.write(person_id, resource="oocd", check=check, crime=crime_id, tier=tier,
                        apply=lambda _p: _out(access, service.add_decision(access.session, values=checked,
                                                                           by=access.user.username)))


def change(access: Access, *, disposal_id: int, action: str, version: int | None = None, rank: str | None = None,
           reason: str | None = None) -> DisposalOut:
    """Authorise (with the authoriser's rank), issue, withdraw, or act on a breach (prosecute
    or fine, as the tier says). Issuing a youth disposal refers the person to the Youth
    Offending Service."""
    needed = AUTHORISE if action == "authorise" else DECIDE
    access.require(needed, "only a supervisor can authorise an out-of-court disposal" if action == "authorise"
                   else "this role cannot change out-of-court disposals")
    if action in ("comply", "breach"):
        raise FieldError("a disposal is complied with or breached through its conditions (or a deadline passing)",
                         field="oocd-action")
    row = service.get_disposal(access.session, disposal_id)
    target: dict = {}

    def check() -> None:
        target["status"] = service.check_change(access.session, row, action=action, on=access.as_of, version=version,
                                                rank=rank)

    def apply(_person) -> DisposalOut:
        note = reason
        if action == "issue" and row.youth:  # the referral first: its audit row precedes any write here
            try:
                made = referral_flows.make_referral(
                    access, person_id=row.person_id, provider=policies().youth_provider, pathway="attitudes",
                    source="oocd", reason=f"youth out-of-court disposal #{row.id} ({service.tier_of(row).name})")
                note = f"referred to the Youth Offending Service (referral #{made.id})"
            except FieldError as refused:
                note = f"not referred to the Youth Offending Service: {refused}"
        service.apply_change(access.session, row, action=action, target=target["status"], on=access.as_of,
                             by=access.user.username, rank=rank, reason=note)
        return _out(access, row)

    return access.write(row.person_id, resource="oocd", check=check, disposal=disposal_id, action_taken=action,
                        apply=apply)


def add_condition(access: Access, *, disposal_id: int, kind: str, description: str, due_on: dt.date | None = None,
                  provider: str | None = None, pathway: str | None = None) -> DisposalOut:
    """A condition with its deadline; a provider condition refers the person to that provider
    (refused, with the provider's words, if its rules do not take them)."""
    access.require(DECIDE, "this role cannot set conditions")
    row = service.get_disposal(access.session, disposal_id)
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_condition(access.session, row, kind=kind, description=description, due_on=due_on,
                                               provider=provider, on=access.as_of))
        if checked["provider_code"] and not pathway:
            raise FieldError("a provider condition names the pathway the referral serves", field="condition-pathway")

    def apply(_person) -> DisposalOut:
        referral_id = None
        if checked["provider_code"]:
            referral_id = referral_flows.make_referral(
                access, person_id=row.person_id, provider=checked["provider_code"], pathway=pathway or "",
                reason=f"condition of out-of-court disposal #{row.id}: {checked['description']}", source="oocd").id
        service.add_condition(access.session, values=checked, referral_id=referral_id, by=access.user.username)
        return _out(access, row)

    return access.write(row.person_id, resource="oocd_condition", check=check, disposal=disposal_id, kind=kind,
                        apply=apply)


def mark_condition(access: Access, *, condition_id: int, complied: bool) -> DisposalOut:
    """A condition complied with or failed; the disposal follows (complied when all are, breached
    when one fails)."""
    access.require(DECIDE, "this role cannot record compliance")
    condition = service.get_condition(access.session, condition_id)
    found: dict = {}

    def check() -> None:
        found["row"] = service.check_condition_done(access.session, condition, complied=complied, on=access.as_of)

    person_id = service.get_disposal(access.session, condition.disposal_id).person_id
    return access.write(person_id, resource="oocd_condition", check=check, condition=condition_id, complied=complied,
                        apply=lambda _p: _out(access, service.mark_condition(access.session, condition,
                                                                             complied=complied, on=access.as_of,
                                                                             by=access.user.username)))


def sweep(access: Access, *, on: dt.date) -> list[DisposalOut]:
    """Every issued disposal in scope with a condition past its deadline on ``on`` is breached
    (the console's or a scheduler's daily run); each is a write on the person's record."""
    access.require(DECIDE, "this role cannot record breaches")
    out = []
    for disposal, condition in service.overdue(access.session, on=on):
        try:
            out.append(access.write(disposal.person_id, resource="oocd", disposal=disposal.id, action_taken="breach",
                                    apply=lambda _p, d=disposal, c=condition: _out(access, service.breach_overdue(
                                        access.session, d, c, on=on, by=access.user.username))))
        except NotFound:  # outside the reader's scope: logged as denied, left for someone who may
            continue
    return out


# --- the scrutiny panel ------------------------------------------------------------------------------

def save_sample(access: Access, *, category: str, month: str, n: int, seed: int) -> Sample:
    access.require(SCRUTINISE, "this role cannot draw scrutiny samples")
    drawn = scrutiny.preview(access.session, category=category, month=month, n=n, seed=seed, as_of=access.as_of)
    scrutiny.check_unsaved(access.session, drawn)
    access.log("write", "scrutiny_sample", category=drawn.category, month=drawn.month,
               people=sorted({i.person_id for i in drawn.items}))
    return scrutiny.save_sample(access.session, drawn, by=access.user.username)


def record_verdict(access: Access, *, sample_id: int, disposal_id: int, verdict: str, comment: str | None = None,
                   action: str | None = None) -> Sample:
    access.require(SCRUTINISE, "this role cannot record scrutiny verdicts")
    sample: ScrutinySample = scrutiny.get_sample(access.session, sample_id)
    item = scrutiny.check_verdict(access.session, sample, disposal_id=disposal_id, verdict=verdict)
    access.log("write", "scrutiny_verdict", sample=sample_id, disposal=disposal_id, verdict=verdict)
    scrutiny.record_verdict(access.session, item, verdict=verdict, comment=(comment or "").strip() or None,
                            action=(action or "").strip() or None, by=access.user.username)
    return scrutiny.sample_out(access.session, sample)
