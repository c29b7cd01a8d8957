"""sensing's bus subscriptions, as ``{message type: handlers}`` tables.

No group yet: the alarm groups' and the raw topic's tables join here as they land.
"""

from __future__ import annotations

from gridgov_common.db import Database
from gridgov_common.runtime import ConsumerSpec


def consumer_specs(db: Database) -> list[ConsumerSpec]:
    """The consumer groups a sensing process runs."""
    return []
