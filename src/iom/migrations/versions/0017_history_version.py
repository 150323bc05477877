"""the current-state stamp follows the histories alone: a history version bumped by triggers on
the four history tables, so a write elsewhere in the register (a scoring run) no longer sends
the caseload back to the histories

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

# Frozen copy of iom.cohorts.models.HISTORY_TABLES at this revision.
TABLES = ("cohort_memberships", "risk_level_history", "management_history", "risk_reviews")
_PG_FUNCTION = (
    "CREATE OR REPLACE FUNCTION history_version_bump() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN UPDATE person_current_state_stamp SET history_version = history_version + 1; RETURN NULL; END $$"
)


def upgrade() -> None:
    bind = op.get_bind()
    # The table held if it was stamped at the register's current version.
    held = bind.scalar(sa.text("SELECT s.register_version = v.version FROM person_current_state_stamp s "
                               "JOIN register_version v ON v.id = 1 WHERE s.id = 1"))
    with op.batch_alter_table("person_current_state_stamp") as batch:
        batch.alter_column("register_version", new_column_name="state_version")
        batch.add_column(sa.Column("history_version", sa.BigInteger(), nullable=True))
    start = secrets.randbits(48)
    bind.execute(sa.text("DELETE FROM person_current_state_stamp"))
    bind.execute(sa.text("INSERT INTO person_current_state_stamp (id, history_version, state_version) "
                         "VALUES (1, :start, :state)").bindparams(start=start, state=start if held else None))
    with op.batch_alter_table("person_current_state_stamp") as batch:
        batch.alter_column("history_version", existing_type=sa.BigInteger(), nullable=False)
    if bind.dialect.name == "postgresql":
        op.execute(_PG_FUNCTION)
        for table in TABLES:
            op.execute(f"CREATE TRIGGER history_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION history_version_bump()")
    else:
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER history_version_{table}_{event.lower()} AFTER {event} ON {table} "
                           "BEGIN UPDATE person_current_state_stamp SET history_version = history_version + 1; END")


def downgrade() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"DROP TRIGGER IF EXISTS history_version_{table} ON {table}")
        op.execute("DROP FUNCTION IF EXISTS history_version_bump()")
    else:
        for table in TABLES:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS history_version_{table}_{event}")
    held = bind.scalar(sa.text("SELECT state_version = history_version FROM person_current_state_stamp WHERE id = 1"))
    with op.batch_alter_table("person_current_state_stamp") as batch:
        batch.drop_column("history_version")
        batch.alter_column("state_version", new_column_name="register_version")
    # Stamped at the register's version if it held, else at none (readers use the histories).
    bind.execute(sa.text("UPDATE person_current_state_stamp SET register_version = "
                         "CASE WHEN :held THEN (SELECT version FROM register_version WHERE id = 1) END")
                 .bindparams(held=bool(held)))
