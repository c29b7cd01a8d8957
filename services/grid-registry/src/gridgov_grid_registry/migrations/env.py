"""Alembic environment of grid-registry (see gridgov_common.migrations)."""

from gridgov_common.migrations import run_migrations
from gridgov_grid_registry.app import metadata

run_migrations(metadata)
