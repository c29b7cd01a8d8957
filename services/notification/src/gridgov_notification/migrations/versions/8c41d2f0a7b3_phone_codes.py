"""phone codes: the citizen's phone confirmation by SMS code (issue #14)

Revision ID: 8c41d2f0a7b3
Revises: 5b7e1c9d2a40
Create Date: 2026-12-02 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '8c41d2f0a7b3'
down_revision: str | None = '5b7e1c9d2a40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('phone_code',
    sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('phone_key', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('client_id', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('code_hash', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('expires_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.Column('confirmed_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('phone_code', schema=None) as batch_op:
        batch_op.create_index('ix_phone_code_client_id_created_at', ['client_id', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_phone_code_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_phone_code_phone_key_created_at', ['phone_key', 'created_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('phone_code', schema=None) as batch_op:
        batch_op.drop_index('ix_phone_code_phone_key_created_at')
        batch_op.drop_index(batch_op.f('ix_phone_code_created_at'))
        batch_op.drop_index('ix_phone_code_client_id_created_at')

    op.drop_table('phone_code')
