"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, event, inspect
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from iom.config import get_settings
from iom.errors import NotFound, UserError

# Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def sql_in(column: str, values: tuple[str, ...]) -> str:
    """A CHECK constraint's text: ``column`` holds one of ``values``."""
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA cache_size=-131072")  # 128 MiB: bulk loads and index builds
    cursor.close()


#: Pool of an engine made without sizes: every worker thread of one web process (anyio's 40)
#: at once, for a command or a single-process server.
DEFAULT_POOL = (10, 40)


def make_engine(url: str | None = None, *, pool: tuple[int, int] = DEFAULT_POOL, pool_timeout: float = 30) -> Engine:
    """Build an engine for ``url`` (default: settings), turning a bad URL into a UserError.
    ``pool``: (connections kept, more allowed beyond them); ``pool_timeout``: seconds a
    request waits for a connection before ``sqlalchemy.exc.TimeoutError`` (the web answers 503)."""
    url = url or get_settings().database_url
    try:
        parsed = make_url(url)
        # A SQLite file has nothing to ping; a server connection may have been dropped.
        engine = create_engine(parsed, future=True, pool_size=pool[0], max_overflow=pool[1], pool_timeout=pool_timeout,
                               pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise UserError(f"bad database URL {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


#: Connections left to commands, backups and an administrator's psql beside the web workers.
RESERVED_CONNECTIONS = 10
#: At most this many connections per worker for requests (its thread pool has 40 threads)...
MOST_PER_WORKER = 40
#: ...and this many for its audit log and sign-in throttle, which append in short transactions.
MOST_AUDIT_PER_WORKER = 8


def max_connections(engine: Engine) -> int | None:
    """PostgreSQL's ``max_connections`` less its superuser reserve; None for SQLite (no limit)."""
    if engine.dialect.name != "postgresql":
        return None
    with engine.connect() as connection:
        total = int(connection.exec_driver_sql("SHOW max_connections").scalar())
        reserved = int(connection.exec_driver_sql("SHOW superuser_reserved_connections").scalar())
    return total - reserved


@dataclass(frozen=True)
class PoolSizes:
    """One web worker's connection budget: its request pool and its audit pool (each fixed in
    size, no overflow), so every worker together stays within the server's connections."""

    requests: int
    audit: int

    def describe(self, workers: int) -> str:
        return (f"{workers} worker(s) x ({self.requests} request + {self.audit} audit connections) "
                f"= {workers * (self.requests + self.audit)} connections")


def pool_sizes(*, workers: int, limit: int | None) -> PoolSizes:
    """Split ``limit`` connections (None: unlimited) among ``workers``, keeping
    ``RESERVED_CONNECTIONS`` back; UserError if not even two per worker are left."""
    if limit is None:
        return PoolSizes(requests=MOST_PER_WORKER, audit=MOST_AUDIT_PER_WORKER)
    each = (limit - RESERVED_CONNECTIONS) // workers
    if each < 2:
        raise UserError(f"the database allows {limit} connections: too few for {workers} web workers "
                        f"({RESERVED_CONNECTIONS} kept for commands, at least 2 per worker); "
                        "use fewer workers or raise max_connections")
    audit = max(1, min(MOST_AUDIT_PER_WORKER, each // 4))
    return PoolSizes(requests=min(MOST_PER_WORKER, each - audit), audit=audit)


@lru_cache
def get_engine(url: str | None = None) -> Engine:
    return make_engine(url)


def check_connection(engine: Engine) -> None:
    try:
        with engine.connect():
            pass
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise UserError(f"cannot connect to the database {engine.url!r}: {reason}") from None


def session_factory(engine: Engine | None = None) -> sessionmaker[Session]:
    return sessionmaker(bind=engine or get_engine(), expire_on_commit=False, future=True)


@contextmanager
def session_scope(engine: Engine | None = None) -> Iterator[Session]:
    """One unit of work: commit on success, roll back everything on any error."""
    session = session_factory(engine)()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def ddl_transaction(engine: Engine, *, foreign_keys: bool = True) -> Iterator[Connection]:
    """One transaction that schema changes join too, committed at the end: all or nothing.

    PostgreSQL's DDL is transactional as it is. SQLite's is too, but the Python driver runs
    ``CREATE``/``DROP`` outside any transaction until a row is written, so a killed migration
    left half a schema; here the driver's own transaction handling is switched off for this
    connection and ``BEGIN IMMEDIATE`` issued. ``foreign_keys=False`` (SQLite only) lets
    Alembic's batch mode copy and drop tables; ``PRAGMA foreign_key_check`` then runs before
    the commit, so no dangling reference gets in."""
    with engine.connect() as connection:
        if connection.dialect.name != "sqlite":
            with connection.begin():
                yield connection
            return
        raw = connection.connection.dbapi_connection
        saved = raw.isolation_level
        connection.commit()  # nothing is open yet; SQLAlchemy's bookkeeping only
        if not foreign_keys:
            connection.exec_driver_sql("PRAGMA foreign_keys=OFF")
            connection.commit()
        raw.isolation_level = None
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            yield connection
            if not foreign_keys:
                dangling = connection.exec_driver_sql("PRAGMA foreign_key_check").first()
                if dangling:
                    raise UserError(f"a row of {dangling[0]} refers to a missing row of {dangling[2]}; nothing was changed")
            connection.commit()
        except BaseException:
            connection.rollback()
            raise
        finally:
            raw.isolation_level = saved
            if not foreign_keys:
                connection.exec_driver_sql("PRAGMA foreign_keys=ON")
                connection.commit()


def table_names(engine: Engine) -> list[str]:
    return sorted(inspect(engine).get_table_names())


def refresh_statistics(engine: Engine) -> None:
    """After a bulk load on PostgreSQL, ``ANALYZE`` the register's tables: the planner has
    no statistics for freshly filled tables until autovacuum gets round to them (and where
    it is off, never), and without them it scans where an index would do, a few
    milliseconds on every record read. SQLite, holding no statistics unless asked, plans from
    its schema: nothing to do there."""
    if engine.dialect.name != "postgresql":
        return
    present = set(inspect(engine).get_table_names())
    names = [t.name for t in Base.metadata.sorted_tables if t.name in present]
    if names:
        with engine.begin() as connection:
            connection.exec_driver_sql(f"ANALYZE {_quoted(connection, names)}")


#: Rows held in memory and sent per ``upsert`` batch.
UPSERT_BATCH = 5_000


def upsert(
    conn: Connection,
    table: Table,
    rows: Iterable[Mapping[str, Any]],
    keys: Sequence[str] | None = None,
    *,
    keep: Sequence[str] = (),
    batch: int = UPSERT_BATCH,
) -> int:
    """``INSERT .. ON CONFLICT (keys) DO UPDATE`` every other given column except ``keep``
    (default keys: the primary key); returns the number of rows sent.

    The one way rows are written "insert or update", so loading the same data twice
    leaves the same rows. Every row must have the columns of the first. Rows are sent
    ``batch`` at a time, so an iterator of any length stays bounded in memory. On PostgreSQL
    each batch is copied (``COPY``) into a temporary table and merged by one statement: the
    driver's executemany would send one statement per row, and a statement trigger (the
    register version's) would then fire once per row, each over a longer chain of dead row
    versions, so imports grew with the square of their rows."""
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:  # pragma: no cover - only SQLite and PostgreSQL are supported
        raise UserError(f"the {conn.dialect.name} database is not supported")
    keys = list(keys) if keys is not None else [c.name for c in table.primary_key.columns]
    rows = iter(rows)
    sent = 0
    while part := list(islice(rows, batch)):
        names = list(part[0])
        update = [c for c in names if c not in keys and c not in keep]
        if conn.dialect.name == "postgresql":
            _pg_merge(conn, table, names, keys, update, part)
        else:
            stmt = insert(table)
            changes = {c: stmt.excluded[c] for c in update}
            stmt = stmt.on_conflict_do_update(index_elements=keys, set_=changes) if changes else stmt.on_conflict_do_nothing(index_elements=keys)
            _sqlite_executemany(conn, table, stmt, names, part)
        sent += len(part)
    return sent


def insert_rows(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Plain ``INSERT`` of many rows (each with the columns of the first): ``COPY`` on
    PostgreSQL (one statement, so statement triggers fire once), the driver's executemany on
    SQLite. Returns the number of rows written."""
    if not rows:
        return 0
    names = list(rows[0])
    if conn.dialect.name == "postgresql":
        _pg_copy(conn, table.name, table, names, rows)
    else:
        from sqlalchemy import insert

        _sqlite_executemany(conn, table, insert(table), names, rows)
    return len(rows)


def _converted(conn: Connection, table: Table, names: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple]:
    """Rows as tuples of driver values, converted by the columns' own bind processors (dates
    as ISO text on SQLite, JSON as text...), so they are stored exactly as SQLAlchemy would."""
    convert = [table.c[k].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for k in names]
    pairs = list(zip(names, convert))
    for row in rows:
        yield tuple(row[k] if f is None else f(row[k]) for k, f in pairs)


def _quoted(conn: Connection, names: Iterable[str]) -> str:
    return ", ".join(conn.dialect.identifier_preparer.quote(n) for n in names)


def _pg_copy(conn: Connection, target: str, table: Table, names: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> None:
    raw = conn.connection.driver_connection
    with raw.cursor() as cursor:
        with cursor.copy(f"COPY {target} ({_quoted(conn, names)}) FROM STDIN") as copy:
            for row in _converted(conn, table, names, rows):
                copy.write_row(row)


def _pg_merge(conn: Connection, table: Table, names: list[str], keys: list[str], update: list[str],
              rows: list[Mapping[str, Any]]) -> None:
    """One batch: COPY into a temporary copy of the table's columns, then one
    ``INSERT .. SELECT .. ON CONFLICT``."""
    stage = f"iom_stage_{table.name}"
    columns = _quoted(conn, names)
    conn.exec_driver_sql(f"CREATE TEMPORARY TABLE IF NOT EXISTS {stage} AS SELECT {columns} FROM {table.name} WITH NO DATA")
    conn.exec_driver_sql(f"TRUNCATE {stage}")
    _pg_copy(conn, stage, table, names, rows)
    target = _quoted(conn, keys)
    action = ("DO UPDATE SET " + ", ".join(f"{c} = EXCLUDED.{c}" for c in (conn.dialect.identifier_preparer.quote(u) for u in update))
              if update else "DO NOTHING")
    conn.exec_driver_sql(f"INSERT INTO {table.name} ({columns}) SELECT {columns} FROM {stage} ON CONFLICT ({target}) {action}")
    conn.exec_driver_sql(f"DROP TABLE {stage}")


def _sqlite_executemany(conn: Connection, table: Table, stmt: Any, names: list[str], rows: Sequence[Mapping[str, Any]]) -> None:
    """The statement is built by SQLAlchemy but the rows go straight to the driver's
    executemany, since SQLAlchemy's per-row parameter processing was a quarter of import
    time."""
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    order = compiled.positiontup
    conn.exec_driver_sql(str(compiled), list(_converted(conn, table, order, rows)))


def fetch(session: Session, model, key, *, what: str):
    """The ``model`` row with primary key ``key``, or not found in words ("no disposal #7")."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} #{key}")
    return row
