"""dispatch's bus subscriptions."""

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import FEEDBACK_RECEIVED, REPORTS_LOCATED
from gridgov_common.runtime import ConsumerSpec
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.feedback import handlers as feedback
from gridgov_dispatch.tickets import handlers


def consumer_specs(ctx: DispatchContext) -> list[ConsumerSpec]:
    """Dispatch registers (立案) and dispatches (派遣) every located report, or merges it (并案); it records every
    follow-up rating (回访) and reopens a closed case on a bad one."""

    def register(batch: list[Envelope]) -> None:
        fixed = ctx.snapshot()  # before the batch's transaction takes the database connection
        ctx.db.idempotent_batch(handlers.REGISTER_CONSUMER,
                                lambda session, env: handlers.register_located_report(fixed, session, env))(batch)

    def rate(batch: list[Envelope]) -> None:
        fixed = ctx.snapshot()  # before the batch's transaction: a reopen moves the SLA clock on the calendar
        ctx.db.idempotent_batch(feedback.FEEDBACK_CONSUMER,
                                lambda session, env: feedback.record_rating(fixed, session, env))(batch)

    return [ConsumerSpec(handlers.REGISTER_CONSUMER, [REPORTS_LOCATED], register),
            ConsumerSpec(feedback.FEEDBACK_CONSUMER, [FEEDBACK_RECEIVED], rate)]
