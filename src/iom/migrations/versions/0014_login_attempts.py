"""sign-in attempts for the throttle, shared by every process serving the app

Revision ID: 0014
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "login_attempts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("address", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=8), nullable=False),
        sa.Column("audited", sa.String(length=8), nullable=True),
        sa.CheckConstraint("state IN ('pending', 'failed', 'forgiven', 'refused')", name=op.f("ck_login_attempts_state")),
        sa.CheckConstraint("audited IS NULL OR audited IN ('each', 'summary')", name=op.f("ck_login_attempts_audited")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_attempts")),
    )
    op.create_index(op.f("ix_login_attempts_at"), "login_attempts", ["at"], unique=False)
    op.create_index(op.f("ix_login_attempts_username"), "login_attempts", ["username"], unique=False)
    op.create_index(op.f("ix_login_attempts_address"), "login_attempts", ["address"], unique=False)


def downgrade() -> None:
    op.drop_table("login_attempts")
