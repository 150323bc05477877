"""Explanations: every part of a person's scores, from the same expressions as the scores,
so the parts add up to what is stored."""

from __future__ import annotations

import datetime as dt
import math
import zlib

import pandas as pd
from pydantic import TypeAdapter
from pydantic_core import to_json
from sqlalchemy import select
from sqlalchemy.orm import Session, undefer

from iom.errors import NotFound, UserError
from iom.formatting import probability
from iom.register.labels import crime_status
from iom.register.models import Crime, Offence, Person
from iom.scoring.common import as_config
from iom.scoring.compute import composite_parts, crime_parts_frame
from iom.scoring.config import ScoringConfig
from iom.scoring.data import Register, load_register
from iom.scoring.models import Score, ScoreRun, ScoringModel
from iom.scoring.people import vulnerability
from iom.scoring.runs import get_run, stored_scores
from iom.scoring.schemas import Explanation, ExplanationPart


PARTS = TypeAdapter(list[ExplanationPart])
_part = dict  # rows of ExplanationPart's fields: a run builds a hundred thousand


def explanation_parts(session: Session, config: ScoringConfig, as_of: dt.date, stored: pd.DataFrame, *,
                      reg: Register | None = None) -> dict[int, list[ExplanationPart]]:
    """Parts of every score for the people in ``stored`` (rows of the scores table)."""
    return {pid: PARTS.validate_python(rows) for pid, rows in explanation_rows(
        session, config, as_of, stored, reg=reg).items()}


def explanation_rows(session: Session, config: ScoringConfig, as_of: dt.date, stored: pd.DataFrame, *,
                     reg: Register | None = None) -> dict[int, list[dict]]:
    """``explanation_parts`` as plain rows, computed from the register (``reg``: the one a run
    has read already, else read for these people)."""
    ids = [int(i) for i in stored.index]
    if not ids:
        return {}
    whole = reg is not None
    reg = reg if whole else load_register(session, config, person_ids=ids)
    crimes = crime_parts_frame(reg, config, as_of)
    crimes = crimes[crimes["person_id"].isin(ids)]  # the read also brought crimes against them
    query = (select(Crime.id, Offence.description, Crime.involvement, Crime.outcome)
             .join(Offence, Offence.code == Crime.offence_code))
    described = {}
    # Only the look-back's counted crimes need words.
    since = pd.Timestamp(crimes["committed_on"].min()).date() if len(crimes) else None
    # A run explains thousands at once: their crimes by person (a few IN lists), not by crime.
    for chunk in ([ids[k:k + 5000] for k in range(0, len(ids), 5000)] if whole else [None]) if len(crimes) else []:
        where = (Crime.person_id.in_(chunk) & (Crime.committed_on >= since) if chunk is not None
                 else Crime.id.in_(crimes["id"].tolist()))
        described.update((cid, f"{description} ({crime_status(involvement, outcome)})")
                         for cid, description, involvement, outcome in session.execute(query.where(where)))
    vul = vulnerability(reg, config, as_of, ids)
    m, s = config.matrix, config.selection
    parts: dict[int, list[dict]] = {i: [] for i in ids}
    # Plain columns, not itertuples: a person page explains one person, and pandas' per-call
    # set-up would cost more than the rows.
    columns = ("person_id", "id", "points", "gravity", "gravity_points", "recency_multiplier", "harm")
    days = crimes["committed_on"].to_numpy(dtype="datetime64[D]").tolist()
    for day, (pid, cid, points, gravity, gravity_points, recency, harm) in zip(
        days, zip(*(crimes[c].to_numpy().tolist() for c in columns))
    ):
        what = described.get(int(cid), "crime")
        if points:
            parts[int(pid)].append(_part(
                score="rfg", factor="crime", crime_ids=[int(cid)], points=int(points),
                label=f"{day} {what}: gravity {int(gravity)} = {int(gravity_points)} pts × recency {int(recency)}"))
        if harm:
            parts[int(pid)].append(_part(
                score="harm", factor="crime", crime_ids=[int(cid)], points=int(harm),
                label=f"{day} {what}: {int(harm)} harm days"))
    da = crimes[crimes["domestic_abuse"] & crimes["victim_person_id"].notna()]
    da_ids = da.groupby("person_id")["id"].apply(lambda s: sorted(int(x) for x in s)).to_dict()
    # Rows as dicts, and parts as plain dicts: a run explains every member at once, and
    # pandas' per-row lookups and pydantic's models would cost more than the rest together.
    stored_rows, vul_rows = stored.to_dict("index"), vul.to_dict("index")
    markers = [col for col in vul.columns if col.startswith("marker:")]
    for pid in ids:
        st = stored_rows[pid]
        if st["frequency_points"]:
            parts[pid].append(_part(
                score="rfg", factor="frequency", points=int(st["frequency_points"]),
                label=f"frequency: {int(st['crimes'])} crimes in {m.lookback_months} months"))
        if st["victim_points"]:
            parts[pid].append(_part(
                score="rfg", factor="victims", points=int(st["victim_points"]), crime_ids=da_ids.get(pid, []),
                label=f"{int(st['victims'])} distinct domestic-abuse victims × {m.victims.points_per_victim} pts"))
        v = vul_rows[pid]
        if v["age_under_25"]:
            parts[pid].append(_part(score="vulnerability", factor="age_under_25", points=int(v["age_under_25"]),
                                       label="aged under 25"))
        for col in markers:
            if v[col]:
                parts[pid].append(_part(score="vulnerability", factor=col.split(":", 1)[1], points=int(v[col]),
                                                  label=f"marker: {col.split(':', 1)[1].replace('_', ' ').lower()}"))
        if v["victimisation"]:
            parts[pid].append(_part(
                score="vulnerability", factor="victimisation", points=int(v["victimisation"]),
                label=f"victim of {int(v['victimisation_count'])} recorded crimes in {config.vulnerability.lookback_months} months"))
        if v["cap"]:
            parts[pid].append(_part(score="vulnerability", factor="cap", points=int(v["cap"]),
                                       label=f"capped at {config.vulnerability.max_points} points"))
        h, r, vv = composite_parts(st["harm_points"], st["risk_points"], st["vulnerability"], config)
        risk = st["risk"]
        risk_text = "no model probability" if risk is None or (isinstance(risk, float) and math.isnan(risk)) else f"probability {probability(risk)}"
        for score_part, pts, weight, label in (
            ("harm", int(h), s.harm_weight, f"harm {int(st['harm_points'])}/100 points"),
            ("risk", int(r), s.risk_weight, f"risk {int(st['risk_points'])}/100 points ({risk_text})"),
            ("vulnerability", int(vv), s.vulnerability_weight, f"vulnerability {int(st['vulnerability'])}/100 points"),
        ):
            parts[pid].append(_part(score="composite", factor=score_part, points=pts,
                                       label=f"{label} × weight {weight:g}"))
    return parts


def stored_explanations(session: Session, *, run: ScoreRun, config: ScoringConfig, stored: pd.DataFrame
                        ) -> dict[int, list[ExplanationPart]]:
    """The parts of the people in ``stored`` as their run stored them; computed for anyone
    whose run stored none (runs from before migration 0018)."""
    ids = [int(i) for i in stored.index]
    if not ids:
        return {}
    kept = dict(session.execute(select(Score.person_id, Score.explanation)
                                .where(Score.run_id == run.id, Score.person_id.in_(ids))).all())
    parts = {pid: PARTS.validate_json(zlib.decompress(kept[pid])) for pid in ids if kept.get(pid) is not None}
    missing = [pid for pid in ids if pid not in parts]
    if missing:
        parts.update(explanation_parts(session, config, run.as_of, stored.loc[missing]))
    return parts


def explanations_stored(rows: dict[int, list[dict]]) -> dict[int, bytes]:
    """What a run stores per person (``Score.explanation``), from ``explanation_rows``."""
    return {pid: zlib.compress(to_json(found), 6) for pid, found in rows.items()}


def explain(session: Session, *, person_id: int, as_of: dt.date, config=None) -> Explanation:
    config = as_config(config)
    person = session.get(Person, person_id)
    if person is None:
        raise NotFound(f"no person with id {person_id}")
    run = get_run(session, as_of=as_of, config=config)
    # One row with its stored parts (a member's record); the frame and the computation only
    # for someone whose run stored none.
    st = session.scalars(select(Score).options(undefer(Score.explanation))
                         .where(Score.run_id == run.id, Score.person_id == person_id)).first()
    if st is None:
        raise UserError(
            f"{person.pseudo_id} has no score on {as_of}: no counted crime in the "
            f"{config.matrix.lookback_months}-month look-back and not a current cohort member"
        )
    if st.explanation is not None:
        parts = PARTS.validate_json(zlib.decompress(st.explanation))
    else:
        parts = explanation_parts(session, config, as_of, stored_scores(session, run, person_ids=[person_id]))[person_id]
    model = session.get(ScoringModel, run.model_id) if run.model_id else None
    nan = lambda x: None if x is None or (isinstance(x, float) and math.isnan(x)) else float(x)  # noqa: E731
    return Explanation(
        person_id=person_id, pseudo_id=person.pseudo_id, as_of=as_of, config_version=config.version,
        rfg=st.rfg, harm_days=st.harm_days, harm_points=st.harm_points, risk=nan(st.risk), risk_points=st.risk_points,
        risk_source=f"force model trained to {model.cutoff}" if model else "none (too little history to train)",
        ogrs3_1y=nan(st.ogrs3_1y), ogrs3_2y=nan(st.ogrs3_2y), vulnerability=st.vulnerability,
        composite=st.composite, parts=parts,
    )
