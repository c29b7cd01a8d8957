"""event catalog versions and items; departments as city bureaus and town branches (issue #6)

Revision ID: b2ca7a1099b2
Revises: c3b8fa080098
Create Date: 2026-11-25 13:30:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'b2ca7a1099b2'
down_revision: str | None = 'c3b8fa080098'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    op.create_table(
        'catalog_version',
        sa.Column('version', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('published_at', sa.DateTime(timezone=True), nullable=False),
        sa.Column('published_by', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('note', sqlmodel.sql.sqltypes.AutoString(length=500), nullable=True),
        sa.Column('item_count', sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint('version', name='pk_catalog_version'),
    )
    op.create_table(
        'catalog_item',
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=False),
        sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(length=9), nullable=True),
        sa.Column('name_zh', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column('name_en', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column('department_type', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True),
        sa.Column('filing_conditions', sa.Text(), nullable=False),
        sa.Column('closing_conditions', sa.Text(), nullable=False),
        sa.Column('claim_amount', sa.Integer(), nullable=True),
        sa.Column('claim_unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('handle_amount', sa.Integer(), nullable=True),
        sa.Column('handle_unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('verify_amount', sa.Integer(), nullable=True),
        sa.Column('verify_unit', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True),
        sa.Column('legal_basis', sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(['version'], ['catalog_version.version'], name='fk_catalog_item_version'),
        sa.PrimaryKeyConstraint('version', 'code', name='pk_catalog_item'),
    )
    with op.batch_alter_table('department', schema=None) as batch_op:
        # Existing rows are city bureaus; each bureau is its own department type (seeding refreshes them anyway).
        batch_op.add_column(sa.Column('level', sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False,
                                      server_default='city'))
        batch_op.add_column(sa.Column('parent_code', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=True))
        batch_op.add_column(sa.Column('town_code', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))
        batch_op.add_column(sa.Column('department_type', sqlmodel.sql.sqltypes.AutoString(length=50),
                                      nullable=False, server_default=''))
    op.execute("UPDATE department SET department_type = code WHERE department_type = ''")


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('department', schema=None) as batch_op:
        batch_op.drop_column('department_type')
        batch_op.drop_column('town_code')
        batch_op.drop_column('parent_code')
        batch_op.drop_column('level')
    op.drop_table('catalog_item')
    op.drop_table('catalog_version')
