"""dispatch: departments, routing, tickets and their transitions, the SLA board.

Consumes ``gridgov.reports.located``; publishes ``gridgov.tickets.events``.
"""

from dataclasses import dataclass
from datetime import timedelta

from fastapi import FastAPI

from gridgov_common.db import Database
from gridgov_common.runtime import ServiceRuntime
from gridgov_common.web import create_service_app
from gridgov_dispatch.consumers import consumer_specs
from gridgov_dispatch.departments import models as _department_models  # noqa: F401 - registers the tables
from gridgov_dispatch.departments import service as departments
from gridgov_dispatch.departments.views import router as departments_router
from gridgov_dispatch.settings import DispatchSettings
from gridgov_dispatch.sla import metrics as sla_metrics
from gridgov_dispatch.sla.views import router as sla_router
from gridgov_dispatch.tables import metadata
from gridgov_dispatch.tickets import models as _ticket_models  # noqa: F401 - registers the tables
from gridgov_dispatch.tickets.merge import MergePolicy
from gridgov_dispatch.tickets.views import router as tickets_router

MIGRATIONS = "gridgov_dispatch"  # the package whose migrations/ build the schema


@dataclass
class DispatchRuntime(ServiceRuntime):
    """The service runtime, seeding the departments before any consumer can dispatch to one."""

    def prepare(self) -> None:
        """Seed the departments (after migrations, before the consumers start)."""
        departments.seed(self.db)


def build_runtime(settings: DispatchSettings | None = None) -> ServiceRuntime:
    """The service runtime: its database, the bus and its consumers."""
    settings = settings or DispatchSettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    policy = MergePolicy(settings.merge_distance_m, timedelta(minutes=settings.merge_window_minutes))
    return DispatchRuntime(settings=settings, db=db, consumers=consumer_specs(db, policy),
                           migrations_package=MIGRATIONS)


def create_app(settings: DispatchSettings | None = None) -> FastAPI:
    """The dispatch API."""
    return create_service_app(
        title="gridgov dispatch",
        description="Tickets from located reports: routing to departments, claim, handling, verification, "
                    "closure, and the SLA board.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[tickets_router, sla_router, departments_router],
        metrics=sla_metrics.register,
    )
