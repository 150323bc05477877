"""Shared fixtures. The backend follows IOM_DATABASE_URL: SQLite files in a temporary
directory by default; on PostgreSQL every database a test asks for is a schema of its own,
created here and dropped afterwards, so nothing is left behind."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from iom.db import make_engine
from iom.register.service import init_database

BASE_URL = os.environ.get("IOM_DATABASE_URL", "")
#: Appending to the audit log needs a key outside development (iom.security.settings); the
#: suite's own, inherited by the commands it runs as subprocesses.
os.environ.setdefault("IOM_AUDIT_KEY", "iom-test-suite-audit-key-" + "k" * 24)
ON_POSTGRES = BASE_URL.startswith("postgresql")

#: Small scale used by tests that need a whole synthetic force (the published cohort of
#: 6,501 still fits; the wider population is a tenth of the default).
TEST_PEOPLE = 20_000


class ScratchDatabase:
    """A database URL that exists only for the lifetime of this object."""

    def __init__(self, tmp_dir: Path) -> None:
        self.name = f"iom_test_{uuid.uuid4().hex[:12]}"
        if ON_POSTGRES:
            self._admin = create_engine(BASE_URL, isolation_level="AUTOCOMMIT")
            with self._admin.connect() as conn:
                conn.execute(text(f'CREATE SCHEMA "{self.name}"'))
            url = make_url(BASE_URL).update_query_dict({"options": f"-csearch_path={self.name}"})
            self.url = url.render_as_string(hide_password=False)
        else:
            self.url = f"sqlite:///{tmp_dir / (self.name + '.db')}"
        self.engines: list[Engine] = []

    def engine(self) -> Engine:
        engine = make_engine(self.url)
        self.engines.append(engine)
        return engine

    def drop(self) -> None:
        for engine in self.engines:
            engine.dispose()
        if ON_POSTGRES:
            with self._admin.connect() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{self.name}" CASCADE'))
            self._admin.dispose()


@pytest.fixture
def scratch_db(tmp_path: Path) -> Iterator[ScratchDatabase]:
    """An empty database (no schema) for this test only."""
    db = ScratchDatabase(tmp_path)
    yield db
    db.drop()


@pytest.fixture
def fresh_engine(scratch_db: ScratchDatabase) -> Engine:
    """A migrated database with reference data, for this test only."""
    engine = scratch_db.engine()
    init_database(engine)
    return engine


@pytest.fixture(scope="session")
def shared_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabase]:
    db = ScratchDatabase(tmp_path_factory.mktemp("shared"))
    yield db
    db.drop()


@pytest.fixture(scope="session")
def shared_engine(shared_db: ScratchDatabase) -> Engine:
    """A migrated database shared by this worker's tests; use ``db_session`` to write."""
    engine = shared_db.engine()
    init_database(engine)
    return engine


@pytest.fixture
def db_session(shared_engine: Engine) -> Iterator[Session]:
    """A session whose work is rolled back after the test, even if the test commits."""
    connection = shared_engine.connect()
    transaction = connection.begin()
    session = Session(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)
    try:
        yield session
    finally:
        session.close()
        transaction.rollback()
        connection.close()


@pytest.fixture(scope="session")
def force_db(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ScratchDatabase]:
    """A synthetic force (seed 1, TEST_PEOPLE people) for read-only tests of this worker."""
    from iom.synth.service import generate_force

    db = ScratchDatabase(tmp_path_factory.mktemp("force"))
    engine = db.engine()
    init_database(engine)
    generate_force(engine, seed=1, people=TEST_PEOPLE)
    yield db
    db.drop()


@pytest.fixture(scope="session")
def force_engine(force_db: ScratchDatabase) -> Engine:
    """Engine on the shared synthetic force. Tests must not write to it."""
    return force_db.engines[0]
