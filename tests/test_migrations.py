"""Migrations and models describe the same schema, on SQLite and on PostgreSQL."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from iom import migrate
from iom.models import metadata


def test_upgrade_head_on_an_empty_database_matches_the_models(scratch_db):
    engine = scratch_db.engine()
    migrate.upgrade(engine)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, metadata)
    assert differences == []


def test_every_model_table_is_created(scratch_db):
    from iom.db import table_names

    engine = scratch_db.engine()
    migrate.upgrade(engine)
    assert set(metadata.tables) <= set(table_names(engine))
