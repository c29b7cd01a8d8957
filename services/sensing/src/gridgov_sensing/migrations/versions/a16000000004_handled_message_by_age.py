"""handled-message records by age: an index for their pruning

Revision ID: a16000000004
Revises: a16000000003
Create Date: 2026-12-06 15:30:00

The index ``Database.prune_handled`` reads by (``gridgov_common.migrations.create_handled_at_index``).
"""

from collections.abc import Sequence

from gridgov_common.migrations import create_handled_at_index, drop_handled_at_index

revision: str = 'a16000000004'
down_revision: str | None = 'a16000000003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    create_handled_at_index()


def downgrade() -> None:
    """Revert this revision."""
    drop_handled_at_index()
