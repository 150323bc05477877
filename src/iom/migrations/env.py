"""Alembic environment: the URL comes from the caller's connection, or from settings.

Every migration of a run goes in one transaction (Alembic's default, not one per
migration), and ``iom.migrate`` hands over a connection already inside it
(``iom.db.ddl_transaction``), so on SQLite as on PostgreSQL a failed or killed upgrade
leaves the schema as it was."""

from __future__ import annotations

from alembic import context

from iom.config import get_settings
from iom.db import ddl_transaction, make_engine
from iom.models import metadata

config = context.config


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        transaction_per_migration=False,
    )


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():  # joins the caller's transaction
            context.run_migrations()
        return
    engine = make_engine(config.get_main_option("sqlalchemy.url") or get_settings().database_url)
    with ddl_transaction(engine, foreign_keys=False) as connection:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()


if context.is_offline_mode():
    raise SystemExit("offline migrations are not supported: run against a database")
run_migrations_online()
