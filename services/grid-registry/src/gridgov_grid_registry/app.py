"""grid-registry: the grid sets, point lookup, and every received report published as located."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from fastapi import FastAPI

from gridgov_common.db import Database
from gridgov_common.limits import RouteLimit
from gridgov_common.runtime import ServiceRuntime
from gridgov_common.web import create_service_app
from gridgov_grid_registry.consumers import consumer_specs
from gridgov_grid_registry.departments import handlers as departments
from gridgov_grid_registry.departments import models as _department_models  # noqa: F401 - registers the table
from gridgov_grid_registry.departments.layer import DepartmentLayer
from gridgov_grid_registry.departments.views import router as departments_router
from gridgov_grid_registry.grids import announce, handlers
from gridgov_grid_registry.grids import models as _models  # noqa: F401 - registers the tables
from gridgov_grid_registry.grids.index import Locator
from gridgov_grid_registry.grids.locator import ActiveLocator
from gridgov_grid_registry.grids.map_cache import MapCache
from gridgov_grid_registry.grids.views import router as grids_router
from gridgov_grid_registry.places import handlers as places
from gridgov_grid_registry.places import models as _place_models  # noqa: F401 - registers the table
from gridgov_grid_registry.places.views import router as places_router
from gridgov_grid_registry.roster import handlers as roster
from gridgov_grid_registry.roster import models as _roster_models  # noqa: F401 - registers the table
from gridgov_grid_registry.roster.views import nearby_router
from gridgov_grid_registry.roster.views import router as roster_router
from gridgov_grid_registry.settings import RegistrySettings
from gridgov_grid_registry.tables import metadata

log = logging.getLogger(__name__)

MIGRATIONS = "gridgov_grid_registry"  # the package whose migrations/ build the schema


def release_free_memory() -> None:
    """Hand freed heap back to the OS (glibc keeps it otherwise, and RSS stays at the high-water mark)."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc: nothing to do
        pass


@dataclass
class RegistryRuntime(ServiceRuntime):
    """The service runtime plus the locator of the grid set in effect, ready before the consumers start.

    Lookups (the report consumer and the API) use the in-memory STRtree by default on both stacks, loaded
    from this service's database; PostGIS stores the sets and can serve lookups itself (``locator=postgis``).
    """

    active: ActiveLocator | None = None
    departments: DepartmentLayer = field(default_factory=lambda: DepartmentLayer([]))
    maps: MapCache | None = None
    gazetteers: places.GazetteerCache | None = None

    @property
    def locator(self) -> Locator:
        """The locator of the grid set in effect now."""
        return self.active.locator  # type: ignore[union-attr]

    def prepare(self) -> None:
        """Seed the demo data if asked, load the locator and the department layer, watch for a new set."""
        settings: RegistrySettings = self.settings  # type: ignore[assignment]
        if settings.seed_demo:
            handlers.seed_demo(self.db)
            roster.seed_demo(self.db)
            departments.seed_demo(self.db)
        # The set in effect is announced on gridgov.grids.published once (issue #14): at the watcher's first beat,
        # off the start path (the demo city's 2,930 grids take about 1-2 s), and again whenever another set takes
        # effect; a set announced before costs one lookup.
        announcing = [self.announce_grids] if settings.announce_grids else []
        self.active = ActiveLocator(self.db, settings.locator, settings.refresh_seconds,
                                    extra=[self.refresh_departments, *announcing])
        self.departments = departments.load_layer(self.db)
        self.maps = MapCache(self.db)
        if settings.seed_demo:  # the demo city's roads and landmarks, placed in the grid set just loaded
            places.seed_demo(self.db, self.locator)
        self.gazetteers = places.GazetteerCache(self.db, settings.refresh_seconds)
        release_free_memory()  # generating the city and loading rows leave ~15 MB of freed heap behind
        self.active.start()
        log.info("locating with %s on grid set %s", type(self.locator).__name__, self.locator.version)

    def announce_grids(self) -> None:
        """Publish the grids of the set in effect unless that set was announced before."""
        announce.announce_in_effect(self.db)

    def reload_departments(self) -> None:
        """Load the department layer again (after this process changed it)."""
        self.departments = departments.load_layer(self.db)

    def refresh_departments(self) -> None:
        """Reload the department layer if another process changed it."""
        from gridgov_grid_registry.departments import service

        with self.db.session() as session:
            if service.signature(session) != self.departments.signature:
                self.reload_departments()

    def stop(self) -> None:
        """Stop watching for grid sets, then the consumers, relay, bus and database."""
        if self.active:
            self.active.stop()
        super().stop()


def build_runtime(settings: RegistrySettings | None = None) -> RegistryRuntime:
    """The service runtime: its database, the bus, its consumers and the locator."""
    settings = settings or RegistrySettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    runtime = RegistryRuntime(settings=settings, db=db, migrations_package=MIGRATIONS)
    runtime.consumers = consumer_specs(runtime)
    return runtime


GRID_SET_MAX_BYTES = 64 * 1024 * 1024
DEPARTMENT_AREAS_MAX_BYTES = 16 * 1024 * 1024


def create_app(settings: RegistrySettings | None = None) -> FastAPI:
    """The grid-registry API."""
    return create_service_app(
        title="gridgov grid-registry",
        description="Grid sets (city → town → village → grid), point lookup, department areas, grid-worker roster.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[grids_router, nearby_router, roster_router, departments_router, places_router],
        # A city's grid set is a GeoJSON of thousands of polygons; department areas a few hundred.
        route_limits=(RouteLimit("POST", "/v1/grid-sets$", GRID_SET_MAX_BYTES, roles=("admin",)),
                      RouteLimit("PUT", "/v1/department-areas", DEPARTMENT_AREAS_MAX_BYTES, roles=("admin",))),
    )
