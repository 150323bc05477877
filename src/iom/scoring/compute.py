"""Scores computed over whole tables: the warehouse's matrix (``iom.warehouse.matrix``) over an
Arrow copy of the crimes, pandas for people. Pure: nothing here reads or writes the database."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from iom.scoring import model as model_mod
from iom.scoring.common import round_half_up
from iom.scoring.config import ScoringConfig
from iom.scoring.data import Register
from iom.scoring.matrix import harm_points
from iom.warehouse.matrix import crime_parts_arrow, score_arrow
from iom.scoring.people import ogrs3_scores, vulnerability


def matrix_scores(reg: Register, config: ScoringConfig, as_of: dt.date) -> pd.DataFrame:
    return score_arrow(config, as_of, reg.crimes_arrow()).set_index("person_id")


def crime_parts_frame(reg: Register, config: ScoringConfig, as_of: dt.date) -> pd.DataFrame:
    return crime_parts_arrow(config, as_of, reg.crimes_arrow())


def composite_parts(harm_pts, risk_pts, vuln_pts, config: ScoringConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = config.selection
    return (round_half_up(np.asarray(harm_pts) * s.harm_weight), round_half_up(np.asarray(risk_pts) * s.risk_weight),
            round_half_up(np.asarray(vuln_pts) * s.vulnerability_weight))


def compute_scores(
    reg: Register, config: ScoringConfig, as_of: dt.date, *, members: set[int], extra_ids=(), model=None
) -> pd.DataFrame:
    """Every score for the people with counted crimes, current members and ``extra_ids``."""
    m = matrix_scores(reg, config, as_of)
    ids = sorted(set(m.index.tolist()) | set(members) | {int(i) for i in extra_ids})
    known = set(reg.people["id"].tolist())
    ids = [i for i in ids if i in known]
    out = m.reindex(ids)
    for col in ("crimes", "crime_points", "frequency_points", "victims", "victim_points", "rfg", "harm_days"):
        out[col] = out[col].fillna(0).astype(int)
    out.index.name = "person_id"
    out["harm_points"] = harm_points(out["harm_days"].to_numpy(), config)
    vul = vulnerability(reg, config, as_of, ids)
    out["vulnerability"] = vul["vulnerability"].reindex(out.index).to_numpy()
    og = ogrs3_scores(reg, as_of, ids)
    out["ogrs3_1y"] = og["ogrs3_1y"].reindex(out.index) if len(og) else np.nan
    out["ogrs3_2y"] = og["ogrs3_2y"].reindex(out.index) if len(og) else np.nan
    out["risk"] = np.nan
    if model is not None and ids:
        X = model_mod.features(reg, reg.crimes, as_of)
        X = X[X.index.isin(ids)]
        out.loc[X.index, "risk"] = model.predict(X)
    out["risk_points"] = round_half_up(out["risk"].fillna(0).to_numpy() * 100)
    h, r, v = composite_parts(out["harm_points"], out["risk_points"], out["vulnerability"], config)
    out["composite"] = h + r + v
    out["member"] = out.index.isin(list(members))
    out["last_committed_on"] = out["last_committed_on"].to_numpy(dtype="datetime64[D]").tolist()
    return out
