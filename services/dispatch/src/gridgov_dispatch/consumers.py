"""dispatch's bus subscriptions: one ``{message type: handlers}`` table per consumer group.

Every handler is ``handler(ctx, session, envelope)``; ``ctx`` is a snapshot of the dispatch context taken before
each batch's transaction (see ``gridgov_common.consumers``): the reference data (departments, calendar, catalog,
rule set) checked against the database once for the batch, and the report ids of its located reports, so the
one-ticket-per-report check is one query per batch (issue #18).
"""

from typing import Any

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import ALARMS_EVENTS, FEEDBACK_RECEIVED, GRIDS_PUBLISHED, MEDIA_STORED, REPORTS_LOCATED
from gridgov_common.consumers import MessageTable, batch_consumer_spec
from gridgov_common.events.alarms import ALARM_GROUP_REPEATED, ALARM_GROUP_RESOLVED
from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE
from gridgov_common.events.grids import GRID_PUBLISHED_TYPE
from gridgov_common.events.media import MEDIA_STORED_TYPE
from gridgov_common.events.reports import REPORT_LOCATED
from gridgov_common.runtime import ConsumerSpec
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.feedback.handlers import record_rating
from gridgov_dispatch.tickets.batch import ReportBatch
from gridgov_dispatch.tickets.handlers import record_sensor_repeat, record_sensor_resolved, register_located_report
from gridgov_dispatch.verification.handlers import learn_grid, learn_media

# Register (立案) and dispatch (派遣) every located report, or merge it into an open case (并案).
REGISTER = MessageTable[DispatchContext]("dispatch.register", (REPORTS_LOCATED,), {
    REPORT_LOCATED: (register_located_report,),
})
# Record every follow-up rating (回访) and reopen a closed case on a bad one.
FEEDBACK = MessageTable[DispatchContext]("dispatch.feedback", (FEEDBACK_RECEIVED,), {
    FEEDBACK_RECEIVED_TYPE: (record_rating,),
})
# Learn the grids' boundaries and the stored photos' facts, to judge on-site evidence (geofenced verification).
GRIDS = MessageTable[DispatchContext]("dispatch.grids", (GRIDS_PUBLISHED,), {
    GRID_PUBLISHED_TYPE: (learn_grid,),
})
MEDIA = MessageTable[DispatchContext]("dispatch.media", (MEDIA_STORED,), {
    MEDIA_STORED_TYPE: (learn_media,),
})
# Record what sensing says of a case's alarm group (repeats, "resolved") on its ticket; a "resolved" the alarm type
# lets count as verification passes a ticket awaiting it (issue #16).
ALARMS = MessageTable[DispatchContext]("dispatch.alarms", (ALARMS_EVENTS,), {
    ALARM_GROUP_REPEATED: (record_sensor_repeat,),
    ALARM_GROUP_RESOLVED: (record_sensor_resolved,),
})
TABLES = (REGISTER, FEEDBACK, GRIDS, MEDIA, ALARMS)


def consumer_specs(ctx: DispatchContext) -> list[ConsumerSpec]:
    """Dispatch's consumer groups; each batch decides on one snapshot of the departments, calendar, catalog and
    rule set (a reopen moves the SLA clock on the calendar), checked against the database as the batch begins."""
    return [_spec(ctx, table) for table in TABLES]


def _spec(ctx: DispatchContext, table: MessageTable[DispatchContext]) -> ConsumerSpec:
    """A table's consumer with the batch's report ids handed to its snapshot."""
    return batch_consumer_spec(ctx.db, table, lambda envelopes: ctx.batch_snapshot(
        ReportBatch(report_id for e in envelopes if (report_id := _located_report_id(e)))))


def _located_report_id(envelope: Envelope) -> str | None:
    """The report id of a report.located message, read without validating it (its handler validates)."""
    if envelope.type != REPORT_LOCATED or not isinstance(envelope.payload, dict):
        return None
    report: Any = envelope.payload.get("report")
    report_id = report.get("report_id") if isinstance(report, dict) else None
    return report_id if isinstance(report_id, str) else None
