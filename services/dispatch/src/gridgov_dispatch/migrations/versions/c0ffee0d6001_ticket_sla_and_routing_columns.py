"""ticket SLA clock, routing facts and lifecycle counters (issue #6)

Revision ID: c0ffee0d6001
Revises: c3b8fa080098
Create Date: 2026-11-25 13:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'c0ffee0d6001'
down_revision: str | None = 'c3b8fa080098'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_S = sqlmodel.sql.sqltypes.AutoString
_T = sqlmodel.sql.sqltypes.UTCDateTime


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.add_column(sa.Column('channel', _S(length=20), nullable=False, server_default='patrol'))
        batch_op.add_column(sa.Column('department_areas', _S(length=500), nullable=False, server_default=''))
        batch_op.add_column(sa.Column('priority', _S(length=10), nullable=False, server_default='normal'))
        batch_op.add_column(sa.Column('first_department', _S(length=50), nullable=True))
        batch_op.add_column(sa.Column('decision_trace', _S(length=8000), nullable=True))
        batch_op.add_column(sa.Column('rule_set_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('catalog_version', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('stage', _S(length=10), nullable=True))
        batch_op.add_column(sa.Column('stage_started_at', _T(), nullable=True))
        batch_op.add_column(sa.Column('stage_limit_amount', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('stage_limit_unit', _S(length=20), nullable=True))
        batch_op.add_column(sa.Column('stage_total_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('deadline_provisional', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('paused_at', _T(), nullable=True))
        batch_op.add_column(sa.Column('remaining_s', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('sla_level', _S(length=10), nullable=False, server_default='green'))
        batch_op.add_column(sa.Column('escalation_level', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('next_check_at', _T(), nullable=True))
        batch_op.add_column(sa.Column('supervised', sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column('return_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('rework_count', sa.Integer(), nullable=False, server_default='0'))
        batch_op.add_column(sa.Column('extension_s', sa.Float(), nullable=True))
        batch_op.create_index(batch_op.f('ix_ticket_next_check_at'), ['next_check_at'], unique=False)
    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        batch_op.add_column(sa.Column('photos', _S(length=4000), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('ticket_transition', schema=None) as batch_op:
        batch_op.drop_column('photos')
    with op.batch_alter_table('ticket', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_ticket_next_check_at'))
        for name in ('extension_s', 'rework_count', 'return_count', 'supervised', 'next_check_at',
                     'escalation_level', 'sla_level', 'remaining_s', 'paused_at', 'deadline_provisional',
                     'stage_total_s', 'stage_limit_unit', 'stage_limit_amount', 'stage_started_at', 'stage',
                     'catalog_version', 'rule_set_version', 'decision_trace', 'first_department', 'priority',
                     'department_areas', 'channel'):
            batch_op.drop_column(name)
