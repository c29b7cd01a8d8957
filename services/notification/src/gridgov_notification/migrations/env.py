"""Alembic environment of notification (see gridgov_common.migrations)."""

from gridgov_common.migrations import run_migrations
from gridgov_notification.app import metadata

run_migrations(metadata)
