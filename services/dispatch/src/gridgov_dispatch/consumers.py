"""dispatch's bus subscriptions."""

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import REPORTS_LOCATED
from gridgov_common.runtime import ConsumerSpec
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.tickets import handlers


def consumer_specs(ctx: DispatchContext) -> list[ConsumerSpec]:
    """Dispatch registers (立案) and dispatches (派遣) every located report, or merges it (并案)."""

    def register(batch: list[Envelope]) -> None:
        fixed = ctx.snapshot()  # before the batch's transaction takes the database connection
        ctx.db.idempotent_batch(handlers.REGISTER_CONSUMER,
                                lambda session, env: handlers.register_located_report(fixed, session, env))(batch)

    return [ConsumerSpec(handlers.REGISTER_CONSUMER, [REPORTS_LOCATED], register)]
