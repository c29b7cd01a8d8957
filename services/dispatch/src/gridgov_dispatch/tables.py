"""The base of dispatch's tables: its own metadata, never shared with another service.

Datetime fields map to sqlmodel's ``UTCDateTime``: naive values are refused on write and every value is read
back tz-aware in UTC, on SQLite as on PostgreSQL.
"""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from gridgov_common.db import messaging_tables


class DispatchTable(SQLModel, registry=registry()):
    """Base class of every dispatch table."""


metadata = DispatchTable.metadata
messaging = messaging_tables(metadata)  # the outbox and handled-message tables live beside the service's own
