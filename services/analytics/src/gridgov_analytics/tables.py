"""The base of analytics' tables: its own metadata, never shared with another service."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from gridgov_common.db import messaging_tables


class AnalyticsTable(SQLModel, registry=registry()):
    """Base class of every analytics table."""


metadata = AnalyticsTable.metadata
messaging = messaging_tables(metadata)  # the outbox and handled-message tables live beside the service's own
