"""event-intake's bus subscriptions."""

from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec
from gridgov_event_intake.reports import handlers


def consumer_specs(db: Database) -> list[ConsumerSpec]:
    """Intake follows ticket events to keep each report's status for its reporter."""
    follow = db.idempotent_batch(handlers.TICKET_CONSUMER, handlers.follow_ticket)
    return [ConsumerSpec(handlers.TICKET_CONSUMER, [TICKETS_EVENTS], follow)]
