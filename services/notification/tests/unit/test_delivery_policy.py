from datetime import UTC, datetime, time, timedelta

import pytest

from gridgov_common.events.tickets import TicketEvent
from gridgov_notification.deliveries.policy import QuietHours, RetryPolicy, first_attempt_at, is_urgent

QUIET = QuietHours(time(22, 0), time(7, 0), "Asia/Shanghai")


def utc(hour: int, minute: int = 0, day: int = 1) -> datetime:
    return datetime(2024, 5, day, hour, minute, tzinfo=UTC)


def event(**change) -> TicketEvent:
    base = dict(ticket_id="T-1", report_id="R-1", action="dispatch", from_state="registered", to_state="dispatched",
                category_code="04002", department="water", grid_code=None, village_code=None, town_code=None,
                reporter_id="u1", deadline=None, actor_id="rules", actor_role="system", occurred_at=utc(1))
    return TicketEvent(**{**base, **change})


def test_delay_doubles_from_base_then_caps():
    policy = RetryPolicy(max_attempts=6, base_s=10, cap_s=60)
    assert [policy.delay(n).total_seconds() for n in range(1, 6)] == [10, 20, 40, 60, 60]


def test_gives_up_after_max_attempts():
    policy = RetryPolicy(max_attempts=6)
    assert not policy.gives_up(5)
    assert policy.gives_up(6)


@pytest.mark.parametrize(("now", "release"), [
    (utc(14, 30), utc(23, 0)),  # 22:30 CST → 07:00 CST next day (23:00 UTC the same UTC day)
    (utc(19, 0), utc(23, 0)),  # 03:00 CST → 07:00 CST the same morning
    (utc(14, 0), utc(23, 0)),  # 22:00 CST exactly is inside
])
def test_release_inside_quiet_hours_is_their_end(now, release):
    assert QUIET.release(now) == release


@pytest.mark.parametrize("now", [utc(23, 0), utc(4, 0), utc(13, 59)])  # 07:00, 12:00, 21:59 CST
def test_release_outside_quiet_hours_is_none(now):
    assert QUIET.release(now) is None


def test_release_of_daytime_window_within_one_day():
    lunch = QuietHours(time(12, 0), time(14, 0), "Asia/Shanghai")
    assert lunch.release(utc(4, 30)) == utc(6, 0)
    assert lunch.release(utc(6, 0)) is None


def test_first_attempt_defers_non_urgent_sms_and_email_to_morning():
    night = utc(16, 0)  # 00:00 CST
    assert first_attempt_at(night, "sms", False, QUIET) == utc(23, 0)
    assert first_attempt_at(night, "email", False, QUIET) == utc(23, 0)


def test_first_attempt_never_defers_inbox_webhook_or_urgent():
    night = utc(16, 0)
    assert first_attempt_at(night, "inbox", False, QUIET) == night
    assert first_attempt_at(night, "webhook", False, QUIET) == night
    assert first_attempt_at(night, "sms", True, QUIET) == night
    assert first_attempt_at(night, "sms", False, None) == night


def test_is_urgent_for_escalation_supervision_and_urgent_priority():
    assert is_urgent("ticket.escalated", event())
    assert is_urgent("ticket.supervised", event())
    assert is_urgent("ticket.dispatched", event(priority="urgent"))
    assert not is_urgent("ticket.dispatched", event(priority="normal"))
    assert not is_urgent("ticket.closed", event())


def test_delay_is_a_timedelta_usable_as_next_attempt():
    assert utc(1) + RetryPolicy(base_s=10).delay(1) == utc(1) + timedelta(seconds=10)
