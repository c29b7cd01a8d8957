"""ticket transitions keep the actor's display name

Revision ID: c5a7e9f10004
Revises: b1d2e3f40002
Create Date: 2026-12-07 20:45:00

The name the actor's token carried when they acted (the OIDC ``name`` claim, the DEV login's 姓名): the trail
reads 部门调度员 王敏, not an account id. Null on rows written before, by the system, or from a token without one.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'c5a7e9f10004'
down_revision: str | None = 'b1d2e3f40002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('ticket_transition') as batch:
        batch.add_column(sa.Column('actor_name', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('ticket_transition') as batch:
        batch.drop_column('actor_name')
