"""Alembic environment of analytics (see gridgov_common.migrations)."""

from gridgov_analytics.app import metadata
from gridgov_common.migrations import run_migrations

run_migrations(metadata)
