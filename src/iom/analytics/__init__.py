"""Reoffending measures, cost of crime and before/during/after adoption, read through DuckDB
from the operational database or from Parquet exports (``iom export DIR``)."""

from iom.plugins import Domain

DOMAIN = Domain(name="analytics", cli=("iom.analytics.cli:register",))
