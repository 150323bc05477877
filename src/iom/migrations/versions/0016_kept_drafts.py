"""forms kept across a sign-in, in the database so that any web worker gives them back

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "kept_drafts",
        sa.Column("token", sa.String(length=32), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("kept_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_kept_drafts")),
    )
    op.create_index(op.f("ix_kept_drafts_kept_at"), "kept_drafts", ["kept_at"], unique=False)


def downgrade() -> None:
    op.drop_table("kept_drafts")
