"""report channels, idempotency, media, rewards, report updates, open311 clients

Revision ID: 54a987d618a0
Revises: d5cbbfe1bec9
Create Date: 2026-11-25 10:46:27.772640
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '54a987d618a0'
down_revision: str | None = 'd5cbbfe1bec9'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('api_client',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('key_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('name'),
    sa.UniqueConstraint('key_hash')
    )
    op.create_table('media',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('uploader_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_media_report_id'), ['report_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('report_update',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('report_update', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_update_at'), ['at'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_update_report_id'), ['report_id'], unique=False)

    op.create_table('reward_entry',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('citizen_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('points', sa.Integer(), nullable=False),
    sa.Column('reason', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id', 'reason', name='uq_reward_entry_report_reason')
    )
    with op.batch_alter_table('reward_entry', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_reward_entry_citizen_id'), ['citizen_id'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reporter_name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('reporter_phone', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('device_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=True))
        batch_op.add_column(sa.Column('address', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True))
        batch_op.add_column(sa.Column('external_id', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
        batch_op.add_column(sa.Column('idempotency_key', sqlmodel.sql.sqltypes.AutoString(length=250), nullable=True))
        batch_op.add_column(sa.Column('urgency', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('feedback_tier', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('handled_on_spot', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('handled_note', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.add_column(sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_device_id'), ['device_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_reporter_phone'), ['reporter_phone'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_submitted_at'), ['submitted_at'], unique=False)
        batch_op.create_unique_constraint('uq_report_idempotency_key', ['idempotency_key'])



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_constraint('uq_report_idempotency_key', type_='unique')
        batch_op.drop_index(batch_op.f('ix_report_submitted_at'))
        batch_op.drop_index(batch_op.f('ix_report_reporter_phone'))
        batch_op.drop_index(batch_op.f('ix_report_device_id'))
        batch_op.drop_column('answer')
        batch_op.drop_column('handled_note')
        batch_op.drop_column('handled_on_spot')
        batch_op.drop_column('feedback_tier')
        batch_op.drop_column('urgency')
        batch_op.drop_column('idempotency_key')
        batch_op.drop_column('external_id')
        batch_op.drop_column('address')
        batch_op.drop_column('device_id')
        batch_op.drop_column('reporter_phone')
        batch_op.drop_column('reporter_name')

    with op.batch_alter_table('reward_entry', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_reward_entry_citizen_id'))

    op.drop_table('reward_entry')
    with op.batch_alter_table('report_update', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_update_report_id'))
        batch_op.drop_index(batch_op.f('ix_report_update_at'))

    op.drop_table('report_update')
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_uploader_id'))
        batch_op.drop_index(batch_op.f('ix_media_report_id'))

    op.drop_table('media')
    op.drop_table('api_client')
