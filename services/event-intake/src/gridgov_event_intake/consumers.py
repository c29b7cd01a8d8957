"""event-intake's bus subscriptions: one ``{message type: handlers}`` table per consumer group.

Every handler is ``handler(deps, session, envelope)``: the settings, or for the two ticket-event groups a batch
object carrying them (issue #18): the reports the batch's events name are read once per batch, in its
transaction, and the rows they change are written as the batch commits (``reports.batch``), as dispatch does.
"""

from functools import partial

from gridgov_common.bus.topics import CATALOG_PUBLISHED, TICKETS_EVENTS
from gridgov_common.consumers import MessageTable, batch_consumer_spec, consumer_spec
from gridgov_common.db import Database
from gridgov_common.events.catalog import CATALOG_PUBLISHED_TYPE
from gridgov_common.events.tickets import TICKET_EVENT_NAMES, ticket_event_type
from gridgov_common.runtime import ConsumerSpec
from gridgov_event_intake.assist.handlers import CorrectionBatch, learn_correction
from gridgov_event_intake.catalog.handlers import forget_cached, learn_catalog
from gridgov_event_intake.reports.batch import FollowBatch, follow_batch
from gridgov_event_intake.reports.handlers import INTERNAL_ACTIONS, follow_ticket
from gridgov_event_intake.settings import IntakeSettings

# Follow every ticket event to keep each report's status for its reporter, and credit a citizen's reward points
# when their report's ticket passes verification; the command centre's own steps (warn, escalate, supervise)
# are not news to the reporter.
TICKET_STATUS = MessageTable[FollowBatch]("event-intake.ticket-status", (TICKETS_EVENTS,), {
    ticket_event_type(action): (follow_ticket,) for action in TICKET_EVENT_NAMES if action not in INTERNAL_ACTIONS
})
# Learn every catalog version dispatch publishes: reports are checked against the version in effect.
CATALOG = MessageTable[IntakeSettings]("event-intake.catalog", (CATALOG_PUBLISHED,), {
    CATALOG_PUBLISHED_TYPE: (learn_catalog,),
})

# The seat assistant learns from the city's corrections: a return ruling (退单裁定) or a changed category makes the
# report's text a labelled example of its final category (issue #17). Every ticket event may carry a new category.
ASSIST_CORRECTIONS = MessageTable[CorrectionBatch]("event-intake.assist-corrections", (TICKETS_EVENTS,), {
    ticket_event_type(action): (learn_correction,) for action in TICKET_EVENT_NAMES
})


def consumer_specs(db: Database, settings: IntakeSettings) -> list[ConsumerSpec]:
    """intake's consumer groups; a learned catalog version takes effect in this process once it is committed."""
    return [batch_consumer_spec(db, TICKET_STATUS, partial(follow_batch, settings)),
            consumer_spec(db, CATALOG, lambda: settings, after_batch=forget_cached(db)),
            batch_consumer_spec(db, ASSIST_CORRECTIONS, partial(CorrectionBatch.of, settings))]

