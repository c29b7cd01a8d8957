"""sensing's bus subscriptions, as ``{message type: handlers}`` tables.

Three groups: ``sensing.alarms`` groups every accepted alarm (``gridgov.alarms.received``, keyed by fingerprint),
``sensing.tickets`` follows the tickets of cases and closes their groups (``alarms/consumers.py``), and
``sensing.raw`` ingests what a city's video platform publishes straight to ``gridgov.alarms.raw``
(``adapters/raw_topic.py``). Each table comes with the factory of its per-batch dependencies.
"""

from __future__ import annotations

from gridgov_common.consumers import consumer_spec
from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec
from gridgov_sensing.adapters.raw_topic import RAW_TABLE, raw_deps
from gridgov_sensing.alarms.consumers import TABLES
from gridgov_sensing.settings import SensingSettings

ALL_TABLES = [*TABLES, (RAW_TABLE, raw_deps)]


def consumer_specs(db: Database, settings: SensingSettings) -> list[ConsumerSpec]:
    """The consumer groups a sensing process runs."""
    return [consumer_spec(db, table, factory(db, settings)) for table, factory in ALL_TABLES]
