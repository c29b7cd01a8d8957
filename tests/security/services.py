"""The four HTTP services as the security tests build them, on SQLite or on fresh PostgreSQL databases.

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

import pytest
from fastapi import FastAPI

from conftest import require_infra
from gridgov_common.settings import CommonSettings

SERVICES = {
    "event-intake": ("gridgov_event_intake.app", "gridgov_event_intake.settings", "IntakeSettings"),
    "grid-registry": ("gridgov_grid_registry.app", "gridgov_grid_registry.settings", "RegistrySettings"),
    "dispatch": ("gridgov_dispatch.app", "gridgov_dispatch.settings", "DispatchSettings"),
    "notification": ("gridgov_notification.app", "gridgov_notification.settings", "NotificationSettings"),
}
STACKS = ("sqlite", "postgresql")


def create_service_app(service: str, common: CommonSettings, database_url: str | None = None) -> FastAPI:
    """The service's app (lifespan not yet run), on ``database_url`` or its default SQLite file."""
    app_module, settings_module, settings_class = SERVICES[service]
    settings_type = getattr(importlib.import_module(settings_module), settings_class)
    kwargs = {"database_url": database_url} if database_url else {}
    return importlib.import_module(app_module).create_app(settings_type(common=common, **kwargs))


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
