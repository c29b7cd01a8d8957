"""merged reports

Revision ID: c3b8fa080098
Revises: 8a1f5bab914e
Create Date: 2026-11-25 10:49:02.807017
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'c3b8fa080098'
down_revision: str | None = '8a1f5bab914e'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('merged_report',
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('ticket_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('channel', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('category_code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('description', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('lon', sa.Float(), nullable=True),
    sa.Column('lat', sa.Float(), nullable=True),
    sa.Column('reporter_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('village_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('town_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
    sa.Column('location_status', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('distance_m', sa.Float(), nullable=False),
    sa.Column('minutes', sa.Float(), nullable=False),
    sa.Column('merged_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('split_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('split_ticket_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True),
    sa.ForeignKeyConstraint(['ticket_id'], ['ticket.id'], ),
    sa.PrimaryKeyConstraint('report_id')
    )
    with op.batch_alter_table('merged_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_merged_report_ticket_id'), ['ticket_id'], unique=False)



def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('merged_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_merged_report_ticket_id'))

    op.drop_table('merged_report')
