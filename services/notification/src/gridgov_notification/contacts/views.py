"""HTTP routes of contact points (thin: parse, authorise, call a handler, shape)."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from gridgov_common.deps import Admin, Runtime
from gridgov_notification.contacts import handlers
from gridgov_notification.contacts.models import ContactPoint
from gridgov_notification.contacts.schemas import (
    ADDRESS_PATTERN,
    ContactPointCreate,
    ContactPointPage,
    ContactPointRead,
)

router = APIRouter(prefix="/v1/contacts", tags=["contacts"])


def _read(contact: ContactPoint) -> ContactPointRead:
    return ContactPointRead.model_validate({**contact.model_dump(exclude={"secret"}),
                                            "has_secret": bool(contact.secret)})


@router.post("", response_model=ContactPointRead, status_code=201)
def post_contact(data: ContactPointCreate, runtime: Runtime, principal: Admin) -> ContactPointRead:
    """Add a way of reaching an address (webhook, e-mail, SMS). Who: admin."""
    return _read(handlers.add_contact(runtime.db, principal, data))


@router.get("", response_model=ContactPointPage)
def get_contacts(runtime: Runtime, _principal: Admin,
                 address: Annotated[str | None, Query(pattern=ADDRESS_PATTERN, max_length=150)] = None,
                 channel: Annotated[str | None, Query(pattern="^(webhook|email|sms)$")] = None) -> ContactPointPage:
    """Contact points, optionally of one address or channel; secrets are never shown. Who: admin."""
    items = handlers.list_contacts(runtime.db, address=address, channel=channel)
    return ContactPointPage(items=[_read(c) for c in items], total=len(items))


@router.delete("/{contact_id}", status_code=204)
def delete_contact(contact_id: str, runtime: Runtime, _principal: Admin) -> Response:
    """Remove a contact point; its deliveries not yet sent are dead-lettered. Who: admin."""
    handlers.remove_contact(runtime.db, contact_id)
    return Response(status_code=204)
