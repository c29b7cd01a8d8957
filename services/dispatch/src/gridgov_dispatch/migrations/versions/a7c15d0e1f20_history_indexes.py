"""indexes for a city with a past (issue #15): ticket lists oldest first by state or department, closures and
counted transitions by time, each ticket's last return

Revision ID: a7c15d0e1f20
Revises: 6d560c6b1a2b
Create Date: 2026-12-02 13:45:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = 'a7c15d0e1f20'
down_revision: str | None = '6d560c6b1a2b'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_created_at_id', ['created_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_state_created_at', ['state', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_department_created_at', ['department', 'created_at', 'id'], unique=False)
        batch_op.create_index('ix_ticket_closed_at', ['closed_at'], unique=False)
    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_transition_at_action', ['at', 'action', 'ticket_id'], unique=False)
        batch_op.create_index('ix_ticket_transition_action_ticket', ['action', 'ticket_id', 'seq'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_transition_action_ticket')
        batch_op.drop_index('ix_ticket_transition_at_action')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_closed_at')
        batch_op.drop_index('ix_ticket_department_created_at')
        batch_op.drop_index('ix_ticket_state_created_at')
        batch_op.drop_index('ix_ticket_created_at_id')
