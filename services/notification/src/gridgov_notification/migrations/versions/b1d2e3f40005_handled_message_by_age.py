"""handled-message records by age: an index for their pruning

Revision ID: b1d2e3f40005
Revises: a4b6c8d0e2f4
Create Date: 2026-12-06 15:30:00

The index ``Database.prune_handled`` reads by (``gridgov_common.migrations.create_handled_at_index``).
"""

from collections.abc import Sequence

from gridgov_common.migrations import create_handled_at_index, drop_handled_at_index

revision: str = 'b1d2e3f40005'
down_revision: str | None = 'a4b6c8d0e2f4'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    create_handled_at_index()


def downgrade() -> None:
    """Revert this revision."""
    drop_handled_at_index()
