"""analytics: the read model of the city's ticket history (counts per area, day, category, channel and outcome),
its trends and the risk map's statistics (hot spots, recurrences, surges)."""

from fastapi import FastAPI

from gridgov_analytics.consumers import consumer_specs
from gridgov_analytics.cube import models as _cube_models  # noqa: F401 - registers the tables
from gridgov_analytics.cube.views import router as cube_router
from gridgov_analytics.grids import models as _grid_models  # noqa: F401 - registers the tables
from gridgov_analytics.risk.views import router as risk_router
from gridgov_analytics.runtime import AnalyticsRuntime
from gridgov_analytics.settings import AnalyticsSettings
from gridgov_analytics.tables import metadata
from gridgov_analytics.trends.views import router as trends_router
from gridgov_common.db import Database
from gridgov_common.web import create_service_app


def build_runtime(settings: AnalyticsSettings | None = None) -> AnalyticsRuntime:
    """The service runtime: its database, the bus, the grids consumer and the cube's consumer."""
    settings = settings or AnalyticsSettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name)
    return AnalyticsRuntime(settings=settings, db=db, consumers=consumer_specs(db),
                            migrations_package="gridgov_analytics")


def create_app(settings: AnalyticsSettings | None = None) -> FastAPI:
    """The analytics API."""
    return create_service_app(
        title="gridgov analytics",
        description="Counts of the city's tickets per area, day or week, category, channel and outcome; the "
                    "indicators over time; hot spots, emerging hot-spot classes, recurrences (每月一题 candidates) and "
                    "surges. For the command centre (command_centre, admin). Answers carry an ETag and may be "
                    "cached privately for a minute.",
        runtime_factory=lambda: build_runtime(settings),
        routers=[trends_router, risk_router, cube_router],
    )
