"""media uploader role

Issue #13: a department's dispatcher uploads the photo of a fix (处置照片), which no report holds; the city's staff
read it when a staff member uploaded it, while a citizen's upload stays theirs alone until their report holds it.
Uploads from before this revision have no role and stay readable by their uploader only.

Revision ID: b7d21c5e9a40
Revises: ecdc5ad2464d
Create Date: 2026-12-02 03:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'b7d21c5e9a40'
down_revision: str | None = 'ecdc5ad2464d'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('uploader_role', sqlmodel.sql.sqltypes.AutoString(length=20), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_column('uploader_role')
