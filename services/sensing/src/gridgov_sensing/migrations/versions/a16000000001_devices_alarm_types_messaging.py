"""devices, alarm types, directory versions, outbox, handled messages

Revision ID: a16000000001
Revises: (none)
Create Date: 2026-12-02 16:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

from gridgov_common.migrations import create_messaging_tables, drop_messaging_tables

revision: str = 'a16000000001'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('alarm_type',
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('catalog_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('fingerprint_fields', sa.JSON(), nullable=False),
    sa.Column('dedupe_window_s', sa.Integer(), nullable=False),
    sa.Column('case_policy', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('min_confidence', sa.Float(), nullable=True),
    sa.Column('resolved_verifies', sa.Boolean(), nullable=False),
    sa.Column('flap_threshold', sa.Integer(), nullable=False),
    sa.Column('flap_window_s', sa.Integer(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('code')
    )
    op.create_table('device',
    sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('town_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('owner_department', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
    sa.Column('algorithms', sa.JSON(), nullable=False),
    sa.Column('heartbeat_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('device_id')
    )
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.create_index('ix_device_lon_lat', ['lon', 'lat'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_heartbeat_at'), ['heartbeat_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_device_kind'), ['kind'], unique=False)

    op.create_table('sensing_version',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=32), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )
    create_messaging_tables()
    # Both counters exist from the start: a write only moves them on (an UPDATE, never a racing first INSERT).
    op.bulk_insert(sa.table('sensing_version', sa.column('name', sa.String), sa.column('version', sa.Integer)),
                   [{'name': 'devices', 'version': 0}, {'name': 'alarm_types', 'version': 0}])


def downgrade() -> None:
    """Revert this revision."""
    drop_messaging_tables()
    op.drop_table('sensing_version')
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_device_kind'))
        batch_op.drop_index(batch_op.f('ix_device_heartbeat_at'))
        batch_op.drop_index(batch_op.f('ix_device_grid_code'))
        batch_op.drop_index('ix_device_lon_lat')

    op.drop_table('device')
    op.drop_table('alarm_type')
