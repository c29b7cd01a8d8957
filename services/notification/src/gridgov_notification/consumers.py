"""notification's bus subscriptions: one consumer group plans every channel's deliveries in one transaction."""

from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec
from gridgov_notification.deliveries.handlers import TicketEventNotifier
from gridgov_notification.followups.handlers import FollowupPlanner

# The group keeps the inbox's name: its committed offsets and handled-message records carry over.
NOTIFICATION_CONSUMER = "notification.inbox"


def consumer_specs(db: Database, notifier: TicketEventNotifier,
                   followups: FollowupPlanner | None = None) -> list[ConsumerSpec]:
    """Ticket events become inbox messages at once and deliveries on every other channel for the worker;
    a closed ticket also gets its follow-ups (回访)."""
    # One group, one transaction per batch: a closed ticket's notices and its follow-ups commit together.
    handler = notifier.consumer(db, NOTIFICATION_CONSUMER) if followups is None else \
        followups.consumer(db, NOTIFICATION_CONSUMER, first=notifier)
    return [ConsumerSpec(NOTIFICATION_CONSUMER, [TICKETS_EVENTS], handler)]
