"""grid-registry's bus subscriptions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from gridgov_common.bus.topics import REPORTS_RECEIVED
from gridgov_common.runtime import ConsumerSpec
from gridgov_grid_registry.grids import handlers

if TYPE_CHECKING:
    from gridgov_grid_registry.app import RegistryRuntime


def consumer_specs(runtime: RegistryRuntime) -> list[ConsumerSpec]:
    """The registry locates every received report and publishes it as located (or unlocated)."""
    locate = runtime.db.idempotent_batch(
        handlers.LOCATE_CONSUMER,
        lambda session, env: handlers.locate_report(runtime.db, runtime.locator, session, env,
                                                   runtime.departments))
    return [ConsumerSpec(handlers.LOCATE_CONSUMER, [REPORTS_RECEIVED], locate)]
