"""Run Alembic migrations from code (``iom init``), against an engine or connection we hold."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy.engine import Connection, Engine

from iom.db import ddl_transaction

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(bind: Engine | Connection, revision: str = "head") -> None:
    """Migrate to ``revision``, all or nothing: every migration in one transaction (the
    caller's, given a connection), so a failed or killed upgrade leaves the schema it found."""
    if isinstance(bind, Engine):
        with ddl_transaction(bind, foreign_keys=False) as connection:
            upgrade(connection, revision)
        return
    config = alembic_config()
    config.attributes["connection"] = bind
    command.upgrade(config, revision)
