"""Fixtures shared by every test suite: a data directory per test, bearer tokens, a fresh PostgreSQL database."""

from __future__ import annotations

import uuid

import pytest

from gridgov_common.auth import mint_token
from gridgov_common.settings import CommonSettings

TEST_SECRET = "test-only-secret-not-used-anywhere-else"


@pytest.fixture
def common_settings(tmp_path) -> CommonSettings:
    """Embedded-stack settings rooted in a fresh temporary data directory."""
    return CommonSettings(data_dir=tmp_path, jwt_secret=TEST_SECRET, log_json=False)


@pytest.fixture
def token():
    """Mint a bearer header for a role: ``token("grid_worker", grid="...")``."""

    def _mint(role: str, sub: str | None = None, department: str | None = None, grid: str | None = None,
              name: str | None = None):
        jwt = mint_token(TEST_SECRET, sub=sub or f"{role}-1", role=role, department=department, grid=grid,
                         name=name)
        return {"Authorization": f"Bearer {jwt}"}

    return _mint


def require_infra(env_var: str, what: str) -> str:
    """The value of ``env_var`` naming a real server; skip loudly without it, or fail under GRIDGOV_REQUIRE_INFRA=1."""
    import os

    value = os.environ.get(env_var)
    if value:
        return value
    reason = (f"{what} not available: {env_var} is not set (run `make test`, which provisions Kafka and "
              f"PostgreSQL/PostGIS with deploy/local/)")
    if os.environ.get("GRIDGOV_REQUIRE_INFRA") == "1":
        pytest.fail(f"GRIDGOV_REQUIRE_INFRA=1 but {reason}")
    pytest.skip(f"SKIPPED REAL-STACK TEST — {reason}")


@pytest.fixture
def pg_url():
    """A fresh PostgreSQL database owned by ``gridgov`` for one test, dropped afterwards (a suite whose tests need
    something else — a schema in a PostGIS database, a plain libpq URL — declares its own ``pg_url``)."""
    import psycopg
    from sqlalchemy import make_url

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL")
    name = f"gg_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    try:
        yield make_url(admin).set(drivername="postgresql+psycopg", username="gridgov", password="gridgov",
                                  database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
