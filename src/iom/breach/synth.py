"""Synthetic breaches for the synthetic force (``Domain.synth_steps``): current members whose
lead agency supervises an order or a licence breach some of them in the two years before the
reference date; older breaches have outcomes, the newest are still open (the queue). The rates
are ``BREACH_RATES`` in ``iom.synth.params``."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from iom.breach.models import Breach
from iom.cohorts.models import ManagementRecord
from iom.cohorts.service import current_member_ids
from iom.security import scope
from iom.synth.params import BREACH_RATES as RATES
from iom.synth.params import BreachRates

#: A stream of its own: the same seed gives the same breaches whatever other steps draw.
STREAM = 0x42524348  # "BRCH"
RECORDED_BY = "synthetic force"
#: The lead agencies that supervise a court order or a licence.
SUPERVISING = ("National Probation Service", "Probation provider (CRC)", "Youth Offending Team")
ORDER_NAMES = ("Community order, 12 months, unpaid work", "Community order, 18 months, rehabilitation activity",
               "Suspended sentence order, 24 months", "Youth rehabilitation order, 12 months")
LICENCE_NAMES = ("Licence on release, standard conditions", "Licence on release, with a curfew",
                 "Post-sentence supervision, 12 months")
WINDOW_DAYS = 730


def _pick(rng: np.random.Generator, shares: dict[str, float]) -> str:
    names = list(shares)
    p = np.asarray([shares[n] for n in names], dtype=float)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def step(connection: Connection, *, seed: int, as_of: dt.date, rates: BreachRates = RATES) -> dict[str, int]:
    rng = np.random.default_rng([seed, STREAM])
    managed = scope.latest(ManagementRecord, as_of, ManagementRecord.lead_agency, ManagementRecord.effective_from).subquery()
    members = current_member_ids(as_of).subquery()
    supervised = connection.execute(
        select(managed.c.person_id, managed.c.lead_agency, managed.c.effective_from)
        .join(members, members.c.person_id == managed.c.person_id)
        .where(managed.c.lead_agency.in_(SUPERVISING)).order_by(managed.c.person_id)).all()
    rows = []
    for person_id, agency, since in supervised:
        if rng.random() >= rates.breach_share:
            continue
        count = 2 if rng.random() < rates.second_share else 1
        start = max(since, as_of - dt.timedelta(days=WINDOW_DAYS))
        span = (as_of - start).days
        if span < 1:
            continue
        licence = agency != "Youth Offending Team" and rng.random() < rates.licence_share
        name = (LICENCE_NAMES[int(rng.integers(len(LICENCE_NAMES)))] if licence
                else ORDER_NAMES[int(rng.integers(len(ORDER_NAMES)))])
        days = sorted(int(d) for d in rng.integers(0, span + 1, size=count))
        for offset in days:
            on = start + dt.timedelta(days=offset)
            action = _pick(rng, rates.licence_actions if licence else rates.order_actions)
            wait = int(rng.integers(rates.outcome_days[0], rates.outcome_days[1] + 1))
            outcome = outcome_on = until = None
            if on + dt.timedelta(days=wait) <= as_of:
                outcome_on = on + dt.timedelta(days=wait)
                if action in ("recall", "court") and rng.random() < rates.custody_share:
                    outcome = "returned to custody" if licence else "resentenced"
                    until = outcome_on + dt.timedelta(days=int(rng.integers(*rates.custody_days)))
                else:
                    outcome = "warning given" if action == "warning" else \
                        ("order varied" if not licence else "no further action")
            rows.append({"person_id": person_id, "kind": "licence" if licence else "order", "order_name": name,
                         "breached_on": on, "nature": _pick(rng, rates.natures), "action": action, "details": None,
                         "outcome": outcome, "outcome_on": outcome_on, "custody_until": until,
                         "recorded_by": RECORDED_BY, "recorded_at": None, "version": 1})
    if rows:
        connection.execute(insert(Breach.__table__), rows)
    return {"breaches": len(rows)}
