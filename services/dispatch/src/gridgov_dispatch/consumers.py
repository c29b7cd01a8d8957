"""dispatch's bus subscriptions."""

from gridgov_common.bus.topics import REPORTS_LOCATED
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec
from gridgov_dispatch.tickets import handlers
from gridgov_dispatch.tickets.merge import MergePolicy


def consumer_specs(db: Database, policy: MergePolicy = handlers.NO_MERGE) -> list[ConsumerSpec]:
    """Dispatch registers (立案) and dispatches (派遣) every located report, or merges it (并案)."""
    register = db.idempotent_batch(
        handlers.REGISTER_CONSUMER, lambda session, env: handlers.register_located_report(db, session, env, policy))
    return [ConsumerSpec(handlers.REGISTER_CONSUMER, [REPORTS_LOCATED], register)]
