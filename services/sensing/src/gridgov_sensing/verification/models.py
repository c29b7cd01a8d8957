"""The 核实 task of a verify_first alarm group."""

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field

from gridgov_sensing.tables import SensingTable


class VerificationTask(SensingTable, table=True):
    """One group's 核实 task for the grid worker of its grid: pending, then confirmed or rejected (or cancelled
    when the device resolved the alarm before anyone decided)."""

    __tablename__ = "verification_task"
    __table_args__ = (sa.Index("ix_verification_task_grid_state", "grid_code", "state"),)

    id: str = Field(primary_key=True, max_length=36)
    group_id: str = Field(max_length=36, unique=True)  # one task per group
    grid_code: str | None = Field(default=None, max_length=64)
    alarm_type: str = Field(max_length=64, index=True)
    device_id: str = Field(max_length=64, index=True)
    state: str = Field(max_length=16, index=True)  # pending | confirmed | rejected | cancelled
    created_at: datetime
    decided_by: str | None = Field(default=None, max_length=256)
    decided_at: datetime | None = Field(default=None, index=True)
    note: str | None = Field(default=None, max_length=2000)
