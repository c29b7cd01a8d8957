"""catalog versions learned from dispatch

Issue #12: dispatch owns the event catalog and publishes each version on ``gridgov.catalog.published``;
notification keeps every version it learns (its middle classes and their names) and names a ticket's category
from the highest one in its messages. Until it has learned a version it uses the packaged first one
(``catalog_seed.csv``), so an upgraded database needs no data here: dispatch announces its version in effect at
its next start.

Revision ID: 5b7e1c9d2a40
Revises: 126764c23aaa
Create Date: 2026-12-02 04:32:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5b7e1c9d2a40'
down_revision: str | None = '126764c23aaa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('catalog_version',
    sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('published_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('learned_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('category_count', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    op.create_table('catalog_category',
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
    sa.ForeignKeyConstraint(['version'], ['catalog_version.version'], ),
    sa.PrimaryKeyConstraint('version', 'code')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('catalog_category')
    op.drop_table('catalog_version')
