"""Queries on contact points."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from gridgov_common.errors import NotFound
from gridgov_notification.contacts.models import ContactPoint, ReferenceVersion


def list_filtered(session: Session, *, address: str | None, channel: str | None) -> list[ContactPoint]:
    """Contact points, optionally of one address or channel, by address then channel."""
    where = []
    if address:
        where.append(ContactPoint.address == address)
    if channel:
        where.append(ContactPoint.channel == channel)
    return list(session.exec(select(ContactPoint).where(*where).order_by(
        col(ContactPoint.address), col(ContactPoint.channel), col(ContactPoint.target))).all())


def bump_version(session: Session, name: str = "contact_point") -> None:
    """Count a change to ``name``'s reference data in the caller's transaction: the consumers' cached copies
    reload at their next batch (see contacts.cache)."""
    insert = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
    table = ReferenceVersion.__table__
    session.execute(insert(table).values(name=name, version=1)
                    .on_conflict_do_update(index_elements=["name"], set_={"version": table.c.version + 1}))


def active_for(session: Session, addresses: list[str]) -> list[ContactPoint]:
    """The active contact points of any of ``addresses``, read now (the consumers use contacts.cache)."""
    if not addresses:
        return []
    return list(session.exec(select(ContactPoint).where(col(ContactPoint.address).in_(addresses),
                                                        col(ContactPoint.active).is_(True))).all())


def find(session: Session, address: str, channel: str, target: str) -> ContactPoint | None:
    """The contact point with this address, channel and target, if any."""
    return session.exec(select(ContactPoint).where(ContactPoint.address == address, ContactPoint.channel == channel,
                                                   ContactPoint.target == target)).first()


def get(session: Session, contact_id: str) -> ContactPoint | None:
    """A contact point by id."""
    return session.get(ContactPoint, contact_id)


def get_many(session: Session, contact_ids: set[str]) -> list[ContactPoint]:
    """The contact points with these ids that still exist."""
    if not contact_ids:
        return []
    return list(session.exec(select(ContactPoint).where(col(ContactPoint.id).in_(contact_ids))).all())


def get_or_raise(session: Session, contact_id: str) -> ContactPoint:
    """A contact point by id, or NotFound."""
    contact = session.get(ContactPoint, contact_id)
    if contact is None:
        raise NotFound("contact_point", contact_id)
    return contact
