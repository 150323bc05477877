"""Synthetic out-of-court disposals and scrutiny panels for the synthetic force
(``Domain.synth_steps``).

Every crime the generator gave a caution, conditional caution or community resolution from
``records_from`` on becomes a disposal under the 2017 tiers, issued on the outcome's date, so
Table A follows from the records. Each is assessed by ``service.assess`` (earlier community
resolutions counted as the rules count them): a case outside the criteria records an
Inspector's authority, and a case the rules would now bar (the generator's history predates
them) records the rule's words the same way, so the scrutiny panel has something to find.
Conditions, compliance and breach follow ``DIVERSION_RATES``; a breached conditional caution
goes to prosecution. The four published scrutiny panels are drawn with the panel's own seeded
sampler and given verdicts at the published shares. Condition referrals to providers are not
synthesised here (the courses issue calibrates them to Table C)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from sqlalchemy import insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from iom.dates import months_before
from iom.diversion import scrutiny, service
from iom.diversion.models import Condition, Disposal, DisposalEvent, ScrutinyItem
from iom.diversion.rules import policies
from iom.register.models import Crime, Offence, Person
from iom.synth.params import DIVERSION_RATES as RATES
from iom.synth.params import DiversionRates as Rates

STREAM = 0x4F4F4344  # "OOCD"
BY = "synthetic force"
TIERS = {"caution": "simple_caution", "conditional_caution": "conditional_caution",
         "community_resolution": "community_resolution"}


def _days(rng: np.random.Generator, bounds: tuple[int, int]) -> dt.timedelta:
    return dt.timedelta(days=int(rng.integers(bounds[0], bounds[1] + 1)))


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def step(connection: Connection, *, seed: int, as_of: dt.date, rates: Rates = RATES) -> dict[str, int]:
    """Write the disposals, their conditions and history, and the scrutiny panels."""
    rng = np.random.default_rng([seed, STREAM])
    rules = policies()
    policy = rules.get("npcc-2017")
    crimes = connection.execute(
        select(Crime.id, Crime.person_id, Crime.committed_on, Crime.outcome, Crime.outcome_on, Crime.victim_person_id,
               Person.date_of_birth, Offence.description, Offence.mode_of_trial, Offence.gravity,
               or_(Crime.domestic_abuse, Offence.domestic_abuse), or_(Crime.hate, Offence.hate))
        .join(Offence, Offence.code == Crime.offence_code).join(Person, Person.id == Crime.person_id)
        .where(Crime.outcome.in_(TIERS), Crime.outcome_on >= rates.records_from, Crime.outcome_on <= as_of)
        .order_by(Crime.outcome_on, Crime.id)).all()
    issued_cr: dict[int, list[dt.date]] = defaultdict(list)
    disposals, plans = [], []
    for (crime_id, person_id, committed, outcome, issued, victim, born, offence, mode, gravity, da, hate) in crimes:
        tier = TIERS[outcome]
        facts = service.CrimeFacts(crime_id, person_id, committed, born, offence, mode, gravity, bool(da), bool(hate))
        decided = max(committed, issued - _days(rng, rates.decide_days))
        prior = None
        if tier == "community_resolution":
            since = months_before(decided, 12 * policy.get(tier).prior_years)
            prior = sum(since <= d < decided for d in issued_cr[person_id])
        found = service.assess(None, facts, tier_code=tier, policy_code=policy.code, admission=True, consent=True,
                               intervention_available=True, on=decided, prior=prior, rules=rules)
        if tier == "community_resolution":
            issued_cr[person_id].append(issued)
        outside = found.outside + found.bars
        disposals.append({
            "person_id": person_id, "crime_id": crime_id, "policy": policy.code, "tier": tier, "youth": found.youth,
            "status": "issued", "admission": True, "consent": True,
            "victim_views": _pick(rng, rates.victim_views) if victim is not None and rng.random() < rates.victim_views_share
            else None,
            "base_gravity": found.base_gravity, "gravity": found.gravity, "factors": [],
            "rationale": f"{policy.get(tier).name} proportionate for {offence.lower()}; offence admitted",
            "outside_criteria": outside, "authority_required": "inspector" if outside else "sergeant",
            "dpp_consent": False, "custody_expected": False, "intervention_available": tier == "conditional_caution",
            "pilot": found.pilot, "rules_version": rules.version, "decided_by": BY, "decided_on": decided,
            "authorised_by": BY, "authoriser_rank": "inspector" if outside else "sergeant", "authorised_on": decided,
            "issued_on": issued, "closed_on": None, "version": 3})
        plans.append(_conditions(rng, rates, tier, issued))
    closing = []
    for row, planned in zip(disposals, plans, strict=True):
        status, closed = _outcome(rng, rates, row, planned, as_of=as_of)
        row.update(status=status, closed_on=row.pop("closed_at", None), version=3 + len(closed))
        closing.append(closed)
    ids = connection.execute(insert(Disposal.__table__).returning(Disposal.id), disposals).scalars().all() \
        if disposals else []
    conditions, events = [], []
    for disposal_id, row, planned, closed in zip(ids, disposals, plans, closing, strict=True):
        events += [{"disposal_id": disposal_id, "from_status": None, "to_status": "proposed", "on": row["decided_on"],
                    "by": BY, "reason": row["rationale"]},
                   {"disposal_id": disposal_id, "from_status": "proposed", "to_status": "authorised",
                    "on": row["decided_on"], "by": BY, "reason": None},
                   {"disposal_id": disposal_id, "from_status": "authorised", "to_status": "issued",
                    "on": row["issued_on"], "by": BY, "reason": None}]
        for kind, text, due, state, done in planned:
            conditions.append({"disposal_id": disposal_id, "kind": kind, "description": text, "due_on": due,
                               "provider_code": None, "referral_id": None, "status": state, "completed_on": done,
                               "recorded_by": BY})
        for previous, target, on, reason in closed:
            events.append({"disposal_id": disposal_id, "from_status": previous, "to_status": target, "on": on, "by": BY,
                           "reason": reason})
    if conditions:
        connection.execute(insert(Condition.__table__), conditions)
    if events:
        connection.execute(insert(DisposalEvent.__table__), events)
    panels, verdicts = _panels(connection, rng, rates, as_of=as_of)
    return {"oocd_disposals": len(disposals), "oocd_conditions": len(conditions), "oocd_events": len(events),
            "scrutiny_samples": panels, "scrutiny_items": verdicts}


def _conditions(rng, rates: Rates, tier: str, issued: dt.date) -> list[list]:
    """[kind, text, due, status, completed_on] for each condition (status filled in by ``_outcome``)."""
    out = []
    if tier == "community_resolution" and rng.random() < rates.cr_condition_share:
        out.append(["reparative", _pick(rng, rates.reparative), issued + dt.timedelta(days=rates.cr_due_days)])
    elif tier == "conditional_caution":
        due = issued + dt.timedelta(days=rates.cc_due_days)
        out.append(["rehabilitative", _pick(rng, rates.rehabilitative), due])
        if rng.random() < rates.cc_reparative_share:
            out.append(["reparative", _pick(rng, rates.reparative), due])
    return [c + ["pending", None] for c in out]


def _outcome(rng, rates: Rates, row: dict, planned: list[list], *, as_of: dt.date):
    """Each condition's state on ``as_of`` and the disposal's: complied, breached (and, for a
    conditional caution, prosecuted), or still issued."""
    if not planned:
        return "issued", []
    share = rates.cc_complied_share if row["tier"] == "conditional_caution" else rates.cr_complied_share
    due = max(c[2] for c in planned)
    complies = rng.random() < share
    for c in planned:
        early = _days(rng, rates.complied_days_early)
        done = max(row["issued_on"], c[2] - early)
        if complies and done <= as_of:
            c[3], c[4] = "complied", done
    if due >= as_of and not all(c[3] == "complied" for c in planned):
        return "issued", []  # deadlines not yet passed
    if complies:
        last = max(c[4] for c in planned)
        row["closed_at"] = last
        return "complied", [("issued", "complied", last, "every condition complied with")]
    failed = next(c for c in planned if c[3] != "complied")
    for c in planned:
        if c[3] != "complied":
            c[3], c[4] = "failed", c[2]
    breach_on = failed[2] + dt.timedelta(days=1)
    history = [("issued", "breached", breach_on, f"condition not completed by {failed[2]}: {failed[1]}")]
    consequence = service.enforce_action_for(row["policy"], row["tier"])
    if consequence is not None:
        on = breach_on + _days(rng, rates.prosecute_days)
        if on <= as_of:
            target = service.lifecycle.TABLE[("breached", consequence)]
            history.append(("breached", target, on, "breach: the original offence goes to prosecution"
                            if consequence == "prosecute" else "breach: a financial penalty"))
            row["closed_at"] = on
            return target, history
    return "breached", history


def panel_size(share: float, limit: int) -> int:
    """The largest sample of at most ``limit`` in which a whole number found appropriate gives
    the published percentage (86% of 29 cannot be had exactly; of 28, 89% can)."""
    target = round(100 * share)
    return next((k for k in range(limit, 0, -1) if round(100 * round(share * k) / k) == target), 0)


def _panels(connection: Connection, rng, rates: Rates, *, as_of: dt.date) -> tuple[int, int]:
    """The published panels: each a saved sample, verdicts at the published share."""
    session = Session(bind=connection)
    saved_at = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)
    samples = items = 0
    for category, month, n, share, seed, actions in rates.panels:
        available = scrutiny.preview(session, category=category, month=month, n=n, seed=seed, as_of=as_of).population
        if not available:
            continue
        # The published percentage exactly where a sample this size allows it (the default force);
        # in a small force, the nearest whole number of the few disposals there are.
        size = panel_size(share, min(n, available)) or min(n, available)
        drawn = scrutiny.preview(session, category=category, month=month, n=size, seed=seed, as_of=as_of)
        saved = scrutiny.save_sample(session, drawn, by=BY, at=saved_at)
        samples += 1
        k = len(saved.items)
        good = round(share * k)
        order = rng.permutation(k)
        for rank, index in enumerate(order):
            item = session.get(ScrutinyItem, (saved.id, saved.items[index].disposal_id))
            if rank < good:
                verdict = "appropriate_with_comments" if rng.random() < rates.with_comments_share else "appropriate"
                comment = "Rationale recorded briefly; the victim's views could be fuller" \
                    if verdict == "appropriate_with_comments" else None
                action = None
            else:
                verdict, comment = "inappropriate", "The case called for a charge or a different disposal"
                action = actions[int(rng.integers(len(actions)))]
            scrutiny.record_verdict(session, item, verdict=verdict, comment=comment, action=action, by="scrutiny panel")
            items += 1
    session.flush()
    return samples, items
