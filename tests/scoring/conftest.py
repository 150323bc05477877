"""A small, deterministic register for scoring tests (a few hundred people, two NPUs)."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from iom.cohorts.models import CohortMembership
from iom.register.models import Crime, Offence, Person, Unit, VulnerabilityMarker

AS_OF = dt.date(2019, 3, 31)
START = dt.date(2011, 4, 1)
PEOPLE = 400
NPUS = ("WS", "BN")


def build_register(session: Session, *, seed: int = 7, people: int = PEOPLE) -> dict:
    """People with a personal offending rate, crimes over eight years (some proven), DA
    incidents with victims, markers and current cohort members. BN's capacity is cut to 30."""
    rng = np.random.default_rng(seed)
    offences = session.execute(select(Offence.code, Offence.is_crime, Offence.domestic_abuse)).all()
    crime_codes = [o.code for o in offences if o.is_crime and not o.domestic_abuse]
    da_codes = [o.code for o in offences if o.domestic_abuse]
    ids = np.arange(1, people + 1)
    base = int(session.scalar(select(Person.id).order_by(Person.id.desc()).limit(1)) or 0)
    ids = ids + base
    sexes = rng.choice(["M", "F", "U"], size=people, p=[0.75, 0.23, 0.02])
    ethnic = rng.choice(["W1", "B1", "A1"], size=people, p=[0.7, 0.15, 0.15])
    born = [dt.date(1960, 1, 1) + dt.timedelta(days=int(d)) for d in rng.integers(0, 365 * 40, size=people)]
    session.execute(insert(Person), [
        dict(id=int(i), pseudo_id=f"T{int(i):06d}", source_id=f"SRC-{int(i)}", given_name="Test", family_name=f"P{int(i)}",
             date_of_birth=born[k], sex=str(sexes[k]), ethnicity=str(ethnic[k]), home_npu=NPUS[k % 2])
        for k, i in enumerate(ids)
    ])
    rate = rng.gamma(0.8, 1.2, size=people)  # crimes per year
    rows, cid = [], 0
    span = (AS_OF - START).days
    for k, pid in enumerate(ids):
        n = rng.poisson(rate[k] * span / 365)
        for day in sorted(rng.integers(0, span + 1, size=n)):
            cid += 1
            committed = START + dt.timedelta(days=int(day))
            da = rng.random() < 0.1
            code = str(rng.choice(da_codes if da else crime_codes))
            outcome = str(rng.choice(["charge", "caution", "community_resolution", "nfa"], p=[0.45, 0.15, 0.1, 0.3]))
            outcome_on = committed + dt.timedelta(days=int(rng.integers(10, 200)))
            victim = int(ids[(k + 1 + int(rng.integers(0, 3))) % people]) if da else None
            rows.append(dict(
                source_id=f"C{base}-{cid}", person_id=int(pid), involvement=str(rng.choice(["suspect", "offender"], p=[0.2, 0.8])),
                committed_on=committed, recorded_on=committed + dt.timedelta(days=int(rng.integers(0, 5))),
                offence_code=code, npu_code=NPUS[k % 2], domestic_abuse=da, victim_person_id=victim,
                outcome=outcome, outcome_on=outcome_on,
            ))
    session.execute(insert(Crime), rows)
    markers = []
    for k, pid in enumerate(ids):
        if rng.random() < 0.2:
            markers.append(dict(person_id=int(pid), marker=str(rng.choice(["MENTAL_HEALTH", "HOMELESSNESS", "CLASS_A"])),
                                started_on=dt.date(2016, 1, 1), ended_on=None if rng.random() < 0.7 else dt.date(2018, 1, 1)))
    if markers:
        session.execute(insert(VulnerabilityMarker), markers)
    members = [int(i) for i in ids[rng.random(people) < 0.12]]
    session.execute(insert(CohortMembership), [
        dict(person_id=m, classification_code="PPO", adopted_on=dt.date(2018, 1, 1)) for m in members
    ])
    session.execute(update(Unit).where(Unit.code == "BN").values(officers=3, caseload_per_officer=10))
    session.flush()
    return {"ids": [int(i) for i in ids], "members": members, "crimes": len(rows)}


@pytest.fixture
def small_register(db_session: Session) -> dict:
    return build_register(db_session)


@pytest.fixture
def make_register():
    """The builder itself, for tests that fill a database of their own."""
    return build_register
