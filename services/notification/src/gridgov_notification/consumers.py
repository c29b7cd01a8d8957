"""notification's bus subscriptions: one consumer group per delivery channel, each with its own offsets."""

from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec
from gridgov_notification.inbox import handlers


def consumer_specs(db: Database) -> list[ConsumerSpec]:
    """The inbox follows ticket events and files a message for each recipient the rules name."""
    deliver = db.idempotent_batch(handlers.INBOX_CONSUMER, handlers.deliver_ticket_event)
    return [ConsumerSpec(handlers.INBOX_CONSUMER, [TICKETS_EVENTS], deliver)]
