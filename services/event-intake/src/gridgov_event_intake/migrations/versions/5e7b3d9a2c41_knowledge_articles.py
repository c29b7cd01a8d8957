"""knowledge articles for direct answers (直接答复)

Issue #17 item 4: the 12345 hotline's knowledge base — a question, its answer, the responsible department,
keywords, validity dates and source, with who wrote it and when, and a version for optimistic concurrency.
The seed articles are loaded by the service at its first start (an empty table), not here.

Revision ID: 5e7b3d9a2c41
Revises: c4e8a1f07d52
Create Date: 2026-12-03 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '5e7b3d9a2c41'
down_revision: str | None = 'c4e8a1f07d52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'knowledge_article',
        sa.Column('id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column('question', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=False),
        sa.Column('answer', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column('keywords', sa.JSON(), nullable=False),
        sa.Column('valid_from', sa.Date(), nullable=False),
        sa.Column('valid_to', sa.Date(), nullable=True),
        sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('created_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('updated_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('knowledge_article', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_knowledge_article_department'), ['department'], unique=False)
        batch_op.create_index(batch_op.f('ix_knowledge_article_updated_at'), ['updated_at'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('knowledge_article', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_knowledge_article_updated_at'))
        batch_op.drop_index(batch_op.f('ix_knowledge_article_department'))
    op.drop_table('knowledge_article')
