"""The base of sensing's tables: its own metadata, never shared with another service."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from gridgov_common.db import messaging_tables


class SensingTable(SQLModel, registry=registry()):
    """Base class of every sensing table."""


metadata = SensingTable.metadata
messaging = messaging_tables(metadata)  # the outbox and handled-message tables live beside the service's own
