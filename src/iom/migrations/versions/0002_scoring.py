"""scoring tables

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa  # noqa: F401
from alembic import op  # noqa: F401

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "scoring_models",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cutoff", sa.Date(), nullable=False),
        sa.Column("config_version", sa.String(length=40), nullable=False),
        sa.Column("algorithm", sa.String(length=120), nullable=False),
        sa.Column("trained_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("n_train", sa.Integer(), nullable=False),
        sa.Column("base_rate", sa.Float(), nullable=False),
        sa.Column("report", sa.Text(), nullable=True),
        sa.Column("estimator", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scoring_models")),
        sa.UniqueConstraint("cutoff", "config_version", name="uq_scoring_models_cutoff_config"),
    )
    op.create_table(
        "score_runs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("config_version", sa.String(length=40), nullable=False),
        sa.Column("model_id", sa.Integer(), nullable=True),
        sa.Column("scored_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("people", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["model_id"], ["scoring_models.id"], name=op.f("fk_score_runs_model_id_scoring_models")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_score_runs")),
        sa.UniqueConstraint("as_of", "config_version", name="uq_score_runs_as_of_config"),
    )
    op.create_table(
        "scores",
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("crimes", sa.Integer(), nullable=False),
        sa.Column("crime_points", sa.Integer(), nullable=False),
        sa.Column("frequency_points", sa.Integer(), nullable=False),
        sa.Column("victims", sa.Integer(), nullable=False),
        sa.Column("victim_points", sa.Integer(), nullable=False),
        sa.Column("rfg", sa.Integer(), nullable=False),
        sa.Column("harm_days", sa.Integer(), nullable=False),
        sa.Column("harm_points", sa.Integer(), nullable=False),
        sa.Column("risk", sa.Float(), nullable=True),
        sa.Column("risk_points", sa.Integer(), nullable=False),
        sa.Column("ogrs3_1y", sa.Float(), nullable=True),
        sa.Column("ogrs3_2y", sa.Float(), nullable=True),
        sa.Column("vulnerability", sa.Integer(), nullable=False),
        sa.Column("composite", sa.Integer(), nullable=False),
        sa.Column("last_committed_on", sa.Date(), nullable=True),
        sa.Column("member", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_scores_person_id_people")),
        sa.ForeignKeyConstraint(["run_id"], ["score_runs.id"], name=op.f("fk_scores_run_id_score_runs"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("run_id", "person_id", name=op.f("pk_scores")),
    )
    op.create_index(op.f("ix_scores_person_id"), "scores", ["person_id"], unique=False)
    op.create_table(
        "selection_overrides",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("include", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("approved_by", sa.String(length=80), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_by", sa.String(length=80), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("length(reason) > 0", name=op.f("ck_selection_overrides_reason_given")),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_selection_overrides_person_id_people")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_selection_overrides")),
    )
    op.create_index(op.f("ix_selection_overrides_person_id"), "selection_overrides", ["person_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_selection_overrides_person_id"), table_name="selection_overrides")
    op.drop_table("selection_overrides")
    op.drop_index(op.f("ix_scores_person_id"), table_name="scores")
    op.drop_table("scores")
    op.drop_table("score_runs")
    op.drop_table("scoring_models")
