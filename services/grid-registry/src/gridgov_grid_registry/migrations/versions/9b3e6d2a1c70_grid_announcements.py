"""grid announcements: grid sets whose grids were published on gridgov.grids.published

Issue #14: dispatch learns every grid's boundary from grid-registry's messages; each grid set is announced once
(recorded here), so a restart does not publish thousands of grids again.

Revision ID: 9b3e6d2a1c70
Revises: f5c7710463f3
Create Date: 2026-12-02 06:45:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '9b3e6d2a1c70'
down_revision: str | None = 'f5c7710463f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('grid_announcement',
    sa.Column('grid_set', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('announced_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('grids', sa.Integer(), nullable=False),
    sa.Column('retired', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('grid_set')
    )
    with op.batch_alter_table('grid_announcement', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_announcement_announced_at'), ['announced_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('grid_announcement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_announcement_announced_at'))
    op.drop_table('grid_announcement')
