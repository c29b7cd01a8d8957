"""dispatch's bus subscriptions."""

from gridgov_common.bus.topics import REPORTS_LOCATED
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec
from gridgov_dispatch.tickets import handlers


def consumer_specs(db: Database) -> list[ConsumerSpec]:
    """Dispatch registers (立案) and dispatches (派遣) every located report."""
    return [ConsumerSpec(handlers.REGISTER_CONSUMER, [REPORTS_LOCATED],
                         lambda env: handlers.register_located_report(db, env))]
