"""partial indexes of the open tickets (issue #15): the board counts and lists a few thousand open tickets among
200,000 closed ones of the city's past; the returns list's index made partial

Revision ID: b3e9f1a2c4d6
Revises: a7c15d0e1f20
Create Date: 2026-12-02 14:05:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'b3e9f1a2c4d6'
down_revision: str | None = 'a7c15d0e1f20'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OPEN = sa.text("state != 'closed'")
RETURN = sa.text("action = 'return'")
AREAS = (("department", "department"), ("town", "town_code"), ("village", "village_code"), ("grid", "grid_code"))


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        # (action, ticket_id, seq) made the indicators scan every counted transition instead of a period's
        batch_op.drop_index('ix_ticket_transition_action_ticket')
        batch_op.create_index('ix_ticket_transition_returns', ['ticket_id', 'seq'], unique=False,
                              sqlite_where=RETURN, postgresql_where=RETURN)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.create_index('ix_ticket_open_deadline', ['deadline', 'created_at', 'id'], unique=False,
                              sqlite_where=OPEN, postgresql_where=OPEN)
        for name, column in AREAS:
            batch_op.create_index(f'ix_ticket_open_{name}', [column, 'sla_level'], unique=False,
                                  sqlite_where=OPEN, postgresql_where=OPEN)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        batch_op.drop_index('ix_ticket_transition_returns')
        batch_op.create_index('ix_ticket_transition_action_ticket', ['action', 'ticket_id', 'seq'], unique=False)
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        for name, _column in AREAS:
            batch_op.drop_index(f'ix_ticket_open_{name}')
        batch_op.drop_index('ix_ticket_open_deadline')
