"""grid sets take effect from a date; department areas; grid-worker roster

Revision ID: f5c7710463f3
Revises: 4e56d9f30ef1
Create Date: 2026-11-25 10:46:30.841855

``grid_set.active`` becomes ``effective_from``: a set that was active takes effect from when it was created,
an inactive one never (NULL). The GiST index on ``department_area.geometry`` is PostgreSQL-only, as the one on
``area.geometry`` (autogenerating against SQLite also proposes ``ix_area_geometry`` again: dropped here).
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

import gridgov_grid_registry.grids.geometry

revision: str = 'f5c7710463f3'
down_revision: str | None = '4e56d9f30ef1'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    postgres = op.get_bind().dialect.name == "postgresql"
    op.create_table('department_area',
    sa.Column('department', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('code', sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
    sa.Column('geometry', gridgov_grid_registry.grids.geometry.AreaGeometry(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('department', 'code')
    )
    if postgres:
        with op.batch_alter_table('department_area', schema=None) as batch_op:
            batch_op.create_index('ix_department_area_geometry', ['geometry'], unique=False, postgresql_using='gist')

    op.create_table('grid_worker',
    sa.Column('worker_id', sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
    sa.Column('name', sqlmodel.sql.sqltypes.AutoString(length=50), nullable=False),
    sa.Column('grid_code', sqlmodel.sql.sqltypes.AutoString(length=15), nullable=False),
    sa.Column('on_duty', sa.Boolean(), nullable=False),
    sa.Column('updated_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
    sa.PrimaryKeyConstraint('worker_id')
    )
    with op.batch_alter_table('grid_worker', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_grid_worker_grid_code'), ['grid_code'], unique=False)

    with op.batch_alter_table('grid_set', schema=None) as batch_op:
        batch_op.add_column(sa.Column('effective_from', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('source', sqlmodel.sql.sqltypes.AutoString(length=200), nullable=True))
    op.execute("UPDATE grid_set SET effective_from = created_at WHERE active")
    with op.batch_alter_table('grid_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_set_active'))
        batch_op.create_index(batch_op.f('ix_grid_set_effective_from'), ['effective_from'], unique=False)
        batch_op.drop_column('active')


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('grid_set', schema=None) as batch_op:
        batch_op.add_column(sa.Column('active', sa.BOOLEAN(), nullable=False, server_default=sa.false()))
    op.execute("UPDATE grid_set SET active = (effective_from IS NOT NULL)")
    with op.batch_alter_table('grid_set', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_set_effective_from'))
        batch_op.create_index(batch_op.f('ix_grid_set_active'), ['active'], unique=False)
        batch_op.drop_column('source')
        batch_op.drop_column('effective_from')

    with op.batch_alter_table('grid_worker', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_grid_worker_grid_code'))

    op.drop_table('grid_worker')
    if op.get_bind().dialect.name == "postgresql":
        with op.batch_alter_table('department_area', schema=None) as batch_op:
            batch_op.drop_index('ix_department_area_geometry', postgresql_using='gist')

    op.drop_table('department_area')
