"""The alarm consumer groups, as tables for the service's ``consumers.py`` to run.

``sensing.alarms`` groups every accepted alarm (``gridgov.alarms.received``, keyed by fingerprint: one group's
alarms in order on one partition); ``sensing.tickets`` follows the tickets of cases (``gridgov.tickets.events``)
and closes a group when its ticket closes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from gridgov_common.bus.topics import ALARMS_RECEIVED, TICKETS_EVENTS
from gridgov_common.consumers import MessageTable, consumer_spec
from gridgov_common.db import Database
from gridgov_common.events.alarms import ALARM_RECEIVED
from gridgov_common.events.tickets import TICKET_EVENT_NAMES
from gridgov_common.runtime import ConsumerSpec
from gridgov_sensing.alarms.handlers import (
    GroupingContext,
    concerns_cases,
    follow_ticket,
    group_alarm,
    grouping_context,
)
from gridgov_sensing.settings import SensingSettings

# An alarm storm's repeats of one fingerprint fold into one upsert per batch, and a batch's fixed work (the context,
# the quiet-group query, the commit) is shared by its alarms: polls of up to 1,000 alarms instead of the runner's
# 200 (bench/sensing_alarms_inprocess.py --poll, two interleaved rounds: 0.29 -> 0.22 ms CPU per alarm).
GROUPING_BATCH = 1_000
ALARMS = MessageTable[GroupingContext]("sensing.alarms", (ALARMS_RECEIVED,), {ALARM_RECEIVED: (group_alarm,)},
                                       max_batch=GROUPING_BATCH)
TICKETS = MessageTable[object]("sensing.tickets", (TICKETS_EVENTS,), {
    f"ticket.{name}": (follow_ticket,) for name in TICKET_EVENT_NAMES.values()}, wants=concerns_cases)

# Each table with the factory of its per-batch dependencies: ``factory(db, settings)`` returns ``deps()``.
DepsFactory = Callable[[Database, SensingSettings], Callable[[], Any]]
TABLES: list[tuple[MessageTable[Any], DepsFactory]] = [
    (ALARMS, lambda db, settings: lambda: grouping_context(db, settings.repeat_event_interval_s)),
    (TICKETS, lambda db, settings: lambda: None),
]


def consumer_specs(db: Database, settings: SensingSettings) -> list[ConsumerSpec]:
    """The alarm groups' consumers of a sensing process."""
    return [consumer_spec(db, table, factory(db, settings)) for table, factory in TABLES]
