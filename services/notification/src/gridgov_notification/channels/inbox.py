"""The in-app inbox (站内信) as a channel: a message filed in notification's own database."""

from __future__ import annotations

from sqlmodel import Session

from gridgov_common.db import Database
from gridgov_notification.channels.base import OutgoingDelivery, register
from gridgov_notification.inbox import service
from gridgov_notification.settings import NotificationSettings


class InboxChannel:
    """Files one inbox message per delivery; the target is the inbox address itself."""

    name = "inbox"

    def __init__(self, db: Database):
        self.db = db

    def send_in(self, session: Session, delivery: OutgoingDelivery) -> None:
        """Stage the inbox message in the consumer's transaction (once per event and recipient; written at
        commit with the batch's other messages)."""
        # A plain row, not an InboxMessage: building ORM objects per message was a seventh of the consumer's CPU.
        service.add_new_rows(session, [{
            "id": delivery.id,
            "recipient": delivery.target,
            "ticket_id": delivery.ticket_id,
            "report_id": delivery.report_id,
            "event_type": delivery.event_type,
            "source_event_id": delivery.event_id,
            "title": delivery.subject,
            "body": delivery.body,
            "created_at": delivery.created_at,
            "read_at": None,
        }])

    def send(self, delivery: OutgoingDelivery) -> None:
        """File the message in a transaction of its own (a delivery re-sent outside the consumer)."""
        with self.db.session() as session:
            self.send_in(session, delivery)
            session.commit()


@register("inbox")
def _inbox(_settings: NotificationSettings, db: Database) -> InboxChannel:
    return InboxChannel(db)
