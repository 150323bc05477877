"""The analytical layer: every measure written once, as an Ibis expression, run on DuckDB on
one machine or on Spark for a cluster (``docs/scale.md``).

``iom.warehouse.core.open_warehouse`` reads the register's analytical tables (the operational
database, a flat ``iom export`` directory, or a partitioned national Parquet directory) onto an
engine; the measures (``measures``), the programme groups (``programmes``) and the RFG+harm
matrix (``matrix``) take what it returns. No other package imports duckdb, pyspark or ibis (an
import-linter contract in ``pyproject.toml``). Nothing is imported here: ``iom`` commands that
never read analytics should not pay for Ibis."""
