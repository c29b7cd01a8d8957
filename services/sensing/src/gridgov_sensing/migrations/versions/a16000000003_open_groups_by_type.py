"""the open alarm groups by type: a partial index for the inhibition rules' look-up of superior groups

Revision ID: a16000000003
Revises: a16000000002
Create Date: 2026-12-06 01:45:00

``ix_alarm_group_open_type`` (``alarm_type`` ``WHERE is_open``): an inhibition rule asks, for each alarm it might
suppress, for the open groups of its superior types around it. On SQLite, without statistics, that question walked
every open group (``ix_alarm_group_open_grid`` by ``is_open = 1``); by this index it reads the open groups of the
superior types only. PostgreSQL's planner may use it too.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a16000000003'
down_revision: str | None = 'a16000000002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index('ix_alarm_group_open_type', 'alarm_group', ['alarm_type'], unique=False,
                    sqlite_where=sa.text('is_open'), postgresql_where=sa.text('is_open'))


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_alarm_group_open_type', table_name='alarm_group',
                  sqlite_where=sa.text('is_open'), postgresql_where=sa.text('is_open'))
