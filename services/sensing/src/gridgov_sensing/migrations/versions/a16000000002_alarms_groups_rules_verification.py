"""alarms, alarm groups (one open group per fingerprint), suppression rules, verification tasks

Revision ID: a16000000002
Revises: a16000000001
Create Date: 2026-12-02 17:00:00

``uq_alarm_group_open_fingerprint`` is the dedupe guard: a partial unique index (``WHERE is_open``) that the
grouping consumer's ``INSERT … ON CONFLICT (fingerprint) WHERE is_open DO UPDATE`` names as its conflict target,
on SQLite and PostgreSQL alike.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'a16000000002'
down_revision: str | None = 'a16000000001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('alarm',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('alarm_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('group_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('alarm_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('town_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('severity', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('occurred_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('received_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('confidence', sa.Float(), nullable=True),
    sa.Column('evidence', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('verdict', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('suppressed_by', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('monitored_by', sa.JSON(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index('ix_alarm_group_occurred', 'alarm', ['group_id', 'occurred_at'], unique=False)
    op.create_index(op.f('ix_alarm_occurred_at'), 'alarm', ['occurred_at'], unique=False)
    op.create_table('alarm_group',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('fingerprint', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('alarm_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('catalog_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('device_kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('owner_department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('town_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=24), nullable=False),
    sa.Column('is_open', sa.Boolean(), nullable=False),
    sa.Column('count', sa.Integer(), nullable=False),
    sa.Column('first_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('last_seen', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('resolved_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('closed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('flaps', sa.Integer(), nullable=False),
    sa.Column('flapping', sa.Boolean(), nullable=False),
    sa.Column('refired', sa.Boolean(), nullable=False),
    sa.Column('state_changes', sa.JSON(), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('ticket_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True),
    sa.Column('ticket_state', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('suppressed_by', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('monitored_by', sa.JSON(), nullable=False),
    sa.Column('last_evidence', sa.JSON(none_as_null=True), nullable=True),
    sa.Column('labels', sa.JSON(), nullable=False),
    sa.Column('last_event_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_index(op.f('ix_alarm_group_alarm_type'), 'alarm_group', ['alarm_type'], unique=False)
    op.create_index(op.f('ix_alarm_group_device_id'), 'alarm_group', ['device_id'], unique=False)
    op.create_index(op.f('ix_alarm_group_fingerprint'), 'alarm_group', ['fingerprint'], unique=False)
    op.create_index('ix_alarm_group_lon_lat', 'alarm_group', ['lon', 'lat'], unique=False)
    op.create_index('ix_alarm_group_open_grid', 'alarm_group', ['is_open', 'grid_code'], unique=False)
    op.create_index(op.f('ix_alarm_group_owner_department'), 'alarm_group', ['owner_department'], unique=False)
    op.create_index(op.f('ix_alarm_group_report_id'), 'alarm_group', ['report_id'], unique=False)
    op.create_index(op.f('ix_alarm_group_state'), 'alarm_group', ['state'], unique=False)
    op.create_index('uq_alarm_group_open_fingerprint', 'alarm_group', ['fingerprint'], unique=True,
                    sqlite_where=sa.text('is_open'), postgresql_where=sa.text('is_open'))
    op.create_table('suppression_rule',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('mode', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('starts_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('ends_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('device_ids', sa.JSON(), nullable=False),
    sa.Column('area_codes', sa.JSON(), nullable=False),
    sa.Column('alarm_types', sa.JSON(), nullable=False),
    sa.Column('source_types', sa.JSON(), nullable=False),
    sa.Column('equal', sa.JSON(), nullable=False),
    sa.Column('min_confidence', sa.Float(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    op.create_table('verification_task',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('group_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('alarm_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('state', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('decided_by', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=True),
    sa.Column('decided_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('group_id')
    )
    op.create_index(op.f('ix_verification_task_alarm_type'), 'verification_task', ['alarm_type'], unique=False)
    op.create_index(op.f('ix_verification_task_decided_at'), 'verification_task', ['decided_at'], unique=False)
    op.create_index(op.f('ix_verification_task_device_id'), 'verification_task', ['device_id'], unique=False)
    op.create_index('ix_verification_task_grid_state', 'verification_task', ['grid_code', 'state'], unique=False)
    op.create_index(op.f('ix_verification_task_state'), 'verification_task', ['state'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_verification_task_state', table_name='verification_task')
    op.drop_index('ix_verification_task_grid_state', table_name='verification_task')
    op.drop_index('ix_verification_task_device_id', table_name='verification_task')
    op.drop_index('ix_verification_task_decided_at', table_name='verification_task')
    op.drop_index('ix_verification_task_alarm_type', table_name='verification_task')
    op.drop_table('verification_task')
    op.drop_table('suppression_rule')
    op.drop_index('uq_alarm_group_open_fingerprint', table_name='alarm_group')
    op.drop_index('ix_alarm_group_state', table_name='alarm_group')
    op.drop_index('ix_alarm_group_report_id', table_name='alarm_group')
    op.drop_index('ix_alarm_group_owner_department', table_name='alarm_group')
    op.drop_index('ix_alarm_group_open_grid', table_name='alarm_group')
    op.drop_index('ix_alarm_group_lon_lat', table_name='alarm_group')
    op.drop_index('ix_alarm_group_fingerprint', table_name='alarm_group')
    op.drop_index('ix_alarm_group_device_id', table_name='alarm_group')
    op.drop_index('ix_alarm_group_alarm_type', table_name='alarm_group')
    op.drop_table('alarm_group')
    op.drop_index('ix_alarm_occurred_at', table_name='alarm')
    op.drop_index('ix_alarm_group_occurred', table_name='alarm')
    op.drop_table('alarm')
