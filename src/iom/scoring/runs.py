"""Score runs: everyone scored as of a date and stored, read back, and who awaits a run."""

from __future__ import annotations

import datetime as dt
import math

import pandas as pd
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from iom.db import insert_rows
from iom.errors import UserError
from iom.register.models import Person
from iom.scoring.common import as_config, now
from iom.scoring.compute import compute_scores
from iom.scoring.config import ScoringConfig
from iom.scoring.data import (
    load_register,
    member_ids,
)
from iom.scoring.models import Score, ScoreRun, ScoringModel
from iom.scoring.overrides import live_override_people
from iom.scoring.training import model_for


def find_run(session: Session, as_of: dt.date, config: ScoringConfig) -> ScoreRun | None:
    return session.scalar(select(ScoreRun).where(ScoreRun.as_of == as_of, ScoreRun.config_version == config.version))


def score_all(session: Session, *, as_of: dt.date, config=None, train: bool = False) -> ScoreRun:
    """Score everyone as of ``as_of`` and store it; rerunning replaces the same run's rows.
    Without a stored model for ``as_of``, refuses (``NoModel``) unless ``train`` is asked."""
    config = as_config(config)
    if not train and session.scalar(select(ScoringModel.id).where(
            ScoringModel.cutoff == as_of, ScoringModel.config_version == config.version)) is None:
        model_for(session, None, config, as_of, train=False)  # raises NoModel before the register is read
    reg = load_register(session, config)
    members = member_ids(session, as_of)
    model_row, trained = model_for(session, reg, config, as_of, train=train)
    overridden = live_override_people(session, as_of)
    scores = compute_scores(reg, config, as_of, members=members, extra_ids=overridden, model=trained)
    from iom.scoring.explain import explanation_rows, explanations_stored  # explain reads runs

    # Stored for the cohort's members, whose records are read every day; anyone else's
    # explanation is computed when asked for (a person page, a selection page).
    explained = explanations_stored(explanation_rows(session, config, as_of, scores[scores["member"].astype(bool)], reg=reg))
    run = find_run(session, as_of, config)
    if run is None:
        run = ScoreRun(as_of=as_of, config_version=config.version)
        session.add(run)
    run.model_id = model_row.id if model_row else None
    run.scored_at = now()
    run.people = len(scores)
    session.flush()
    session.execute(delete(Score).where(Score.run_id == run.id))
    cols = [c.name for c in Score.__table__.columns if c.name not in ("run_id", "explanation")]
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
    names = ["run_id", *cols, "explanation"]
    rows = [dict(zip(names, values)) for values in zip([run.id] * len(records), *columns,
                                                        [explained.get(int(pid)) for pid in records["person_id"]])]
    connection = session.connection()
    for start in range(0, len(rows), 50_000):  # COPY on PostgreSQL: one statement, not one per row
        insert_rows(connection, Score.__table__, rows[start:start + 50_000])
    session.flush()
    return run


def stored_run(session: Session, *, as_of: dt.date, config=None) -> ScoreRun | None:
    """The run stored for ``as_of``, or None: never computes one."""
    return find_run(session, as_of, as_config(config))


def get_run(session: Session, *, as_of: dt.date, config=None, create: bool = True) -> ScoreRun:
    """The stored run for ``as_of``; ``create`` scores (and trains) one when none is stored."""
    config = as_config(config)
    run = find_run(session, as_of, config)
    if run is None and create:
        run = score_all(session, as_of=as_of, config=config, train=True)
    if run is None:
        raise UserError(f"no scores stored for {as_of} under {config.version}: run `iom score --as-of {as_of}`")
    return run


def stored_scores(session: Session, run: ScoreRun, *, person_ids=None, npu_code: str | None = None) -> pd.DataFrame:
    """The run's scores (without the explanations: ``explain.stored_explanations`` reads those)."""
    cols = [c for c in Score.__table__.columns if c.name not in ("run_id", "explanation")]
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
    config = as_config(config)
    run = find_run(session, as_of, config)
    if run is None:
        return False
    return session.scalar(select(Score.person_id).where(Score.run_id == run.id, Score.person_id == person_id)) is None
