"""Synthetic MAPPA records and panels for the synthetic force (``Domain.synth_steps``).

Every MAPPA cohort membership gets a record from its adoption: a category and level drawn by
the person's offender type, a chairing agency at level 2 or 3, a ViSOR reference (always for
category 1, mostly for category 2), and the person's offender manager as partnering officer.
Some level-2 and level-3 cases began a level lower and were raised later (a second row). A
membership that has ended ends its record. Level-2 and level-3 spells get panels at the
rules' interval, mostly on time, some late, so that on the reference date some are overdue.

The rates are ``MAPPA_RATES`` in ``iom.synth.params`` (its MAPPA section), with the others."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from iom.cohorts.models import CohortMembership, ManagementRecord
from iom.mappa.models import MappaPanel, MappaRecord
from iom.mappa.panels import PANEL_LEVELS, panel_rules
from iom.synth.params import MAPPA_RATES as RATES
from iom.synth.params import MappaRates as Rates

#: A stream of its own: the same seed gives the same MAPPA records whatever other steps draw.
STREAM = 0x4D415050  # "MAPP"
RECORDED_BY = "synthetic force"




def _draw(rng: np.random.Generator, shares) -> int:
    """The index drawn from ``shares`` (they need not add to one exactly)."""
    p = np.asarray(shares, dtype=float)
    return int(rng.choice(p.size, p=p / p.sum()))


def _days(rng: np.random.Generator, bounds: tuple[int, int]) -> int:
    return int(rng.integers(bounds[0], bounds[1] + 1))


def _panels(rng: np.random.Generator, rates: Rates, *, level: int, start: dt.date, last_day: dt.date,
            interval: int) -> list[tuple[dt.date, int]]:
    """Panels for a spell at ``level`` from ``start`` up to ``last_day`` (inclusive)."""
    held = []
    on = start + dt.timedelta(days=_days(rng, rates.first_panel_days))
    while on <= last_day:
        held.append((on, level))
        slip = _days(rng, rates.late_days) if rng.random() < rates.late_share else _days(rng, rates.on_time_days)
        on += dt.timedelta(days=interval + slip)
    return held


def step(connection: Connection, *, seed: int, as_of: dt.date, rates: Rates = RATES) -> dict[str, int]:
    """Write every MAPPA membership's records and panels; deterministic for ``seed``."""
    rng = np.random.default_rng([seed, STREAM])
    rules = panel_rules()
    spells = connection.execute(
        select(CohortMembership.person_id, CohortMembership.adopted_on, CohortMembership.exited_on)
        .where(CohortMembership.classification_code == "MAPPA", CohortMembership.adopted_on <= as_of)
        .order_by(CohortMembership.person_id, CohortMembership.adopted_on, CohortMembership.id)).all()
    managed: dict[int, list] = defaultdict(list)
    people = sorted({s.person_id for s in spells})
    for start in range(0, len(people), 1000):
        for row in connection.execute(
            select(ManagementRecord.person_id, ManagementRecord.effective_from, ManagementRecord.offender_type,
                   ManagementRecord.officer)
            .where(ManagementRecord.person_id.in_(people[start:start + 1000]))
            .order_by(ManagementRecord.person_id, ManagementRecord.effective_from, ManagementRecord.id)):
            managed[row.person_id].append(row)
    visor_numbers = iter(rng.choice(9_000_000, size=max(1, 2 * len(spells)), replace=False) + 1_000_000)
    chairs, chair_shares = list(rates.other_chairs), list(rates.other_chairs.values())
    records, panels = [], []
    ended_until: dict[int, dt.date] = {}
    for person_id, adopted, exited in spells:
        if person_id in ended_until and adopted < ended_until[person_id]:
            continue  # overlapping spells of one classification: keep the history in order
        ended_until[person_id] = exited or dt.date.max
        history = managed.get(person_id, [])
        at_adoption = [m for m in history if m.effective_from <= adopted] or history[:1]
        management = at_adoption[-1] if at_adoption else None
        kind = management.offender_type if management is not None else "other"
        category = 1 + _draw(rng, rates.category_shares.get(kind, rates.category_shares["other"]))
        level = 1 + _draw(rng, rates.level_shares.get(kind, rates.level_shares["other"]))
        chair = None
        if level in PANEL_LEVELS:
            chair = rates.sexual_chair if category == 1 else chairs[_draw(rng, chair_shares)]
        visor = f"VIS-{next(visor_numbers):07d}" if rng.random() < rates.visor_shares[category] else None
        base = {"person_id": person_id, "category": category, "chairing_agency": chair, "visor_id": visor,
                "partnering_officer": management.officer if management is not None else None,
                "recorded_by": RECORDED_BY, "recorded_at": None}
        end = min(exited, as_of) if exited is not None else as_of
        last_day = end - dt.timedelta(days=1) if exited is not None and exited <= as_of else as_of
        raised_on = None
        room = (end - adopted).days - 14
        if level in PANEL_LEVELS and room > rates.raise_after_days and rng.random() < rates.raised_share:
            raised_on = adopted + dt.timedelta(days=int(rng.integers(rates.raise_after_days, room + 1)))
        held: list[tuple[dt.date, int]] = []
        if raised_on is not None:
            lower = level - 1
            records.append({**base, "level": lower, "effective_from": adopted, "ended_on": None,
                            "chairing_agency": chair if lower in PANEL_LEVELS else None,
                            "reason": "adopted to the MAPPA cohort"})
            records.append({**base, "level": level, "effective_from": raised_on, "ended_on": exited,
                            "reason": f"level raised to {level} after a review of the risk"})
            if lower in PANEL_LEVELS:
                held += _panels(rng, rates, level=lower, start=adopted, interval=rules.interval(lower),
                                last_day=min(last_day, raised_on - dt.timedelta(days=1)))
        else:
            records.append({**base, "level": level, "effective_from": adopted, "ended_on": exited,
                            "reason": "adopted to the MAPPA cohort"})
        if level in PANEL_LEVELS:
            held += _panels(rng, rates, level=level, start=raised_on or adopted, last_day=last_day,
                            interval=rules.interval(level))
        panels += [{"person_id": person_id, "held_on": on, "level": at_level, "chair": chair,
                    "outcome": rates.outcomes[int(rng.integers(len(rates.outcomes)))],
                    "recorded_by": RECORDED_BY, "recorded_at": None} for on, at_level in held]
    if records:
        connection.execute(insert(MappaRecord.__table__), records)
    if panels:
        connection.execute(insert(MappaPanel.__table__), panels)
    return {"mappa_records": len(records), "mappa_panels": len(panels)}
