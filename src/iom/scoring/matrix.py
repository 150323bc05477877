"""The risk matrix (RFG/RFGV) and harm, as SQL that DuckDB runs over a whole table.

One relation ``c`` (a crime involvement per row) with columns ``id, person_id,
committed_on, recorded_on, gravity, harm_days, is_crime, domestic_abuse,
victim_person_id`` (plus ``offender`` and ``excluded`` when the config filters on them).
The same SQL scores an in-memory force (an Arrow table) and a national Parquet slice, and
the per-crime query used for explanations shares its point expressions with the
per-person totals, so the parts of an explanation add up to the stored score exactly.
"""

from __future__ import annotations

import datetime as dt


from iom.dates import months_before
from iom.scoring.config import ScoringConfig


def _lit(day: dt.date) -> str:
    return f"DATE '{day.isoformat()}'"


def counted_filter(config: ScoringConfig, as_of: dt.date) -> str:
    """Crimes known on ``as_of`` (recorded by then) and committed inside the look-back."""
    m = config.matrix
    start = months_before(as_of, m.lookback_months)
    parts = [
        f"committed_on > {_lit(start)}",
        f"committed_on <= {_lit(as_of)}",
        f"recorded_on <= {_lit(as_of)}",
    ]
    if sorted(set(m.involvements)) != ["offender", "suspect"]:
        parts.append("offender = 1" if m.involvements == ["offender"] else "offender = 0")
    if m.exclude_outcomes:
        parts.append("excluded = 0")
    return " AND ".join(parts)


def recency_multiplier_sql(config: ScoringConfig, as_of: dt.date) -> str:
    whens = " ".join(
        f"WHEN committed_on > {_lit(months_before(as_of, band.months))} THEN {band.multiplier}"
        for band in config.matrix.recency
    )
    return f"(CASE {whens} ELSE 0 END)"


def gravity_points_sql(config: ScoringConfig) -> str:
    whens = " ".join(f"WHEN {g} THEN {p}" for g, p in sorted(config.matrix.gravity_points.items()))
    return f"(CASE gravity {whens} ELSE 0 END)"


def crime_points_sql(config: ScoringConfig, as_of: dt.date, *, where: str = "TRUE") -> str:
    """One row per counted crime with its recency multiplier, gravity points and harm."""
    rec = recency_multiplier_sql(config, as_of)
    grav = gravity_points_sql(config)
    return f"""
        SELECT id, person_id, committed_on, gravity, is_crime, domestic_abuse, victim_person_id,
               CASE WHEN is_crime THEN {rec} ELSE 0 END AS recency_multiplier,
               CASE WHEN is_crime THEN {grav} ELSE 0 END AS gravity_points,
               CASE WHEN is_crime THEN {grav} * {rec} ELSE 0 END AS points,
               CASE WHEN is_crime THEN harm_days ELSE 0 END AS harm
        FROM c WHERE {counted_filter(config, as_of)} AND ({where})
    """


def frequency_points_sql(config: ScoringConfig, count: str) -> str:
    bands = sorted(config.matrix.frequency, key=lambda b: -b.at_least)
    if not bands:
        return "0"
    whens = " ".join(f"WHEN {count} >= {b.at_least} THEN {b.points}" for b in bands)
    return f"(CASE {whens} ELSE 0 END)"


def person_scores_sql(config: ScoringConfig, as_of: dt.date) -> str:
    """Per person: crimes, points, frequency and victim points, RFG total and harm."""
    ppv = config.matrix.victims.points_per_victim
    freq = frequency_points_sql(config, "crimes")
    return f"""
        WITH counted AS ({crime_points_sql(config, as_of)}),
        per_person AS (
            SELECT person_id,
                   count(*) FILTER (WHERE is_crime) AS crimes,
                   sum(points) AS crime_points,
                   sum(harm) AS harm_days,
                   max(committed_on) AS last_committed_on
            FROM counted GROUP BY person_id
        ),
        victims AS (  -- only DA rows with a victim: a small share, so this stays cheap
            SELECT person_id, count(DISTINCT victim_person_id) AS victims
            FROM counted WHERE domestic_abuse AND victim_person_id IS NOT NULL
            GROUP BY person_id
        )
        SELECT p.person_id, crimes, crime_points, {freq} AS frequency_points,
               coalesce(v.victims, 0) AS victims, coalesce(v.victims, 0) * {ppv} AS victim_points,
               crime_points + {freq} + coalesce(v.victims, 0) * {ppv} AS rfg,
               harm_days, last_committed_on
        FROM per_person p LEFT JOIN victims v ON v.person_id = p.person_id
    """


def harm_points(harm_days, config: ScoringConfig):
    """Harm days scaled to 0-100 whole points (works on scalars and numpy arrays)."""
    import numpy as np

    full = config.harm.days_for_full_points
    return np.minimum(100, np.floor(np.asarray(harm_days, dtype=float) * 100 / full + 0.5)).astype(int)
