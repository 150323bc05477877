"""What readers see of diversion: a person's disposals (the record's Diversion tab and the
timeline), one disposal, the tier options for one of their crimes, Table A, and the scrutiny
panel's samples and report. Pseudonymised readers see no victim's views or rationale."""

from __future__ import annotations

import datetime as dt

from iom.casefile.access import Access, RecordContext
from iom.casefile.schemas import TimelineEvent
from iom.casework.pathways import pathways
from iom.diversion import scrutiny, service
from iom.diversion.models import RANKS
from iom.diversion.rules import CONDITION_KINDS, policies
from iom.diversion.schemas import DisposalOut, DiversionPart, Sample, ScrutinyReport, TierOption, Volumes
from iom.referrals.providers import directory

READ = "read_people"


def form_choices(_value=None) -> dict:
    """The ``oocd_choices`` template filter (``none | oocd_choices``): the choices the Diversion
    tab's forms offer, read from the rules in force (the person page renders the tab with the
    record alone). The policies
    and their tiers, the gravity factors, the condition kinds, the ranks, the providers and
    pathways a condition may refer to."""
    rules = policies()
    return {
        "default_policy": rules.default_policy,
        "policies": [{"code": p.code, "name": p.name, "tiers": [{"code": t.code, "name": t.name} for t in p.tier]}
                     for p in rules.policy],
        "conditions_allowed": {t.code: t.conditions_allowed for p in rules.policy for t in p.tier},
        "factors": [{"code": f.code, "label": f.label, "step": f.step} for f in rules.gravity.factors],
        "condition_kinds": CONDITION_KINDS,
        "default_condition_days": rules.default_condition_days,
        "ranks": RANKS,
        "providers": [{"code": p.code, "name": p.name} for p in directory().provider],
        "pathways": [{"code": p.code, "name": p.name} for p in pathways().pathway],
        "rules_version": rules.version,
    }


def disposal(access: Access, disposal_id: int) -> DisposalOut:
    """One disposal: a read of its person's record, audited."""
    row = service.get_disposal(access.session, disposal_id)
    access.read_subject(row.person_id, resource="oocd", disposal=disposal_id)
    return service.disposal_out(access.session, row, hide_text=access.user.pseudonymised)


def person_disposals(access: Access, person_id: int) -> DiversionPart:
    who = access.read_subject(person_id, resource="oocd")
    return _part(access.session, who.id, access.as_of, hide=access.user.pseudonymised)


def options(access: Access, *, person_id: int, crime_id: int, policy: str | None = None,
            **answers) -> list[TierOption]:
    """Each tier of the policy for one of the person's crimes, with every rule in words."""
    who = access.read_subject(person_id, resource="oocd_options", crime=crime_id)
    facts = service.crime_facts(access.session, crime_id, person_id=who.id)
    return service.options(access.session, facts, policy_code=policy, on=access.as_of, **answers)


def volumes(access: Access, years) -> Volumes:
    """Table A from the disposal records (counts only: no person is named)."""
    access.require(READ, "this role cannot read disposal volumes")
    found = service.volumes(access.session, years)
    access.log("read", "oocd_volumes", years=list(years))
    return found


def preview_sample(access: Access, *, category: str, month: str, n: int, seed: int) -> Sample:
    access.require("scrutinise_oocd", "this role cannot draw scrutiny samples")
    found = scrutiny.preview(access.session, category=category, month=month, n=n, seed=seed, as_of=access.as_of)
    access.log("search", "scrutiny_sample", category=category, month=found.month,
               people=sorted({i.person_id for i in found.items}))
    return found


def sample(access: Access, sample_id: int) -> Sample:
    access.require("scrutinise_oocd", "this role cannot read scrutiny samples")
    found = scrutiny.sample_out(access.session, scrutiny.get_sample(access.session, sample_id))
    access.log("search", "scrutiny_sample", sample=sample_id, people=sorted({i.person_id for i in found.items}))
    return found


def report(access: Access) -> ScrutinyReport:
    access.require("scrutinise_oocd", "this role cannot read the scrutiny report")
    found = scrutiny.report(access.session)
    access.log("read", "scrutiny_report")
    return found


def _part(session, person_id: int, as_of: dt.date, *, hide: bool) -> DiversionPart:
    return DiversionPart(as_of=as_of, disposals=[service.disposal_out(session, row, hide_text=hide)
                                                 for row in service.for_person(session, person_id, as_of=as_of)],
                         crimes=service.crime_choices(session, person_id, as_of=as_of))


def for_record(ctx: RecordContext) -> DiversionPart | None:
    """The record's ``diversion`` part: None (no tab) when the person has no disposal."""
    if ctx.restricted_hidden:
        return None
    part = _part(ctx.session, ctx.person_id, ctx.as_of, hide=ctx.user.pseudonymised)
    return part if part.disposals or ctx.user.can("write_casework") else None


_WORDS = {"proposed": "proposed", "authorised": "authorised", "issued": "issued", "complied": "complied with",
          "breached": "breached", "prosecuted": "breached: prosecution for the original offence",
          "penalty": "breached: financial penalty", "withdrawn": "withdrawn"}


def timeline(ctx: RecordContext) -> list[TimelineEvent]:
    """Every change of the person's disposals (read fresh: the diversion tables are not in the
    register version)."""
    if ctx.restricted_hidden:
        return []
    events = []
    for event, tier in service.events_for(ctx.session, ctx.person_id, as_of=ctx.as_of):
        name = service.policies_tier_name(tier)
        text = f"{name} {_WORDS.get(event.to_status, event.to_status)}"
        if event.reason and event.to_status in ("breached", "withdrawn") and not ctx.user.pseudonymised:
            text += f": {event.reason}"
        events.append(TimelineEvent(on=event.on, kind="oocd", text=text))
    return events
