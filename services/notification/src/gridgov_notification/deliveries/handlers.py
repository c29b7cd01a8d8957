"""Use cases of deliveries: plan them from a ticket event (in the consumer's transaction), list them."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.categories import CategoryBook, seed_book
from gridgov_common.db import Database
from gridgov_common.events.tickets import TicketEvent
from gridgov_notification import subscriptions
from gridgov_notification.channels import OutgoingDelivery, TransactionalChannel
from gridgov_notification.contacts.cache import book as contacts
from gridgov_notification.deliveries import planning, service
from gridgov_notification.deliveries.policy import QuietHours
from gridgov_notification.templates import TemplateBook

log = logging.getLogger(__name__)


def outgoing(delivery, secret: str | None = None) -> OutgoingDelivery:  # noqa: ANN001 - a Delivery row
    """The value a channel sends, from a delivery row."""
    return OutgoingDelivery(
        id=delivery.id, event_id=delivery.event_id, event_type=delivery.event_type, ticket_id=delivery.ticket_id,
        report_id=delivery.report_id, address=delivery.address, channel=delivery.channel, target=delivery.target,
        subject=delivery.subject, body=delivery.body, created_at=delivery.created_at, secret=secret)


class TicketEventNotifier:
    """Turns a ticket event into deliveries: the inbox at once, every other channel through the worker."""

    def __init__(self, templates: TemplateBook, inbox: TransactionalChannel, quiet: QuietHours | None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 names: Callable[[Session], CategoryBook] = lambda _session: seed_book()):
        self.templates = templates
        self.inbox = inbox
        self.quiet = quiet
        self.clock = clock
        self.names = names  # the learned catalog version in effect (cached), read in the consumer's session
        self.wake = threading.Event()  # set after each batch commits: the worker looks for new deliveries

    def __call__(self, session: Session, envelope: Envelope) -> int:
        """Plan and stage the deliveries of one event of a subscribed type; returns how many."""
        with subscriptions.naming_from(self.names(session)):
            return self._plan(session, envelope)

    def _plan(self, session: Session, envelope: Envelope) -> int:
        event = TicketEvent.model_validate(envelope.payload)
        notices = subscriptions.notices_for(envelope.type, event)
        if not notices:
            return 0
        reachable = contacts.active_for(session, [n.recipient for n in notices])  # in memory, checked per batch
        planned = planning.plan(str(envelope.id), envelope.type, event, notices, reachable, self.templates,
                                self.clock(), self.quiet)
        for delivery in planned:
            if delivery.channel == self.inbox.name:
                self.inbox.send_in(session, outgoing(delivery))
        service.insert_new(session, planned)
        if log.isEnabledFor(logging.INFO):  # the record and its joined list only when someone reads it
            log.info("ticket %s %s: %d deliveries for %s", event.ticket_id, envelope.type, len(planned),
                     ", ".join(n.recipient for n in notices))
        return len(planned)


def list_deliveries(db: Database, *, status: str | None, channel: str | None, event_id: str | None, limit: int,
                    offset: int) -> service.DeliverySlice:
    """Deliveries matching the filters, newest first."""
    with db.session() as session:
        return service.list_filtered(session, status=status, channel=channel, event_id=event_id, limit=limit,
                                     offset=offset)
