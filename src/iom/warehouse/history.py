"""A person's offending history up to a day, as Ibis expressions: the features the scoring
model (``iom.scoring.model``) learns from, over the crimes as the force knew them on that day.

One relation ``t`` (a crime involvement per row, days as day numbers since 1970-01-01):
``person_id, committed, gravity, harm, da, pv`` (proven, as offender) and ``outcome_on``; the
model's label (MoJ proven reoffending, as ``iom.warehouse.measures`` defines it) reads the same
relation."""

from __future__ import annotations

import ibis
import pandas as pd
import pyarrow as pa

from iom.warehouse.source import compiled_sql, query_arrow

HISTORY = ibis.schema({
    "person_id": "int64", "committed": "int64", "gravity": "int64", "harm": "int64", "da": "int64", "pv": "int64",
    "outcome_on": "int64",
})


def features(t: ibis.Table, *, today: int, year_ago: int, three_years_ago: int) -> ibis.Table:
    """Per person (by id): crimes in the last 12 and 36 months and ever, proven ever and in the
    last 12 months, days since the last and years since the first, the gravest and the harm in
    36 months, and DA in 36 months."""
    y1, y3 = t.committed > year_ago, t.committed > three_years_ago
    proven = t.pv == 1
    return t.group_by("person_id").aggregate(
        crimes_12m=t.count(where=y1), crimes_36m=t.count(where=y3), crimes_all=t.count(),
        proven_all=t.pv.sum(), proven_12m=t.count(where=proven & (t.outcome_on > year_ago)),
        days_since_last=today - t.committed.max(), years_since_first=(today - t.committed.min()) / 365.25,
        max_gravity_36m=t.gravity.max(where=y3).fill_null(0), harm_36m=t.harm.sum(where=y3).fill_null(0),
        da_36m=t.count(where=y3 & (t.da == 1)),
    ).order_by("person_id")


def features_arrow(history: pa.Table, *, today: int, year_ago: int, three_years_ago: int) -> pd.DataFrame:
    """``features`` on DuckDB over an Arrow table (compiled once per set of days)."""
    sql = compiled_sql(("history features", today, year_ago, three_years_ago), lambda: features(
        ibis.table(HISTORY, name="t"), today=today, year_ago=year_ago, three_years_ago=three_years_ago))
    return query_arrow(sql, t=history)


def proven_reoffenders(t: ibis.Table, *, after: int, until: int, proven_by: int) -> ibis.Table:
    """People (``person_id``) with a proven offence, as offender, committed in (after, until] and
    proven by ``proven_by``: the MoJ's proven reoffending over a follow-up and its waiting period."""
    hit = t.filter((t.pv == 1) & (t.committed > after) & (t.committed <= until) & (t.outcome_on <= proven_by))
    return hit.select("person_id").distinct().order_by("person_id")


def proven_reoffenders_arrow(history: pa.Table, *, after: int, until: int, proven_by: int) -> pd.DataFrame:
    """``proven_reoffenders`` on DuckDB over an Arrow table."""
    sql = compiled_sql(("proven reoffenders", after, until, proven_by), lambda: proven_reoffenders(
        ibis.table(HISTORY, name="t"), after=after, until=until, proven_by=proven_by))
    return query_arrow(sql, t=history)
