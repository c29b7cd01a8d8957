"""Use cases of contact points: add, list, remove (admin)."""

from __future__ import annotations

from datetime import UTC, datetime

from gridgov_common.auth import Principal
from gridgov_common.db import Database
from gridgov_common.errors import Conflict, ErrorDetail, ValidationFailed
from gridgov_common.ids import new_id
from gridgov_notification.contacts import service, validation
from gridgov_notification.contacts.models import ContactPoint
from gridgov_notification.contacts.schemas import ContactPointCreate


def add_contact(db: Database, principal: Principal, data: ContactPointCreate) -> ContactPoint:
    """Add a contact point; the same address, channel and target twice conflicts."""
    found = validation.problems(data.channel, data.target, data.secret)
    if found:
        raise ValidationFailed("invalid contact point", found)
    with db.session() as session:
        if service.find(session, data.address, data.channel, data.target):
            raise Conflict("contact point exists", [ErrorDetail("target", "already a contact point of this address")])
        contact = ContactPoint(id=new_id(), address=data.address, channel=data.channel, target=data.target,
                               secret=data.secret, active=data.active, created_at=datetime.now(UTC),
                               created_by=principal.sub)
        session.add(contact)
        service.bump_version(session)  # consumers in every process reload contact points at their next batch
        session.commit()
        return contact


def list_contacts(db: Database, *, address: str | None, channel: str | None) -> list[ContactPoint]:
    """Contact points, optionally of one address or channel."""
    with db.session() as session:
        return service.list_filtered(session, address=address, channel=channel)


def remove_contact(db: Database, contact_id: str) -> None:
    """Remove a contact point; deliveries still waiting for it are dead-lettered by the worker."""
    with db.session() as session:
        session.delete(service.get_or_raise(session, contact_id))
        service.bump_version(session)  # consumers in every process reload contact points at their next batch
        session.commit()
