"""devices' offline alarms: when one was raised

Revision ID: a16000000005
Revises: a16000000004
Create Date: 2026-12-07 15:45:00

``device.offline_alarm_at``: when the platform raised the device's offline alarm (its heartbeat went stale), cleared
by its next heartbeat (``devices/offline.py``). Not indexed: the watch reads the silent devices by
``ix_device_heartbeat_at``.
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel
from alembic import op

revision: str = 'a16000000005'
down_revision: str | None = 'a16000000004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Apply this revision."""
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.add_column(sa.Column('offline_alarm_at', sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this revision."""
    with op.batch_alter_table('device', schema=None) as batch_op:
        batch_op.drop_column('offline_alarm_at')
