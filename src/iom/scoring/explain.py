"""Explanations: every part of a person's scores, from the same expressions as the scores,
so the parts add up to what is stored."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from iom.errors import NotFound, UserError
from iom.formatting import probability
from iom.register.labels import crime_status
from iom.register.models import Crime, Offence, Person
from iom.scoring.common import as_config
from iom.scoring.compute import composite_parts, crime_parts_frame
from iom.scoring.config import ScoringConfig
from iom.scoring.data import (
    load_register,
)
from iom.scoring.models import ScoringModel
from iom.scoring.people import vulnerability
from iom.scoring.runs import get_run, stored_scores
from iom.scoring.schemas import Explanation, ExplanationPart


def explanation_parts(session: Session, config: ScoringConfig, as_of: dt.date, stored: pd.DataFrame) -> dict[int, list[ExplanationPart]]:
    """Parts of every score for the people in ``stored`` (rows of the scores table)."""
    ids = [int(i) for i in stored.index]
    if not ids:
        return {}
    reg = load_register(session, config, person_ids=ids)
    crimes = crime_parts_frame(reg, config, as_of)
    crimes = crimes[crimes["person_id"].isin(ids)]  # the read also brought crimes against them
    described = {cid: f"{description} ({crime_status(involvement, outcome)})" for cid, description, involvement, outcome
                 in session.execute(
                     select(Crime.id, Offence.description, Crime.involvement, Crime.outcome)
                     .join(Offence, Offence.code == Crime.offence_code)
                     .where(Crime.id.in_(crimes["id"].tolist() or [-1]))
                 ).all()} if len(crimes) else {}
    vul = vulnerability(reg, config, as_of, ids)
    m, s = config.matrix, config.selection
    parts: dict[int, list[ExplanationPart]] = {i: [] for i in ids}
    # Plain columns, not itertuples: a person page explains one person, and pandas' per-call
    # set-up would cost more than the rows.
    columns = ("person_id", "id", "points", "gravity", "gravity_points", "recency_multiplier", "harm")
    days = crimes["committed_on"].to_numpy(dtype="datetime64[D]").tolist()
    for day, (pid, cid, points, gravity, gravity_points, recency, harm) in zip(
        days, zip(*(crimes[c].to_numpy().tolist() for c in columns))
    ):
        what = described.get(int(cid), "crime")
        if points:
            parts[int(pid)].append(ExplanationPart(
                score="rfg", factor="crime", crime_ids=[int(cid)], points=int(points),
                label=f"{day} {what}: gravity {int(gravity)} = {int(gravity_points)} pts × recency {int(recency)}"))
        if harm:
            parts[int(pid)].append(ExplanationPart(
                score="harm", factor="crime", crime_ids=[int(cid)], points=int(harm),
                label=f"{day} {what}: {int(harm)} harm days"))
    da = crimes[crimes["domestic_abuse"] & crimes["victim_person_id"].notna()]
    da_ids = da.groupby("person_id")["id"].apply(lambda s: sorted(int(x) for x in s)).to_dict()
    for pid in ids:
        st = stored.loc[pid]
        if st["frequency_points"]:
            parts[pid].append(ExplanationPart(
                score="rfg", factor="frequency", points=int(st["frequency_points"]),
                label=f"frequency: {int(st['crimes'])} crimes in {m.lookback_months} months"))
        if st["victim_points"]:
            parts[pid].append(ExplanationPart(
                score="rfg", factor="victims", points=int(st["victim_points"]), crime_ids=da_ids.get(pid, []),
                label=f"{int(st['victims'])} distinct domestic-abuse victims × {m.victims.points_per_victim} pts"))
        v = vul.loc[pid]
        if v["age_under_25"]:
            parts[pid].append(ExplanationPart(score="vulnerability", factor="age_under_25", points=int(v["age_under_25"]),
                                              label="aged under 25"))
        for col in vul.columns:
            if col.startswith("marker:") and v[col]:
                parts[pid].append(ExplanationPart(score="vulnerability", factor=col.split(":", 1)[1], points=int(v[col]),
                                                  label=f"marker: {col.split(':', 1)[1].replace('_', ' ').lower()}"))
        if v["victimisation"]:
            parts[pid].append(ExplanationPart(
                score="vulnerability", factor="victimisation", points=int(v["victimisation"]),
                label=f"victim of {int(v['victimisation_count'])} recorded crimes in {config.vulnerability.lookback_months} months"))
        if v["cap"]:
            parts[pid].append(ExplanationPart(score="vulnerability", factor="cap", points=int(v["cap"]),
                                              label=f"capped at {config.vulnerability.max_points} points"))
        h, r, vv = composite_parts(st["harm_points"], st["risk_points"], st["vulnerability"], config)
        risk = st["risk"]
        risk_text = "no model probability" if risk is None or (isinstance(risk, float) and math.isnan(risk)) else f"probability {probability(risk)}"
        for score_part, pts, weight, label in (
            ("harm", int(h), s.harm_weight, f"harm {int(st['harm_points'])}/100 points"),
            ("risk", int(r), s.risk_weight, f"risk {int(st['risk_points'])}/100 points ({risk_text})"),
            ("vulnerability", int(vv), s.vulnerability_weight, f"vulnerability {int(st['vulnerability'])}/100 points"),
        ):
            parts[pid].append(ExplanationPart(score="composite", factor=score_part, points=pts,
                                              label=f"{label} × weight {weight:g}"))
    return parts


def explain(session: Session, *, person_id: int, as_of: dt.date, config=None) -> Explanation:
    config = as_config(config)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}")
    run = get_run(session, as_of=as_of, config=config)
    stored = stored_scores(session, run, person_ids=[person_id])
    if stored.empty:
        raise UserError(
            f"{person.pseudo_id} has no score on {as_of}: no counted crime in the "
            f"{config.matrix.lookback_months}-month look-back and not a current cohort member"
        )
    parts = explanation_parts(session, config, as_of, stored)[person_id]
    st = stored.loc[person_id]
    model = session.get(ScoringModel, run.model_id) if run.model_id else None
    nan = lambda x: None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)  # noqa: E731
    return Explanation(
        person_id=person_id, pseudo_id=person.pseudo_id, as_of=as_of, config_version=config.version,
        rfg=int(st["rfg"]), harm_days=int(st["harm_days"]), harm_points=int(st["harm_points"]),
        risk=nan(st["risk"]), risk_points=int(st["risk_points"]),
        risk_source=f"force model trained to {model.cutoff}" if model else "none (too little history to train)",
        ogrs3_1y=nan(st["ogrs3_1y"]), ogrs3_2y=nan(st["ogrs3_2y"]), vulnerability=int(st["vulnerability"]),
        composite=int(st["composite"]), parts=parts,
    )
