"""CSV import and Parquet export at force scale: a 1-million-row crimes file.

Prints the time to import it into a fresh SQLite database, to re-import it (every row an
update), and to export the database to Parquet, with the growth of the process's peak
resident memory during each step next to the size of the file. Set IOM_BENCH_IMPORT_ROWS
to change the number of crimes, IOM_BENCH_DATABASE_URL to run against PostgreSQL (an
empty database or schema: the benchmark creates its tables there).

Then, on PostgreSQL (IOM_BENCH_PG_URL, default the local test database; skipped if none
answers), imports 50,000 people and 200,000 crimes into a fresh schema, and twice as many
into another, and prints both times and their ratio: an import must stay linear in its rows
(the target: the first under 60 s, the second at most twice the first)."""

from __future__ import annotations

import csv
import datetime as dt
import os
import tempfile
from pathlib import Path

from common import timed

from iom.db import make_engine
from iom.register.export import export_database
from iom.register.importer import import_files
from iom.register.service import init_database

CRIMES = int(os.environ.get("IOM_BENCH_IMPORT_ROWS", "1000000"))
PEOPLE = max(CRIMES // 20, 10)
AS_OF = dt.date(2019, 3, 31)
HEADER = [
    "source_id", "person_source_id", "involvement", "committed_on", "recorded_on", "offence_code",
    "npu_code", "outcome", "outcome_on", "domestic_abuse", "alcohol_related", "hate", "victim_source_id",
]


def _write_files(folder: Path, *, people_rows: int | None = None, crime_rows: int | None = None) -> tuple[Path, Path]:
    people_n = people_rows or PEOPLE
    crimes_n = crime_rows or CRIMES
    people = folder / "people.csv"
    with people.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["source_id", "given_name", "family_name", "date_of_birth", "sex", "ethnicity", "home_npu"])
        npus = ["WS", "WV", "SW", "DY", "SH", "CV", "BE", "BW", "BN", "BS"]
        for i in range(people_n):
            w.writerow([f"N{i:07d}", "Given", "Family", dt.date(1960, 1, 1) + dt.timedelta(days=i % 15_000), "MFU"[i % 3], "W_BRI", npus[i % 10]])
    crimes = folder / "crimes.csv"
    offences = ["008/06", "105/DA", "034/01", "008/H6", "105/01", "008/41"]
    outcomes = ["charge", "caution", "nfa", "pending", "community_resolution"]
    start = dt.date(2009, 4, 1)
    with crimes.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(HEADER)
        for i in range(crimes_n):
            day = start + dt.timedelta(days=i % 3_600)
            victim = f"N{(i * 7 + 1) % people_n:07d}" if i % 5 == 1 else ""
            outcome = outcomes[i % 5]
            w.writerow([
                f"C{i:08d}", f"N{i % people_n:07d}", "offender" if i % 3 else "suspect", day, day + dt.timedelta(days=i % 3),
                offences[i % 6], npus[i % 10], outcome, "" if outcome == "pending" else day + dt.timedelta(days=30),
                "", "true" if i % 7 == 0 else "false", "", victim if victim != f"N{i % people_n:07d}" else "",
            ])
    return people, crimes


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="iom-bench-import-") as tmp:
        folder = Path(tmp)
        people, crimes = _write_files(folder)
        size_mb = crimes.stat().st_size / 1e6
        print(f"   crimes file: {CRIMES:,} rows, {size_mb:.0f} MB; people file: {PEOPLE:,} rows")
        url = os.environ.get("IOM_BENCH_DATABASE_URL") or f"sqlite:///{folder / 'bench.db'}"
        engine = make_engine(url)
        init_database(engine)
        print(f"   database: {engine.dialect.name}")
        timed("import people", lambda: import_files(engine, {"people": people}, today=AS_OF), memory=True)
        result, seconds = timed("import crimes (all new)", lambda: import_files(engine, {"crimes": crimes}, today=AS_OF), memory=True)
        print(f"   -> {CRIMES / seconds:,.0f} rows/s; new {result.files[0].inserted:,}")
        result, seconds = timed("re-import crimes (all updates)", lambda: import_files(engine, {"crimes": crimes}, today=AS_OF), memory=True)
        print(f"   -> {CRIMES / seconds:,.0f} rows/s; new {result.files[0].inserted:,}, updated {result.files[0].updated:,}")
        written, seconds = timed("export every table to Parquet", lambda: export_database(engine, folder / "export"), memory=True)
        total = sum(w.rows for w in written)
        parquet_mb = sum((folder / "export" / w.file).stat().st_size for w in written) / 1e6
        print(f"   -> {total:,} rows in {len(written)} tables, {parquet_mb:.0f} MB of Parquet, {total / seconds:,.0f} rows/s")
        engine.dispose()
    _postgres_linearity()


PG_URL = os.environ.get("IOM_BENCH_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_import(people_rows: int, crime_rows: int) -> float:
    """Seconds to import ``people_rows`` people then ``crime_rows`` crimes into a fresh schema."""
    import uuid

    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    schema = f"iom_bench_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = make_url(PG_URL).update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(hide_password=False)
    try:
        with tempfile.TemporaryDirectory(prefix="iom-bench-pg-import-") as tmp:
            people, crimes = _write_files(Path(tmp), people_rows=people_rows, crime_rows=crime_rows)
            engine = make_engine(url)
            init_database(engine)
            _, first = timed(f"PostgreSQL: import {people_rows:,} people", lambda: import_files(engine, {"people": people}, today=AS_OF))
            _, second = timed(f"PostgreSQL: import {crime_rows:,} crimes", lambda: import_files(engine, {"crimes": crimes}, today=AS_OF))
            engine.dispose()
            return first + second
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _postgres_linearity() -> None:
    from sqlalchemy import create_engine

    try:
        with create_engine(PG_URL).connect():
            pass
    except Exception as exc:  # noqa: BLE001 - no server: nothing to measure
        print(f"   PostgreSQL at {PG_URL} not reachable ({type(exc).__name__}): the linearity run is skipped")
        return
    small = _pg_import(50_000, 200_000)
    large = _pg_import(100_000, 400_000)
    print(f"   PostgreSQL import, 50k people + 200k crimes: {small:.1f} s (target < 60 s: {'met' if small < 60 else 'NOT met'}); "
          f"twice the rows: {large:.1f} s, {large / small:.2f}x (target <= 2x: {'met' if large <= 2 * small else 'NOT met'})")


if __name__ == "__main__":
    main()
