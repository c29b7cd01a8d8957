"""Queries and guarded writes on the alarm-type table (each write moves the ``alarm_types`` version on)."""

from __future__ import annotations

from sqlmodel import Session, select

from gridgov_common.errors import NotFound
from gridgov_sensing.devices.service import bump_version
from gridgov_sensing.types.models import AlarmType


def list_types(session: Session) -> list[AlarmType]:
    """Every alarm type, by code."""
    return list(session.exec(select(AlarmType).order_by(AlarmType.code)))


def get_or_raise(session: Session, code: str) -> AlarmType:
    """One alarm type, or NotFound."""
    row = session.get(AlarmType, code)
    if row is None:
        raise NotFound("alarm type", code)
    return row


def add_missing(session: Session, rows: list[AlarmType]) -> int:
    """Insert the types whose code is not stored yet; how many were added."""
    have = set(session.exec(select(AlarmType.code)))
    added = [row for row in rows if row.code not in have]
    session.add_all(added)
    if added:
        bump_version(session, "alarm_types")
    return len(added)
