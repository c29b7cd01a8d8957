"""Topics named as compacted are created with ``cleanup.policy=compact`` on Kafka (through a namespace too);
the others delete by age, after the ``retention.ms`` the services ask for (the broker's default without one)."""

import math
import uuid

import pytest

from conftest import require_infra
from gridgov_common.bus.interface import open_bus
from gridgov_common.bus.topics import (
    CATALOG_PUBLISHED,
    COMPACTED_TOPICS,
    FEEDBACK_RECEIVED,
    GRIDS_PUBLISHED,
    TICKETS_EVENTS,
    dlq,
)
from tests.support.kafka_admin import delete_namespace, topic_configs


def cleanup_policies(servers: str, topics: list[str]) -> dict[str, str | None]:
    """Each topic's ``cleanup.policy`` ("delete", the broker's default, unless set on the topic)."""
    return topic_configs(servers, topics, "cleanup.policy", "delete")


def test_catalog_and_grids_topics_are_the_compacted_ones():
    # The grids' topic (issue #14) keeps each grid's latest boundary for a consumer that joins late.
    assert COMPACTED_TOPICS == (CATALOG_PUBLISHED, GRIDS_PUBLISHED)


@pytest.mark.distributed
def test_ensure_topics_creates_compacted_topics_compacted_and_the_others_expiring_on_kafka():
    servers = require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
    namespace = f"tc{uuid.uuid4().hex[:8]}."
    bus = open_bus(f"kafka://{servers}", namespace=namespace)
    topics = [CATALOG_PUBLISHED, dlq(CATALOG_PUBLISHED), TICKETS_EVENTS]
    try:
        bus.ensure_topics(topics, 2, COMPACTED_TOPICS, retention_s=36 * 3600)
        names = [namespace + t for t in topics]
        policies = cleanup_policies(servers, names)
        assert policies == {namespace + CATALOG_PUBLISHED: "compact", namespace + dlq(CATALOG_PUBLISHED): "delete",
                            namespace + TICKETS_EVENTS: "delete"}
        # the services' retention on the topics that delete by age; the compacted one keeps the broker's
        assert topic_configs(servers, names, "retention.ms", None) == {
            namespace + CATALOG_PUBLISHED: None, namespace + dlq(CATALOG_PUBLISHED): "129600000",
            namespace + TICKETS_EVENTS: "129600000"}
        # GRIDGOV_BUS_RETENTION_HOURS=0, for ever: Kafka's -1
        bus.ensure_topics([FEEDBACK_RECEIVED], 2, COMPACTED_TOPICS, retention_s=math.inf)
        assert topic_configs(servers, [namespace + FEEDBACK_RECEIVED], "retention.ms", None) == {
            namespace + FEEDBACK_RECEIVED: "-1"}
    finally:
        bus.close()
        delete_namespace(servers, namespace)
