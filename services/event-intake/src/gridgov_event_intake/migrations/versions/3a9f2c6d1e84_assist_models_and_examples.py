"""assist: classifier versions and labelled texts from corrections

Issue #17: the 12345 seat assistant's category classifier. ``assist_models`` keeps every trained version with
its artefact (npz bytes, no pickle), its evaluation and whether it is the one in use; ``assist_examples`` keeps
the texts the city's corrections labelled (a report's description and the category its ticket ended with).
Nothing to carry over: the first model is trained by ``gridgov assist train`` (or the first ``gridgov up``).

Revision ID: 3a9f2c6d1e84
Revises: c4e8a1f07d52
Create Date: 2026-12-03 02:30:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = '3a9f2c6d1e84'
down_revision: str | None = 'c4e8a1f07d52'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table('assist_models',
    sa.Column('version', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('metrics', sa.JSON(), nullable=False),
    sa.Column('artefact', sa.LargeBinary(), nullable=False),
    sa.Column('active', sa.Boolean(), server_default=sa.false(), nullable=False),
    sa.Column('activated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
    sa.Column('generated_examples', sa.Integer(), nullable=False),
    sa.Column('correction_examples', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('version')
    )
    with op.batch_alter_table('assist_models', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_assist_models_active'), ['active'], unique=False)
        batch_op.create_index(batch_op.f('ix_assist_models_created_at'), ['created_at'], unique=False)
    op.create_table('assist_examples',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('report_id', sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
    sa.Column('text', sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
    sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
    sa.Column('created_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('report_id')
    )


def downgrade() -> None:
    """Revert this revision."""
    op.drop_table('assist_examples')
    with op.batch_alter_table('assist_models', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_assist_models_created_at'))
        batch_op.drop_index(batch_op.f('ix_assist_models_active'))
    op.drop_table('assist_models')
