"""inbox pages by index: (recipient, created_at, id) replaces (recipient, created_at); the unread ones apart

An inbox page reads ``recipient IN (...) ORDER BY created_at DESC, id DESC LIMIT n``. Without ``id`` in the index
SQLite sorted every message of the user's addresses for each page (the command centre's role address: 83 ms a
page with 207,000 messages, about three months of a city's tickets); with the whole order in the index it reads
each address's newest entries and stops (0.07 ms). The partial index of the unread messages serves the badge's
count (52 -> 1.7 ms with 37,000 unread) and the unread page.

Revision ID: a4b6c8d0e2f4
Revises: 9d2e4f6a8b10
Create Date: 2026-12-06 04:35:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'a4b6c8d0e2f4'
down_revision: str | None = '9d2e4f6a8b10'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UNREAD = sa.text("read_at IS NULL")


def upgrade() -> None:
    """Apply this revision."""
    # Plain index statements: SQLite creates and drops an index without copying the table.
    op.create_index('ix_inbox_message_recipient_created_id', 'inbox_message', ['recipient', 'created_at', 'id'],
                    unique=False)
    op.create_index('ix_inbox_message_unread', 'inbox_message', ['recipient', 'created_at', 'id'], unique=False,
                    sqlite_where=UNREAD, postgresql_where=UNREAD)
    op.drop_index('ix_inbox_message_recipient_created', table_name='inbox_message')


def downgrade() -> None:
    """Revert this revision."""
    op.create_index('ix_inbox_message_recipient_created', 'inbox_message', ['recipient', 'created_at'], unique=False)
    op.drop_index('ix_inbox_message_unread', table_name='inbox_message')
    op.drop_index('ix_inbox_message_recipient_created_id', table_name='inbox_message')
