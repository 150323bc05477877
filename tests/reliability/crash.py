"""Helpers for the crash tests: the installed `iom` as a subprocess, killed (SIGKILL) at a
chosen moment, and the state a database is in afterwards."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from iom.db import make_engine
from tests.conftest import BASE_URL, ON_POSTGRES, ScratchDatabase

IOM = Path(sys.executable).with_name("iom")
#: Any key of 32+ characters: the audit log is keyed outside development.
AUDIT_KEY = "reliability-tests-audit-key-0123456789abcdef"


def env(url: str) -> dict[str, str]:
    return {**os.environ, "IOM_DATABASE_URL": url, "IOM_AUDIT_KEY": AUDIT_KEY, "COLUMNS": "120"}


def iom(url: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    """Run `iom ARGS` to the end; a failure is the test's failure, with what it printed."""
    result = subprocess.run([str(IOM), *args], env=env(url), capture_output=True, text=True, input=input, timeout=300)
    assert result.returncode == 0, f"iom {' '.join(args)} exited {result.returncode}:\n{result.stdout}\n{result.stderr}"
    return result


def killed_after(url: str, args: list[str], delay: float) -> bool:
    """Start `iom ARGS` and SIGKILL it ``delay`` seconds in; False if it had already ended
    (successfully: a failure fails the test)."""
    process = subprocess.Popen([str(IOM), *args], env=env(url), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = process.communicate(timeout=delay)
    except subprocess.TimeoutExpired:
        process.send_signal(signal.SIGKILL)
        process.communicate()
        return True
    assert process.returncode == 0, err.decode()
    return False


def summary(url: str) -> str:
    """What `iom summary --json` prints."""
    return iom(url, "summary", "--json").stdout


def summary_here(url: str) -> str:
    """The same text, built in this process through a fresh engine (disposed after, so the
    next replacement does not find the database in use): a subprocess per check would double
    the loops' time."""
    from iom.register.service import summary as register_summary

    engine = make_engine(url)
    try:
        with Session(engine) as session:
            return json.dumps(register_summary(session).model_dump(mode="json"), indent=2) + "\n"
    finally:
        engine.dispose()


def init_here(url: str) -> None:
    """`iom init`'s work, in this process, through a fresh engine."""
    from iom.register.service import init_database

    engine = make_engine(url)
    try:
        init_database(engine)
    finally:
        engine.dispose()


def schema_state(url: str) -> tuple:
    """Every table's definition, the Alembic revision and the reference units: what a
    migration changes. Read through a fresh engine, disposed after, as a new process would."""
    engine = make_engine(url)
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                schema = connection.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY type, name")).all()
            else:
                schema = connection.execute(text(
                    "SELECT table_name, column_name, data_type FROM information_schema.columns "
                    "WHERE table_schema = current_schema() ORDER BY 1, 2")).all()
            tables = set(inspect(connection).get_table_names())
            revision = connection.scalar(text("SELECT version_num FROM alembic_version")) if "alembic_version" in tables else None
            units = connection.scalar(text("SELECT count(*) FROM units")) if "units" in tables else None
        return tuple(map(tuple, schema)), revision, units
    finally:
        engine.dispose()


def empty(db: ScratchDatabase) -> None:
    """Make the scratch database empty again (no tables at all)."""
    for engine in db.engines:
        engine.dispose()
    if ON_POSTGRES:
        admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA IF EXISTS "{db.name}" CASCADE'))
            connection.execute(text(f'CREATE SCHEMA "{db.name}"'))
        admin.dispose()
    else:
        path = Path(make_url(db.url).database)
        for suffix in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)


def scalar(engine: Engine, sql: str):
    with engine.connect() as connection:
        return connection.scalar(text(sql))
