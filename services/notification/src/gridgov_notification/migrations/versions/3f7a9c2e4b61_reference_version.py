"""reference version: a counter per kind of cached reference data (contact points), read once per batch (#18)

Revision ID: 3f7a9c2e4b61
Revises: 8c41d2f0a7b3
Create Date: 2026-12-03 07:05:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '3f7a9c2e4b61'
down_revision: str | None = '8c41d2f0a7b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('reference_version',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('name')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('reference_version')
