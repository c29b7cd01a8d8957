"""The six HTTP services as the security tests build them, on SQLite or on fresh PostgreSQL databases, and the
console (no database: the services behind it are faked by an httpx mock transport, as its own API tests do).

Shared by the authorization matrix (tests/security/) and the OpenAPI fuzzing (tests/test_fuzz_openapi.py):
both run every service on both stacks. The PostgreSQL databases are created per test module through
``GRIDGOV_TEST_PG_ADMIN_URL`` with the same helper the end-to-end stack uses (tests/support/stack.py), and
dropped afterwards; without that variable ``conftest.require_infra`` skips loudly, or fails under
``GRIDGOV_REQUIRE_INFRA=1`` (CI).
"""

from __future__ import annotations

import importlib
import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from conftest import require_infra
from gridgov_common.settings import CommonSettings

SERVICES = {
    "event-intake": ("gridgov_event_intake.app", "gridgov_event_intake.settings", "IntakeSettings"),
    "grid-registry": ("gridgov_grid_registry.app", "gridgov_grid_registry.settings", "RegistrySettings"),
    "dispatch": ("gridgov_dispatch.app", "gridgov_dispatch.settings", "DispatchSettings"),
    "notification": ("gridgov_notification.app", "gridgov_notification.settings", "NotificationSettings"),
    "analytics": ("gridgov_analytics.app", "gridgov_analytics.settings", "AnalyticsSettings"),
    "sensing": ("gridgov_sensing.app", "gridgov_sensing.settings", "SensingSettings"),
}
STACKS = ("sqlite", "postgresql")
# The console: no database and no stack variants, so it is not in SERVICES (the fuzzing runs those on both stacks).
CONSOLE = "console"


def create_service_app(service: str, common: CommonSettings, database_url: str | None = None) -> FastAPI:
    """The service's app (lifespan not yet run), on ``database_url`` or its default SQLite file."""
    app_module, settings_module, settings_class = SERVICES[service]
    settings_type = getattr(importlib.import_module(settings_module), settings_class)
    kwargs = {"database_url": database_url} if database_url else {}
    settings = settings_type(common=common, **kwargs)
    if service == "sensing":  # sensing asks grid-registry where a device stands: a stand-in answers
        return importlib.import_module(app_module).create_app(settings, registry=registry_stand_in())
    return importlib.import_module(app_module).create_app(settings)


def registry_stand_in():
    """grid-registry's batch lookup for sensing, faked: every point is in the world's grid G1."""
    from gridgov_sensing.devices.registry import RegistryClient
    from tests.security.world import GRID, TOWN, VILLAGE

    def locate(request: httpx.Request) -> httpx.Response:
        import json

        points = json.loads(request.content)["points"]
        located = {"status": "located", "grid_code": GRID, "village_code": VILLAGE, "town_code": TOWN}
        return httpx.Response(200, json={"grid_set_version": "1", "crs": "wgs84", "count": len(points),
                                         "results": [located] * len(points)})

    return RegistryClient("http://grid-registry.test", lambda: "stand-in", transport=httpx.MockTransport(locate))


@contextmanager
def postgres_databases() -> Iterator[dict[str, str]]:
    """One fresh PostGIS database per service (service → SQLAlchemy URL), dropped on exit."""
    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL/PostGIS")
    from tests.support.stack import create_databases, drop_databases  # psycopg only when PostgreSQL is asked for

    run_id = f"sec{uuid.uuid4().hex[:8]}"
    try:
        yield create_databases(admin, run_id)
    finally:
        drop_databases(admin, run_id)


def stack_params() -> list:
    """``(stack, service)`` parameters: every service on each stack, with ids like ``postgresql-dispatch``.

    The PostgreSQL ones carry the ``distributed`` marker (they need the server of GRIDGOV_TEST_PG_ADMIN_URL).
    """
    return [pytest.param(stack, service, id=f"{stack}-{service}",
                         marks=[pytest.mark.distributed] if stack == "postgresql" else [])
            for stack in STACKS for service in sorted(SERVICES)]


class EchoUpstream:
    """The four services behind the console, faked: every request answers 200 with an empty page, and is recorded.

    So a console row shows what the console itself does (adds access, or blocks), never what a service decides.
    """

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        """Record the forwarded request; answer 200 (an empty ticket page, which the live feed also accepts)."""
        self.requests.append(request)
        return httpx.Response(200, json={"items": [], "total": 0})


@contextmanager
def console_client(common: CommonSettings, **overrides) -> Iterator[tuple[TestClient, EchoUpstream]]:
    """The console started (lifespan run) with an echoing upstream; ``overrides`` go to ConsoleSettings.

    The defaults are the embedded stack on loopback (`gridgov up`): no Kafka, host 127.0.0.1, DEV login unset, so
    the DEV login is on. Kafka is cleared explicitly so an environment variable cannot switch it off unnoticed.
    """
    from gridgov_console.app import create_app
    from gridgov_console.settings import ConsoleSettings

    settings = ConsoleSettings(common=common.model_copy(update={"kafka_bootstrap_servers": None}),
                               **{"host": "127.0.0.1", "feed_poll_s": 0.05, **overrides})
    upstream = EchoUpstream()
    with TestClient(create_app(settings)) as client:
        real = client.app.state.http  # the lifespan's client: closed by the lifespan itself
        client.app.state.http = httpx.AsyncClient(transport=httpx.MockTransport(upstream))
        try:
            yield client, upstream
        finally:
            client.portal.call(client.app.state.http.aclose)
            client.app.state.http = real
