from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gridgov_sensing.alarms.durations import duration_seconds, format_duration, parse_duration


@pytest.mark.parametrize(("text", "seconds"), [("45s", 45), ("30m", 1800), ("2h", 7200), ("1d", 86400),
                                               ("1s", 1), ("30d", 30 * 86400), ("90m", 5400)])
def test_parse_duration_reads_int_and_unit(text, seconds):
    assert parse_duration(text) == timedelta(seconds=seconds)
    assert duration_seconds(text) == seconds


@pytest.mark.parametrize(("text", "reason"), [
    ("0s", "at least"), ("31d", "at most 30d"), ("721h", "at most 30d"), ("", "whole number"),
    ("30", "whole number"), ("m", "whole number"), ("1.5h", "whole number"), ("1h30m", "whole number"),
    (" 30m", "whole number"), ("30M", "whole number"), ("-5m", "whole number"), ("\u0663m", "whole number"),
    ("9" * 40 + "s", "at most 16"),
])
def test_parse_duration_refuses_with_reason(text, reason):
    with pytest.raises(ValueError, match=reason):
        parse_duration(text)


def test_parse_duration_refuses_non_strings():
    with pytest.raises(ValueError):
        parse_duration(30)  # type: ignore[arg-type]


@pytest.mark.parametrize(("seconds", "text"), [(45, "45s"), (1800, "30m"), (7200, "2h"), (86400, "1d"),
                                               (5400, "90m"), (90, "90s"), (129600, "36h")])
def test_format_duration_picks_largest_whole_unit(seconds, text):
    assert format_duration(timedelta(seconds=seconds)) == text
    assert format_duration(seconds) == text


@pytest.mark.parametrize("td", [timedelta(0), timedelta(milliseconds=1500), timedelta(days=31)])
def test_format_duration_refuses_out_of_bounds(td):
    with pytest.raises(ValueError):
        format_duration(td)


@given(st.integers(min_value=1, max_value=30 * 86400))
def test_format_then_parse_round_trips(seconds):
    assert parse_duration(format_duration(seconds)).total_seconds() == seconds
