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

# Pages of WAL (4 KiB each) after which a commit copies the WAL into the database (SQLite's default is 1,000: 4 MiB).
# A storm writes the alarm log and the groups' indexes at a high rate, and a checkpoint copies every page the WAL
# holds and syncs both files: with 4 MiB one came every few batches, on the grouping consumer's own thread, copying
# the same hot index pages again each time. 64 MiB (the history loader's too): bench/sensing_alarms_inprocess.py
# --compare, 150,000 alarms over 60,000 devices, three interleaved rounds (bench/results/sensing_checkpoint.json):
# grouping 40.3 / 43.7 / 47.7 -> 31.2 / 38.4 / 38.3 s, of which waiting (wall less CPU) 7.8 / 7.8 / 9.9 ->
# 3.3 / 3.2 / 3.4 s. A crash leaves at most that much WAL for the next start to read.
SQLITE_CHECKPOINT_PAGES = 16_384
