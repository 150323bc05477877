"""The register tables the measures read, on DuckDB.

Three sources: the operational database (read with its DBAPI driver into pandas, then handed
to DuckDB; no DuckDB extension is needed, as none can be downloaded here), a flat directory of
``iom export`` files (``DIR/<table>.parquet``), or a partitioned one as the national data set
writes it (``DIR/<table>/force=<code>/year=<yyyy>/part-*.parquet``, hive partitioning). The
same tables and columns either way, so one expression reads them all."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
from cachetools import LRUCache
from sqlalchemy.engine import Engine

from iom.dates import REFERENCE_EVENTS, reference_date_from
from iom.errors import UserError

#: Table → columns the analytics read, and which of them are dates.
TABLES: dict[str, tuple[list[str], list[str]]] = {
    "units": (["code", "name", "kind", "parent_code"], []),
    "people": (["id", "date_of_birth", "sex", "ethnicity", "home_npu"], ["date_of_birth"]),
    "offences": (["code", "offence_group", "cost_category", "is_crime", "domestic_abuse", "gravity"], []),
    "cost_of_crime": (["category", "cost_pence"], []),
    "crimes": (
        ["id", "person_id", "involvement", "committed_on", "recorded_on", "offence_code", "npu_code", "outcome", "outcome_on"],
        ["committed_on", "recorded_on", "outcome_on"],
    ),
    "cohort_memberships": (["person_id", "classification_code", "adopted_on", "exited_on"], ["adopted_on", "exited_on"]),
    "management_history": (["person_id", "effective_from", "offender_type", "lead_agency", "lomu_code"], ["effective_from"]),
}
#: Columns read as booleans whatever the source stored (SQLite keeps 0/1).
BOOLEANS = ("is_crime", "domestic_abuse")
#: Kept when a source has them: the national data set's force of each row, and what the RFG(V)
#: and harm matrix reads beyond the measures (``iom.warehouse.matrix.register_crimes``).
OPTIONAL: dict[str, tuple[str, ...]] = {
    "people": ("force_code",),
    "crimes": ("force_code", "victim_person_id", "domestic_abuse"),
    "offences": ("harm_days",),
}

#: Scopes: "cohort" reads only people ever in the IOM cohort and their crimes (enough for the
#: measures and before/during/after); "all" reads everyone (needed for comparison groups).
SCOPES = ("cohort", "all")
_COHORT_FILTER = {
    "people": "id IN (SELECT person_id FROM cohort_memberships)",
    "crimes": "person_id IN (SELECT person_id FROM cohort_memberships)",
}


def _column(name: str, dates: list[str]) -> str:
    if name in dates:
        return f"CAST({name} AS DATE) AS {name}"
    if name in BOOLEANS:
        return f"CAST({name} AS BOOLEAN) AS {name}"
    return name


def _select(name: str, source: str, present: set[str] | None = None) -> str:
    cols, dates = TABLES[name]
    extra = [c for c in OPTIONAL.get(name, ()) if present and c in present]
    return f"SELECT {', '.join(_column(c, dates) for c in [*cols, *extra])} FROM {source}"


def parquet_source(root: Path, table: str) -> str | None:
    """DuckDB's reader for one table of a Parquet directory, flat or partitioned; None when absent."""
    flat = root / f"{table}.parquet"
    if flat.exists():
        return f"read_parquet({str(flat.resolve())!r})"
    folder = root / table
    if folder.is_dir() and any(folder.rglob("*.parquet")):
        return f"read_parquet({str(folder.resolve() / '**' / '*.parquet')!r}, hive_partitioning = true, union_by_name = true)"
    return None


def parquet_files(root: Path, table: str) -> str | None:
    """The path Spark reads for one table (a file, or a partitioned folder); None when absent."""
    flat = root / f"{table}.parquet"
    if flat.exists():
        return str(flat.resolve())
    folder = root / table
    return str(folder.resolve()) if folder.is_dir() and any(folder.rglob("*.parquet")) else None


def connect(
    *,
    engine: Engine | None = None,
    parquet_dir: Path | str | None = None,
    scope: str = "all",
    crimes_since: dt.date | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one table (or, over Parquet, a view) per register table.

    ``crimes_since`` (database only) keeps every crime of people ever in the IOM cohort but,
    for everyone else, only crimes committed on or after that day: enough for comparison
    groups drawn from recent years, at a fraction of the reading time."""
    if (engine is None) == (parquet_dir is None):
        raise UserError("give either a database engine or a Parquet directory")
    if scope not in SCOPES:
        raise UserError(f"unknown scope {scope!r}: choose from {', '.join(SCOPES)}")
    if parquet_dir is not None:
        return _from_parquet(Path(parquet_dir))
    frames, latest = read_database(engine, scope=scope, crimes_since=crimes_since)
    return from_frames(frames, latest=latest)


def _from_parquet(root: Path) -> duckdb.DuckDBPyConnection:
    con = _new()
    for name in TABLES:
        source = parquet_source(root, name)
        if source is None:
            raise UserError(f"{root / name}.parquet not found: run `iom export {root}` first")
        present = {r[0] for r in con.execute(f"DESCRIBE SELECT * FROM {source}").fetchall()}
        # Views: a national slice is read where it lies, not copied into memory.
        con.execute(f"CREATE VIEW {name} AS {_select(name, source, present)}")
    latest = []
    for table, column in REFERENCE_EVENTS:
        source = table if table in TABLES else parquet_source(root, table)
        if source is not None:
            latest.append(con.execute(f"SELECT max({column}) FROM {source}").fetchall()[0][0])
    _meta(con, reference_date_from(latest))
    return con


def _new() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    return con


def _meta(con: duckdb.DuckDBPyConnection, latest: dt.date) -> None:
    con.execute("CREATE OR REPLACE TABLE register_meta AS SELECT CAST(? AS DATE) AS latest", [latest])


def read_database(
    engine: Engine, *, scope: str = "all", crimes_since: dt.date | None = None
) -> tuple[dict[str, pd.DataFrame], dt.date]:
    """The register tables as pandas frames, and the register's reference date (whatever the
    scope read)."""
    frames = {}
    # The DBAPI connection directly: SQLAlchemy's row processing costs several times the query.
    raw = engine.raw_connection()
    sqlite = engine.dialect.name == "sqlite"
    try:
        cursor = raw.cursor()
        if sqlite:  # memory-mapped reads: the cohort's crimes are scattered through the file
            cursor.execute("PRAGMA mmap_size=1073741824")
        for name, (cols, _) in TABLES.items():
            where = f" WHERE {_COHORT_FILTER[name]}" if scope == "cohort" and name in _COHORT_FILTER else ""
            if name == "crimes" and crimes_since is not None and scope == "all":
                where = f" WHERE committed_on >= '{crimes_since.isoformat()}' OR {_COHORT_FILTER['crimes']}"
            cursor.execute(f"SELECT {', '.join(cols)} FROM {name}{where}")
            frames[name] = pd.DataFrame.from_records(cursor.fetchall(), columns=cols)
        latest = []
        for table, column in REFERENCE_EVENTS:
            cursor.execute(f"SELECT max({column}) FROM {table}")
            value = cursor.fetchall()[0][0]
            latest.append(dt.date.fromisoformat(value) if isinstance(value, str) else value)
        if sqlite:
            cursor.execute("PRAGMA mmap_size=0")
        cursor.close()
    finally:
        raw.close()
    return frames, reference_date_from(latest)


def from_frames(
    frames: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection | None = None, *, latest: dt.date | None = None
) -> duckdb.DuckDBPyConnection:
    """The same tables from pandas frames (any source: a database, a spreadsheet, a test)."""
    con = con or _new()
    for name in TABLES:
        if name not in frames:
            raise UserError(f"table {name!r} is missing")
        cols, _ = TABLES[name]
        missing = [c for c in cols if c not in frames[name].columns]
        if missing:
            raise UserError(f"table {name!r} lacks column(s) {', '.join(missing)}")
        keep = cols + [c for c in OPTIONAL.get(name, ()) if c in frames[name].columns]
        con.register(f"_{name}_raw", frames[name][keep])
        con.execute(f"CREATE OR REPLACE TABLE {name} AS {_select(name, f'_{name}_raw', set(keep))}")
        con.unregister(f"_{name}_raw")
    if latest is None:
        latest = reference_date_from([con.execute(f"SELECT max({column}) FROM {table}").fetchall()[0][0]
                                      for table, column in REFERENCE_EVENTS if table in TABLES])
    _meta(con, latest)
    return con


def arrow_tables(con: duckdb.DuckDBPyConnection) -> dict[str, pa.Table]:
    """Every register table of a connection as Arrow (what Spark is handed from a database)."""
    return {name: con.sql(f"SELECT * FROM {name}").to_arrow_table() for name in TABLES}


def meta_latest(con: duckdb.DuckDBPyConnection) -> dt.date:
    return con.execute("SELECT latest FROM register_meta").fetchall()[0][0]


_duck: duckdb.DuckDBPyConnection | None = None
_duck_lock = threading.Lock()


def query_arrow(sql: str, **tables: pa.Table) -> pd.DataFrame:
    """Run DuckDB SQL over Arrow tables registered under the given names.

    One in-memory DuckDB per process, a cursor per query: connecting costs ~20 ms, which a
    person page would pay on every request; a cursor costs microseconds, and what it
    registers is its own, so concurrent queries never see each other's tables."""
    global _duck
    with _duck_lock:
        if _duck is None:
            _duck = duckdb.connect()
        cursor = _duck.cursor()
    try:
        for name, table in tables.items():
            cursor.register(name, table)
        return cursor.execute(sql).df()
    finally:
        cursor.close()


def rows_table(schema, rows) -> pa.Table:
    """An Arrow table of an Ibis ``schema`` from rows (tuples in the schema's column order): how
    a domain hands what it read from the register to an expression run by ``query_arrow``."""
    columns = list(zip(*rows)) if rows else [[] for _ in schema]
    return pa.table({name: pa.array(col, type=schema[name].to_pyarrow()) for name, col in zip(schema, columns)})


_compiled: LRUCache = LRUCache(maxsize=512)
_compiled_lock = threading.Lock()


def compiled_sql(key: tuple, expression: Callable[[], Any]) -> str:
    """The DuckDB SQL of the Ibis expression ``expression()`` builds, compiled once per ``key``:
    building and compiling costs tens of milliseconds, ten times what a record's query over a
    handful of rows then takes."""
    with _compiled_lock:
        sql = _compiled.get(key)
    if sql is None:
        import ibis

        sql = ibis.to_sql(expression(), dialect="duckdb")
        with _compiled_lock:
            _compiled[key] = sql
    return sql
