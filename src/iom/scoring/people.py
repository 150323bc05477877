"""Per-person factors computed over whole columns: ages, vulnerability, OGRS3 inputs."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from iom.scoring import ogrs3 as ogrs3_mod
from iom.scoring.config import ScoringConfig
from iom.scoring.data import NEVER, Register, day_number
from iom.dates import months_before


def age_years(dob_days, on: dt.date) -> np.ndarray:
    """Whole years on ``on`` for birth dates given as day numbers (birthday-aware)."""
    dob = pd.DatetimeIndex(np.asarray(dob_days, dtype="int64").astype("datetime64[D]"))
    before_birthday = (dob.month > on.month) | ((dob.month == on.month) & (dob.day > on.day))
    return (on.year - dob.year - before_birthday.astype(int)).to_numpy()


def age_years_between(dob_days, on_days) -> np.ndarray:
    dob = pd.DatetimeIndex(np.asarray(dob_days, dtype="int64").astype("datetime64[D]"))
    on = pd.DatetimeIndex(np.asarray(on_days, dtype="int64").astype("datetime64[D]"))
    before = (dob.month > on.month) | ((dob.month == on.month) & (dob.day > on.day))
    return (on.year - dob.year - before.astype(int)).to_numpy()


def vulnerability(reg: Register, config: ScoringConfig, as_of: dt.date, person_ids) -> pd.DataFrame:
    """Points per factor (one column each) and the total, capped, for ``person_ids``.

    Kept apart from risk: it is shown beside it and enters only the selection composite,
    with its own weight. Plain numpy over whole columns: as quick for one person (a person
    page) as per person for the whole force."""
    v = config.vulnerability
    ids = np.unique(np.asarray([int(i) for i in person_ids], dtype="int64"))
    known_ids = reg.people["id"].to_numpy()
    at = np.minimum(np.searchsorted(known_ids, ids), max(len(known_ids) - 1, 0))
    known = (known_ids[at] == ids) if len(known_ids) else np.zeros(len(ids), dtype=bool)
    dob = np.where(known, reg.people["dob"].to_numpy()[at] if len(known_ids) else 0, 0)
    factors = {"age_under_25": np.where(known & (age_years(dob, as_of) < 25), v.under_25_points, 0)}
    today = day_number(as_of)
    m = reg.markers
    holder, marker_of = m["person_id"].to_numpy(), m["marker"].to_numpy()
    active = (m["started"].to_numpy() <= today) & (m["ended"].to_numpy() > today)
    for marker, points in v.markers.items():
        factors[f"marker:{marker}"] = np.where(np.isin(ids, holder[active & (marker_of == marker)]), points, 0)
    c = reg.crimes
    start = day_number(months_before(as_of, v.lookback_months))
    victims = np.sort(c["victim_person_id"][
        (c["victim_person_id"] >= 0) & (c["committed"] > start) & (c["committed"] <= today) & (c["recorded"] <= today)
    ])
    count = np.searchsorted(victims, ids, side="right") - np.searchsorted(victims, ids, side="left")
    factors["victimisation"] = np.minimum(count * v.victimisation_points_per_crime, v.victimisation_max_points)
    raw = np.sum(list(factors.values()), axis=0) if len(ids) else np.zeros(0, dtype="int64")
    cap = np.minimum(0, v.max_points - raw)
    return pd.DataFrame(
        {**factors, "victimisation_count": count, "cap": cap, "vulnerability": raw + cap},
        index=pd.Index(ids, name="person_id"),
    )


def ogrs3_scores(reg: Register, as_of: dt.date, person_ids=None) -> pd.DataFrame:
    """OGRS3 from the register: sanctions are proven outcomes (charge, caution, conditional
    caution) known by ``as_of``; one sanction per person per outcome date; the current
    offence is the gravest on the latest sanction date. NaN where OGRS3 is undefined (no
    sanction, sex not M/F, under 10)."""
    today = day_number(as_of)
    c = reg.crimes
    s = c[(c["proven"] == 1) & (c["offender"] == 1) & (c["outcome_on"] <= today)]
    cols = ["previous_sanctions", "first_sanction_on", "conviction_on", "offence_category", "ogrs3_1y", "ogrs3_2y"]
    if len(s) == 0:
        return pd.DataFrame(columns=cols, index=pd.Index([], name="person_id"))
    df = pd.DataFrame({"person_id": s["person_id"], "on": s["outcome_on"], "gravity": s["gravity"],
                       "id": s["id"], "category": s["ogrs3_category"]})
    if person_ids is not None:
        df = df[df["person_id"].isin(list(person_ids))]
    g = df.groupby("person_id")
    occasions = g["on"].nunique()
    first = g["on"].min()
    latest = df.sort_values(["person_id", "on", "gravity", "id"], ascending=[True, False, False, True])
    current = latest.drop_duplicates("person_id").set_index("person_id")
    out = pd.DataFrame({"previous_sanctions": occasions - 1, "first_sanction_on": first,
                        "conviction_on": current["on"], "offence_category": current["category"]})
    people = reg.people.set_index("id").reindex(out.index)
    dob = people["dob"].fillna(0).to_numpy()
    age_now = age_years(dob, as_of)
    age_conv = age_years_between(dob, out["conviction_on"].to_numpy())
    age_first = age_years_between(dob, out["first_sanction_on"].to_numpy())
    valid = people["sex"].isin(["M", "F"]).to_numpy() & (age_now >= 10) & people["dob"].notna().to_numpy()
    p1, p2 = ogrs3_mod.ogrs3_vector(
        female=(people["sex"] == "F").to_numpy(), offence_category=out["offence_category"].to_numpy(),
        previous_sanctions=out["previous_sanctions"].to_numpy(), age_at_conviction=age_conv,
        age_at_first_sanction=age_first, age_at_assessment=np.where(valid, age_now, 0),
    )
    out["ogrs3_1y"] = np.where(valid, p1, np.nan)
    out["ogrs3_2y"] = np.where(valid, p2, np.nan)
    out.index.name = "person_id"
    return out


__all__ = ["NEVER", "age_years", "ogrs3_scores", "vulnerability"]
