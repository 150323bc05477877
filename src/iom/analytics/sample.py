"""A small random register held as pandas frames, for tests and examples: people offend at
their own Poisson rate, which an out-of-court disposal cuts to 30%, and a tenth of them are
adopted into the PPO cohort. Deterministic for a seed."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from iom.reference import read_reference


def _ref(name: str) -> pd.DataFrame:
    frame = pd.DataFrame(read_reference("register", name))
    for col in ("is_crime", "domestic_abuse", "hate", "checked"):
        if col in frame:
            frame[col] = frame[col].str.lower().eq("true")
    for col in ("gravity", "cost_pence"):
        if col in frame:
            frame[col] = frame[col].astype(int)
    return frame


def random_register(seed: int = 1, people: int = 3000) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    offences = _ref("offences")
    costs = _ref("cost_of_crime")
    units = _ref("units")
    npus = units.loc[units["kind"] == "npu", "code"].tolist()
    crimes_only = offences[offences["is_crime"]]
    ids = np.arange(1, people + 1)
    dob = pd.to_datetime("1970-01-01") + pd.to_timedelta(rng.integers(0, 12000, people), unit="D")
    ppl = pd.DataFrame({"id": ids, "date_of_birth": dob.date, "sex": rng.choice(["M", "F"], people, p=[0.8, 0.2]),
                        "ethnicity": "W_BRI", "home_npu": rng.choice(npus, people)})
    propensity = rng.gamma(1.5, 1.0, people)  # how much each person offends
    rows = []
    start = dt.date(2014, 1, 1)
    for pid, lam in zip(ids, propensity):
        day = 0
        diverted = False
        while True:
            day += int(rng.exponential(365 / lam / (0.3 if diverted else 1.0)))
            if day > 5 * 365:
                break
            off = crimes_only.iloc[rng.integers(len(crimes_only))]
            committed = start + dt.timedelta(days=day)
            outcome = rng.choice(["charge", "caution", "community_resolution", "conditional_caution", "nfa"],
                                 p=[0.35, 0.15, 0.2, 0.1, 0.2])
            diverted = diverted or outcome in ("caution", "community_resolution", "conditional_caution")
            rows.append((len(rows) + 1, pid, "offender", committed, committed + dt.timedelta(days=1), off["code"],
                         rng.choice(npus), outcome, committed + dt.timedelta(days=30) if outcome != "nfa" else None))
    crimes = pd.DataFrame(rows, columns=["id", "person_id", "involvement", "committed_on", "recorded_on",
                                         "offence_code", "npu_code", "outcome", "outcome_on"])
    adopted = rng.choice(ids, people // 10, replace=False)
    members = pd.DataFrame({"person_id": adopted, "classification_code": "PPO",
                            "adopted_on": [start + dt.timedelta(days=int(d)) for d in rng.integers(700, 1500, len(adopted))],
                            "exited_on": None})
    mh = pd.DataFrame({"person_id": adopted, "effective_from": members["adopted_on"], "offender_type": "Core",
                       "lead_agency": "Police", "lomu_code": "LWS"})
    return {"units": units, "people": ppl, "offences": offences, "cost_of_crime": costs, "crimes": crimes,
            "cohort_memberships": members, "management_history": mh}
