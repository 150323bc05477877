"""`iom backup` and `iom restore`: a whole database to one file and back, each copy re-read and
its audit chain verified before it is trusted.

SQLite goes through its online backup API (``sqlite3.Connection.backup``: a consistent copy
while the server keeps writing), and a restore replaces the target in one transaction.
PostgreSQL goes through ``pg_dump``/``pg_restore`` in the custom format. A URL whose
``options`` set ``-csearch_path=S`` names one schema of a shared database (as the tests use):
only that schema is dumped (``--schema``), and restored under the target URL's own schema
name. A dump can only be checked by restoring it, so both directions restore it first into a
scratch database (``iom_verify_…``; the role needs CREATEDB), verify the audit chain there,
and drop it; a restore into another schema name renames the schema in that scratch copy."""

from __future__ import annotations

import os
import secrets
import shlex
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from iom.errors import UserError
from iom.security import audit

#: Tables whose rows mean a database holds work someone would lose (reference data alone,
#: as ``iom init`` loads it, does not count).
DATA_TABLES = ("people", "users", "audit_log")


@dataclass
class Copied:
    """What a backup or restore wrote and what checking it found."""

    path: Path
    backend: str
    audit: audit.VerifyResult
    #: Rows per data table in the copy, as re-read.
    counts: dict[str, int]


def _verify_engine(engine: Engine) -> tuple[audit.VerifyResult, dict[str, int]]:
    with Session(engine) as session:
        names = set(inspect(session.connection()).get_table_names())
        counts = {t: session.scalar(text(f"SELECT count(*) FROM {t}")) for t in DATA_TABLES if t in names}
        if "audit_log" not in names:
            return audit.VerifyResult(False, 0, None, "the copy has no audit_log table: not an IOM database"), counts
        return audit.verify(session), counts


def _holds_data(engine: Engine) -> bool:
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql" and connection.scalar(text("SELECT current_schema()")) is None:
            return False  # the search_path's schema does not exist yet: nothing to lose
        names = set(inspect(connection).get_table_names())
        return any(connection.scalar(text(f"SELECT EXISTS (SELECT 1 FROM {t})")) for t in DATA_TABLES if t in names)


def _refuse_existing(path: Path, replace: bool) -> None:
    if path.is_dir():
        raise UserError(f"{path} is a directory")
    if path.exists() and not replace:
        raise UserError(f"{path} exists: name a new file, or pass --replace to overwrite it")


def _partial(path: Path) -> Path:
    """Written beside the target and renamed over it once checked: never half a backup at ``path``."""
    return path.with_name(f".{path.name}.{secrets.token_hex(4)}.partial")


def backup(engine: Engine, path: Path, *, replace: bool = False) -> Copied:
    """Copy the whole database to ``path`` and check the copy. A copy whose audit log does not
    verify is still written (it is evidence), and the result says so."""
    _refuse_existing(path, replace)
    if engine.dialect.name == "sqlite":
        return _sqlite_backup(engine, path)
    if engine.dialect.name == "postgresql":
        return _pg_backup(engine, path)
    raise UserError(f"backup supports SQLite and PostgreSQL, not {engine.dialect.name}")


def restore(engine: Engine, path: Path, *, replace: bool = False) -> Copied:
    """Replace the database with the backup at ``path``: the backup is checked first (a copy
    whose audit log does not verify is refused), a database holding people, users or audit
    rows is only replaced with ``replace``, and the result is checked again."""
    if not path.is_file():
        raise UserError(f"{path} is not a file")
    if engine.dialect.name == "sqlite":
        return _sqlite_restore(engine, path, replace=replace)
    if engine.dialect.name == "postgresql":
        return _pg_restore(engine, path, replace=replace)
    raise UserError(f"restore supports SQLite and PostgreSQL, not {engine.dialect.name}")


def _refused_backup(path: Path, result: audit.VerifyResult) -> UserError:
    return UserError(f"the backup {path} does not verify (audit log broken at row id {result.first_bad_id}: "
                     f"{result.reason}); nothing was restored")


# SQLite ------------------------------------------------------------------------------------

def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    return None if not database or database == ":memory:" else Path(database)


@contextmanager
def _read_only(path: Path) -> Iterator[Engine]:
    """An engine that cannot change the file it checks."""
    engine = create_engine(URL.create("sqlite", database=f"file:{path.resolve()}?mode=ro", query={"uri": "true"}))
    try:
        yield engine
    finally:
        engine.dispose()


def _check_sqlite_file(path: Path) -> tuple[audit.VerifyResult, dict[str, int]]:
    try:
        with _read_only(path) as engine:
            with engine.connect() as connection:
                problems = [row[0] for row in connection.exec_driver_sql("PRAGMA integrity_check")]
            if problems != ["ok"]:
                raise UserError(f"{path} is damaged: {'; '.join(problems[:3])}")
            return _verify_engine(engine)
    except DBAPIError as exc:
        raise UserError(f"{path} is not an SQLite database: {exc.orig}") from None


def _sqlite_backup(engine: Engine, path: Path) -> Copied:
    source = _sqlite_file(engine)
    if source is not None and path.exists() and path.resolve() == source.resolve():
        raise UserError(f"{path} is the database itself")
    partial = _partial(path)
    raw = engine.raw_connection()
    try:
        target = sqlite3.connect(partial)
        try:
            raw.driver_connection.backup(target)
            # One self-contained file: no -wal beside it to lose in a copy.
            target.execute("PRAGMA journal_mode=DELETE")
        finally:
            target.close()
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise UserError(f"cannot back up to {path}: {exc}") from None
    finally:
        raw.close()
    try:
        result, counts = _check_sqlite_file(partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return Copied(path, "sqlite", result, counts)


def _sqlite_restore(engine: Engine, path: Path, *, replace: bool) -> Copied:
    result, _ = _check_sqlite_file(path)
    if not result.ok:
        raise _refused_backup(path, result)
    if _holds_data(engine) and not replace:
        raise UserError("the database holds people, users or audit rows: pass --replace to overwrite it with the backup")
    engine.dispose()  # no pooled connection keeps reading the old pages
    source = sqlite3.connect(f"file:{path.resolve()}?mode=ro", uri=True)
    raw = engine.raw_connection()
    try:
        # The backup API writes the whole target in one transaction: the old database stays
        # whole if this fails.
        source.backup(raw.driver_connection)
    except sqlite3.Error as exc:
        raise UserError(f"cannot restore into {engine.url.database}: {exc}") from None
    finally:
        raw.close()
        source.close()
    engine.dispose()
    result, counts = _verify_engine(engine)
    return Copied(Path(engine.url.database or ""), "sqlite", result, counts)


# PostgreSQL --------------------------------------------------------------------------------

def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        raise UserError(f"{name} is not installed or not on PATH: install the PostgreSQL client programs "
                        "(Debian: apt-get install postgresql-client) in the server's major version or newer")
    return found


def _schema_of(url: URL) -> str | None:
    """The first schema of ``options=-csearch_path=...`` (or ``-c search_path=...``), if any."""
    options = url.query.get("options")
    if isinstance(options, tuple):
        options = " ".join(options)
    words = shlex.split(options or "")
    for i, word in enumerate(words):
        setting = word[2:] if word.startswith("-c") and len(word) > 2 else (words[i + 1] if word == "-c" and i + 1 < len(words) else "")
        name, _, value = setting.partition("=")
        if name.strip() == "search_path" and value.strip():
            return value.split(",")[0].strip().strip('"')
    return None


def _libpq(url: URL, *, database: str | None = None) -> tuple[str, dict[str, str]]:
    """A libpq connection URI for the programs, and their environment: the password goes in
    PGPASSWORD, never on a command line others can read."""
    query = {k: v for k, v in url.query.items() if k != "options"}
    bare = url.set(drivername="postgresql", password=None, query=query)
    if database is not None:
        bare = bare.set(database=database)
    env = {**os.environ}
    if url.password is not None:
        env["PGPASSWORD"] = str(url.password)
    return bare.render_as_string(hide_password=False), env


def _run(args: list[str], env: dict[str, str], what: str) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        lines = [line for line in done.stderr.strip().splitlines() if line.strip()]
        raise UserError(f"{what} failed: {'; '.join(lines[:3]) or f'exit status {done.returncode}'}")
    return done.stdout


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _dump(url: URL, path: Path, *, schema: str | None, database: str | None = None) -> None:
    uri, env = _libpq(url, database=database)
    args = [_tool("pg_dump"), "--format=custom", "--no-password", f"--file={path}"]
    if schema is not None:
        args.append(f"--schema={_quote(schema)}")  # quoted: the name itself, not a pattern
    _run([*args, f"--dbname={uri}"], env, "pg_dump")


def _load(url: URL, path: Path, *, database: str | None = None, single: bool = False, clean: bool = False) -> None:
    """``pg_restore`` into the URL's database. Ownership and grants are not restored: the
    restoring role owns what it makes; grant the app's role again (docs/web.md)."""
    uri, env = _libpq(url, database=database)
    args = [_tool("pg_restore"), "--no-password", "--exit-on-error", "--no-owner", "--no-privileges"]
    if single:
        args.append("--single-transaction")
    if clean:
        args += ["--clean", "--if-exists"]
    _run([*args, f"--dbname={uri}", str(path)], env, "pg_restore")


def _dump_schemas(path: Path) -> set[str]:
    """The schemas a custom-format archive's tables live in (``pg_restore --list``)."""
    listing = _run([_tool("pg_restore"), "--list", str(path)], dict(os.environ), f"reading {path} as a pg_dump archive")
    schemas = set()
    for line in listing.splitlines():
        if line.startswith(";") or " TABLE " not in line or " TABLE DATA " in line:
            continue
        words = line.split(" TABLE ", 1)[1].split()
        if words:
            schemas.add(words[0])
    return schemas


@contextmanager
def _scratch_database(engine: Engine) -> Iterator[str]:
    """A database of its own on the same server, dropped afterwards (CREATEDB needed)."""
    name = f"iom_verify_{secrets.token_hex(6)}"
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        try:
            with admin.connect() as connection:
                connection.execute(text(f"CREATE DATABASE {_quote(name)}"))
        except DBAPIError as exc:
            raise UserError(f"cannot check the copy: creating a scratch database failed ({str(exc.orig).strip()}); "
                            "the role needs CREATEDB") from None
        try:
            yield name
        finally:
            with admin.connect() as connection:
                connection.execute(text(f"DROP DATABASE IF EXISTS {_quote(name)} WITH (FORCE)"))
    finally:
        admin.dispose()


@contextmanager
def _engine_on(url: URL, *, database: str, schema: str | None) -> Iterator[Engine]:
    query = {k: v for k, v in url.query.items() if k != "options"}
    if schema is not None:
        query["options"] = f"-csearch_path={schema}"
    engine = create_engine(url.set(database=database, query=query))
    try:
        yield engine
    finally:
        engine.dispose()


def _check_dump(engine: Engine, path: Path, scratch: str, schema: str | None) -> tuple[audit.VerifyResult, dict[str, int]]:
    """Restore the archive into ``scratch`` and verify it there: re-reading a dump means
    restoring it."""
    _load(engine.url, path, database=scratch)
    with _engine_on(engine.url, database=scratch, schema=schema) as copy:
        return _verify_engine(copy)


def _pg_backup(engine: Engine, path: Path) -> Copied:
    schema = _schema_of(engine.url)
    partial = _partial(path)
    try:
        _dump(engine.url, partial, schema=schema)
        with _scratch_database(engine) as scratch:
            result, counts = _check_dump(engine, partial, scratch, schema)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    partial.replace(path)
    return Copied(path, "postgresql", result, counts)


def _pg_restore(engine: Engine, path: Path, *, replace: bool) -> Copied:
    target = _schema_of(engine.url)
    schemas = _dump_schemas(path)
    if not schemas:
        raise UserError(f"{path} holds no tables")
    single = next(iter(schemas)) if len(schemas) == 1 else None
    if target is None and single not in (None, "public"):
        raise UserError(f"{path} is a backup of schema {single} only: restore it into a URL whose options set "
                        f"-csearch_path=<schema> (or a database's public schema holding the rest)")
    if target is not None and single is None:
        raise UserError(f"{path} holds tables in several schemas ({', '.join(sorted(schemas))}): restore it into a "
                        "whole database (a URL without a search_path)")
    if _holds_data(engine) and not replace:
        raise UserError("the database holds people, users or audit rows: pass --replace to overwrite it with the backup")
    work = path.with_name(f".{path.name}.{secrets.token_hex(4)}.renamed")
    try:
        with _scratch_database(engine) as scratch:
            result, _ = _check_dump(engine, path, scratch, single)
            if not result.ok:
                raise _refused_backup(path, result)
            staged = path
            if target is not None and target != single:
                with _engine_on(engine.url, database=scratch, schema=None) as copy, copy.begin() as connection:
                    connection.execute(text(f"ALTER SCHEMA {_quote(single)} RENAME TO {_quote(target)}"))
                _dump(engine.url, work, schema=target, database=scratch)
                staged = work
            engine.dispose()
            if target is None:
                with engine.connect() as connection:
                    has_tables = bool(inspect(connection).get_table_names())
                _load(engine.url, staged, single=True, clean=has_tables)
            else:
                _swap_schema(engine, staged, target)
    finally:
        work.unlink(missing_ok=True)
    engine.dispose()
    result, counts = _verify_engine(engine)
    return Copied(Path(engine.url.render_as_string(hide_password=True)), "postgresql", result, counts)


def _swap_schema(engine: Engine, staged: Path, schema: str) -> None:
    """Move the old schema aside, restore the new one in one transaction, then drop the old
    one; if the restore fails the old schema is put back as it was."""
    aside = f"{schema}_replaced_{secrets.token_hex(4)}"
    admin = create_engine(engine.url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            exists = connection.scalar(text("SELECT EXISTS (SELECT 1 FROM pg_namespace WHERE nspname = :n)"), {"n": schema})
            if exists:
                connection.execute(text(f"ALTER SCHEMA {_quote(schema)} RENAME TO {_quote(aside)}"))
        try:
            _load(engine.url, staged, single=True)
        except BaseException:
            if exists:
                with admin.connect() as connection:
                    connection.execute(text(f"DROP SCHEMA IF EXISTS {_quote(schema)} CASCADE"))
                    connection.execute(text(f"ALTER SCHEMA {_quote(aside)} RENAME TO {_quote(schema)}"))
            raise
        if exists:
            with admin.connect() as connection:
                connection.execute(text(f"DROP SCHEMA {_quote(aside)} CASCADE"))
    finally:
        admin.dispose()
