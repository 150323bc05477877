"""Out-of-court disposals: eligibility in words, the decision, conditions, the lifecycle and the
deadline sweep, Table A volumes. Never commits; ``flows`` wraps each write in the audited access.

``assess`` is the one place a tier's rules are read against a case: the decision, the options a
page offers and the synthetic step all call it, so each refusal names the same rule."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from iom.db import fetch

from iom.dates import age_on, months_before
from iom.diversion import lifecycle
from iom.diversion.models import Condition, Disposal, DisposalEvent
from iom.diversion.rules import CONDITION_KINDS, Policies, Tier, policies
from iom.diversion.schemas import (MAX_TEXT, ConditionOut, CrimeChoice, DisposalOut, EventOut, TierOption, VolumeRow,
                                   Volumes)
from iom.errors import Conflict, FieldError
from iom.referrals import lifecycle as referral_lifecycle
from iom.referrals.models import Referral
from iom.register.models import Crime, Offence, Person

#: Table A's rows: (key, label, youth, tiers counted).
TABLE_A = (
    ("adult_caution", "Adult cautions (including conditional)", False,
     ("simple_caution", "conditional_caution", "diversionary_caution", "community_caution")),
    ("adult_cr", "Adult community resolutions", False, ("community_resolution",)),
    ("youth_caution", "Youth cautions", True,
     ("simple_caution", "conditional_caution", "diversionary_caution", "community_caution")),
    ("youth_cr", "Youth community resolutions", True, ("community_resolution",)),
)
#: Table A as published (seed paper 000 §38): the parts, and the total the paper prints.
PUBLISHED_TABLE_A = {2017: ({"adult_caution": 3_269, "adult_cr": 3_126, "youth_caution": 610, "youth_cr": 1_255}, 7_764),
                     2018: ({"adult_caution": 2_399, "adult_cr": 2_818, "youth_caution": 329, "youth_cr": 841}, 6_387)}


@dataclass(frozen=True)
class CrimeFacts:
    crime_id: int
    person_id: int
    committed_on: dt.date
    born: dt.date
    offence: str
    mode_of_trial: str
    gravity: int
    domestic_abuse: bool
    hate: bool


def crime_facts(session: Session, crime_id: int, *, person_id: int | None = None) -> CrimeFacts:
    row = session.execute(
        select(Crime.id, Crime.person_id, Crime.committed_on, Person.date_of_birth, Offence.description,
               Offence.mode_of_trial, Offence.gravity, or_(Crime.domestic_abuse, Offence.domestic_abuse),
               or_(Crime.hate, Offence.hate))
        .join(Offence, Offence.code == Crime.offence_code).join(Person, Person.id == Crime.person_id)
        .where(Crime.id == crime_id)).first()
    if row is None or (person_id is not None and row[1] != person_id):
        raise FieldError(f"crime {crime_id} is not one of this person's", field="oocd-crime")
    return CrimeFacts(row[0], row[1], row[2], row[3], row[4], row[5], row[6], bool(row[7]), bool(row[8]))


@dataclass
class Assessment:
    tier: str
    base_gravity: int
    gravity: int
    youth: bool
    #: Rules that bar the disposal, in words.
    bars: list[str] = field(default_factory=list)
    #: Rules the case is outside of, which an Inspector may authorise, in words.
    outside: list[str] = field(default_factory=list)
    pilot: str | None = None

    @property
    def authority(self) -> str:
        return "inspector" if self.outside else "sergeant"


def final_gravity(base: int, factors: Sequence[str], rules: Policies) -> int:
    """The offence's gravity moved one step per aggravating or mitigating factor, kept in 1-4."""
    if len(set(factors)) != len(factors):
        raise FieldError("each gravity factor is given once", field="oocd-factors")
    moved = base + sum(rules.gravity.factor(code).step for code in factors)
    return max(1, min(4, moved))


def prior_count(session: Session, person_id: int, tier: str, *, since: dt.date, before: dt.date,
                excluding: int | None = None) -> int:
    """Disposals of ``tier`` issued to the person in [since, before)."""
    query = select(func.count()).select_from(Disposal).where(
        Disposal.person_id == person_id, Disposal.tier == tier, Disposal.issued_on >= since,
        Disposal.issued_on < before, Disposal.status.not_in(("proposed", "authorised", "withdrawn")))
    if excluding is not None:
        query = query.where(Disposal.id != excluding)
    return session.scalar(query) or 0


def assess(session: Session, facts: CrimeFacts, *, tier_code: str, policy_code: str | None, admission: bool,
           consent: bool, factors: Sequence[str] = (), custody_expected: bool = False,
           intervention_available: bool = False, dpp_consent: bool = False, on: dt.date,
           prior: int | None = None, rules: Policies | None = None) -> Assessment:
    """Every rule of the tier read against the case: bars and outside-criteria, each in words.
    ``prior``: earlier disposals of the tier in its window, if the caller already counted them;
    ``rules``: the policies, if the caller already read them (the synthetic step, per row)."""
    rules = rules or policies()
    policy = rules.get(policy_code)
    tier = policy.get(tier_code)
    gravity = final_gravity(facts.gravity, factors, rules)
    youth = age_on(facts.born, facts.committed_on) < rules.youth_under
    found = Assessment(tier=tier.code, base_gravity=facts.gravity, gravity=gravity, youth=youth)
    if not admission:
        found.bars.append("no admission: an out-of-court disposal needs the offender to admit the offence")
    if not consent:
        found.bars.append("no agreement: the offender must agree to the disposal and its conditions")
    if facts.mode_of_trial == "indictable":
        if policy.indictable_only == "refused":
            found.bars.append(f"{facts.offence} is triable only on indictment: the {policy.name} does not allow an "
                              "out-of-court disposal for it")
        elif not dpp_consent:
            found.bars.append(f"{facts.offence} is triable only on indictment: the {policy.name} allows it only with the "
                              "DPP's consent, which is not recorded")
    if facts.mode_of_trial not in tier.modes_of_trial and facts.mode_of_trial in MODES_KNOWN:
        words = f"a {tier.name.lower()} is for {' or '.join(tier.modes_of_trial)} offences; {facts.offence} is {facts.mode_of_trial}"
        (found.outside if facts.mode_of_trial in tier.modes_inspector else found.bars).append(
            words + (" (an Inspector may authorise it in exceptional circumstances)"
                     if facts.mode_of_trial in tier.modes_inspector else ""))
    pointed = rules.gravity.points_to[gravity]
    if tier.code not in pointed:
        words = (f"gravity {gravity} (offence {facts.gravity}{_factor_words(factors, rules)}) points to "
                 f"{' or '.join(t.replace('_', ' ') for t in pointed)}, not a {tier.name.lower()}")
        (found.outside if tier.code == "community_resolution" else found.bars).append(
            words + (" (an Inspector may authorise it)" if tier.code == "community_resolution" else ""))
    if tier.prior_limit is not None:
        since = months_before(on, 12 * tier.prior_years)
        count = prior if prior is not None else prior_count(session, facts.person_id, tier.code, since=since, before=on)
        if count >= tier.prior_limit:
            found.outside.append(f"{count} earlier {tier.name.lower()}s in {tier.prior_years} years: a {tier.name.lower()} "
                                 f"is for a first or second time (an Inspector may authorise another)")
    if tier.refuse_if_custody_expected and custody_expected:
        found.bars.append(f"custody or a high-level community order is expected at court: not a {tier.name.lower()}")
    if tier.requires_intervention and not intervention_available:
        found.bars.append(f"a {tier.name.lower()} needs an intervention that could reduce the offending: none is available")
    for flag in tier.excluded_flags:
        if getattr(facts, flag):
            pilot = next((p for p in rules.pilot if p.lifts_on(flag, tier.code, facts.committed_on)), None)
            if pilot is not None:
                found.pilot = pilot.code
            else:
                what = "domestic abuse" if flag == "domestic_abuse" else "hate crime"
                open_pilots = [p for p in rules.pilot if p.lifts == flag and p.enabled and tier.code in p.tiers]
                hint = (f" (the {open_pilots[0].name} covers offences from {open_pilots[0].starts_on}; this one was on "
                        f"{facts.committed_on})" if open_pilots else "")
                found.bars.append(f"a {tier.name.lower()} is not given for {what} outside an approved pilot{hint}")
    return found


MODES_KNOWN = ("summary", "either way", "indictable")


def _factor_words(factors: Sequence[str], rules: Policies) -> str:
    if not factors:
        return ""
    return ", " + ", ".join(f"{'+' if rules.gravity.factor(c).step > 0 else '-'}1 {rules.gravity.factor(c).label.lower()}"
                            for c in factors)


def options(session: Session, facts: CrimeFacts, *, policy_code: str | None, on: dt.date, **answers) -> list[TierOption]:
    """Every tier of the policy for this case: allowed, allowed with an Inspector, or barred."""
    policy = policies().get(policy_code)
    out = []
    for tier in policy.tier:
        found = assess(session, facts, tier_code=tier.code, policy_code=policy.code, on=on, **answers)
        out.append(TierOption(tier=tier.code, name=tier.name, allowed=not found.bars, authority=found.authority,
                              bars=found.bars, outside=found.outside, gravity=found.gravity, pilot=found.pilot))
    return out


def _text(value: str | None, *, field: str, required: str | None = None) -> str | None:
    words = (value or "").strip() or None
    if words is None and required:
        raise FieldError(required, field=field)
    if words is not None and len(words) > MAX_TEXT:
        raise FieldError(f"at most {MAX_TEXT:,} characters", field=field)
    return words


def check_decision(session: Session, *, person_id: int, crime_id: int, tier: str, policy: str | None, admission: bool,
                   consent: bool, victim_views: str | None, factors: Sequence[str], rationale: str,
                   custody_expected: bool, intervention_available: bool, dpp_consent: bool, on: dt.date) -> dict:
    """A decision's values, or a refusal naming every rule that bars it."""
    facts = crime_facts(session, crime_id, person_id=person_id)
    if facts.committed_on > on:
        raise FieldError(f"the offence was on {facts.committed_on}, after the decision date {on}", field="oocd-crime")
    open_one = session.scalar(select(Disposal.id).where(Disposal.crime_id == crime_id,
                                                        Disposal.status != "withdrawn").limit(1))
    if open_one is not None:
        raise FieldError(f"crime {crime_id} already has disposal #{open_one}", field="oocd-crime")
    found = assess(session, facts, tier_code=tier, policy_code=policy, admission=admission, consent=consent,
                   factors=factors, custody_expected=custody_expected, intervention_available=intervention_available,
                   dpp_consent=dpp_consent, on=on)
    if found.bars:
        raise FieldError("refused: " + "; ".join(found.bars), field="oocd-tier")
    views = _text(victim_views, field="oocd-victim-views")
    reason = _text(rationale, field="oocd-rationale", required="give the rationale for the decision (it is kept with it)")
    return {"person_id": person_id, "crime_id": crime_id, "policy": policies().get(policy).code, "tier": tier,
            "youth": found.youth, "admission": admission, "consent": consent, "victim_views": views,
            "base_gravity": found.base_gravity, "gravity": found.gravity, "factors": list(factors),
            "rationale": reason, "outside_criteria": found.outside, "authority_required": found.authority,
            "dpp_consent": dpp_consent, "custody_expected": custody_expected,
            "intervention_available": intervention_available, "pilot": found.pilot,
            "rules_version": policies().version, "decided_on": on}


def add_decision(session: Session, *, values: dict, by: str) -> Disposal:
    row = Disposal(decided_by=by, status="proposed", version=1, **values)
    session.add(row)
    session.flush()
    session.add(DisposalEvent(disposal_id=row.id, from_status=None, to_status="proposed", on=row.decided_on, by=by,
                              reason=row.rationale))
    session.flush()
    return row


def get_disposal(session: Session, disposal_id: int) -> Disposal:
    return fetch(session, Disposal, disposal_id, what="disposal")


def policies_tier_name(code: str) -> str:
    """A tier's name in whichever policy has it."""
    return next((t.name for p in policies().policy for t in p.tier if t.code == code), code.replace("_", " "))


def tier_of(row: Disposal) -> Tier:
    return policies().get(row.policy).get(row.tier)


def check_change(session: Session, row: Disposal, *, action: str, on: dt.date, version: int | None,
                 rank: str | None = None) -> str:
    """The status ``action`` leads to, after the rules beyond the lifecycle: an Inspector for a
    decision outside the criteria; conditions before a conditional disposal is issued; the
    tier's own consequence of a breach."""
    if version is not None and version != row.version:
        raise Conflict(f"disposal #{row.id} was changed since you opened it (now {row.status}, version {row.version}): "
                       "check it, then try again", current=disposal_out(session, row).model_dump(mode="json"))
    target = lifecycle.after(row.status, action)
    if on < row.decided_on:
        raise FieldError(f"disposal #{row.id} was decided on {row.decided_on}, after {on}", field="oocd-action")
    tier = tier_of(row)
    if action == "authorise":
        if rank not in ("sergeant", "inspector"):
            raise FieldError("say the authoriser's rank: sergeant or inspector", field="oocd-rank")
        if row.authority_required == "inspector" and rank != "inspector":
            raise FieldError("this decision is outside the criteria (" + "; ".join(row.outside_criteria)
                             + "): only an Inspector can authorise it", field="oocd-rank")
    if action in ("prosecute", "fine"):
        wanted = {"prosecute": "prosecuted", "fine": "penalty"}[action]
        if tier.breach != wanted:
            consequence = {"none": "no further action", "prosecuted": "prosecution for the original offence",
                           "penalty": "a financial penalty"}[tier.breach]
            raise FieldError(f"a breached {tier.name.lower()} leads to {consequence} under the "
                             f"{policies().get(row.policy).name}", field="oocd-action")
    if action == "issue" and tier.requires_intervention and not _conditions(session, row.id):
        raise FieldError(f"a {tier.name.lower()} is issued with its conditions: add at least one first",
                         field="oocd-action")
    return target


def apply_change(session: Session, row: Disposal, *, action: str, target: str, on: dt.date, by: str,
                 rank: str | None = None, reason: str | None = None) -> Disposal:
    previous = row.status
    row.status = target
    row.version += 1
    if action == "authorise":
        row.authorised_by, row.authoriser_rank, row.authorised_on = by, rank, on
    elif action == "issue":
        row.issued_on = on
    if target in lifecycle.FINAL:
        row.closed_on = on
    session.add(DisposalEvent(disposal_id=row.id, from_status=previous, to_status=target, on=on, by=by, reason=reason))
    session.flush()
    if action == "issue":
        settle_referred(session, row, on=on, by=by)
    return row


def settle_referred(session: Session, row: Disposal, *, on: dt.date, by: str) -> None:
    """On issue: a condition whose referral has already ended (a course finished before the
    caution was issued) is settled now, as ``follow_referral`` would have settled it."""
    for condition in _conditions(session, row.id):
        if row.status != "issued":
            return  # a failed condition has breached it: nothing more to settle
        if condition.status != "pending" or condition.referral_id is None:
            continue
        status = session.scalar(select(Referral.status).where(Referral.id == condition.referral_id))
        if status in referral_lifecycle.FINAL:
            mark_condition(session, condition, complied=status == "completed", on=on, by=by)


def enforce_action_for(policy_code: str, tier_code: str) -> str | None:
    """What follows a breach of the tier: "prosecute", "fine", or None (no further action)."""
    return {"prosecuted": "prosecute", "penalty": "fine", "none": None}[policies().get(policy_code).get(tier_code).breach]


# --- conditions -----------------------------------------------------------------------------------

def _conditions(session: Session, disposal_id: int) -> list[Condition]:
    return list(session.scalars(select(Condition).where(Condition.disposal_id == disposal_id).order_by(Condition.id)))


def check_condition(session: Session, row: Disposal, *, kind: str, description: str, due_on: dt.date | None,
                    provider: str | None, on: dt.date) -> dict:
    if row.status not in ("proposed", "authorised"):
        raise FieldError(f"conditions are set before the disposal is issued; disposal #{row.id} is {row.status}",
                         field="condition-kind")
    if not tier_of(row).conditions_allowed:
        raise FieldError(f"a {tier_of(row).name.lower()} has no conditions", field="condition-kind")
    if kind not in CONDITION_KINDS:
        raise FieldError(f"a condition is {', '.join(CONDITION_KINDS)}, not {kind!r}", field="condition-kind")
    words = _text(description, field="condition-description", required="say what the condition is")
    due = due_on or on + dt.timedelta(days=policies().default_condition_days)
    if due <= on:
        raise FieldError(f"a condition's deadline is after today ({on}), not {due}", field="condition-due")
    return {"disposal_id": row.id, "kind": kind, "description": words, "due_on": due,
            "provider_code": (provider or "").strip() or None}


def add_condition(session: Session, *, values: dict, referral_id: int | None, by: str) -> Condition:
    row = Condition(status="pending", recorded_by=by, referral_id=referral_id, **values)
    session.add(row)
    session.flush()
    return row


def get_condition(session: Session, condition_id: int) -> Condition:
    return fetch(session, Condition, condition_id, what="condition")


def check_condition_done(session: Session, condition: Condition, *, complied: bool, on: dt.date) -> Disposal:
    row = get_disposal(session, condition.disposal_id)
    if row.status != "issued":
        raise FieldError(f"disposal #{row.id} is {row.status}: conditions are marked while it is issued",
                         field="condition-status")
    if condition.status != "pending":
        raise FieldError(f"condition #{condition.id} is already {condition.status}", field="condition-status")
    if on < (row.issued_on or on):
        raise FieldError(f"the disposal was issued on {row.issued_on}, after {on}", field="condition-status")
    return row


def mark_condition(session: Session, condition: Condition, *, complied: bool, on: dt.date, by: str) -> Disposal:
    """The condition complied with (the disposal complied once every condition is) or failed
    (the disposal breached)."""
    condition.status = "complied" if complied else "failed"
    condition.completed_on = on
    row = get_disposal(session, condition.disposal_id)
    if not complied:
        return apply_change(session, row, action="breach", target="breached", on=on, by=by,
                            reason=f"condition not complied with: {condition.description}")
    if all(c.status == "complied" for c in _conditions(session, row.id)):
        return apply_change(session, row, action="comply", target="complied", on=on, by=by,
                            reason="every condition complied with")
    session.flush()
    return row


def follow_referral(session: Session, *, referral, on: dt.date, by: str) -> None:
    """``Domain.referral_followers``: a condition made by referral (a course, a provider) is
    complied with when its referral is completed and failed when it ends otherwise, once the
    disposal is issued; before that, or once the condition is settled, it is left alone."""
    condition = session.scalar(select(Condition).where(Condition.referral_id == referral.id))
    if condition is None or condition.status != "pending":
        return
    disposal = get_disposal(session, condition.disposal_id)
    if disposal.status != "issued":
        return
    # Never dated before the disposal was issued (a referral change back-dated at the console).
    mark_condition(session, condition, complied=referral.status == "completed", on=max(on, disposal.issued_on or on),
                   by=by)


def overdue(session: Session, *, on: dt.date) -> list[tuple[Disposal, Condition]]:
    """Issued disposals with a pending condition whose deadline passed before ``on``."""
    rows = session.execute(select(Disposal, Condition).join(Condition, Condition.disposal_id == Disposal.id)
                           .where(Disposal.status == "issued", Condition.status == "pending", Condition.due_on < on)
                           .order_by(Disposal.id, Condition.due_on, Condition.id)).all()
    seen, out = set(), []
    for disposal, condition in rows:
        if disposal.id not in seen:
            seen.add(disposal.id)
            out.append((disposal, condition))
    return out


def breach_overdue(session: Session, disposal: Disposal, condition: Condition, *, on: dt.date, by: str) -> Disposal:
    condition.status, condition.completed_on = "failed", condition.due_on
    return apply_change(session, disposal, action="breach", target="breached", on=on, by=by,
                        reason=f"condition not completed by {condition.due_on}: {condition.description}")


# --- reading ------------------------------------------------------------------------------------------

def disposal_out(session: Session, row: Disposal, *, hide_text: bool = False) -> DisposalOut:
    facts = crime_facts(session, row.crime_id)
    tier = tier_of(row)
    events = session.scalars(select(DisposalEvent).where(DisposalEvent.disposal_id == row.id).order_by(DisposalEvent.id))
    return DisposalOut(
        id=row.id, person_id=row.person_id, crime_id=row.crime_id, offence=facts.offence, committed_on=facts.committed_on,
        policy=row.policy, tier=row.tier, tier_name=tier.name, youth=row.youth, status=row.status,
        admission=row.admission, consent=row.consent, victim_views=None if hide_text else row.victim_views,
        base_gravity=row.base_gravity, gravity=row.gravity, factors=list(row.factors),
        rationale=None if hide_text else row.rationale, outside_criteria=list(row.outside_criteria),
        authority_required=row.authority_required, pilot=row.pilot, dpp_consent=row.dpp_consent,
        decided_by=row.decided_by, decided_on=row.decided_on, authorised_by=row.authorised_by,
        authoriser_rank=row.authoriser_rank, authorised_on=row.authorised_on, issued_on=row.issued_on,
        closed_on=row.closed_on, version=row.version, allowed=lifecycle.allowed(row.status),
        breach_leads_to=tier.breach,
        conditions=[ConditionOut.model_validate(c) for c in _conditions(session, row.id)],
        events=[EventOut(from_status=e.from_status, to_status=e.to_status, on=e.on, by=e.by,
                         reason=None if hide_text else e.reason) for e in events])


def crime_choices(session: Session, person_id: int, *, as_of: dt.date) -> list[CrimeChoice]:
    """The person's crimes committed by ``as_of``, newest first, with any disposal they have."""
    taken = dict(session.execute(select(Disposal.crime_id, Disposal.id).where(Disposal.person_id == person_id,
                                                                           Disposal.status != "withdrawn")).all())
    rows = session.execute(
        select(Crime.id, Crime.committed_on, Offence.description, Offence.mode_of_trial, Offence.gravity,
               or_(Crime.domestic_abuse, Offence.domestic_abuse), or_(Crime.hate, Offence.hate))
        .join(Offence, Offence.code == Crime.offence_code)
        .where(Crime.person_id == person_id, Crime.committed_on <= as_of, Offence.is_crime.is_(True))
        .order_by(Crime.committed_on.desc(), Crime.id.desc()))
    return [CrimeChoice(id=r[0], committed_on=r[1], offence=r[2], mode_of_trial=r[3], gravity=r[4],
                        domestic_abuse=bool(r[5]), hate=bool(r[6]), disposal_id=taken.get(r[0])) for r in rows]


def for_person(session: Session, person_id: int, *, as_of: dt.date) -> list[Disposal]:
    return list(session.scalars(select(Disposal).where(Disposal.person_id == person_id, Disposal.decided_on <= as_of)
                                .order_by(Disposal.decided_on.desc(), Disposal.id.desc())))


def events_for(session: Session, person_id: int, *, as_of: dt.date):
    return session.execute(select(DisposalEvent, Disposal.tier).join(Disposal, Disposal.id == DisposalEvent.disposal_id)
                           .where(Disposal.person_id == person_id, DisposalEvent.on <= as_of)
                           .order_by(DisposalEvent.id)).all()


# --- Table A ----------------------------------------------------------------------------------------------

def volumes(session: Session, years: Sequence[int]) -> Volumes:
    """Disposals issued per financial year (April to March) by Table A's rows, beside the
    published figures, with the paper's claim of a fall of over 20% in every category checked."""
    rows = []
    for year in years:
        start, end = dt.date(year, 4, 1), dt.date(year + 1, 3, 31)
        counted = dict.fromkeys((k for k, *_ in TABLE_A), 0)
        found = session.execute(select(Disposal.tier, Disposal.youth, func.count()).where(
            Disposal.issued_on >= start, Disposal.issued_on <= end).group_by(Disposal.tier, Disposal.youth))
        for tier, youth, n in found:
            for key, _, is_youth, tiers in TABLE_A:
                if bool(youth) == is_youth and tier in tiers:
                    counted[key] += n
        published = PUBLISHED_TABLE_A.get(year)
        rows.append(VolumeRow(fy=year, label=f"{year}/{str(year + 1)[-2:]}", counts=counted, total=sum(counted.values()),
                              published=published[0] if published else None,
                              published_total=published[1] if published else None))
    labels = {k: label for k, label, *_ in TABLE_A}
    return Volumes(rows=rows, labels=labels, statements=statements(rows, labels))


def statements(rows: list[VolumeRow], labels: dict[str, str]) -> list[str]:
    """What the figures say, in words: the published total against its parts, and each fall."""
    out = []
    for row in rows:
        if row.published is not None:
            parts = sum(row.published.values())
            same = row.counts == row.published
            out.append(f"{row.label}: the records {'match' if same else 'differ from'} Table A's parts"
                       + ("" if same else f" ({', '.join(f'{labels[k]} {row.counts[k]:,} v {v:,}' for k, v in row.published.items() if row.counts[k] != v)})")
                       + (f"; the parts sum to {parts:,}, the published total is {row.published_total:,}"
                          if parts != row.published_total else f"; the parts sum to the published total {parts:,}"))
    for before, after in zip(rows, rows[1:], strict=False):
        falls = {k: (before.counts[k] - after.counts[k]) / before.counts[k] for k in before.counts if before.counts[k]}
        published = before.published_total is not None and after.published_total is not None
        first, last = (before.published_total, after.published_total) if published else (before.total, after.total)
        total_fall = (first - last) / first if first else 0.0
        under = [k for k, f in falls.items() if f <= 0.20]
        if not falls:
            out.append(f"{before.label} to {after.label}: the records hold no disposals for {before.label}, so no "
                       "fall can be measured from them")
            continue
        out.append(f"{before.label} to {after.label}: the {'published ' if published else ''}total fell "
                   f"{total_fall:.1%} ({first:,} to {last:,}"
                   + (f"; on the records' parts {before.total:,} to {after.total:,}, "
                      f"{(before.total - after.total) / before.total:.1%}" if published and before.total else "")
                   + "); " + ", ".join(f"{labels[k].lower()} {f:.1%}" for k, f in falls.items()) + ". "
                   + ("Every category fell by over 20%, as the paper says." if not under and total_fall > 0.20 else
                      "Not over 20% in every category, as the paper says: "
                      + " and ".join(f"{labels[k].lower()} fell {falls[k]:.1%}" for k in under)
                      + (" and " if under and total_fall <= 0.20 else "")
                      + (f"the total {total_fall:.1%}" if total_fall <= 0.20 else "") + "."))
    return out
