"""The risk matrix (RFG/RFGV) and harm over crimes, as Ibis expressions.

One relation ``c`` (a crime involvement per row) with columns ``id, person_id, committed_on,
recorded_on, gravity, harm_days, is_crime, domestic_abuse, victim_person_id, offender,
excluded``. The same expressions score an in-memory force (an Arrow table handed to DuckDB,
``score_arrow``) and a national Parquet slice on either engine (``register_crimes``); the
per-crime relation used for explanations shares its point expressions with the per-person
totals, so the parts of an explanation add up to the stored score exactly. ``config`` is a
``iom.scoring.config.ScoringConfig`` (its ``matrix`` part)."""

from __future__ import annotations

import datetime as dt

import ibis
import pandas as pd
import pyarrow as pa

from iom.dates import months_before
from iom.register.models import PROVEN_OUTCOMES
from iom.warehouse.source import compiled_sql, query_arrow

#: The relation ``c`` as ``iom.scoring.data.Register.crimes_arrow`` hands it over.
CRIMES = ibis.schema({
    "id": "int64", "person_id": "int64", "committed_on": "date", "recorded_on": "date", "offender": "int8",
    "gravity": "int8", "harm_days": "int32", "is_crime": "boolean", "domestic_abuse": "boolean",
    "victim_person_id": "int64", "excluded": "int8",
})


def _day(day: dt.date):
    return ibis.literal(day, type="date")


def counted(c: ibis.Table, config, as_of: dt.date) -> ibis.Table:
    """Crimes known on ``as_of`` (recorded by then) and committed inside the look-back, each with
    its recency multiplier, gravity points, points and harm."""
    m = config.matrix
    keep = ((c.committed_on > _day(months_before(as_of, m.lookback_months))) & (c.committed_on <= _day(as_of))
            & (c.recorded_on <= _day(as_of)))
    if sorted(set(m.involvements)) != ["offender", "suspect"]:
        keep &= (c.offender == 1) if m.involvements == ["offender"] else (c.offender == 0)
    if m.exclude_outcomes:
        keep &= c.excluded == 0
    c = c.filter(keep)
    recency = ibis.cases(*((c.committed_on > _day(months_before(as_of, b.months)), b.multiplier) for b in m.recency),
                         else_=0) if m.recency else ibis.literal(0)
    gravity = c.gravity.cases(*sorted(m.gravity_points.items()), else_=0)
    zero = ibis.literal(0)
    return c.select(
        "id", "person_id", "committed_on", "gravity", "is_crime", "domestic_abuse", "victim_person_id",
        recency_multiplier=ibis.ifelse(c.is_crime, recency, zero),
        gravity_points=ibis.ifelse(c.is_crime, gravity, zero),
        points=ibis.ifelse(c.is_crime, gravity * recency, zero),
        harm=ibis.ifelse(c.is_crime, c.harm_days, zero),
    )


def frequency_points(config, count):
    bands = sorted(config.matrix.frequency, key=lambda b: -b.at_least)
    if not bands:
        return ibis.literal(0)
    return ibis.cases(*((count >= b.at_least, b.points) for b in bands), else_=0)


def person_scores(c: ibis.Table, config, as_of: dt.date) -> ibis.Table:
    """Per person: crimes, points, frequency and victim points, RFG total and harm."""
    ppv = config.matrix.victims.points_per_victim
    k = counted(c, config, as_of)
    per = k.group_by("person_id").aggregate(
        crimes=k.count(where=k.is_crime), crime_points=k.points.sum(), harm_days=k.harm.sum(),
        last_committed_on=k.committed_on.max(),
    )
    da = k.filter(k.domestic_abuse & k.victim_person_id.notnull())  # a small share: cheap
    victims = da.group_by("person_id").aggregate(victims=da.victim_person_id.nunique())
    j = per.left_join(victims, per.person_id == victims.person_id)
    v = victims.victims.fill_null(0)
    freq = frequency_points(config, per.crimes)
    return j.select(
        person_id=per.person_id, crimes=per.crimes, crime_points=per.crime_points, frequency_points=freq,
        victims=v, victim_points=v * ppv, rfg=per.crime_points + freq + v * ppv, harm_days=per.harm_days,
        last_committed_on=per.last_committed_on,
    )


def _sql(kind: str, config, as_of: dt.date) -> str:
    """The per-person scores or the per-crime parts over a relation ``c``, compiled once per
    (config, as_of)."""
    def expression():
        c = ibis.table(CRIMES, name="c")
        return (person_scores(c, config, as_of) if kind == "scores"
                else counted(c, config, as_of).order_by(["person_id", "committed_on", "id"]))
    return compiled_sql(("matrix " + kind, config.model_dump_json(), as_of), expression)


def score_arrow(config, as_of: dt.date, crimes: pa.Table) -> pd.DataFrame:
    """Per-person scores of an in-memory force (DuckDB over Arrow, a cursor per call: safe in
    the web's threads)."""
    return query_arrow(_sql("scores", config, as_of), c=crimes)


def crime_parts_arrow(config, as_of: dt.date, crimes: pa.Table) -> pd.DataFrame:
    """Every counted crime with its points, by person, date and id (what an explanation lists)."""
    return query_arrow(_sql("parts", config, as_of), c=crimes)


def register_crimes(wh, config) -> ibis.Table:
    """The relation ``c`` from a warehouse's crimes and offences (a force's export or the
    national Parquet), on its own engine."""
    cr, o = wh.table("crimes"), wh.table("offences")
    j = cr.join(o, cr.offence_code == o.code)
    da = o.domestic_abuse
    if "domestic_abuse" in cr.columns:
        da = cr.domestic_abuse.fill_null(False) | o.domestic_abuse
    victim = cr.victim_person_id if "victim_person_id" in cr.columns else ibis.null("int64")
    harm = o.harm_days if "harm_days" in o.columns else ibis.literal(0)
    excluded = list(config.matrix.exclude_outcomes)
    return j.select(
        id=cr.id, person_id=cr.person_id, committed_on=cr.committed_on, recorded_on=cr.recorded_on,
        offender=ibis.ifelse(cr.involvement == "offender", 1, 0).cast("int8"), gravity=o.gravity.cast("int8"),
        harm_days=harm.cast("int32"), is_crime=o.is_crime, domestic_abuse=da, victim_person_id=victim.cast("int64"),
        excluded=(ibis.ifelse(cr.outcome.isin(excluded), 1, 0) if excluded else ibis.literal(0)).cast("int8"),
        proven=ibis.ifelse(cr.outcome.isin(list(PROVEN_OUTCOMES)), 1, 0).cast("int8"),
    )


def warehouse_scores(wh, config, as_of: dt.date) -> pd.DataFrame:
    """Per-person RFG and harm over a whole warehouse, ordered by person."""
    frame = wh.execute(person_scores(register_crimes(wh, config), config, as_of).order_by("person_id"))
    for col in ("person_id", "crimes", "crime_points", "frequency_points", "victims", "victim_points", "rfg", "harm_days"):
        frame[col] = frame[col].astype("int64")
    return frame


def person_scores_sql(config, as_of: dt.date) -> str:
    """``person_scores`` over a relation named ``c``, as DuckDB SQL (for a caller holding its
    own DuckDB view ``c``)."""
    return _sql("scores", config, as_of)
