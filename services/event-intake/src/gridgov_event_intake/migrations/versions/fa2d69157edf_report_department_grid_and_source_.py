"""report department grid and source address, media source address, rate hits

Issue #11: reports carry their ticket's grid (beside its department) for access by grid and department,
and the source address of citizen submissions and uploads for the per-address limits; ``rate_hit`` counts
Open311 POSTs in the database so that every intake instance sees the same counts. Reports ticketed before
this revision get their grid with their ticket's next event.

Revision ID: fa2d69157edf
Revises: 54a987d618a0
Create Date: 2026-12-01 23:23:45.510944
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'fa2d69157edf'
down_revision: str | None = '54a987d618a0'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('rate_hit',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('subject', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('rate_hit', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_rate_hit_at'), ['at'], unique=False)
        batch_op.create_index('ix_rate_hit_subject_at', ['subject', 'at'], unique=False)

    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('source_address', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True))
        batch_op.create_index(batch_op.f('ix_media_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_media_source_address'), ['source_address'], unique=False)

    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=30), nullable=True))
        batch_op.add_column(sa.Column('source_address', sqlmodel.sql.sqltypes.AutoString(length=45), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_grid_code'), ['grid_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_report_source_address'), ['source_address'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_source_address'))
        batch_op.drop_index(batch_op.f('ix_report_grid_code'))
        batch_op.drop_index(batch_op.f('ix_report_department'))
        batch_op.drop_column('source_address')
        batch_op.drop_column('grid_code')

    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_media_source_address'))
        batch_op.drop_index(batch_op.f('ix_media_created_at'))
        batch_op.drop_column('source_address')

    with op.batch_alter_table('rate_hit', schema=None) as batch_op:
        batch_op.drop_index('ix_rate_hit_subject_at')
        batch_op.drop_index(batch_op.f('ix_rate_hit_at'))

    op.drop_table('rate_hit')
