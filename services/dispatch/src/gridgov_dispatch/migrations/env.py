"""Alembic environment of dispatch (see gridgov_common.migrations)."""

from gridgov_common.migrations import run_migrations
from gridgov_dispatch.app import metadata

run_migrations(metadata)
