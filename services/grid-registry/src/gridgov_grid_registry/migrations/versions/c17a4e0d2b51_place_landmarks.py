"""place landmarks: the roads and landmarks a city imports for the gazetteer

Issue #17: address text → place; roads and landmarks by name with a point, located in the grid set in effect
when the gazetteer is built.

Revision ID: c17a4e0d2b51
Revises: 9b3e6d2a1c70
Create Date: 2026-12-03 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'c17a4e0d2b51'
down_revision: str | None = '9b3e6d2a1c70'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('place_landmark',
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('aliases', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
    sa.Column('kind', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('lon', sa.Float(), nullable=False),
    sa.Column('lat', sa.Float(), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.CheckConstraint("kind IN ('road', 'landmark')", name='ck_place_landmark_kind'),
    sa.PrimaryKeyConstraint('name')
    )
    with op.batch_alter_table('place_landmark', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_place_landmark_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('place_landmark', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_place_landmark_updated_at'))
    op.drop_table('place_landmark')
