"""geofence (issue #14): the grids and photos dispatch learns, and the verdict on tickets and audit rows

Revision ID: 6d560c6b1a2b
Revises: f6a7b8c9d0e1
Create Date: 2026-12-02 06:25:42.162005
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '6d560c6b1a2b'
down_revision: str | None = 'f6a7b8c9d0e1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('learned_grid',
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('grid_name', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('town_code', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('grid_set_version', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('boundary', sa.Text(), nullable=True),
    sa.Column('retired', sa.Boolean(), nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('learned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('grid_code')
    )
    op.create_table('learned_media',
    sa.Column('media_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('uploaded_by', sqlmodel.sql.sqltypes.AutoString(length=256), nullable=False),
    sa.Column('uploader_role', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('content_type', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('sha256', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('phash', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True),
    sa.Column('exif_lat', sa.Float(), nullable=True),
    sa.Column('exif_lon', sa.Float(), nullable=True),
    sa.Column('exif_taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('stored_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('learned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('media_id')
    )
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('geofence_verdict', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('geofence_reasons', sa.Text(), nullable=True))
        batch_op.add_column(sa.Column('geofence_checked_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_geofence_verdict'), ['geofence_verdict'], unique=False)

    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('geofence', sa.Text(), nullable=True))

def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        batch_op.drop_column('geofence')

    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_geofence_verdict'))
        batch_op.drop_column('geofence_checked_at')
        batch_op.drop_column('geofence_reasons')
        batch_op.drop_column('geofence_verdict')

    op.drop_table('learned_media')
    op.drop_table('learned_grid')
