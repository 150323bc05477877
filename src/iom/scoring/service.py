"""Scoring and selection: the functions the CLI and the web pages call.

Scores are computed over whole tables (DuckDB over an Arrow copy of the crimes, pandas for
people), stored per as-of date and config version, and explained on demand from the same
expressions, so every explanation adds up to the stored score."""

from __future__ import annotations

import datetime as dt
import json
import math

import numpy as np
import pandas as pd
from sqlalchemy import delete, insert, select
from sqlalchemy.orm import Session

from iom.dates import months_after, months_before
from iom.errors import NotFound, UserError
from iom.register.models import Crime, Offence, Person, Unit
from iom.register.service import reference_date
from iom.scoring import model as model_mod
from iom.scoring.config import ScoringConfig, load_config
from iom.scoring.data import Register, day_number, from_day, load_register, member_ids, query_arrow
from iom.scoring.matrix import crime_points_sql, harm_points, person_scores_sql
from iom.scoring.models import Override, Score, ScoreRun, ScoringModel
from iom.scoring.people import ogrs3_scores, vulnerability
from iom.scoring.schemas import Explanation, ExplanationPart, OverrideOut, SelectionRow

ALGORITHM = "logistic regression (standardised features), isotonic calibration, 3-fold"


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _config(config) -> ScoringConfig:
    return config if isinstance(config, ScoringConfig) else load_config(config)


def _round(x) -> np.ndarray:
    """Half-up rounding to whole points (numpy rounds halves to even)."""
    return np.floor(np.asarray(x, dtype=float) + 0.5).astype(int)


def latest_recorded(session: Session) -> dt.date | None:
    """The reference date, or None for a register with no crimes (nothing to train on)."""
    if session.scalar(select(Crime.id).limit(1)) is None:
        return None
    return reference_date(session)


class NoModel(UserError):
    """Scoring needs a force model trained for its date, and training is an explicit step."""


# --- computation over whole tables -------------------------------------------------------


def matrix_scores(reg: Register, config: ScoringConfig, as_of: dt.date) -> pd.DataFrame:
    return query_arrow(person_scores_sql(config, as_of), c=reg.crimes_arrow()).set_index("person_id")


def crime_parts_frame(reg: Register, config: ScoringConfig, as_of: dt.date) -> pd.DataFrame:
    return query_arrow(crime_points_sql(config, as_of) + " ORDER BY person_id, committed_on, id", c=reg.crimes_arrow())


def composite_parts(harm_pts, risk_pts, vuln_pts, config: ScoringConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    s = config.selection
    return (_round(np.asarray(harm_pts) * s.harm_weight), _round(np.asarray(risk_pts) * s.risk_weight),
            _round(np.asarray(vuln_pts) * s.vulnerability_weight))


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
    out["risk_points"] = _round(out["risk"].fillna(0).to_numpy() * 100)
    h, r, v = composite_parts(out["harm_points"], out["risk_points"], out["vulnerability"], config)
    out["composite"] = h + r + v
    out["member"] = out.index.isin(list(members))
    out["last_committed_on"] = out["last_committed_on"].to_numpy(dtype="datetime64[D]").tolist()
    return out


# --- the force-trained model ---------------------------------------------------------------


def store_model(session: Session, trained: model_mod.TrainedModel, config: ScoringConfig) -> ScoringModel:
    row = session.scalar(
        select(ScoringModel).where(ScoringModel.cutoff == trained.cutoff, ScoringModel.config_version == config.version)
    )
    if row is None:
        row = ScoringModel(cutoff=trained.cutoff, config_version=config.version)
        session.add(row)
    row.algorithm = ALGORITHM
    row.trained_at = _now()
    row.n_train = trained.n_train
    row.base_rate = trained.base_rate
    row.report = json.dumps(trained.report) if trained.report else None
    row.estimator = trained.dumps()
    session.flush()
    return row


def train_model(session: Session, *, cutoff: dt.date | None = None, config=None, reg: Register | None = None) -> ScoringModel:
    """Train at ``cutoff`` (default: the latest date with a complete follow-up) and store it
    with its validation report beside OGRS3 when the follow-up after the cut-off is complete."""
    config = _config(config)
    latest = latest_recorded(session)
    if latest is None:
        raise UserError("the register holds no crimes: load or generate data first")
    wait = config.model.follow_up_months + config.model.waiting_months
    cutoff = cutoff or months_before(latest, wait)
    reg = reg or load_register(session, config)
    trained = model_mod.train(reg, cutoff, config)
    if months_after(cutoff, wait) <= latest:
        trained.report = model_mod.evaluate(reg, trained, config, latest)
    return store_model(session, trained, config)


def model_report(session: Session, *, cutoff: dt.date | None = None, config=None) -> dict:
    config = _config(config)
    query = select(ScoringModel).where(ScoringModel.config_version == config.version, ScoringModel.report.is_not(None))
    if cutoff:
        query = query.where(ScoringModel.cutoff == cutoff)
    row = session.scalar(query.order_by(ScoringModel.cutoff.desc()).limit(1))
    if row is None:
        raise UserError("no model with a validation report yet: run `iom model train` first")
    return json.loads(row.report)


def _model_for(session: Session, reg: Register, config: ScoringConfig, cutoff: dt.date, *, train: bool):
    """The stored model trained to ``cutoff``; trained now only when ``train`` is asked."""
    row = session.scalar(
        select(ScoringModel).where(ScoringModel.cutoff == cutoff, ScoringModel.config_version == config.version)
    )
    if row is None:
        if not train:
            raise NoModel(f"no force model is stored for {cutoff} under {config.version}: run `iom score --train` "
                          "to train one on the data before that date first")
        try:
            trained = model_mod.train(reg, cutoff, config)
        except UserError:
            return None, None  # too little history: risk stays empty rather than invented
        row = store_model(session, trained, config)
        return row, trained
    estimator = model_mod.TrainedModel.loads(row.estimator)
    return row, model_mod.TrainedModel(cutoff=row.cutoff, estimator=estimator, n_train=row.n_train,
                                       base_rate=row.base_rate)


# --- stored scores ---------------------------------------------------------------------------


def _active_overrides(session: Session, as_of: dt.date, config: ScoringConfig, person_ids=None) -> dict[int, Override]:
    """The override in force for each person on ``as_of`` (the latest made wins)."""
    query = select(Override).where(Override.valid_from <= as_of, Override.until >= as_of, Override.revoked_at.is_(None))
    if config.selection.overrides_need_approval:
        query = query.where(Override.approved_at.is_not(None))
    if person_ids is not None:
        query = query.where(Override.person_id.in_(list(person_ids)))
    active: dict[int, Override] = {}
    for row in session.scalars(query.order_by(Override.created_at, Override.id)):
        active[row.person_id] = row
    return active


def _find_run(session: Session, as_of: dt.date, config: ScoringConfig) -> ScoreRun | None:
    return session.scalar(select(ScoreRun).where(ScoreRun.as_of == as_of, ScoreRun.config_version == config.version))


def score_all(session: Session, *, as_of: dt.date, config=None, train: bool = False) -> ScoreRun:
    """Score everyone as of ``as_of`` and store it; rerunning replaces the same run's rows.
    Without a stored model for ``as_of``, refuses (``NoModel``) unless ``train`` is asked."""
    config = _config(config)
    if not train and session.scalar(select(ScoringModel.id).where(
            ScoringModel.cutoff == as_of, ScoringModel.config_version == config.version)) is None:
        _model_for(session, None, config, as_of, train=False)  # raises NoModel before the register is read
    reg = load_register(session, config)
    members = member_ids(session, as_of)
    model_row, trained = _model_for(session, reg, config, as_of, train=train)
    overrides = _active_overrides(session, as_of, config)
    scores = compute_scores(reg, config, as_of, members=members, extra_ids=overrides.keys(), model=trained)
    run = _find_run(session, as_of, config)
    if run is None:
        run = ScoreRun(as_of=as_of, config_version=config.version)
        session.add(run)
    run.model_id = model_row.id if model_row else None
    run.scored_at = _now()
    run.people = len(scores)
    session.flush()
    session.execute(delete(Score).where(Score.run_id == run.id))
    cols = [c.name for c in Score.__table__.columns if c.name != "run_id"]
    records = scores.reset_index()
    columns = []
    for name in cols:
        values = records[name]
        if name == "member":
            columns.append(values.astype(bool).tolist())
        elif values.dtype.kind == "f":
            columns.append([None if math.isnan(v) else v for v in values.tolist()])
        else:
            columns.append(values.tolist())
    rows = list(zip([run.id] * len(records), *columns))
    connection = session.connection()
    marks = ", ".join(["?" if connection.dialect.paramstyle == "qmark" else "%s"] * (len(cols) + 1))
    sql = f"INSERT INTO scores (run_id, {', '.join(cols)}) VALUES ({marks})"
    for start in range(0, len(rows), 50_000):
        connection.exec_driver_sql(sql, rows[start:start + 50_000])
    session.flush()
    return run


def stored_run(session: Session, *, as_of: dt.date, config=None) -> ScoreRun | None:
    """The run stored for ``as_of``, or None: never computes one."""
    return _find_run(session, as_of, _config(config))


def get_run(session: Session, *, as_of: dt.date, config=None, create: bool = True) -> ScoreRun:
    """The stored run for ``as_of``; ``create`` scores (and trains) one when none is stored."""
    config = _config(config)
    run = _find_run(session, as_of, config)
    if run is None and create:
        run = score_all(session, as_of=as_of, config=config, train=True)
    if run is None:
        raise UserError(f"no scores stored for {as_of} under {config.version}: run `iom score --as-of {as_of}`")
    return run


# --- explanations ----------------------------------------------------------------------------


def _explanation_parts(session: Session, config: ScoringConfig, as_of: dt.date, stored: pd.DataFrame) -> dict[int, list[ExplanationPart]]:
    """Parts of every score for the people in ``stored`` (rows of the scores table)."""
    ids = [int(i) for i in stored.index]
    if not ids:
        return {}
    reg = load_register(session, config, person_ids=ids)
    crimes = crime_parts_frame(reg, config, as_of)
    crimes = crimes[crimes["person_id"].isin(ids)]  # the read also brought crimes against them
    described = dict(session.execute(
        select(Crime.id, Offence.description).join(Offence, Offence.code == Crime.offence_code)
        .where(Crime.id.in_(crimes["id"].tolist() or [-1]))
    ).all()) if len(crimes) else {}
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
        risk_text = "no model probability" if risk is None or (isinstance(risk, float) and math.isnan(risk)) else f"probability {risk:.2f}"
        for score_part, pts, weight, label in (
            ("harm", int(h), s.harm_weight, f"harm {int(st['harm_points'])}/100 points"),
            ("risk", int(r), s.risk_weight, f"risk {int(st['risk_points'])}/100 points ({risk_text})"),
            ("vulnerability", int(vv), s.vulnerability_weight, f"vulnerability {int(st['vulnerability'])}/100 points"),
        ):
            parts[pid].append(ExplanationPart(score="composite", factor=score_part, points=pts,
                                              label=f"{label} × weight {weight:g}"))
    return parts


def stored_scores(session: Session, run: ScoreRun, *, person_ids=None, npu_code: str | None = None) -> pd.DataFrame:
    cols = [c for c in Score.__table__.columns if c.name != "run_id"]
    query = select(*cols, Person.pseudo_id, Person.home_npu).join(Person, Person.id == Score.person_id).where(Score.run_id == run.id)
    if person_ids is not None:
        query = query.where(Score.person_id.in_(list(person_ids)))
    if npu_code is not None:
        query = query.where(Person.home_npu == npu_code)
    frame = pd.DataFrame(session.execute(query).all(), columns=[c.name for c in cols] + ["pseudo_id", "home_npu"])
    frame["risk"] = frame["risk"].astype(object).where(frame["risk"].notna(), None)
    return frame.set_index("person_id")


def awaits_scoring(session: Session, *, person_id: int, as_of: dt.date, config=None) -> bool:
    """True when a run is stored for ``as_of`` but without this person: an include override
    made now shows in the selection once ``iom score`` runs again (it scores overridden people)."""
    config = _config(config)
    run = _find_run(session, as_of, config)
    if run is None:
        return False
    return session.scalar(select(Score.person_id).where(Score.run_id == run.id, Score.person_id == person_id)) is None


def explain(session: Session, *, person_id: int, as_of: dt.date, config=None) -> Explanation:
    config = _config(config)
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
    parts = _explanation_parts(session, config, as_of, stored)[person_id]
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


# --- selection -------------------------------------------------------------------------------


def npu_capacity(session: Session, npu_code: str) -> int:
    unit = session.get(Unit, npu_code)
    if unit is None or unit.kind != "npu":
        codes = ", ".join(session.scalars(select(Unit.code).where(Unit.kind == "npu").order_by(Unit.code)))
        raise UserError(f"no NPU {npu_code!r}: choose one of {codes}")
    if not unit.officers or not unit.caseload_per_officer:
        raise UserError(f"NPU {npu_code} has no officers or caseload per officer recorded, so no capacity")
    return unit.officers * unit.caseload_per_officer


def npu_codes_with_capacity(session: Session) -> list[str]:
    return list(session.scalars(select(Unit.code).where(
        Unit.kind == "npu", Unit.officers.is_not(None), Unit.caseload_per_officer.is_not(None)).order_by(Unit.code)))


def select_for_npu(session: Session, *, npu_code: str, as_of: dt.date, config=None) -> list[SelectionRow]:
    """Ranked selection for one NPU, capped by its capacity, with overrides applied.

    Seats go first to people included by an override, then by composite (ties: RFG, harm,
    pseudo id). Current members are kept while selected, and exit when they fall below the
    capacity line, have not offended for ``exit_after_months``, or are excluded."""
    return [SelectionRow(**row) for row in selection_rows(session, npu_code=npu_code, as_of=as_of, config=config)]


def selection_rows(session: Session, *, npu_code: str, as_of: dt.date, config=None, explain: bool = True) -> list[dict]:
    config = _config(config)
    capacity = npu_capacity(session, npu_code)
    run = get_run(session, as_of=as_of, config=config)
    df = stored_scores(session, run, npu_code=npu_code)
    if df.empty:
        return []
    overrides = _active_overrides(session, as_of, config, df.index)
    df = df.sort_values(["composite", "rfg", "harm_days", "pseudo_id"], ascending=[False, False, False, True])
    df["rank"] = np.arange(1, len(df) + 1)
    quiet_since = months_before(as_of, config.selection.exit_after_months)
    chosen: list[int] = []
    reasons: dict[int, str] = {}
    included = [pid for pid in df.index if pid in overrides and overrides[pid].include]
    for pid in included[:capacity]:
        chosen.append(pid)
        reasons[pid] = f"included by override #{overrides[pid].id}: {overrides[pid].reason}"
    for pid, last, rank in zip(df.index, df["last_committed_on"], df["rank"]):
        if pid in reasons:
            continue
        ov = overrides.get(pid)
        if ov is not None and not ov.include:
            reasons[pid] = f"excluded by override #{ov.id}: {ov.reason}"
        elif last is None or last <= quiet_since:
            reasons[pid] = f"no offending for {config.selection.exit_after_months} months"
        elif len(chosen) < capacity:
            chosen.append(pid)
            reasons[pid] = f"rank {int(rank)}, within capacity {capacity}"
        else:
            reasons[pid] = f"rank {int(rank)}, below the capacity line ({capacity})"
    chosen_set = set(chosen)
    listed = [pid for pid, member in zip(df.index, df["member"]) if pid in chosen_set or member]
    parts = _explanation_parts(session, config, as_of, df.loc[listed]) if explain else {}
    rows = []
    for pid in listed:
        row = df.loc[pid]
        decision = ("keep" if row["member"] else "adopt") if pid in chosen_set else "exit"
        ov = overrides.get(pid)
        rows.append(dict(
            person_id=int(pid), pseudo_id=row["pseudo_id"], rank=int(row["rank"]), composite=int(row["composite"]),
            rfg=int(row["rfg"]), harm=int(row["harm_days"]), risk=row["risk"], vulnerability=int(row["vulnerability"]),
            decision=decision, reason=reasons[pid], override=OverrideOut.model_validate(ov) if ov else None,
            explanation=parts.get(pid, []),
        ))
    rows.sort(key=lambda r: (r["decision"] == "exit", r["rank"]))
    return rows


# --- overrides -------------------------------------------------------------------------------


def check_override(*, include: bool, reason: str, until: dt.date | None, valid_from: dt.date) -> None:
    """What an override needs before anything is recorded of it: a reason, and an end date on
    or after the day it starts."""
    if not reason or not reason.strip():
        raise UserError("an override needs a reason: say why this person should be "
                        + ("included" if include else "excluded"))
    if until is None or until < valid_from:
        raise UserError(f"the override must run until a date on or after {valid_from}, not {until}")


def create_override(
    session: Session, *, person_id: int, include: bool, reason: str, until: dt.date, user: str,
    valid_from: dt.date | None = None,
) -> Override:
    """Record professional judgement; refused without a reason, a user or a future end date."""
    if not user or not user.strip():
        raise UserError("an override needs the name of the user making it")
    if session.get(Person, person_id) is None:
        raise NotFound(f"no person with id {person_id}")
    valid_from = valid_from or reference_date(session)
    check_override(include=include, reason=reason, until=until, valid_from=valid_from)
    row = Override(person_id=person_id, include=include, reason=reason.strip(), created_by=user.strip(),
                   created_at=_now(), valid_from=valid_from, until=until)
    session.add(row)
    session.flush()
    return row


def get_override(session: Session, override_id: int) -> Override:
    row = session.get(Override, override_id)
    if row is None:
        raise NotFound(f"no override #{override_id}")
    return row


def check_approval(row: Override, *, approver: str) -> None:
    """Why ``approver`` may not approve ``row``, if they may not: before anything is recorded."""
    if not approver or not approver.strip():
        raise UserError("approving an override needs the approver's name")
    if approver.strip() == row.created_by:
        raise UserError(f"override #{row.id} was made by {row.created_by}; someone else must approve it")
    if row.approved_at is not None:
        raise UserError(f"override #{row.id} was already approved by {row.approved_by}")


def approve_override(session: Session, *, override_id: int, approver: str) -> Override:
    row = get_override(session, override_id)
    check_approval(row, approver=approver)
    row.approved_by, row.approved_at = approver.strip(), _now()
    session.flush()
    return row


def revoke_override(session: Session, *, override_id: int, user: str) -> Override:
    row = get_override(session, override_id)
    if row.revoked_at is None:
        row.revoked_by, row.revoked_at = user, _now()
        session.flush()
    return row


def list_overrides(session: Session, *, npu_code: str | None = None) -> list[Override]:
    query = select(Override).order_by(Override.created_at.desc(), Override.id.desc())
    if npu_code is not None:
        query = query.join(Person, Person.id == Override.person_id).where(Person.home_npu == npu_code)
    return list(session.scalars(query))
