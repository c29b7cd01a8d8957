"""handled-message records by age: an index for their pruning (and joins the heads before it)

Revision ID: b1d2e3f40003
Revises: 3a9f2c6d1e84, 5e7b3d9a2c41, 9c3e5a7b2d16
Create Date: 2026-12-06 15:30:00

The index ``Database.prune_handled`` reads by (``gridgov_common.migrations.create_handled_at_index``).
"""

from collections.abc import Sequence

from gridgov_common.migrations import create_handled_at_index, drop_handled_at_index

revision: str = 'b1d2e3f40003'
down_revision: tuple[str, ...] = ('3a9f2c6d1e84', '5e7b3d9a2c41', '9c3e5a7b2d16')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    create_handled_at_index()


def downgrade() -> None:
    """Revert this revision."""
    drop_handled_at_index()
