"""Queries on deliveries: insert without duplicates, claim due rows under a lease, record outcomes, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, func, or_, update
from sqlmodel import Session, col, select

from gridgov_common.db import one_of, stage_insert
from gridgov_notification.deliveries.models import DUE, FINISHED, Delivery
from gridgov_notification.deliveries.planning import PlannedDelivery

# The unique key that makes planning idempotent: a redelivered event never sends twice.
_ONCE_PER_EVENT = ("event_id", "address", "channel", "target")


def insert_new(session: Session, deliveries: list[PlannedDelivery]) -> None:
    """Stage deliveries to be inserted at commit (one statement for the batch), skipping any whose (event,
    address, channel, target) exists: a redelivered event never sends twice."""
    if deliveries:
        stage_insert(session, Delivery.__table__, [d.row() for d in deliveries], _ONCE_PER_EVENT)


def due_candidates(session: Session, now: datetime, limit: int) -> list[tuple[str, str, str]]:
    """(id, channel, target) of due, unleased deliveries, oldest due first."""
    rows = session.exec(
        select(Delivery.id, Delivery.channel, Delivery.target)
        .where(col(Delivery.status).in_(DUE), col(Delivery.next_attempt_at) <= now,
               or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now))
        .order_by(col(Delivery.next_attempt_at), col(Delivery.id)).limit(limit)
    ).all()
    return [(r[0], r[1], r[2]) for r in rows]


def claim(session: Session, ids: list[str], owner: str, now: datetime, lease_until: datetime) -> list[Delivery]:
    """Lease deliveries to ``owner`` (a token per claim) if still due and unleased; returns those it got.

    The guard is in the UPDATE itself, so of two instances racing for a row exactly one gets it (PostgreSQL
    re-checks the WHERE after the other's commit; SQLite serialises writers).
    """
    if not ids:
        return []
    session.execute(claim_statement(ids, owner, now, lease_until, session.get_bind().dialect.name))
    session.commit()
    return list(session.exec(select(Delivery).where(col(Delivery.id).in_(ids), Delivery.lease_owner == owner)).all())


def claim_statement(ids: list[str], owner: str, now: datetime, lease_until: datetime, dialect: str) -> Any:
    """The guarded UPDATE of ``claim``: lease these ids if still due and unleased."""
    # Only the primary key can find the rows (issue #16): the ids as one array on PostgreSQL (``one_of``), and "due"
    # written as "not finished", which no index serves. With ``status IN (pending, failed)`` and an IN list, the
    # generic plan PostgreSQL keeps after psycopg's five runs walked ix_delivery_status_next_attempt — every due
    # row, a whole backlog after a gateway outage — and compared each with the list (322 ms per 100-id claim at
    # 100,000 due rows).
    return update(Delivery).where(
        one_of(col(Delivery.id), ids, dialect), col(Delivery.status).not_in(FINISHED),
        col(Delivery.next_attempt_at) <= now, or_(col(Delivery.lease_until).is_(None), col(Delivery.lease_until) < now),
    ).values(lease_owner=owner, lease_until=lease_until)


def finish_many(session: Session, outcomes: list[tuple[str, str, dict]]) -> None:
    """Record many outcomes ``(id, lease owner, columns)``: one executemany per set of columns, no commit."""
    groups: dict[tuple[str, ...], list[dict]] = {}
    for delivery_id, owner, values in outcomes:
        groups.setdefault(tuple(sorted(values)), []).append({"b_id": delivery_id, "b_owner": owner,
                                                             **{f"b_{k}": v for k, v in values.items()}})
    table = Delivery.__table__
    for columns, rows in groups.items():
        stmt = (update(table).where(table.c.id == bindparam("b_id"), table.c.lease_owner == bindparam("b_owner"))
                .values(lease_owner=None, lease_until=None, **{c: bindparam(f"b_{c}") for c in columns}))
        session.connection().execute(stmt, rows)


@dataclass(frozen=True)
class DeliverySlice:
    """One page of deliveries and the total matching."""

    items: list[Delivery]
    total: int


def list_filtered(session: Session, *, status: str | None, channel: str | None, event_id: str | None,
                  limit: int, offset: int) -> DeliverySlice:
    """Deliveries matching the filters, newest first."""
    where = []
    if status:
        where.append(Delivery.status == status)
    if channel:
        where.append(Delivery.channel == channel)
    if event_id:
        where.append(Delivery.event_id == event_id)
    items = session.exec(select(Delivery).where(*where)
                         .order_by(col(Delivery.created_at).desc(), col(Delivery.id).desc())
                         .limit(limit).offset(offset)).all()
    total = session.exec(select(func.count()).select_from(Delivery).where(*where)).one()
    return DeliverySlice(list(items), total)
