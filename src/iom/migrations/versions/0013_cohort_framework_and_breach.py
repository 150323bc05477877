"""cohort framework allocations and breaches

Revision ID: 0013
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op


revision = '0013'
down_revision = '0011'
branch_labels = None
depends_on = None


# Tables added to iom.register.models.VERSIONED_TABLES at this revision (frozen copy): a breach
# is on the timeline kept with the record.
TABLES = ("breaches",)


def _version_triggers() -> None:
    """The same bump as 0005, on this revision's tables."""
    if op.get_bind().dialect.name == "postgresql":
        for table in TABLES:
            op.execute(f"CREATE TRIGGER register_version_{table} AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
                       f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION register_version_bump()")
    else:
        for table in TABLES:
            for event in ("INSERT", "UPDATE", "DELETE"):
                op.execute(f"CREATE TRIGGER register_version_{table}_{event.lower()} AFTER {event} ON {table} "
                           "BEGIN UPDATE register_version SET version = version + 1; END")


def upgrade() -> None:
    op.create_table('breaches',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('kind', sa.String(length=8), nullable=False),
    sa.Column('order_name', sa.String(length=120), nullable=False),
    sa.Column('breached_on', sa.Date(), nullable=False),
    sa.Column('nature', sa.String(length=24), nullable=False),
    sa.Column('action', sa.String(length=12), nullable=False),
    sa.Column('details', sa.Text(), nullable=True),
    sa.Column('outcome', sa.String(length=24), nullable=True),
    sa.Column('outcome_on', sa.Date(), nullable=True),
    sa.Column('custody_until', sa.Date(), nullable=True),
    sa.Column('recorded_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.CheckConstraint("kind IN ('order', 'licence')", name=op.f('ck_breaches_kind')),
    sa.CheckConstraint("nature IN ('non-compliance', 'missed appointment', 'further offence', 're-arrest', "
                       "'condition broken')", name=op.f('ck_breaches_nature')),
    sa.CheckConstraint("action IN ('warning', 'recall', 'warrant', 'court')", name=op.f('ck_breaches_action')),
    sa.CheckConstraint("outcome IS NULL OR outcome IN ('no further action', 'warning given', 'returned to custody', "
                       "'order varied', 'order revoked', 'resentenced', 'withdrawn')", name=op.f('ck_breaches_outcome')),
    sa.CheckConstraint('outcome_on IS NULL OR outcome_on >= breached_on', name=op.f('ck_breaches_outcome_after_breach')),
    sa.CheckConstraint('custody_until IS NULL OR custody_until >= breached_on',
                       name=op.f('ck_breaches_custody_after_breach')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_breaches_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_breaches'))
    )
    op.create_index('ix_breaches_person_breached', 'breaches', ['person_id', 'breached_on'], unique=False)
    op.create_index('ix_breaches_open', 'breaches', ['outcome'], unique=False)
    op.create_table('officer_allocations',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('person_id', sa.Integer(), nullable=False),
    sa.Column('lomu_code', sa.String(length=8), nullable=False),
    sa.Column('officer', sa.String(length=80), nullable=False),
    sa.Column('allocated_on', sa.Date(), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('load_before', sa.Integer(), nullable=False),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('over_capacity_reason', sa.Text(), nullable=True),
    sa.Column('allocated_by', sa.String(length=80), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['lomu_code'], ['units.code'], name=op.f('fk_officer_allocations_lomu_code_units')),
    sa.ForeignKeyConstraint(['person_id'], ['people.id'], name=op.f('fk_officer_allocations_person_id_people')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_officer_allocations'))
    )
    op.create_index('ix_allocations_officer', 'officer_allocations', ['lomu_code', 'officer'], unique=False)
    op.create_index('ix_allocations_person', 'officer_allocations', ['person_id'], unique=False)
    _version_triggers()


def downgrade() -> None:
    for table in TABLES:
        if op.get_bind().dialect.name == "postgresql":
            op.execute(f"DROP TRIGGER IF EXISTS register_version_{table} ON {table}")
        else:
            for event in ("insert", "update", "delete"):
                op.execute(f"DROP TRIGGER IF EXISTS register_version_{table}_{event}")
    op.drop_index('ix_allocations_person', table_name='officer_allocations')
    op.drop_index('ix_allocations_officer', table_name='officer_allocations')
    op.drop_table('officer_allocations')
    op.drop_index('ix_breaches_open', table_name='breaches')
    op.drop_index('ix_breaches_person_breached', table_name='breaches')
    op.drop_table('breaches')
