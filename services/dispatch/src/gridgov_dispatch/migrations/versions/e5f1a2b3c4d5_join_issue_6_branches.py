"""join the issue #6 branches (calendar, catalog and departments, ticket SLA columns, rule sets)

They were written side by side from the same parent; this revision makes the history one line again, so a
later revision has a single head to build on.

Revision ID: e5f1a2b3c4d5
Revises: a1ca1e0da001, b2ca7a1099b2, c0ffee0d6001, d1e5a7c0b003
Create Date: 2026-11-25 13:40:00
"""

from collections.abc import Sequence

revision: str = 'e5f1a2b3c4d5'
down_revision: tuple[str, ...] = ('a1ca1e0da001', 'b2ca7a1099b2', 'c0ffee0d6001', 'd1e5a7c0b003')
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Nothing to apply: the branches did the work."""


def downgrade() -> None:
    """Nothing to revert."""
