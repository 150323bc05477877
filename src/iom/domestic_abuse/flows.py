"""Domestic abuse changes state here, and only here: a DASH recorded, a MARAC referral made, a
SARA v3 or SAM record saved, changed or finalised, the pilot cohort saved, a referral to DRIVE
or CARA. Each goes through ``Access.write``: scope first (a person outside it is not found and
the attempt logged as denied), then the check, then the audit row, then the change."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access
from iom.domestic_abuse import service
from iom.domestic_abuse.rules import programme_rules
from iom.domestic_abuse.schemas import DashOut, MaracOut, PilotCohort, Rating, SpjOut
from iom.domestic_abuse.views import READ
from iom.errors import FieldError
from iom.referrals import flows as referral_flows
from iom.referrals.providers import directory
from iom.referrals.schemas import ReferralDetail

#: DA records are casework: the roles that write case plans record them.
WRITE = "write_casework"


def _subject(perpetrator_id: int | None, victim_id: int) -> int:
    """Whose record a DASH or a MARAC referral is written on: the perpetrator's when known."""
    return perpetrator_id if perpetrator_id is not None else victim_id


def record_dash(access: Access, *, victim_id: int, perpetrator_id: int | None, relationship: str,
                answers: dict[str, str], judgement_band: str | None = None, judgement_reason: str | None = None,
                assessed_on: dt.date | None = None) -> DashOut:
    """A DASH completed with the victim, banded by its yes-count and, upward only, by judgement."""
    access.require(WRITE, "this role cannot record a DASH")
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_dash(
            access.session, victim_id=victim_id, perpetrator_id=perpetrator_id, assessed_on=assessed_on or access.as_of,
            as_of=access.as_of, relationship=relationship, answers=answers, judgement_band=judgement_band,
            judgement_reason=judgement_reason))

    return access.write(_subject(perpetrator_id, victim_id), resource="dash", check=check, victim=victim_id,
                        perpetrator=perpetrator_id,
                        apply=lambda _p: service.dash_out(access.session, service.add_dash(
                            access.session, values=checked, by=access.user.username), access.user))


def refer_to_marac(access: Access, *, victim_id: int, perpetrator_id: int | None, referring_agency: str,
                   judgement_reason: str | None = None, dash_id: int | None = None,
                   referred_on: dt.date | None = None) -> MaracOut:
    """A MARAC referral, refused in words unless it meets a criterion (judgement needs a reason)."""
    access.require(WRITE, "this role cannot refer to MARAC")
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_marac(
            access.session, victim_id=victim_id, perpetrator_id=perpetrator_id, referred_on=referred_on or access.as_of,
            as_of=access.as_of, referring_agency=referring_agency, judgement_reason=judgement_reason, dash_id=dash_id))

    made = access.write(_subject(perpetrator_id, victim_id), resource="marac_referral", check=check, victim=victim_id,
                        perpetrator=perpetrator_id,
                        apply=lambda _p: service.marac_out(access.session, service.add_marac(
                            access.session, values=checked, by=access.user.username), access.user))
    return made


def save_spj(access: Access, *, person_id: int, instrument: str, victim_id: int | None = None,
             ratings: dict[str, Rating] | None = None, judgements: dict[str, str] | None = None,
             scenarios: list[str] | None = None, plan: dict[str, str] | None = None, finalise: bool = False,
             assessed_on: dt.date | None = None) -> SpjOut:
    """A new SARA v3 or SAM record, a draft unless ``finalise`` (which needs every judgement)."""
    access.require(WRITE, "this role cannot record a SARA or SAM assessment")
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_spj(
            access.session, person_id=person_id, instrument_code=instrument, victim_id=victim_id,
            assessed_on=assessed_on or access.as_of, as_of=access.as_of, ratings=ratings or {},
            judgements=judgements or {}, scenarios=scenarios or [], plan=plan or {}, finalise=finalise))

    return access.write(person_id, resource="spj_assessment", check=check, instrument=instrument, finalise=finalise,
                        apply=lambda _p: service.spj_out(access.session, service.add_spj(
                            access.session, values=checked, finalise=finalise, by=access.user.username), access.user))


def update_spj(access: Access, *, spj_id: int, version: int | None, ratings: dict[str, Rating] | None = None,
               judgements: dict[str, str] | None = None, scenarios: list[str] | None = None,
               plan: dict[str, str] | None = None, finalise: bool = False) -> SpjOut:
    """A draft's ratings, judgements, scenarios or plan changed, and perhaps finalised.
    ``version`` is the one the writer saw (None only at the console)."""
    access.require(WRITE, "this role cannot change a SARA or SAM assessment")
    row = service.get_spj(access.session, spj_id)
    checked: dict = {}

    def check() -> None:
        checked.update(service.check_spj_update(access.session, row, version=version, ratings=ratings or {},
                                                judgements=judgements or {}, scenarios=scenarios or [],
                                                plan=plan or {}, finalise=finalise))

    return access.write(row.person_id, resource="spj_assessment", check=check, spj=spj_id, finalise=finalise,
                        apply=lambda _p: service.spj_out(access.session, service.update_spj(
                            access.session, row, values=checked, finalise=finalise, by=access.user.username),
                            access.user))


def save_pilot_cohort(access: Access, *, month: str | None) -> PilotCohort:
    """The month's pilot cohort (MARAC ∩ serial list), saved and dated for evaluation; a month
    is saved once. Checked, then audited (fail closed), then written."""
    access.require("manage_cohort", "only a supervisor can save a cohort")
    access.require(READ, "this role cannot read domestic-abuse lists")
    found, members = service.pilot_members(access.session, access.user, month=month, as_of=access.as_of)
    service.check_cohort_unsaved(access.session, found.month)
    access.log("write", "da_cohort", month=found.month, people=[m.person_id for m in members])
    return service.save_cohort(access.session, found=found, members=members, by=access.user.username)


def refer_to_programme(access: Access, *, person_id: int, programme: str, reason: str) -> ReferralDetail:
    """A referral to DRIVE or CARA, refused with the unmet DA criteria in words; the provider's
    own rules are then checked by the referral itself."""
    access.require(WRITE, "this role cannot make referrals")
    chosen = programme_rules().get(programme)
    if directory().get(chosen.provider).through == "courses":
        raise FieldError(f"{chosen.name} is a course: refer through the courses (`iom courses refer --course "
                         f"{chosen.code}`), which check these DA criteria, the index offence and the language",
                         field="programme")
    person = access.subject(person_id, attempt=f"refer to {chosen.name}")
    found = next(e for e in service.eligibility(access.session, person.id, on=access.as_of) if e.programme == chosen.code)
    if not found.eligible:
        raise FieldError(f"{chosen.name} cannot take this referral: {'; '.join(found.reasons)}", field="programme")
    return referral_flows.make_referral(access, person_id=person.id, provider=chosen.provider, pathway=chosen.pathway,
                                        reason=reason, source=chosen.referral_source,
                                        through="domestic_abuse")
