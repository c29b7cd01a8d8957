"""Queries on phone-code requests and the guarded writes of a confirmation and of a wrong try."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, func, update
from sqlmodel import Session, col, select

from gridgov_notification.phones.models import PhoneCode


def get(session: Session, request_id: str) -> PhoneCode | None:
    """The request, or None."""
    return session.get(PhoneCode, request_id)


def times_since(session: Session, since: datetime, *, phone_key: str | None = None,
                client_id: str | None = None, limit: int = 1000) -> list[datetime]:
    """When codes were asked since ``since`` (newest first): for one phone, one client, or everyone."""
    query = select(PhoneCode.created_at).where(PhoneCode.created_at >= since)
    if phone_key is not None:
        query = query.where(PhoneCode.phone_key == phone_key)
    if client_id is not None:
        query = query.where(PhoneCode.client_id == client_id)
    return list(session.exec(query.order_by(col(PhoneCode.created_at).desc()).limit(limit)).all())


def purge_before(session: Session, before: datetime) -> None:
    """Forget requests made before ``before`` (out of every window, long expired)."""
    session.exec(delete(PhoneCode).where(col(PhoneCode.created_at) < before))


def confirm(session: Session, request_id: str, now: datetime, max_attempts: int) -> bool:
    """Mark the request confirmed if it is still open (unused, not locked, not expired); whether it was."""
    table = PhoneCode.__table__
    result = session.exec(update(table).where(
        table.c.id == request_id, table.c.confirmed_at.is_(None), table.c.attempts < max_attempts,
        table.c.expires_at > now).values(confirmed_at=now))
    return result.rowcount == 1


def count_wrong(session: Session, request_id: str, max_attempts: int) -> int | None:
    """Count one wrong try if the request is still open; the wrong tries so far, or None if it was not open.

    One guarded UPDATE, so concurrent guesses never count past the maximum (each sees the row's own count)."""
    table = PhoneCode.__table__
    result = session.exec(update(table).where(
        table.c.id == request_id, table.c.confirmed_at.is_(None), table.c.attempts < max_attempts)
        .values(attempts=table.c.attempts + 1))
    if result.rowcount != 1:
        return None
    return session.exec(select(func.max(PhoneCode.attempts)).where(PhoneCode.id == request_id)).one()
