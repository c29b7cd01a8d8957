"""Every service's Alembic history builds exactly the schema its models describe, on SQLite and PostgreSQL."""

import importlib
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from conftest import require_infra
from gridgov_common.db import Database
from gridgov_common.migrations import upgrade_to_head

PACKAGES = ["gridgov_event_intake", "gridgov_grid_registry", "gridgov_dispatch", "gridgov_notification",
            "gridgov_analytics", "gridgov_sensing"]


def schema_diff(url: str, package: str) -> list:
    metadata = importlib.import_module(f"{package}.app").metadata
    db = Database(url, metadata, package)
    try:
        upgrade_to_head(db, package)
        upgrade_to_head(db, package)  # a second start migrates nothing and fails nothing
        with db.engine.connect() as conn:
            return compare_metadata(MigrationContext.configure(conn, opts={"compare_type": True}), metadata)
    finally:
        db.engine.dispose()


def postgres_only_index(diff) -> bool:
    """A GiST index exists on PostgreSQL only (SQLite has no such index; the STRtree serves lookups there)."""
    return diff[0] == "add_index" and diff[1].dialect_options["postgresql"].get("using") == "gist"


@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_match_models_on_sqlite(tmp_path, package):
    diff = [d for d in schema_diff(f"sqlite:///{tmp_path / 'm.db'}", package) if not postgres_only_index(d)]
    assert diff == [], f"models changed without a migration: python -m gridgov_common.migrations revision {package}"


@pytest.mark.distributed
@pytest.mark.parametrize("package", PACKAGES)
def test_migrations_match_models_on_postgis(package):
    import psycopg

    admin = require_infra("GRIDGOV_TEST_PG_ADMIN_URL", "PostgreSQL/PostGIS")
    name = f"gg_mig_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" OWNER gridgov')
    base = admin.rsplit("/", 1)[0]
    try:
        with psycopg.connect(f"{base}/{name}", autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")
        url = base.replace("postgresql://postgres@", "postgresql+psycopg://gridgov:gridgov@") + f"/{name}"
        diff = [d for d in schema_diff(url, package) if "spatial_ref_sys" not in str(d)]
        assert diff == [], f"models and migrations differ on PostgreSQL: {diff}"
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
