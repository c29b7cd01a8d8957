"""Alembic environment of sensing (see gridgov_common.migrations)."""

from gridgov_common.migrations import run_migrations
from gridgov_sensing.app import metadata

run_migrations(metadata)
