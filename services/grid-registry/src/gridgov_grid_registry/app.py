"""grid-registry: the grid sets, point lookup, and every received report published as located."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI

from gridgov_common.db import Database
from gridgov_common.runtime import ServiceRuntime
from gridgov_common.web import create_service_app
from gridgov_grid_registry.consumers import consumer_specs
from gridgov_grid_registry.grids import handlers
from gridgov_grid_registry.grids import models as _models  # noqa: F401 - registers the tables
from gridgov_grid_registry.grids.index import GridIndex, Locator
from gridgov_grid_registry.grids.views import router as grids_router
from gridgov_grid_registry.settings import RegistrySettings
from gridgov_grid_registry.tables import metadata

log = logging.getLogger(__name__)

MIGRATIONS = "gridgov_grid_registry"  # the package whose migrations/ build the schema


@dataclass
class RegistryRuntime(ServiceRuntime):
    """The service runtime plus the locator of the active grid set, ready before the consumers start."""

    locator: Locator = field(default_factory=lambda: GridIndex([], None))  # replaced in start()

    def prepare(self) -> None:
        """Seed the demo grid set if asked and empty, and load the locator, before the consumers start."""
        settings: RegistrySettings = self.settings  # type: ignore[assignment]
        if settings.seed_demo:
            handlers.seed_demo(self.db)
        self.locator = handlers.load_locator(self.db, settings.locator)
        log.info("locating with %s on grid set %s", type(self.locator).__name__, self.locator.version)


def build_runtime(settings: RegistrySettings | None = None) -> RegistryRuntime:
    """The service runtime: its database, the bus, its consumers and the locator."""
    settings = settings or RegistrySettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    runtime = RegistryRuntime(settings=settings, db=db, migrations_package=MIGRATIONS)
    runtime.consumers = consumer_specs(runtime)
    return runtime


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    """The grid-registry API."""
    return create_service_app(
        title="gridgov grid-registry",
        description="Grid sets (city → town → village → grid) and point lookup.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[grids_router],
    )
