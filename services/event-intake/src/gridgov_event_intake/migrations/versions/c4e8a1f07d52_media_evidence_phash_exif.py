"""media evidence: perceptual hash and EXIF position and time of the original

Issue #14: a photo's original says where and when it was taken (EXIF GPS, DateTimeOriginal) and what it shows
(a perceptual hash), although its public copy is stripped; dispatch judges verifications by them (geofence,
reused photos). Uploads from before this revision have none of them (NULL), as a photo without EXIF.

Revision ID: c4e8a1f07d52
Revises: b7d21c5e9a40
Create Date: 2026-12-02 06:40:00.000000
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'c4e8a1f07d52'
down_revision: str | None = 'b7d21c5e9a40'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phash', sqlmodel.sql.sqltypes.AutoString(length=16), nullable=True))
        batch_op.add_column(sa.Column('exif_lat', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('exif_lon', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('exif_taken_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('media', schema=None) as batch_op:
        batch_op.drop_column('exif_taken_at')
        batch_op.drop_column('exif_lon')
        batch_op.drop_column('exif_lat')
        batch_op.drop_column('phash')
