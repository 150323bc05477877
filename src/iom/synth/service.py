"""Generate a synthetic force and write it to the database, all or nothing.

``--replace`` never leaves a mix of the old database and the new: on SQLite the new force
is built in a file beside the database and swapped in with ``os.replace``; on PostgreSQL
the drop, the migrations and the writes are one transaction. Users and the audit log are
carried over unless asked otherwise, and the replacement is itself audited."""

from __future__ import annotations

import datetime as dt
import os
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, inspect, select
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session

from iom.cohorts import current_state
from iom.db import Base, ddl_transaction, make_engine, refresh_statistics
from iom.errors import UserError
from iom.plugins import contributions, resolve
from iom.register.models import Offence, Person, Unit
from iom.security.roles import Principal, cli_actor
from iom.synth import params
from iom.synth.generator import ForceSpec, Generator
from iom.synth.writer import write_table

#: Generated tables in the order their references need.
TABLE_ORDER = [
    ("people", "people"),
    ("markers", "vulnerability_markers"),
    ("crimes", "crimes"),
    ("memberships", "cohort_memberships"),
    ("risk", "risk_level_history"),
    ("management", "management_history"),
]
#: Rows copied per batch when users and the audit log are carried over.
COPY_BATCH = 5_000


@dataclass
class SynthResult:
    seed: int
    as_of: dt.date
    rows: dict[str, int]


class Progress:
    """What a long run reports: named steps, then rows written against a total."""

    def step(self, label: str) -> None: ...
    def start_writing(self, total: int) -> None: ...
    def advance(self, rows: int) -> None: ...


def read_catalogue(bind: Engine | Connection) -> tuple[list[str], dict[str, str], dict[str, dict]]:
    """What the generator needs of the reference data: NPUs, their LOMUs, the offences."""
    with Session(bind) as session:
        npus = session.execute(select(Unit.code, Unit.parent_code).where(Unit.kind == "npu").order_by(Unit.code)).all()
        offences = {
            o.code: {"gravity": o.gravity, "is_crime": o.is_crime, "domestic_abuse": o.domestic_abuse,
                     "hate": o.hate, "offence_group": o.offence_group}
            for o in session.scalars(select(Offence))
        }
    if not npus or not offences:
        raise UserError("the database has no reference data: run `iom init` first")
    return [c for c, _ in npus], dict(npus), offences


def _refuse_populated(engine: Engine) -> None:
    with Session(engine) as session:
        people = session.scalar(select(func.count()).select_from(Person)) or 0
    if people:
        raise UserError(f"the database already holds {people:,} people: use a new database, or --replace")


def kept_tables(*, users: bool = True, audit_log: bool = True) -> list[str]:
    """Tables a ``--replace`` carries over, in the order they can be written: ``users``, and
    every audit table (``audit_*``: the log and whatever else the security package keeps
    beside it)."""
    return [t.name for t in Base.metadata.sorted_tables
            if (users and t.name == "users") or (audit_log and t.name.startswith("audit_"))]


def generate_force(
    engine: Engine,
    *,
    seed: int,
    people: int = params.DEFAULT_PEOPLE,
    as_of: dt.date = params.REFERENCE_DATE,
    progress: Progress | None = None,
    replace: bool = False,
    keep: Sequence[str] | None = None,
    actor: Principal | None = None,
) -> SynthResult:
    """Generate the force for ``seed`` and write it; nothing is written if any step fails.

    ``replace`` swaps the whole database for a new one holding the force and the ``keep``
    tables copied from the old (default ``kept_tables()``: users and the audit log); the old
    database stays whole until the new one is complete."""
    if people < 1_000:
        raise UserError("--people must be at least 1,000")
    progress = progress or Progress()
    rows: dict[str, int] = {}

    def build(connection: Connection) -> None:
        from iom.cohort_framework.service import npu_officers

        npus, npu_lomu, offences = read_catalogue(connection)
        force = Generator(ForceSpec(seed=seed, people=people, as_of=as_of), npus, npu_lomu, offences,
                          progress=progress.step, npu_officers=npu_officers(connection)).run()
        rows.update(_write_force(connection, force, seed=seed, as_of=as_of, progress=progress))

    if replace:
        replace_database(engine, build=build, keep=kept_tables() if keep is None else keep, actor=actor,
                         detail={"synth": {"seed": seed, "people": people, "as_of": as_of.isoformat()}},
                         progress=progress)
    else:
        read_catalogue(engine)
        _refuse_populated(engine)
        with ddl_transaction(engine, foreign_keys=False) as connection:
            build(connection)
    return SynthResult(seed=seed, as_of=as_of, rows=rows)


def _write_force(connection: Connection, force, *, seed: int, as_of: dt.date, progress: Progress) -> dict[str, int]:
    """The register's tables, then each domain's own records (``Domain.synth_steps``), on the
    caller's connection and in its transaction."""
    tables = {attr: getattr(force, attr) for attr, _ in TABLE_ORDER}
    progress.step("writing")
    progress.start_writing(sum(len(cols["id"]) for cols in tables.values()))
    rows = {table_name: write_table(connection, table_name, tables[attr], advance=progress.advance)
            for attr, table_name in TABLE_ORDER}
    for target in contributions("synth_steps"):
        progress.step(f"synthetic data: {target}")
        rows.update(resolve(target)(connection, seed=seed, as_of=as_of) or {})
    current_state.refresh(connection)  # once, for everyone: the histories are all written
    return rows


def reset_database(engine: Engine, *, keep: Sequence[str] = ()) -> None:
    """Drop every table and migrate afresh (the demo database is being regenerated), all or
    nothing, carrying over the ``keep`` tables."""
    replace_database(engine, build=lambda connection: None, keep=keep, actor=None, detail={"reset": True})


def replace_database(
    engine: Engine,
    *,
    build: Callable[[Connection], None],
    keep: Sequence[str],
    actor: Principal | None,
    detail: dict,
    progress: Progress | None = None,
) -> None:
    """Replace the database with a freshly migrated one that ``build`` fills (on a connection
    inside the one transaction), carrying over the ``keep`` tables, all or nothing.

    Audited when the database has an audit log: a row saying the replacement has begun goes
    in first (so it is carried over, and stays if the replacement fails), and a row saying it
    is done is the last row of the new database's log."""
    progress = progress or Progress()
    actor = actor or cli_actor()
    detail = {**detail, "kept": list(keep)}
    if _has_audit_log(engine):
        _audit(engine, actor, "database replacement begun", detail)
    if engine.dialect.name == "sqlite":
        _replace_sqlite_file(engine, build=build, keep=keep, actor=actor, detail=detail, progress=progress)
    else:
        _replace_in_one_transaction(engine, build=build, keep=keep, progress=progress)
        _audit(engine, actor, "database replaced", detail)
        progress.step("refreshing the planner's statistics")
        refresh_statistics(engine)


def _audit(engine: Engine, actor: Principal, purpose: str, detail: dict) -> None:
    from iom.security import audit

    audit.record(engine, actor=actor, action="write", resource="database", purpose=purpose, detail=detail)


def _has_audit_log(engine: Engine) -> bool:
    try:
        return inspect(engine).has_table("audit_log")
    finally:
        engine.dispose()  # no connection of ours may stay open on a file about to be swapped


def _clear_schema(connection: Connection) -> None:
    from iom.models import metadata

    metadata.drop_all(connection)
    connection.exec_driver_sql("DROP TABLE IF EXISTS alembic_version")


# --------------------------------------------------------------------------------------
# PostgreSQL: one transaction (its DDL is transactional).


def _replace_in_one_transaction(engine: Engine, *, build, keep: Sequence[str], progress: Progress) -> None:
    from iom.models import metadata
    from iom.register.service import init_schema

    with engine.begin() as connection:
        present = set(inspect(connection).get_table_names())
        kept = [t for t in keep if t in present]
        if kept:  # nobody appends to the log between the copy and the drop
            connection.exec_driver_sql(f"LOCK TABLE {', '.join(map(_quote, kept))} IN ACCESS EXCLUSIVE MODE")
        for name in kept:
            connection.exec_driver_sql(f"CREATE TEMPORARY TABLE {_quote('iom_keep_' + name)} ON COMMIT DROP "
                                       f"AS SELECT * FROM {_quote(name)}")
        progress.step("dropping the old tables")
        _clear_schema(connection)
        progress.step("migrating")
        init_schema(connection)
        build(connection)
        for name in kept:
            old = set(connection.exec_driver_sql(f"SELECT * FROM {_quote('iom_keep_' + name)} LIMIT 0").keys())
            columns = ", ".join(_quote(c.name) for c in metadata.tables[name].columns if c.name in old)
            connection.exec_driver_sql(f"INSERT INTO {_quote(name)} ({columns}) "
                                       f"SELECT {columns} FROM {_quote('iom_keep_' + name)}")
            if "id" in old:  # the next id follows the rows carried over
                connection.exec_driver_sql(
                    f"SELECT setval(pg_get_serial_sequence('{_quote(name)}', 'id'), COALESCE(MAX(id), 0) + 1, false) "
                    f"FROM {_quote(name)}")


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------
# SQLite: a new file beside the database, swapped in whole.


def _replace_sqlite_file(engine: Engine, *, build, keep: Sequence[str], actor: Principal, detail: dict,
                         progress: Progress) -> None:
    from iom.register.service import init_schema

    target = sqlite_path(engine)
    work = target.with_name(f".{target.name}.replacing")
    _remove_sqlite_files(work)  # what a killed replacement left behind
    new = make_engine(engine.url.set(database=str(work)).render_as_string(hide_password=False))
    try:
        progress.step("building a new database beside the old")
        with ddl_transaction(new, foreign_keys=False) as connection:
            init_schema(connection)
            build(connection)
        engine.dispose()
        progress.step("carrying over users and the audit log")
        with _exclusive(target) as old:
            _copy_tables(old, new, keep)
            _audit(new, actor, "database replaced", detail)
            new.dispose()
            _seal(work)
            os.replace(work, target)
            _fsync(target.parent)
    finally:
        new.dispose()
        _remove_sqlite_files(work)


def sqlite_path(engine: Engine) -> Path:
    """The file behind a SQLite engine; an in-memory database cannot be swapped."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        raise UserError("--replace needs a SQLite database file (not an in-memory database)")
    return Path(database).resolve()


def _remove_sqlite_files(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


@contextmanager
def _exclusive(target: Path) -> Iterator[sqlite3.Connection | None]:
    """The old database, whole and held against every other connection while it is read
    and replaced (None if there is none yet).

    Its write-ahead log is checkpointed into the file and removed first (journal mode
    DELETE): a stale ``-wal`` or ``-journal`` beside the new file would be replayed into it.
    SQLite allows that switch only when no other connection is open, so a database in use
    (``iom serve``) is refused rather than swapped under it."""
    if not target.exists():
        yield None
        return
    old = sqlite3.connect(target, timeout=5, isolation_level=None)
    try:
        try:
            mode = old.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
            if str(mode).lower() != "delete":
                raise sqlite3.OperationalError("database is locked")
            old.execute("BEGIN EXCLUSIVE")
        except sqlite3.OperationalError as exc:
            raise UserError(f"{target} is in use by another program ({exc}): stop it (iom serve?) and try again; "
                            "nothing was changed") from None
        except sqlite3.DatabaseError as exc:
            raise UserError(f"{target} is not a readable SQLite database ({exc}); nothing was changed") from None
        yield old
    finally:
        old.close()  # the open read transaction ends; nothing was written to the old file


def _copy_tables(old: sqlite3.Connection | None, new: Engine, keep: Sequence[str]) -> None:
    """Rows of ``keep`` copied as stored (the audit chain hashes the stored text), in the
    columns both databases have; tables the old database lacks are skipped."""
    from iom.models import metadata

    if old is None or not keep:
        return
    present = {r[0] for r in old.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    with new.begin() as connection:
        for name in keep:
            if name not in present:
                continue
            held = {r[1] for r in old.execute(f"PRAGMA table_info({_quote(name)})")}
            columns = [c.name for c in metadata.tables[name].columns if c.name in held]
            listed = ", ".join(map(_quote, columns))
            insert = f"INSERT INTO {_quote(name)} ({listed}) VALUES ({', '.join('?' for _ in columns)})"
            cursor = old.execute(f"SELECT {listed} FROM {_quote(name)} ORDER BY rowid")
            while batch := cursor.fetchmany(COPY_BATCH):
                connection.exec_driver_sql(insert, batch)


def _seal(path: Path) -> None:
    """Leave the new file self-contained (no ``-wal`` beside it) and on disk before the swap."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        mode = connection.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    finally:
        connection.close()
    if str(mode).lower() != "delete":
        raise UserError(f"could not finish the new database {path}: nothing was changed")
    _fsync(path)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


__all__ = ["generate_force", "reset_database", "replace_database", "kept_tables", "SynthResult", "Progress", "Base"]
