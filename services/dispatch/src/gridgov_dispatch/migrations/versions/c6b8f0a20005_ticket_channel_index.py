"""工单列表 by source: an index on (channel, created_at, id)

Revision ID: c6b8f0a20005
Revises: c5a7e9f10004
Create Date: 2026-12-07 20:50:00

The command centre's list filtered by 来源 (e.g. 物联感知 alone), newest or oldest first, and its total, read the
index instead of the whole past (bench/ticket_list.py).
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'c6b8f0a20005'
down_revision: str | None = 'c5a7e9f10004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_index('ix_ticket_channel_created_at', 'ticket', ['channel', 'created_at', 'id'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    op.drop_index('ix_ticket_channel_created_at', table_name='ticket')
