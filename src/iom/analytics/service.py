"""Reoffending measures (police-recorded and proven, side by side), frequency and cost of
crime by unit, cohort and classification, and before/during/after adoption.

Written once, as Ibis expressions, in ``iom.warehouse.measures``: these are its names as the
commands, the report and the tests have always called them. Each takes a DuckDB connection
from ``iom.analytics.source.connect`` or a ``Warehouse`` on either engine."""

from __future__ import annotations

from iom.warehouse.measures import (
    BOOTSTRAP_RESAMPLES,
    BOOTSTRAP_SEED,
    DAYS_PER_MONTH,
    DEFINITIONS,
    GROUPINGS,
    REGRESSION_TO_THE_MEAN,
    SUPERVISION,
    all_measures,
    before_during_after,
    cohort,
    cost_avoided_interval,
    cost_avoided_per_day,
    default_start,
    measures_for_cohort,
    person_windows,
    reoffending_measures,
)

__all__ = [
    "BOOTSTRAP_RESAMPLES", "BOOTSTRAP_SEED", "DAYS_PER_MONTH", "DEFINITIONS", "GROUPINGS", "REGRESSION_TO_THE_MEAN",
    "SUPERVISION", "all_measures", "before_during_after", "cohort", "cost_avoided_interval", "cost_avoided_per_day",
    "default_start", "measures_for_cohort", "person_windows", "reoffending_measures",
]
