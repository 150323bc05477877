"""Reoffending measures, cost of crime and before/during/after adoption, read through DuckDB
from the operational database or from Parquet exports (``iom export DIR``)."""
