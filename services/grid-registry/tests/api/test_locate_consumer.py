import pytest

from gridgov_common.events.reports import REPORT_LOCATED, ReportLocated
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


def test_consume_report_names_department_areas_covering_point(feed):
    # The demo layer: the city-centre urban-management area covers the demo point; dispatch rules match on it.
    feed.publish(feed.received(*DEMO_POINT))
    location = ReportLocated.model_validate(feed.located()[-1].payload).location
    assert location.status == "located"
    assert "um-centre" in location.department_areas


def test_consume_report_outside_every_department_area_names_none(feed):
    feed.publish(feed.received(150.0, -30.0))
    assert ReportLocated.model_validate(feed.located()[-1].payload).location.department_areas == []


@pytest.mark.parametrize(("channel", "device"), [("video_ai", "44190000001320000001"), ("iot", "IOT-water-7")])
def test_consume_device_report_is_located_and_passed_through_whole(feed, channel, device):
    # Issue #16: a report a camera or sensor raised (through sensing) is located like any other, its channel and
    # device reporter carried through unchanged.
    incoming = feed.received(*DEMO_POINT)
    report = {**incoming.payload, "channel": channel, "reporter_id": device, "reporter_role": "device"}
    feed.publish(incoming.model_copy(update={"payload": report}))
    located = ReportLocated.model_validate(feed.located()[-1].payload)
    assert located.report.channel == channel and located.report.reporter_role == "device"
    assert located.report.reporter_id == device
    assert located.location.status == "located" and located.location.grid_code == DEMO_GRID_CODE


def test_a_batch_with_a_duplicate_locates_like_one_message_at_a_time(feed):
    # #18: the consumer's batch handler, as the runner calls it: a batch holding a redelivered message publishes
    # each report once, with the same location as the same report handled alone.
    handler = feed.runtime.consumers[0].handler
    first, second = feed.received(*DEMO_POINT), feed.received(*OUTSIDE_POINT)
    handler([first, second, first])
    feed.runtime.relay.drain()
    alone_in, alone_out = feed.received(*DEMO_POINT), feed.received(*OUTSIDE_POINT)
    handler([alone_in])
    handler([alone_out])
    handler([alone_in])
    feed.runtime.relay.drain()
    located = {e.key: ReportLocated.model_validate(e.payload) for e in feed.located()}
    assert feed.located_count() == 4 and set(located) == {first.key, second.key, alone_in.key, alone_out.key}
    assert located[first.key].location == located[alone_in.key].location
    assert located[second.key].location == located[alone_out.key].location
    assert located[first.key].report.model_dump(mode="json") == first.payload
