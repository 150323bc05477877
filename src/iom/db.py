"""Database engine, sessions and the declarative base shared by every domain."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
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


def make_engine(url: str | None = None) -> Engine:
    """Build an engine for ``url`` (default: settings), turning a bad URL into a UserError."""
    url = url or get_settings().database_url
    try:
        parsed = make_url(url)
        # Enough connections for every worker thread of the web app (anyio's 40) at once.
        # A SQLite file has nothing to ping; a server connection may have been dropped.
        engine = create_engine(parsed, future=True, pool_size=10, max_overflow=40,
                               pool_pre_ping=parsed.get_backend_name() != "sqlite")
    except (ArgumentError, NoSuchModuleError, ValueError) as exc:
        raise UserError(f"bad database URL {url!r}: {exc}") from None
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _sqlite_pragmas)
    return engine


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
    ``batch`` at a time, so an iterator of any length stays bounded in memory."""
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
        stmt = insert(table)
        update = {c: stmt.excluded[c] for c in names if c not in keys and c not in keep}
        stmt = stmt.on_conflict_do_update(index_elements=keys, set_=update) if update else stmt.on_conflict_do_nothing(index_elements=keys)
        if conn.dialect.name == "sqlite":
            _sqlite_executemany(conn, table, stmt, names, part)
        else:
            # SQLAlchemy's "insertmanyvalues" sends 1,000 rows per statement, faster than
            # the driver's own executemany.
            conn.execute(stmt, part)
        sent += len(part)
    return sent


def _sqlite_executemany(conn: Connection, table: Table, stmt: Any, names: list[str], rows: list[Mapping[str, Any]]) -> None:
    """The statement is built by SQLAlchemy but the rows go straight to the driver's
    executemany, since SQLAlchemy's per-row parameter processing was a quarter of import
    time. Values are converted by the columns' own SQLite bind processors (dates as ISO
    text, booleans as 0/1), so they are stored exactly as SQLAlchemy would store them."""
    compiled = stmt.compile(dialect=conn.dialect, column_keys=names)
    order = compiled.positiontup
    convert = [table.c[k].type.dialect_impl(conn.dialect).bind_processor(conn.dialect) for k in order]
    pairs = list(zip(order, convert))
    params = [tuple(row[k] if f is None else f(row[k]) for k, f in pairs) for row in rows]
    conn.exec_driver_sql(str(compiled), params)


def fetch(session: Session, model, key, *, what: str):
    """The ``model`` row with primary key ``key``, or not found in words ("no disposal #7")."""
    row = session.get(model, key)
    if row is None:
        raise NotFound(f"no {what} #{key}")
    return row
