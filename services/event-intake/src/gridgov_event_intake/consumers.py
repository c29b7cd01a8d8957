"""event-intake's bus subscriptions."""

from functools import partial

from gridgov_common.bus.topics import TICKETS_EVENTS
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec
from gridgov_event_intake.reports import handlers
from gridgov_event_intake.settings import IntakeSettings


def consumer_specs(db: Database, settings: IntakeSettings | None = None) -> list[ConsumerSpec]:
    """Intake follows ticket events to keep each report's status for its reporter, and to credit a citizen's
    reward points when their report's ticket passes verification."""
    points = (settings or IntakeSettings()).citizen_reward_points
    follow = db.idempotent_batch(handlers.TICKET_CONSUMER, partial(handlers.follow_ticket, reward_points=points))
    return [ConsumerSpec(handlers.TICKET_CONSUMER, [TICKETS_EVENTS], follow)]
