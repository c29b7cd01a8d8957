"""sla calendar year: official holiday tables loaded by an admin

Revision ID: a1ca1e0da001
Revises: c3b8fa080098
Create Date: 2026-11-25 13:15:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'a1ca1e0da001'
down_revision: str | None = 'c3b8fa080098'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'calendar_year',
        # No autoincrement: the year is the key, and PostgreSQL must not make it a serial.
        sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('holidays', sa.Text(), nullable=False),
        sa.Column('workdays', sa.Text(), nullable=False),
        sa.Column('loaded_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('loaded_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.PrimaryKeyConstraint('year', name='pk_calendar_year'),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('calendar_year')
