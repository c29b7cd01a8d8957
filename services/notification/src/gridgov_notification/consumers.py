"""notification's bus subscriptions: one consumer group, one ``{message type: handlers}`` table.

Every handler is ``handler(handlers, session, envelope)``. A ticket event of a subscribed type becomes inbox
messages at once and deliveries on every other channel for the worker; ``ticket.closed`` also gets its
follow-ups (回访), in the same transaction as its notices, after them. After each batch commits, the delivery
worker is woken. A second group learns every catalog version dispatch publishes: messages name a ticket's
category from the highest one learned.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import CATALOG_PUBLISHED, TICKETS_EVENTS
from gridgov_common.consumers import MessageTable, consumer_spec
from gridgov_common.db import Database
from gridgov_common.events.catalog import CATALOG_PUBLISHED_TYPE
from gridgov_common.runtime import ConsumerSpec
from gridgov_notification import subscriptions
from gridgov_notification.catalog.handlers import forget_cached, learn_catalog
from gridgov_notification.deliveries.handlers import TicketEventNotifier
from gridgov_notification.followups.handlers import FollowupPlanner

# The group keeps the inbox's name: its committed offsets and handled-message records carry over.
NOTIFICATION_CONSUMER = "notification.inbox"


@dataclass(frozen=True)
class TicketEventHandlers:
    """What the handlers need: the notifier (notices and deliveries) and the follow-up planner."""

    notifier: TicketEventNotifier
    followups: FollowupPlanner


def notify(deps: TicketEventHandlers, session: Session, envelope: Envelope) -> None:
    """Plan the notices and deliveries of a ticket event (the inbox's are written at once)."""
    deps.notifier(session, envelope)


def plan_followups(deps: TicketEventHandlers, session: Session, envelope: Envelope) -> None:
    """Create the follow-ups of a closed ticket and the notices that ask for each answer."""
    deps.followups(session, envelope)


# Every type the subscription rules listen to is notified; other ticket events are recorded and skipped.
TICKET_EVENTS = MessageTable[TicketEventHandlers](NOTIFICATION_CONSUMER, (TICKETS_EVENTS,), {
    **{event_type: (notify,) for event_type in subscriptions.RULES},
    subscriptions.TICKET_CLOSED: (notify, plan_followups),
})
TABLES = (TICKET_EVENTS,)
# Learn every catalog version dispatch publishes: inbox messages, deliveries and follow-ups name categories
# from the version in effect (a category added after the first version is named, not shown as a bare code).
CATALOG = MessageTable[TicketEventHandlers]("notification.catalog", (CATALOG_PUBLISHED,), {
    CATALOG_PUBLISHED_TYPE: (learn_catalog,),
})


def consumer_specs(db: Database, notifier: TicketEventNotifier, followups: FollowupPlanner) -> list[ConsumerSpec]:
    """notification's consumer groups; a ticket batch wakes the delivery worker once it has committed, a catalog
    batch drops the cached names so the next message is named from what it learned."""
    deps = TicketEventHandlers(notifier, followups)
    return [*(consumer_spec(db, table, lambda: deps, after_batch=notifier.wake.set) for table in TABLES),
            consumer_spec(db, CATALOG, lambda: deps, after_batch=forget_cached(db))]
