"""notification: tells people what their tickets need of them (in-app inbox first, more channels later)."""

from fastapi import FastAPI

from gridgov_common.db import Database
from gridgov_common.runtime import ServiceRuntime
from gridgov_common.web import create_service_app
from gridgov_notification.consumers import consumer_specs
from gridgov_notification.inbox import models as _models  # noqa: F401 - registers the tables
from gridgov_notification.inbox.views import router as inbox_router
from gridgov_notification.settings import NotificationSettings
from gridgov_notification.tables import metadata


def build_runtime(settings: NotificationSettings | None = None) -> ServiceRuntime:
    """The service runtime: its database, the bus and its consumers."""
    settings = settings or NotificationSettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    return ServiceRuntime(settings=settings, db=db, consumers=consumer_specs(db),
                          migrations_package="gridgov_notification")


def create_app(settings: NotificationSettings | None = None) -> FastAPI:
    """The notification API."""
    return create_service_app(
        title="gridgov notification",
        description="The in-app inbox of every department, grid, reporter and the command centre.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[inbox_router],
    )
