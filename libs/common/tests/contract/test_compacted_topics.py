"""Topics named as compacted are created with ``cleanup.policy=compact`` on Kafka (through a namespace too);
the others keep the broker's default (delete by age)."""

import uuid

import pytest

from conftest import require_infra
from gridgov_common.bus.interface import open_bus
from gridgov_common.bus.topics import CATALOG_PUBLISHED, COMPACTED_TOPICS, GRIDS_PUBLISHED, TICKETS_EVENTS, dlq


def cleanup_policies(servers: str, topics: list[str]) -> dict[str, str]:
    """Each topic's ``cleanup.policy`` ("delete", the broker's default, unless set on the topic)."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        # kafka-python answers the configs set on the topic: {"topic": {name: {config: {"value": ...}}}}
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics])["topic"]
        return {t: described[t].get("cleanup.policy", {}).get("value", "delete") for t in topics}
    finally:
        admin.close()


def test_catalog_and_grids_topics_are_the_compacted_ones():
    # The grids' topic (issue #14) keeps each grid's latest boundary for a consumer that joins late.
    assert COMPACTED_TOPICS == (CATALOG_PUBLISHED, GRIDS_PUBLISHED)


@pytest.mark.distributed
def test_ensure_topics_creates_compacted_topics_compacted_on_kafka():
    servers = require_infra("GRIDGOV_TEST_KAFKA_BOOTSTRAP_SERVERS", "Apache Kafka")
    namespace = f"tc{uuid.uuid4().hex[:8]}."
    bus = open_bus(f"kafka://{servers}", namespace=namespace)
    topics = [CATALOG_PUBLISHED, dlq(CATALOG_PUBLISHED), TICKETS_EVENTS]
    try:
        bus.ensure_topics(topics, 2, COMPACTED_TOPICS)
        policies = cleanup_policies(servers, [namespace + t for t in topics])
        assert policies == {namespace + CATALOG_PUBLISHED: "compact", namespace + dlq(CATALOG_PUBLISHED): "delete",
                            namespace + TICKETS_EVENTS: "delete"}
    finally:
        bus.close()
        from kafka.admin import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=servers)
        try:
            admin.delete_topics([namespace + t for t in topics])
        finally:
            admin.close()
