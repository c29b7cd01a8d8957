"""rule sets: published versions of the dispatch rules (issue #6)

Revision ID: d1e5a7c0b003
Revises: c3b8fa080098
Create Date: 2026-11-25 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'd1e5a7c0b003'
down_revision: str | None = 'c3b8fa080098'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'rule_set',
        sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.PrimaryKeyConstraint('version', name='pk_rule_set'),
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('rule_set')
