"""The locator path (issue #17): a report with an address and no coordinates is placed by the gazetteer."""

from gridgov_common.events.reports import ReportLocated
from gridgov_grid_registry.grids.demo import DEMO_POINT, DEMO_VILLAGE_CODE


def test_consume_report_with_address_only_is_placed_village_only(feed):
    incoming = feed.received(None, None)
    incoming.payload["address"] = "南城街道洲源社区宏图路3号"
    feed.publish(incoming)
    with_coords = feed.received(*DEMO_POINT)
    with_coords.payload["address"] = "虎门镇威远炮台"  # coordinates win over the address
    feed.publish(with_coords)
    vague = feed.received(None, None)
    vague.payload["address"] = "东城街道洲源社区"  # contradicts itself: not placed, the hint kept
    feed.publish(vague)
    located = {e.key: ReportLocated.model_validate(e.payload).location for e in feed.located()}
    by_address = located[incoming.key]
    assert (by_address.status, by_address.village_code, by_address.town_code) == ("village_only",
                                                                              DEMO_VILLAGE_CODE, "441900004")
    assert by_address.grid_code is None
    assert by_address.place_match is not None and by_address.place_match.level == "village"
    assert by_address.place_match.confidence >= 0.9 and by_address.place_match.matched_text == "南城街道洲源社区"
    assert located[with_coords.key].status == "located" and located[with_coords.key].place_match is None
    assert located[with_coords.key].village_code == DEMO_VILLAGE_CODE
    assert located[vague.key].status == "unlocated" and located[vague.key].place_match.confidence < 0.5
