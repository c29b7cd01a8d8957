"""report: repeat calls, the knowledge-base article of an answer, the classifier's suggestion

Issue #17: a 12345 call about a case the caller already has open is stored as a report with status ``repeat``
and ``repeat_of`` (重复来电), not a new case; a direct answer (直接答复) may name the knowledge-base article it came
from; every hotline order records the classifier's suggestion beside the operator's choice (suggested codes and
confidences, model version, abstained and why, agreed). Reports from before this revision have none (NULL).

Revision ID: 9c3e5a7b2d16
Revises: c4e8a1f07d52
Create Date: 2026-12-03 02:20:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '9c3e5a7b2d16'
down_revision: str | None = 'c4e8a1f07d52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.add_column(sa.Column('repeat_of', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=True))
        batch_op.add_column(sa.Column('knowledge_article_id', sqlmodel.sql.sqltypes.AutoString(length=36),
                                      nullable=True))
        batch_op.add_column(sa.Column('suggested', sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column('suggestion_model_version', sqlmodel.sql.sqltypes.AutoString(length=40),
                                      nullable=True))
        batch_op.add_column(sa.Column('suggestion_abstained', sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column('suggestion_reason', sqlmodel.sql.sqltypes.AutoString(length=20),
                                      nullable=True))
        batch_op.add_column(sa.Column('suggestion_agreed', sa.Boolean(), nullable=True))
        batch_op.create_index(batch_op.f('ix_report_repeat_of'), ['repeat_of'], unique=False)


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_report_repeat_of'))
        batch_op.drop_column('suggestion_agreed')
        batch_op.drop_column('suggestion_reason')
        batch_op.drop_column('suggestion_abstained')
        batch_op.drop_column('suggestion_model_version')
        batch_op.drop_column('suggested')
        batch_op.drop_column('knowledge_article_id')
        batch_op.drop_column('repeat_of')
