"""override decisions: rejection and the reason for a rejection or revocation

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("selection_overrides") as batch:
        batch.add_column(sa.Column("rejected_by", sa.String(80), nullable=True))
        batch.add_column(sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("decision_reason", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("selection_overrides") as batch:
        batch.drop_column("decision_reason")
        batch.drop_column("rejected_at")
        batch.drop_column("rejected_by")
