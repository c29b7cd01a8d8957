from gridgov_common.events.reports import REPORT_LOCATED
from gridgov_grid_registry.grids.demo import DEMO_GRID_CODE, DEMO_POINT, DEMO_VERSION, OUTSIDE_POINT


def test_consume_report_received_publishes_located_once(feed):
    incoming = feed.received(*DEMO_POINT)
    feed.publish(incoming)

    [located] = feed.located()
    assert located.type == REPORT_LOCATED
    assert located.producer == "grid-registry"
    assert located.key == incoming.key
    assert located.correlation_id == incoming.correlation_id
    assert located.causation_id == str(incoming.id)
    assert located.payload["report"] == incoming.payload
    assert located.payload["location"]["status"] == "located"
    assert located.payload["location"]["grid_code"] == DEMO_GRID_CODE
    assert located.payload["location"]["grid_set_version"] == DEMO_VERSION

    feed.publish(incoming)  # the same message again, as on a redelivery
    assert feed.located_count() == 1
    assert feed.runtime.db.outbox_backlog() == 0


def test_consume_report_without_coordinates_publishes_unlocated(feed):
    feed.publish(feed.received(None, None))
    [located] = feed.located()
    assert located.payload["location"]["status"] == "unlocated"
    assert located.payload["report"]["lon"] is None


def test_consume_report_outside_city_publishes_unlocated(feed):
    feed.publish(feed.received(*OUTSIDE_POINT))
    [located] = feed.located()
    assert located.payload["location"]["status"] == "unlocated"
    assert located.payload["location"]["town_code"] is None


def test_consume_other_event_type_publishes_nothing(feed):
    feed.publish(feed.received(*DEMO_POINT).model_copy(update={"type": "report.withdrawn"}))
    assert feed.located_count() == 0
