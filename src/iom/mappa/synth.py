"""Synthetic MAPPA records and panels for the synthetic force (``Domain.synth_steps``).

Every MAPPA cohort membership gets a record from its adoption: a category and level drawn by
the person's offender type, a chairing agency at level 2 or 3, a ViSOR reference (always for
category 1, mostly for category 2), and the person's offender manager as partnering officer.
Some level-2 and level-3 cases began a level lower and were raised later (a second row). A
membership that has ended ends its record. Level-2 and level-3 spells get panels at the
rules' interval, mostly on time, some late, so that on the reference date some are overdue.

The rates are ``RATES`` below, named and re-exported in ``iom.synth.params`` (MAPPA section):
this step cannot import that module (a domain sits below ``iom.synth`` in the layers)."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import insert, select
from sqlalchemy.engine import Connection

from iom.cohorts.models import CohortMembership, ManagementRecord
from iom.mappa.models import MappaPanel, MappaRecord
from iom.mappa.panels import PANEL_LEVELS, panel_rules

#: A stream of its own: the same seed gives the same MAPPA records whatever other steps draw.
STREAM = 0x4D415050  # "MAPP"
RECORDED_BY = "synthetic force"


@dataclass(frozen=True)
class Rates:
    """Modelling assumptions, none published for the seed force. Shares are shaped on the
    national MAPPA annual reports as recalled, not checked (most MAPPA-eligible people are
    category 1, about a quarter category 2, few category 3; few are managed at level 2 or 3),
    with more at level 2 or 3 here because an IOM cohort holds the riskier cases (seed paper
    000 §17: risk offenders are managed at level 2 or 3)."""

    #: Category shares (1, 2, 3, 4) by the person's offender type; "other" for the rest.
    category_shares: dict[str, tuple[float, float, float, float]] = field(default_factory=lambda: {
        "Sex Offender Management": (0.92, 0.05, 0.03, 0.00),
        "Risk": (0.10, 0.78, 0.10, 0.02),
        "other": (0.25, 0.65, 0.10, 0.00),
    })
    #: Level shares (1, 2, 3) by offender type: "Risk" cases are the level-2/3 ones (000 §14, §17).
    level_shares: dict[str, tuple[float, float, float]] = field(default_factory=lambda: {
        "Risk": (0.55, 0.35, 0.10),
        "other": (0.80, 0.16, 0.04),
    })
    #: Share of level-2 and level-3 cases that began a level lower and were raised later, no
    #: sooner than ``raise_after_days`` after adoption and at least two weeks before the end.
    raised_share: float = 0.25
    raise_after_days: int = 28
    #: Chairing agency of level-2/3 category-1 cases: the police chair the sex offender panels
    #: (seed paper 000 §17).
    sexual_chair: str = "Police"
    #: Chairing agency shares for the other categories (assumption: probation leads most).
    other_chairs: dict[str, float] = field(default_factory=lambda: {
        "National Probation Service": 0.85, "Police": 0.10, "Prison Service": 0.05})
    #: Share of each category holding a ViSOR reference: every registered sexual offender;
    #: most violent offenders (seed paper 000 §28: ViSOR records for MAPPA 1 violent offenders
    #: were being created from 2019); half the rest.
    visor_shares: dict[int, float] = field(default_factory=lambda: {1: 1.0, 2: 0.8, 3: 0.5, 4: 0.5})
    #: Days after a level is set to its first panel (uniform, inclusive).
    first_panel_days: tuple[int, int] = (0, 21)
    #: A panel held on time falls this many days either side of its due date ...
    on_time_days: tuple[int, int] = (-7, 3)
    #: ... while this share of panels slip, late by a uniform number of days in the range.
    late_share: float = 0.40
    late_days: tuple[int, int] = (7, 49)
    #: What a panel records (fictional, generic).
    outcomes: tuple[str, ...] = (
        "risk management plan reviewed; level confirmed",
        "actions agreed between police and probation; level confirmed",
        "licence conditions and restrictions reviewed; level confirmed",
        "victim safety measures reviewed; level confirmed",
    )


RATES = Rates()


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
