"""Questions the tests ask a real Kafka cluster's admin API: a topic's configuration, and deleting a test's
topics."""

from __future__ import annotations


def topic_configs(servers: str, topics: list[str], name: str, default: str | None) -> dict[str, str | None]:
    """Each topic's configuration ``name`` (``default`` unless set on the topic)."""
    from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        # kafka-python answers the configs set on the topic: {"topic": {name: {config: {"value": ...}}}}
        described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, t) for t in topics])["topic"]
        return {t: described[t].get(name, {}).get("value", default) for t in topics}
    finally:
        admin.close()


def delete_namespace(servers: str, namespace: str) -> None:
    """Delete every topic whose name starts with ``namespace`` (a test's own)."""
    from kafka.admin import KafkaAdminClient

    admin = KafkaAdminClient(bootstrap_servers=servers)
    try:
        topics = [t for t in admin.list_topics() if t.startswith(namespace)]
        if topics:
            admin.delete_topics(topics)
    finally:
        admin.close()
