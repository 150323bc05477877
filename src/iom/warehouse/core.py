"""A warehouse: the register's analytical tables on one engine, as Ibis tables.

DuckDB by default; Spark when asked (``--engine spark`` or ``IOM_ENGINE=spark``), on the
master ``IOM_SPARK_MASTER`` names (``local[2]`` on one machine, ``spark://host:7077``,
``yarn`` or ``k8s://...`` for a cluster): the same expressions run on either."""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import ibis
import pandas as pd
from sqlalchemy.engine import Engine

from iom.errors import UserError
from iom.warehouse import source

ENGINES = ("duckdb", "spark")
_names = itertools.count(1)


@dataclass(frozen=True)
class Warehouse:
    """Ibis tables over one engine, and the register's reference date.

    ``prefix`` keeps two warehouses in one Spark session apart (views are per session)."""

    backend: Any
    engine: str
    latest: dt.date
    prefix: str = ""

    def table(self, name: str) -> ibis.Table:
        return self.backend.table(self.prefix + name)

    def execute(self, expr) -> pd.DataFrame:
        return self.backend.execute(expr)

    def scalar(self, expr):
        return self.backend.execute(expr)

    def crimes_count(self) -> int:
        return int(self.backend.execute(self.table("crimes").count()))


def as_warehouse(con) -> Warehouse:
    """A warehouse from itself, or from a DuckDB connection made by ``source.connect`` /
    ``source.from_frames`` (what the analytics' callers have always passed)."""
    if isinstance(con, Warehouse):
        return con
    if isinstance(con, duckdb.DuckDBPyConnection):
        # A cursor: a connection of its own to the same database, so a result the caller left
        # unfetched on theirs never blocks a measure (DuckDB 2 refuses work while one is open).
        cursor = con.cursor()
        return Warehouse(ibis.duckdb.from_connection(cursor), "duckdb", source.meta_latest(cursor))
    raise TypeError(f"expected a Warehouse or a DuckDB connection, got {type(con).__name__}")


def open_warehouse(
    *,
    engine: str | None = None,
    database: Engine | None = None,
    parquet_dir: Path | str | None = None,
    scope: str = "all",
    crimes_since: dt.date | None = None,
    spark_master: str | None = None,
) -> Warehouse:
    """The register on ``engine`` (default: the ``IOM_ENGINE`` setting), read from the
    operational database or from a Parquet directory (flat ``iom export`` or partitioned)."""
    from iom.config import get_settings

    settings = get_settings()
    engine = engine or settings.engine
    if engine not in ENGINES:
        raise UserError(f"unknown engine {engine!r}: choose from {', '.join(ENGINES)}")
    if (database is None) == (parquet_dir is None):
        raise UserError("give either a database engine or a Parquet directory")
    if engine == "duckdb":
        return as_warehouse(source.connect(engine=database, parquet_dir=parquet_dir, scope=scope,
                                           crimes_since=crimes_since))
    from iom.warehouse import spark

    session = spark.session(master=spark_master or settings.spark_master)
    prefix = f"iom{next(_names)}_"
    if parquet_dir is not None:
        latest = spark.register_parquet(session, Path(parquet_dir), prefix=prefix)
    else:
        con = source.connect(engine=database, scope=scope, crimes_since=crimes_since)
        latest = source.meta_latest(con)
        spark.register_arrow(session, source.arrow_tables(con), prefix=prefix)
        con.close()
    return Warehouse(ibis.pyspark.connect(session), "spark", latest, prefix)


def latest_date(con) -> dt.date:
    """The register's reference date (``iom.dates.reference_date_from``), as the database's
    commands and the web see it."""
    wh = as_warehouse(con)
    if wh.crimes_count() == 0:
        raise UserError("the register holds no crimes: load or generate data first")
    return wh.latest
