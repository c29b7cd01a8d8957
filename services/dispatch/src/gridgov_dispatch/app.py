"""dispatch: departments, routing, tickets and their transitions, the SLA board.

Consumes ``gridgov.reports.located``, ``gridgov.feedback.received``, ``gridgov.grids.published`` and
``gridgov.media.stored``; publishes ``gridgov.tickets.events``.
"""

from dataclasses import dataclass

from fastapi import FastAPI

from gridgov_common.db import Database
from gridgov_common.limits import RouteLimit
from gridgov_common.runtime import ServiceRuntime
from gridgov_common.web import create_service_app
from gridgov_dispatch.catalog import handlers as catalog_handlers
from gridgov_dispatch.catalog import service as catalog  # its models register the catalog tables
from gridgov_dispatch.catalog.views import router as catalog_router
from gridgov_dispatch.consumers import consumer_specs
from gridgov_dispatch.context import DispatchContext
from gridgov_dispatch.departments import models as _department_models  # noqa: F401 - registers the tables
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.departments.views import router as departments_router
from gridgov_dispatch.feedback import models as _feedback_models  # noqa: F401 - registers the ticket_rating table
from gridgov_dispatch.feedback.views import router as ratings_router
from gridgov_dispatch.indicators.views import router as indicators_router
from gridgov_dispatch.routing.views import router as rules_router
from gridgov_dispatch.rules import service as routing_rules  # its models register the rule_set table
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.sla import handlers as sla_handlers
from gridgov_dispatch.sla import metrics as sla_metrics
from gridgov_dispatch.sla.calendar_views import router as calendar_router  # its models register the table
from gridgov_dispatch.sla.views import router as sla_router
from gridgov_dispatch.sla.watcher import SlaWatcher
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.tickets import models as _ticket_models  # noqa: F401 - registers the tables
from gridgov_dispatch.tickets.views import router as tickets_router
from gridgov_dispatch.verification import models as _verification_models  # noqa: F401 - registers the tables

MIGRATIONS = "gridgov_dispatch"  # the package whose migrations/ build the schema


@dataclass
class DispatchRuntime(ServiceRuntime):
    """The service runtime: seeds before any consumer can dispatch, and the SLA watcher beside the consumers."""

    ctx: DispatchContext | None = None
    watcher: SlaWatcher | None = None

    def prepare(self) -> None:
        """Seed the departments, the event catalog and the rule set (after migrations, before the consumers), and
        announce the catalog version in effect to the other services (they may have missed it)."""
        departments.seed(self.db)
        catalog.seed(self.db)
        routing_rules.seed(self.db)
        catalog_handlers.announce_in_effect(self.db)

    def start(self, ensure_topics_timeout: float = 120.0) -> None:
        """Start as every service does, then the SLA watcher where this process runs consumers."""
        super().start(ensure_topics_timeout)
        settings: DispatchSettings = self.settings  # type: ignore[assignment]
        if settings.run_consumers and settings.sla_scan_seconds > 0 and self.ctx is not None:
            ctx = self.ctx
            self.watcher = SlaWatcher(lambda: sla_handlers.scan_sla(ctx), settings.sla_scan_seconds)
            self.watcher.start()

    def stop(self) -> None:
        """Stop the SLA watcher, then the consumers, relay, bus and database."""
        if self.watcher:
            self.watcher.stop()
            self.watcher.join(timeout=10)
        super().stop()


def build_runtime(settings: DispatchSettings | None = None) -> DispatchRuntime:
    """The service runtime: its database, the bus, its consumers and the SLA watcher."""
    settings = settings or DispatchSettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    ctx = DispatchContext(db, settings)
    return DispatchRuntime(settings=settings, db=db, consumers=consumer_specs(ctx), migrations_package=MIGRATIONS,
                           ctx=ctx)


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    """The dispatch API."""
    return create_service_app(
        title="gridgov dispatch",
        description="Tickets from located reports: routing to departments, claim, handling, verification, "
                    "closure, and the SLA board.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[tickets_router, sla_router, departments_router, indicators_router, calendar_router, rules_router,
                 catalog_router, ratings_router],
        metrics=sla_metrics.register,
        route_limits=(RouteLimit("POST", "/v1/catalog/import$", catalog_handlers.MAX_IMPORT_BYTES, roles=("admin",)),),
    )
