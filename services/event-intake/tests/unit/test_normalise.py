from datetime import UTC, datetime, timedelta
from types import SimpleNamespace

import pytest

from gridgov_common.errors import ValidationFailed
from gridgov_common.geo import wgs84_to_gcj02
from gridgov_common.logs import PhoneMaskingFilter, mask_phones
from gridgov_event_intake.reports import normalise, ratelimit


def patrol_body(**change):
    base = dict(category_code="01002", description="垃圾", lon=113.75, lat=23.02, media_ids=[],
                handled_on_spot=False, handled_note=None, fix=None)
    return SimpleNamespace(**{**base, **change})


def hotline_body(**change):
    base = dict(order_no="GD20261125-0001", caller_name="张三", caller_phone="13812341234", address="东城街道",
                lon=None, lat=None, crs="wgs84", category_code="04002", description="水管爆裂",
                urgency="urgent", feedback_tier=None, answer=None, repeat_of=None, knowledge_article_id=None)
    return SimpleNamespace(**{**base, **change})


def test_mask_phone_keeps_prefix_and_last_four():
    assert normalise.mask_phone("13812341234") == "138****1234"
    assert normalise.mask_phone("+8613812341234") == "+86138****1234"
    assert normalise.mask_phone("0769-2283") == "*****2283"
    assert normalise.mask_phone(None) is None


def test_mask_phones_in_text_leaves_longer_numbers_alone():
    text = "caller 13812341234 grid 441900001001001 order 201811139999999999"
    assert mask_phones(text) == "caller 138****1234 grid 441900001001001 order 201811139999999999"


def test_filter_log_record_masks_phone_in_args():
    import logging

    record = logging.LogRecord("x", logging.INFO, __file__, 1, "caller %s called", ("13912345678",), None)
    assert PhoneMaskingFilter().filter(record) is True
    assert record.getMessage() == "caller 139****5678 called"


@pytest.mark.parametrize(("role", "department", "report_department", "full"), [
    ("command_centre", None, "water", True),
    ("dept_dispatcher", "water", "water", True),
    ("dept_dispatcher", "housing", "water", False),
    ("dept_dispatcher", "water", None, False),
    ("admin", None, "water", False),
    ("grid_worker", None, "water", False),
])
def test_sees_full_phone_only_handling_department_and_centre(role, department, report_department, full):
    assert normalise.sees_full_phone(role, department, report_department) is full


def test_idempotency_key_prefers_hotline_order_number():
    assert normalise.idempotency_key("hotline", "op-1", header="h", order_no="A1") == "hotline:order:A1"
    assert normalise.idempotency_key("hotline", "op-2", order_no="A1") == "hotline:order:A1"


def test_idempotency_key_is_scoped_to_caller():
    a = normalise.idempotency_key("citizen", "c1", header="k")
    b = normalise.idempotency_key("citizen", "c2", header="k")
    assert a != b
    assert normalise.idempotency_key("citizen", "c1", client_id="k") not in (a, None)
    assert normalise.idempotency_key("patrol", "g1") is None


def test_wgs84_converts_gcj02_back_to_the_gps_point():
    gps = (113.7518, 23.0205)
    phone = wgs84_to_gcj02(*gps)
    lon, lat = normalise.wgs84(phone[0], phone[1], "gcj02")
    assert abs(lon - gps[0]) < 1e-6 and abs(lat - gps[1]) < 1e-6
    assert abs(phone[0] - gps[0]) > 1e-3  # the offset is real: several hundred metres
    assert normalise.wgs84(None, None, "gcj02") == (None, None)


def test_patrol_draft_on_spot_without_note_or_photo_names_both_fields():
    with pytest.raises(ValidationFailed) as caught:
        normalise.patrol_draft("g1", "grid_worker", patrol_body(handled_on_spot=True))
    assert {d.field for d in caught.value.details} == {"handled_note", "media_ids"}


def test_patrol_draft_drops_note_when_not_handled_on_spot():
    draft = normalise.patrol_draft("g1", "grid_worker", patrol_body(handled_note="ignored"))
    assert draft.handled_on_spot is False and draft.handled_note is None
    assert draft.status == "received"


def test_hotline_draft_answered_directly_is_closed_at_intake():
    draft = normalise.hotline_draft("command_centre", hotline_body(answer="已电话答复办理时间"))
    assert draft.closed_at_intake and draft.status == "closed"
    assert draft.reporter_id == "hotline:GD20261125-0001"
    assert draft.reporter_phone == "13812341234"


def test_hotline_draft_with_one_coordinate_names_the_missing_one():
    with pytest.raises(ValidationFailed) as caught:
        normalise.hotline_draft("command_centre", hotline_body(lon=113.7))
    assert [d.field for d in caught.value.details] == ["lat"]


NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)
WINDOW = timedelta(minutes=10)


def test_retry_after_allows_below_limit():
    assert ratelimit.retry_after([NOW - timedelta(minutes=1)] * 4, NOW, 5, WINDOW) is None


def test_retry_after_at_limit_waits_until_oldest_leaves_window():
    recent = [NOW - timedelta(minutes=m) for m in (9, 5, 4, 3, 1)]
    assert ratelimit.retry_after(recent, NOW, 5, WINDOW) == 60


def test_retry_after_ignores_submissions_outside_window():
    recent = [NOW - timedelta(minutes=m) for m in (30, 20, 11, 10, 1)]
    assert ratelimit.retry_after(recent, NOW, 2, WINDOW) is None


# --- issue #14: the city's extent and the device fix ------------------------------------------------------------

EXTENT = (113.50, 22.65, 114.28, 23.18)


@pytest.mark.parametrize("point", [(113.50, 22.65), (114.28, 23.18), (113.75, 23.02), (None, None)],
                         ids=["south-west-corner", "north-east-corner", "middle", "no-point"])
def test_require_in_city_takes_points_inside_or_on_the_border_and_none(point):
    draft = normalise.Draft("hotline", "04002", "水管爆裂", point[0], point[1], "wgs84", "h", "command_centre")
    assert normalise.require_in_city(draft, EXTENT) is draft


@pytest.mark.parametrize("point", [(113.4999, 23.0), (114.2801, 23.0), (113.75, 22.6499), (113.75, 23.1801)],
                         ids=["west", "east", "south", "north"])
def test_require_in_city_refuses_point_just_outside_naming_the_channels_fields(point):
    draft = normalise.Draft("open311", "04002", "pipe", point[0], point[1], "wgs84", "c", "open311")
    with pytest.raises(ValidationFailed) as refused:
        normalise.require_in_city(draft, EXTENT, ("long", "lat"))
    assert [d.field for d in refused.value.details] == ["long", "lat"]
    assert all("不在本市范围内" in d.reason_zh for d in refused.value.details)


def test_patrol_draft_carries_the_device_fix():
    from gridgov_common.events.fix import DeviceFix

    fix = DeviceFix(lat=23.02, lon=113.75, accuracy_m=8.0, fixed_at=datetime.now(UTC), mocked=False)
    draft = normalise.patrol_draft("gw-1", "grid_worker", patrol_body(fix=fix))
    assert draft.device_fix is fix


def test_hotline_draft_repeat_call_is_not_published():
    draft = normalise.hotline_draft("command_centre", hotline_body(repeat_of="r-1"))
    assert draft.status == "repeat" and not draft.published and not draft.closed_at_intake


def test_hotline_draft_links_refused_name_their_field():
    cases = [(dict(repeat_of="r-1", caller_phone=None), ["caller_phone"]),
             (dict(repeat_of="r-1", answer="已答复"), ["repeat_of"]),
             (dict(knowledge_article_id="a-1"), ["knowledge_article_id"])]
    for change, fields in cases:
        with pytest.raises(ValidationFailed) as caught:
            normalise.hotline_draft("command_centre", hotline_body(**change))
        assert [d.field for d in caught.value.details] == fields
        assert all(d.reason_zh for d in caught.value.details)


def test_recorded_suggestion_agrees_when_operator_chose_top_1():
    classification = SimpleNamespace(model_version="v1", abstained=False, reason="ok", suggestions=[
        SimpleNamespace(code="04002", confidence=0.81234567), SimpleNamespace(code="04001", confidence=0.1)])
    agreed = normalise.recorded_suggestion(classification, "04002")
    assert agreed.agreed is True and agreed.codes == (("04002", 0.8123), ("04001", 0.1))
    assert normalise.recorded_suggestion(classification, "04001").agreed is False
    columns = agreed.columns()
    assert columns["suggested"][0] == {"code": "04002", "confidence": 0.8123}
    assert columns["suggestion_model_version"] == "v1" and columns["suggestion_reason"] == "ok"


def test_recorded_suggestion_without_suggestions_agrees_with_nothing():
    nothing = SimpleNamespace(model_version=None, abstained=True, reason="no_model", suggestions=[])
    recorded = normalise.recorded_suggestion(nothing, "04002")
    assert recorded.abstained and recorded.agreed is None and recorded.codes == ()
    assert normalise.no_suggestion("error").columns()["suggestion_reason"] == "error"
