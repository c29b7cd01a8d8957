"""Alembic environment of event-intake (see gridgov_common.migrations)."""

from gridgov_common.migrations import run_migrations
from gridgov_event_intake.app import metadata

run_migrations(metadata)
