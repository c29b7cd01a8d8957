"""analytics' bus subscriptions, as ``{message type: handlers}`` tables.

Two groups: ``analytics.grids`` learns grid-registry's grids (``grid.published``, compacted: a late joiner learns
every grid); ``analytics.cube-<generation>`` projects every ticket transition and every rating into the read model.
The cube's group carries its generation: a rebuild starts the next one, which reads both topics from the earliest
offset under a new name (its handled-message records and offsets start empty).
"""

from __future__ import annotations

from gridgov_analytics.cube.handlers import CubeBatch, project_rating, project_ticket_event
from gridgov_analytics.cube.service import consumer_group
from gridgov_analytics.grids.handlers import learn_grid
from gridgov_common.bus.topics import FEEDBACK_RECEIVED, GRIDS_PUBLISHED, TICKETS_EVENTS
from gridgov_common.consumers import MessageTable, consumer_spec
from gridgov_common.db import Database
from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE
from gridgov_common.events.grids import GRID_PUBLISHED_TYPE
from gridgov_common.events.tickets import TICKET_EVENT_NAMES
from gridgov_common.runtime import ConsumerSpec

GRIDS = MessageTable[object]("analytics.grids", (GRIDS_PUBLISHED,), {GRID_PUBLISHED_TYPE: (learn_grid,)})
TICKET_TYPES = tuple(f"ticket.{name}" for name in TICKET_EVENT_NAMES.values())


def cube_table(generation: int) -> MessageTable[CubeBatch]:
    """The read model's group of a generation: every ticket transition and every rating."""
    return MessageTable[CubeBatch](consumer_group(generation), (TICKETS_EVENTS, FEEDBACK_RECEIVED), {
        **{event_type: (project_ticket_event,) for event_type in TICKET_TYPES},
        FEEDBACK_RECEIVED_TYPE: (project_rating,),
    })


def consumer_specs(db: Database) -> list[ConsumerSpec]:
    """The groups that run for the process's whole life (the cube's follows its generation: ``cube_spec``)."""
    return [consumer_spec(db, GRIDS, lambda: None)]


def cube_spec(db: Database, generation: int) -> ConsumerSpec:
    """The cube's consumer of a generation; each batch gets a fresh in-memory batch."""
    return consumer_spec(db, cube_table(generation), lambda: CubeBatch(generation))
