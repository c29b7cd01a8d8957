"""Every topic name on the bus, in one place.

Keys: the report id on report topics, the ticket id on ticket topics, so one entity's messages stay in order
on one partition; the version on the catalog topic; the fingerprint on received alarms (one alarm group's
alarms on one partition). Every topic has a ``.dlq`` twin for messages that could not be handled after retries.
"""

REPORTS_RECEIVED = "gridgov.reports.received"
REPORTS_LOCATED = "gridgov.reports.located"
TICKETS_EVENTS = "gridgov.tickets.events"
FEEDBACK_RECEIVED = "gridgov.feedback.received"
CATALOG_PUBLISHED = "gridgov.catalog.published"  # dispatch's event catalog versions, one message per version
GRIDS_PUBLISHED = "gridgov.grids.published"  # grid-registry's grid boundaries, one message per grid (latest kept)
MEDIA_STORED = "gridgov.media.stored"  # photos event-intake stored, with their original's EXIF and hashes
ALARMS_RAW = "gridgov.alarms.raw"  # a city video platform's alarms (alarm.raw, key = device id), into sensing
ALARMS_RECEIVED = "gridgov.alarms.received"  # alarms sensing accepted (alarm.received, key = fingerprint)
ALARMS_EVENTS = "gridgov.alarms.events"  # a case's alarm group repeated / resolved (key = report id)

ALL_TOPICS = (REPORTS_RECEIVED, REPORTS_LOCATED, TICKETS_EVENTS, FEEDBACK_RECEIVED, CATALOG_PUBLISHED,
              GRIDS_PUBLISHED, MEDIA_STORED, ALARMS_RAW, ALARMS_RECEIVED, ALARMS_EVENTS)
# Topics whose log keeps the latest message of each key (Kafka ``cleanup.policy=compact``) instead of expiring
# by age: a consumer that joins years later must still learn the catalog. Their DLQ twins expire as usual.
COMPACTED_TOPICS = (CATALOG_PUBLISHED, GRIDS_PUBLISHED)
DLQ_SUFFIX = ".dlq"


def dlq(topic: str) -> str:
    """The dead-letter twin of a topic."""
    return topic + DLQ_SUFFIX


def all_topics_with_dlq() -> list[str]:
    """Every topic and its DLQ twin, for creating them up front."""
    return [t for topic in ALL_TOPICS for t in (topic, dlq(topic))]
