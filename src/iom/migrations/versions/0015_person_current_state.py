"""the current-state table (latest risk, management, membership and review per person) and its
stamp, filled from the histories

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

import datetime as dt

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

# A frozen copy of what iom.cohorts.current_state.refresh computes at this revision, so the
# migration does not change when that code does.
_LATEST = """(SELECT h.* FROM {table} h WHERE h.effective_from <= :on AND NOT EXISTS (
    SELECT 1 FROM {table} n WHERE n.person_id = h.person_id AND n.effective_from <= :on
    AND (n.effective_from > h.effective_from OR (n.effective_from = h.effective_from AND n.id > h.id))))"""
_FILL = f"""
INSERT INTO person_current_state (person_id, changed_on, next_change_on, risk_level, risk_since, offender_type,
    lead_agency, lomu_code, officer, managed_since, classifications, adopted_on, reviewed_on, review_due)
SELECT s.person_id, s.changed_on, s.next_change_on, r.level, r.effective_from, g.offender_type, g.lead_agency,
    g.lomu_code, g.officer, g.effective_from, COALESCE(m.n, 0), m.adopted_on, v.reviewed_on, v.review_due
FROM (SELECT person_id, MAX(CASE WHEN day <= :on THEN day END) AS changed_on,
             MIN(CASE WHEN day > :on THEN day END) AS next_change_on
      FROM (SELECT person_id, effective_from AS day FROM risk_level_history
            UNION ALL SELECT person_id, effective_from FROM management_history
            UNION ALL SELECT person_id, adopted_on FROM cohort_memberships
            UNION ALL SELECT person_id, exited_on FROM cohort_memberships WHERE exited_on IS NOT NULL
            UNION ALL SELECT person_id, reviewed_on FROM risk_reviews) e
      GROUP BY person_id) s
LEFT JOIN {_LATEST.format(table="risk_level_history")} r ON r.person_id = s.person_id
LEFT JOIN {_LATEST.format(table="management_history")} g ON g.person_id = s.person_id
LEFT JOIN (SELECT person_id, COUNT(DISTINCT classification_code) AS n, MAX(adopted_on) AS adopted_on
           FROM cohort_memberships WHERE adopted_on <= :on AND (exited_on IS NULL OR exited_on > :on)
           GROUP BY person_id) m ON m.person_id = s.person_id
LEFT JOIN (SELECT w.person_id, w.reviewed_on, MAX(w.next_due) AS review_due FROM risk_reviews w
           JOIN (SELECT person_id, MAX(reviewed_on) AS reviewed_on FROM risk_reviews WHERE reviewed_on <= :on
                 GROUP BY person_id) x ON x.person_id = w.person_id AND x.reviewed_on = w.reviewed_on
           GROUP BY w.person_id, w.reviewed_on) v ON v.person_id = s.person_id
"""


def _reference_date(bind) -> dt.date:
    """iom.dates.reference_date_from at this revision: the latest crime, adoption or risk
    decision, capped at today; today for an empty register."""
    today = dt.date.today()
    known = [bind.execute(sa.text(f"SELECT MAX({column}) FROM {table}").columns(sa.column("d", sa.Date()))).scalar()
             for table, column in (("crimes", "committed_on"), ("cohort_memberships", "adopted_on"),
                                   ("risk_level_history", "effective_from"))]
    known = [d for d in known if d is not None]
    return min(max(known), today) if known else today


def upgrade() -> None:
    op.create_table(
        "person_current_state",
        sa.Column("person_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("changed_on", sa.Date(), nullable=True),
        sa.Column("next_change_on", sa.Date(), nullable=True),
        sa.Column("risk_level", sa.String(length=8), nullable=True),
        sa.Column("risk_since", sa.Date(), nullable=True),
        sa.Column("offender_type", sa.String(length=32), nullable=True),
        sa.Column("lead_agency", sa.String(length=40), nullable=True),
        sa.Column("lomu_code", sa.String(length=8), nullable=True),
        sa.Column("officer", sa.String(length=80), nullable=True),
        sa.Column("managed_since", sa.Date(), nullable=True),
        sa.Column("classifications", sa.Integer(), nullable=False),
        sa.Column("adopted_on", sa.Date(), nullable=True),
        sa.Column("reviewed_on", sa.Date(), nullable=True),
        sa.Column("review_due", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], name=op.f("fk_person_current_state_person_id_people")),
        sa.PrimaryKeyConstraint("person_id", name=op.f("pk_person_current_state")),
    )
    op.create_index("ix_person_current_state_lomu", "person_current_state", ["lomu_code", "classifications"])
    op.create_index("ix_person_current_state_officer", "person_current_state", ["officer"])
    op.create_index("ix_person_current_state_changed", "person_current_state", ["changed_on"])
    op.create_index("ix_person_current_state_next_change", "person_current_state", ["next_change_on"])
    op.create_table(
        "person_current_state_stamp",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("register_version", sa.BigInteger(), nullable=True),
        sa.CheckConstraint("id = 1", name=op.f("ck_person_current_state_stamp_single_row")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_current_state_stamp")),
    )
    bind = op.get_bind()
    on = sa.bindparam("on", value=_reference_date(bind), type_=sa.Date())
    bind.execute(sa.text(_FILL).bindparams(on))
    bind.execute(sa.text("INSERT INTO person_current_state_stamp (id, register_version) "
                         "SELECT 1, version FROM register_version WHERE id = 1"))


def downgrade() -> None:
    op.drop_table("person_current_state_stamp")
    op.drop_index("ix_person_current_state_next_change", table_name="person_current_state")
    op.drop_index("ix_person_current_state_changed", table_name="person_current_state")
    op.drop_index("ix_person_current_state_officer", table_name="person_current_state")
    op.drop_index("ix_person_current_state_lomu", table_name="person_current_state")
    op.drop_table("person_current_state")
