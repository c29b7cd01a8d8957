"""sensing: the city's cameras and sensors, their alarms, deduplication and suppression, and the cases they open
through the loop (a report on ``gridgov.reports.received`` of channel ``video_ai`` or ``iot``)."""

from fastapi import FastAPI

from gridgov_common.db import Database
from gridgov_common.limits import RouteLimit
from gridgov_common.web import create_service_app
from gridgov_sensing.adapters.gb28181_views import router as gb28181_router
from gridgov_sensing.alarms import models as _alarm_models  # noqa: F401 - registers the tables
from gridgov_sensing.alarms.views import ROUTE_LIMITS as ALARM_ROUTE_LIMITS
from gridgov_sensing.alarms.views import router as alarms_router
from gridgov_sensing.consumers import consumer_specs
from gridgov_sensing.devices import models as _device_models  # noqa: F401 - registers the tables
from gridgov_sensing.devices.registry import RegistryClient
from gridgov_sensing.devices.views import MAX_IMPORT_BYTES
from gridgov_sensing.devices.views import router as devices_router
from gridgov_sensing.runtime import SensingRuntime
from gridgov_sensing.settings import SensingSettings
from gridgov_sensing.suppression import models as _rule_models  # noqa: F401 - registers the tables
from gridgov_sensing.suppression.views import router as suppression_router
from gridgov_sensing.tables import SQLITE_CACHE_KIB, SQLITE_CHECKPOINT_PAGES, metadata
from gridgov_sensing.types import models as _type_models  # noqa: F401 - registers the tables
from gridgov_sensing.types.views import router as types_router
from gridgov_sensing.verification import models as _task_models  # noqa: F401 - registers the tables
from gridgov_sensing.verification.views import router as verification_router


def build_runtime(settings: SensingSettings | None = None, registry: RegistryClient | None = None) -> SensingRuntime:
    """The service runtime: its database, the bus, its consumers, grid-registry's client and the MQTT subscriber."""
    settings = settings or SensingSettings()
    db = Database(settings.resolved_database_url(), metadata, settings.service_name,
                  sqlite_cache_kib=SQLITE_CACHE_KIB, sqlite_checkpoint_pages=SQLITE_CHECKPOINT_PAGES)
    return SensingRuntime(settings=settings, db=db, consumers=consumer_specs(db, settings),
                          migrations_package="gridgov_sensing", registry=registry)


def create_app(settings: SensingSettings | None = None, registry: RegistryClient | None = None) -> FastAPI:
    """The sensing API."""
    return create_service_app(
        title="gridgov sensing",
        description="The city's cameras (GB/T 28181) and sensors, the alarms they raise (HTTP batches, GB/T 28181 "
                    "notifications, MQTT, a Kafka topic), their deduplication into alarm groups, suppression rules, "
                    "核实 tasks for verify-first types, and the reports they open (channels video_ai and iot).",
        runtime_factory=lambda: build_runtime(settings, registry),
        routers=[devices_router, types_router, alarms_router, suppression_router, verification_router,
                 gb28181_router],
        route_limits=(RouteLimit("POST", "/v1/devices/import$", MAX_IMPORT_BYTES, roles=("admin",)),
                      *ALARM_ROUTE_LIMITS),
    )
