"""grid-registry's bus subscriptions: one ``{message type: handlers}`` table.

Every handler is ``handler(runtime, session, envelope)``: the runtime holds the locator of the grid set in
effect and the department layer, both read per message (a new grid set takes effect between two messages).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlmodel import Session

from gridgov_common.bus.envelope import Envelope
from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.consumers import MessageTable, consumer_spec
from gridgov_common.events.reports import REPORT_RECEIVED
from gridgov_common.runtime import ConsumerSpec
from gridgov_grid_registry.grids import handlers

if TYPE_CHECKING:
    from gridgov_grid_registry.app import RegistryRuntime


def locate_report(runtime: RegistryRuntime, session: Session, envelope: Envelope) -> None:
    """Locate a received report in the grid set in effect (by its address when it has no coordinates) and stage
    ``report.located`` (or unlocated)."""
    locator = runtime.locator
    gazetteer = runtime.gazetteers.get(locator, session) if runtime.gazetteers is not None else None
    handlers.locate_report(runtime.db, locator, session, envelope, runtime.departments, gazetteer)


# The registry locates every received report and publishes it as located (or unlocated).
LOCATE = MessageTable["RegistryRuntime"]("grid-registry.locate", (REPORTS_RECEIVED,), {
    REPORT_RECEIVED: (locate_report,),
})
TABLES = (LOCATE,)


def consumer_specs(runtime: RegistryRuntime) -> list[ConsumerSpec]:
    """The registry's consumer groups."""
    return [consumer_spec(runtime.db, table, lambda: runtime) for table in TABLES]
