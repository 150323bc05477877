"""Open a DuckDB connection holding the register tables the measures need.

Two sources: the operational database (read with SQLAlchemy into pandas, then handed to
DuckDB; no DuckDB extension is needed, as none can be downloaded here) or a directory of
Parquet exports written by ``iom export``. Either way the same SQL runs on the same views."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pandas as pd
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


def _select(name: str, source: str) -> str:
    cols, dates = TABLES[name]
    parts = [f"CAST({c} AS DATE) AS {c}" if c in dates else c for c in cols]
    return f"SELECT {', '.join(parts)} FROM {source}"


#: Scopes: "cohort" reads only people ever in the IOM cohort and their crimes (enough for the
#: measures and before/during/after); "all" reads everyone (needed for comparison groups).
SCOPES = ("cohort", "all")
_COHORT_FILTER = {
    "people": "id IN (SELECT person_id FROM cohort_memberships)",
    "crimes": "person_id IN (SELECT person_id FROM cohort_memberships)",
}


def connect(
    *,
    engine: Engine | None = None,
    parquet_dir: Path | str | None = None,
    scope: str = "all",
    crimes_since: dt.date | None = None,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with one table per register table (dates as DATE).

    ``crimes_since`` (database only) keeps every crime of people ever in the IOM cohort but,
    for everyone else, only crimes committed on or after that day: enough for comparison
    groups drawn from recent years, at a fraction of the reading time."""
    if (engine is None) == (parquet_dir is None):
        raise UserError("give either a database engine or a Parquet directory")
    if scope not in SCOPES:
        raise UserError(f"unknown scope {scope!r}: choose from {', '.join(SCOPES)}")
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    if parquet_dir is not None:
        root = Path(parquet_dir)
        for name in TABLES:
            path = root / f"{name}.parquet"
            if not path.exists():
                raise UserError(f"{path} not found: run `iom export {root}` first")
            con.execute(f"CREATE TABLE {name} AS {_select(name, repr(str(path)).join(['read_parquet(', ')']))}")
        latest = [con.execute(f"SELECT max({column}) FROM {_events_source(table, root)}").fetchone()[0]
                  for table, column in REFERENCE_EVENTS if table in TABLES or (root / f"{table}.parquet").exists()]
        con.execute("CREATE TABLE register_meta AS SELECT CAST(? AS DATE) AS latest", [reference_date_from(latest)])
        return con
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
        # The register's reference date, whatever the scope read.
        latest = []
        for table, column in REFERENCE_EVENTS:
            cursor.execute(f"SELECT max({column}) FROM {table}")
            value = cursor.fetchone()[0]
            latest.append(dt.date.fromisoformat(value) if isinstance(value, str) else value)
        if sqlite:
            cursor.execute("PRAGMA mmap_size=0")
        cursor.close()
    finally:
        raw.close()
    from_frames(frames, con)
    con.execute("CREATE OR REPLACE TABLE register_meta AS SELECT CAST(? AS DATE) AS latest", [reference_date_from(latest)])
    return con


def from_frames(frames: dict[str, pd.DataFrame], con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
    """The same tables from pandas frames (any source: a database, a spreadsheet, a test)."""
    con = con or duckdb.connect()
    for name in TABLES:
        if name not in frames:
            raise UserError(f"table {name!r} is missing")
        cols, _ = TABLES[name]
        missing = [c for c in cols if c not in frames[name].columns]
        if missing:
            raise UserError(f"table {name!r} lacks column(s) {', '.join(missing)}")
        con.register(f"_{name}_raw", frames[name][cols])
        con.execute(f"CREATE TABLE {name} AS {_select(name, f'_{name}_raw')}")
        con.unregister(f"_{name}_raw")
    latest = [con.execute(f"SELECT max({column}) FROM {table}").fetchone()[0] for table, column in REFERENCE_EVENTS if table in TABLES]
    con.execute("CREATE OR REPLACE TABLE register_meta AS SELECT CAST(? AS DATE) AS latest", [reference_date_from(latest)])
    return con


def latest_date(con: duckdb.DuckDBPyConnection) -> dt.date:
    """The register's reference date (``iom.dates.reference_date_from``), as the database's
    commands and the web see it."""
    if con.execute("SELECT count(*) FROM crimes").fetchone()[0] == 0:
        raise UserError("the register holds no crimes: load or generate data first")
    return con.execute("SELECT latest FROM register_meta").fetchone()[0]


def _events_source(table: str, root: Path) -> str:
    """A table the reference date reads, in a Parquet export: loaded, or read in place."""
    return table if table in TABLES else f"read_parquet({str(root / (table + '.parquet'))!r})"


def latest_in_database(engine: Engine) -> dt.date | None:
    """The register's reference date asked of the database directly; None with no crimes."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from iom.register.models import Crime
    from iom.register.service import reference_date

    with Session(engine) as session:
        if session.scalar(select(func.count()).select_from(Crime)) == 0:
            return None
        return reference_date(session)
