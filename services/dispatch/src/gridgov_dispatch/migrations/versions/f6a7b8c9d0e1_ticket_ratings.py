"""ticket ratings (满意度) from follow-ups (回访)

Revision ID: f6a7b8c9d0e1
Revises: e5f1a2b3c4d5
Create Date: 2026-11-25 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'f6a7b8c9d0e1'
down_revision: str | None = 'e5f1a2b3c4d5'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'ticket_rating',
        sa.Column('followup_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('ticket_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('reporter_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('solved', sa.Boolean(), nullable=False),
        sa.Column('satisfaction', sa.Integer(), nullable=False),
        sa.Column('answered_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint('followup_id', name='pk_ticket_rating'),
    )
    with op.batch_alter_table('ticket_rating', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_rating_ticket_id', ['ticket_id'], unique=False)
        batch_op.create_index('ix_ticket_rating_answered_at', ['answered_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('ticket_rating', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_rating_answered_at')
        batch_op.drop_index('ix_ticket_rating_ticket_id')
    op.drop_table('ticket_rating')
