"""The base of sensing's tables: its own metadata, never shared with another service."""

from sqlalchemy.orm import registry
from sqlmodel import SQLModel

from gridgov_common.db import messaging_tables


class SensingTable(SQLModel, registry=registry()):
    """Base class of every sensing table."""


metadata = SensingTable.metadata
messaging = messaging_tables(metadata)  # the outbox and handled-message tables live beside the service's own

# The embedded database's page cache per connection (SQLite's default is 2,000 KiB). A grouping batch updates the
# alarm log's and the groups' indexes at scattered keys (fingerprints, devices): with the default cache each
# batch read pages back from the OS. 16 MiB: bench/sensing_alarms_inprocess.py (40,000 alarms, 20,000 devices,
# five interleaved rounds) grouping 0.298 -> 0.270 ms CPU per alarm; 64 MiB gave no more (0.276).
SQLITE_CACHE_KIB = 16_384
