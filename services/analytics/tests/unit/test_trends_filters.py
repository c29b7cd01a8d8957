"""The analytics query parameters read and checked without I/O: range, area, lists, buckets."""

from datetime import date

import pytest

from gridgov_analytics.trends import filters
from gridgov_common.errors import ValidationFailed

TODAY = date(2026, 12, 2)


def field_of(call) -> str:
    with pytest.raises(ValidationFailed) as caught:
        call()
    return caught.value.details[0].field


def test_default_range_is_the_ninety_days_up_to_today():
    window = filters.parse_window(None, None, TODAY)
    assert (window.start, window.end, window.days) == (date(2026, 9, 4), TODAY, 90)


def test_range_of_one_day_and_of_the_longest_allowed():
    assert filters.parse_window("2026-11-02", "2026-11-02", TODAY).days == 1
    assert filters.parse_window("2025-10-29", "2026-12-02", TODAY).days == filters.MAX_DAYS


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2026-11-09", "2026-11-02", "to"),  # reversed
    ("2025-10-28", "2026-12-02", "to"),  # 401 days
    ("1999-12-31", "2000-01-01", "from"),
    (None, "2027-12-04", "to"),  # more than a year ahead, and the default `from` with it: `to` is named
    ("2026-02-30", None, "from"),
    ("26-11-02", None, "from"),
])
def test_bad_range_names_the_parameter(start, end, field):
    assert field_of(lambda: filters.parse_window(start, end, TODAY)) == field


def test_area_levels_and_refusals():
    assert filters.parse_area("village:441900001001") == ("village", "441900001001")
    assert filters.parse_area(None) is None
    for bad in ("province:44", "town:", "town:44 19", "grid"):
        assert field_of(lambda bad=bad: filters.parse_area(bad)) == "area"


def test_lists_refuse_unknown_words_and_empty_items():
    assert filters.parse_channels("patrol,hotline,patrol") == ["patrol", "hotline"]
    assert filters.parse_measures(None) == ["registered"]
    assert field_of(lambda: filters.parse_channels("fax")) == "channel"
    assert field_of(lambda: filters.parse_measures("closed,,rated")) == "measure"
    assert field_of(lambda: filters.parse_categories("04a")) == "category"
    assert filters.parse_categories("01,04002") == ["01", "04002"]


def test_week_buckets_start_on_monday():
    window = filters.Window(date(2026, 11, 4), date(2026, 11, 16))  # a Wednesday to a Monday
    assert filters.buckets(window, "week") == [date(2026, 11, 2), date(2026, 11, 9), date(2026, 11, 16)]
    assert len(filters.buckets(window, "day")) == 13


def test_catalog_seed_knows_classes_and_codes():
    assert filters.seed_knows("01") and filters.seed_knows("01001") and not filters.seed_knows("99")
