"""Synthetic DASH, MARAC referrals, SARA v3 / SAM records and the pilot cohort for the
synthetic force (``Domain.synth_steps``).

A DASH follows most DA incidents with a victim in the last three years; its answers lean
"yes" with the incident's gravity and with each further incident against the same victim, and
a few are raised a band by judgement. High-band DASH go to MARAC (a few medium ones on
judgement), with the criteria the service's own rules give on the day (escalation and repeat
included). The as-of month's pilot cohort (MARAC ∩ serial list) is saved, and most of its
members have a SARA v3 record, some still drafts, a few a SAM as well. Rates are ``DA_RATES`` in
``iom.synth.params``; banding and criteria come from ``service``, so the data obey the rules."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from sqlalchemy import insert, or_, select
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from iom.domestic_abuse import service
from iom.domestic_abuse.models import DashAssessment, MaracReferral, SpjAssessment
from iom.domestic_abuse.rules import dash_rules, instrument, marac_rules
from iom.register.models import Crime, Offence
from iom.security.roles import cli_actor
from iom.synth.params import DA_RATES as RATES
from iom.synth.params import DaRates as Rates

#: A stream of its own: the same seed gives the same DA records whatever other steps draw.
STREAM = 0x44415348  # "DASH"
RECORDED_BY = "synthetic force"


def _days(rng: np.random.Generator, bounds: tuple[int, int]) -> dt.timedelta:
    return dt.timedelta(days=int(rng.integers(bounds[0], bounds[1] + 1)))


def _pick(rng: np.random.Generator, shares: dict[str, float]) -> str:
    p = np.array(list(shares.values()), dtype=float)
    return list(shares)[int(rng.choice(p.size, p=p / p.sum()))]


def _dash_rows(connection: Connection, rng: np.random.Generator, rates: Rates, *, as_of: dt.date) -> list[dict]:
    rules = dash_rules()
    codes = [q.code for q in rules.questions]
    da = or_(Crime.domestic_abuse.is_(True), Offence.domestic_abuse.is_(True))
    incidents = connection.execute(
        select(Crime.id, Crime.person_id, Crime.victim_person_id, Crime.recorded_on, Offence.gravity)
        .join(Offence, Offence.code == Crime.offence_code)
        .where(da, Crime.victim_person_id.is_not(None), Crime.person_id != Crime.victim_person_id,
               Crime.recorded_on > as_of - dt.timedelta(days=rates.dash_lookback_days), Crime.recorded_on <= as_of)
        .order_by(Crime.recorded_on, Crime.id)).all()
    relationship: dict[tuple[int, int], str] = {}
    seen: dict[tuple[int, int], int] = defaultdict(int)
    rows = []
    for crime_id, perp, victim, recorded, gravity in incidents:
        pair = (perp, victim)
        if pair not in relationship:
            relationship[pair] = "intimate_partner" if rng.random() < rates.intimate_partner_share else "family"
        earlier = seen[pair]
        seen[pair] += 1
        if rng.random() >= rates.dash_share:
            continue
        chance = min(0.95, rates.yes_chance[gravity] + rates.yes_chance_per_repeat * earlier)
        u = rng.random(len(codes))
        answers = {c: "not_known" if x < rates.not_known_chance else "yes" if x < rates.not_known_chance + chance
                   else "no" for c, x in zip(codes, u, strict=True)}
        yes, by_count, _ = service.dash_band(answers, judgement_band=None, rules=rules)
        judged = reason = None
        if rules.rank(by_count) < len(rules.bands) - 1 and rng.random() < rates.judgement_raise_share:
            judged = [b.code for b in reversed(rules.bands)][rules.rank(by_count) + 1]
            reason = rates.judgement_reasons[int(rng.integers(len(rates.judgement_reasons)))]
        _, _, band = service.dash_band(answers, judgement_band=judged, rules=rules)
        rows.append({"victim_person_id": victim, "perpetrator_person_id": perp, "crime_id": crime_id,
                     "assessed_on": min(as_of, recorded + _days(rng, rates.dash_days)),
                     "relationship": relationship[pair], "answers": answers, "yes_count": yes,
                     "band_by_count": by_count, "judgement_band": judged, "judgement_reason": reason, "band": band,
                     "rules_version": rules.version, "recorded_by": RECORDED_BY, "recorded_at": None})
    return rows


def _marac_rows(connection: Connection, rng: np.random.Generator, rates: Rates, dashes: list[dict], *,
                as_of: dt.date) -> list[dict]:
    rules = marac_rules()
    victims = sorted({d["victim_person_id"] for d in dashes})
    da = or_(Crime.domestic_abuse.is_(True), Offence.domestic_abuse.is_(True))
    dates: dict[int, list[dt.date]] = defaultdict(list)
    for start in range(0, len(victims), 1000):
        for victim, on in connection.execute(
                select(Crime.victim_person_id, Crime.recorded_on).join(Offence, Offence.code == Crime.offence_code)
                .where(da, Crime.victim_person_id.in_(victims[start:start + 1000])).order_by(Crime.recorded_on)):
            dates[victim].append(on)
    last: dict[int, dt.date] = {}
    rows = []
    for dash in sorted(dashes, key=lambda d: (d["assessed_on"], d["id"])):
        judgement = None
        if dash["band"] == "high":
            if rng.random() >= rates.marac_high_share:
                continue
        elif dash["band"] == "medium" and rng.random() < rates.marac_judgement_share:
            judgement = rates.marac_judgement_reasons[int(rng.integers(len(rates.marac_judgement_reasons)))]
        else:
            continue
        victim = dash["victim_person_id"]
        on = min(as_of, dash["assessed_on"] + _days(rng, rates.marac_days))
        if victim in last and (on - last[victim]).days < rates.marac_min_gap_days:
            continue
        met = service.criteria_met(on=on, dash_yes=dash["yes_count"], dash_band=dash["band"], incident_dates=dates[victim],
                                   last_referral_on=last.get(victim), judgement=judgement is not None, rules=rules)
        rows.append({"victim_person_id": victim, "perpetrator_person_id": dash["perpetrator_person_id"],
                     "referred_on": on, "referring_agency": _pick(rng, rates.referring_agencies), "criteria": met,
                     "judgement_reason": judgement, "dash_id": dash["id"], "repeat": "repeat" in met,
                     "rules_version": rules.version, "recorded_by": RECORDED_BY, "recorded_at": None})
        last[victim] = on
    return rows


def _spj_row(rng: np.random.Generator, rates: Rates, *, person_id: int, code: str, as_of: dt.date) -> dict:
    tool = instrument(code)
    presence = [c.code for c in tool.presence]
    relevance = [c.code for c in tool.relevance]
    ratings = {f.code: {"past": presence[int(rng.integers(len(presence)))],
                        "recent": presence[int(rng.integers(len(presence)))],
                        "relevance": relevance[int(rng.integers(len(relevance)))]} for f in tool.factors}
    draft = rng.random() < rates.draft_share
    judgements = {j.code: j.options[int(rng.integers(len(j.options)))].code for j in tool.judgements}
    if draft:  # a draft still lacks its last judgement
        judgements.pop(tool.judgements[-1].code)
    return {"person_id": person_id, "victim_person_id": None, "instrument": tool.code,
            "instrument_version": tool.version, "assessed_on": as_of - _days(rng, rates.spj_days),
            "status": "draft" if draft else "final", "ratings": ratings, "judgements": judgements,
            "scenarios": ["Repeat of the most recent abuse against the current partner",
                          "Escalation to serious physical harm after separation"],
            "plan": {p.code: f"{p.label}: agreed at the pilot case review" for p in tool.plan},
            "version": 1, "recorded_by": RECORDED_BY, "recorded_at": None,
            "finalised_by": None if draft else RECORDED_BY, "finalised_at": None}


def step(connection: Connection, *, seed: int, as_of: dt.date, rates: Rates = RATES) -> dict[str, int]:
    """Write DASH, MARAC referrals, SARA/SAM records and the pilot cohort; deterministic for ``seed``."""
    rng = np.random.default_rng([seed, STREAM])
    dashes = _dash_rows(connection, rng, rates, as_of=as_of)
    if dashes:
        ids = connection.execute(insert(DashAssessment.__table__).returning(DashAssessment.id), dashes).scalars().all()
        for row, new_id in zip(dashes, ids, strict=True):
            row["id"] = new_id
    referrals = _marac_rows(connection, rng, rates, dashes, as_of=as_of)
    if referrals:
        connection.execute(insert(MaracReferral.__table__), referrals)
    session = Session(bind=connection)
    found, members = service.pilot_members(session, cli_actor(RECORDED_BY), month=None, as_of=as_of)
    saved_at = dt.datetime.combine(as_of, dt.time(), tzinfo=dt.UTC)  # deterministic, like every synthetic row
    cohort = service.save_cohort(session, found=found, members=members, by=RECORDED_BY, at=saved_at)
    stalking = {r.person_id for r in found.section("stalking").rows}
    spj = []
    for member in members:
        if rng.random() < rates.sara_share:
            spj.append(_spj_row(rng, rates, person_id=member.person_id, code="sara-v3", as_of=as_of))
        if member.person_id in stalking or rng.random() < rates.sam_share:
            spj.append(_spj_row(rng, rates, person_id=member.person_id, code="sam", as_of=as_of))
    if spj:
        connection.execute(insert(SpjAssessment.__table__), spj)
    session.flush()
    return {"dash_assessments": len(dashes), "marac_referrals": len(referrals), "spj_assessments": len(spj),
            "da_cohort_members": cohort.size}
