"""The SLA clock on a natural-time calendar (clock hours): stages, pauses, warnings and the escalation ladder."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from gridgov_dispatch.worktime import clock as sla
from gridgov_dispatch.worktime.working_calendar import WorkingCalendar, package_tables

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
SHARE = 0.8


@dataclass(frozen=True)
class _Due:
    at: datetime
    provisional: bool = False


class NaturalCalendar:
    """Clock hours only: every second counts (what 紧急工作时 means)."""

    def add(self, start, amount, unit):
        return _Due(start + timedelta(hours=amount))

    def add_seconds(self, start, seconds, unit):
        return _Due(start + timedelta(seconds=seconds))

    def working_seconds_between(self, a, b, unit):
        return (b - a).total_seconds()


CAL = NaturalCalendar()


def h(n: float) -> timedelta:
    return timedelta(hours=n)


def test_start_stage_sets_deadline_and_first_check_at_warning_share():
    c = sla.start(CAL, "handle", 10, "clock_hours", T0, SHARE)
    assert c.deadline == T0 + h(10)
    assert c.total_s == 36_000
    assert c.next_check_at == T0 + h(8)  # 80 % of 10 h used
    assert c.sla_level == "green"


def test_due_steps_before_warning_owes_nothing():
    c = sla.start(CAL, "handle", 10, "clock_hours", T0, SHARE)
    steps, after = sla.due_steps(CAL, c, T0 + h(7.9), SHARE)
    assert steps == []
    assert after.next_check_at == T0 + h(8)


def test_due_steps_warn_once_then_breach_at_deadline():
    c = sla.start(CAL, "handle", 10, "clock_hours", T0, SHARE)
    steps, c = sla.due_steps(CAL, c, T0 + h(8), SHARE)
    assert [s.action for s in steps] == ["warn"]
    assert c.sla_level == "yellow" and c.next_check_at == T0 + h(10)
    steps, c = sla.due_steps(CAL, c, T0 + h(9), SHARE)
    assert steps == []
    steps, c = sla.due_steps(CAL, c, T0 + h(10), SHARE)
    assert [(s.action, s.level) for s in steps] == [("escalate", 1)]
    assert c.sla_level == "red" and c.escalation_level == 1
    assert c.next_check_at == T0 + h(20)  # one more whole stage length to the town


def test_due_steps_climb_ladder_village_town_city_then_stop():
    c = sla.start(CAL, "claim", 2, "clock_hours", T0, SHARE)
    steps, c = sla.due_steps(CAL, c, T0 + h(2), SHARE)
    assert [s.level for s in steps] == [1]
    steps, c = sla.due_steps(CAL, c, T0 + h(4), SHARE)
    assert [s.level for s in steps] == [2]
    assert "town" in steps[0].note
    steps, c = sla.due_steps(CAL, c, T0 + h(6), SHARE)
    assert [s.level for s in steps] == [3]
    assert "city" in steps[0].note
    assert c.next_check_at is None
    steps, c = sla.due_steps(CAL, c, T0 + h(100), SHARE)
    assert steps == []


def test_due_steps_long_silence_owes_every_missed_step_in_order():
    c = sla.start(CAL, "claim", 2, "clock_hours", T0, SHARE)
    steps, c = sla.due_steps(CAL, c, T0 + h(7), SHARE)
    # Past the deadline the warning is moot; the ladder steps all come, in order.
    assert [(s.action, s.level) for s in steps] == [("escalate", 1), ("escalate", 2), ("escalate", 3)]


def test_pause_keeps_time_left_and_resume_moves_deadline():
    c = sla.start(CAL, "handle", 10, "clock_hours", T0, SHARE)
    paused = sla.pause(CAL, c, T0 + h(3))
    assert paused.remaining_s == 7 * 3600 and paused.next_check_at is None
    steps, _ = sla.due_steps(CAL, paused, T0 + h(50), SHARE)
    assert steps == []  # a paused clock owes nothing, however long it stands
    resumed = sla.resume(CAL, paused, T0 + h(20), SHARE)
    assert resumed.deadline == T0 + h(27)
    assert resumed.paused_at is None and resumed.remaining_s is None
    assert resumed.next_check_at == T0 + h(25)  # 2 h of 10 left = 80 % used


def test_resume_with_extension_adds_time_and_turns_green():
    c = sla.start(CAL, "handle", 10, "clock_hours", T0, SHARE)
    _, c = sla.due_steps(CAL, c, T0 + h(9), SHARE)
    assert c.sla_level == "yellow"
    paused = sla.pause(CAL, c, T0 + h(9))
    resumed = sla.resume(CAL, paused, T0 + h(12), SHARE, extra_s=24 * 3600)
    assert resumed.deadline == T0 + h(12 + 1 + 24)
    assert resumed.sla_level == "green"
    assert resumed.total_s == 34 * 3600


def test_resume_after_breach_keeps_breach_in_place():
    c = sla.start(CAL, "handle", 2, "clock_hours", T0, SHARE)
    _, c = sla.due_steps(CAL, c, T0 + h(3), SHARE)
    paused = sla.pause(CAL, c, T0 + h(3))
    assert paused.remaining_s == -3600
    resumed = sla.resume(CAL, paused, T0 + h(30), SHARE)
    assert resumed.deadline == T0 + h(2)
    assert resumed.sla_level == "red" and resumed.escalation_level == 1


def test_stopped_clock_owes_nothing():
    steps, c = sla.due_steps(CAL, sla.STOPPED, T0, SHARE)
    assert steps == [] and c.next_check_at is None


@settings(max_examples=300, deadline=None)
@given(hours=st.integers(1, 200), checks=st.lists(st.floats(0, 1000), min_size=1, max_size=12))
def test_due_steps_any_check_times_warn_at_most_once_and_climb_in_order(hours, checks):
    c = sla.start(CAL, "handle", hours, "clock_hours", T0, SHARE)
    seen: list[tuple[str, int]] = []
    for offset in sorted(checks):
        steps, c = sla.due_steps(CAL, c, T0 + h(offset), SHARE)
        seen += [(s.action, s.level) for s in steps]
    assert seen.count(("warn", 0)) <= 1
    levels = [lvl for a, lvl in seen if a == "escalate"]
    assert levels == list(range(1, len(levels) + 1))  # 1, 2, 3 without gaps or repeats
    last = T0 + h(max(checks))
    expected = sum(1 for k in (1, 2, 3) if T0 + h(hours * k) <= last)
    assert len(levels) == expected


# The same clock on the official working calendar (2026, with its National Day break and adjusted weekend days).
WORKING = WorkingCalendar(package_tables())
SEPT = datetime(2026, 9, 1, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(unit=st.sampled_from(["working_hours", "working_days"]), amount=st.integers(1, 16),
       pause_after_h=st.floats(0, 200), paused_for_h=st.floats(0, 400), start_h=st.floats(0, 24 * 30))
def test_pause_and_resume_on_working_calendar_keep_working_time_left(unit, amount, pause_after_h, paused_for_h,
                                                                      start_h):
    started = SEPT + h(start_h)
    c = sla.start(WORKING, "handle", amount, unit, started, SHARE)
    paused_at = started + h(pause_after_h)
    paused = sla.pause(WORKING, c, paused_at)
    if paused.remaining_s <= 0:
        return  # breached before the pause: covered by test_resume_after_breach_keeps_breach_in_place
    resumed = sla.resume(WORKING, paused, paused_at + h(paused_for_h), SHARE)
    # Whatever stood still in between (nights, National Day, a long suspension), the time left is the same.
    left_after = WORKING.working_seconds_between(paused_at + h(paused_for_h), resumed.deadline, unit)
    assert abs(left_after - paused.remaining_s) < 1e-3
    assert resumed.deadline >= c.deadline
    # A resume never lands on a day off: the deadline falls inside working time or at the end of a period.
    local = resumed.deadline.astimezone(ZoneInfo("Asia/Shanghai"))
    assert WORKING.is_working_day(local.date())


def test_clock_paused_over_national_day_resumes_with_same_working_hours_left():
    # Claimed Tuesday 29 Sept 2026 09:30 with 8 working hours to handle; suspended at 16:30 the same day
    # (2.5 h before lunch + 2.5 h after = 5 h used, 3 h left).
    started = datetime(2026, 9, 29, 9, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    c = sla.start(WORKING, "handle", 8, "working_hours", started, SHARE)
    paused = sla.pause(WORKING, c, started.replace(hour=16, minute=30))
    assert paused.remaining_s == 3 * 3600
    # Resumed on Wednesday 30 Sept at 17:00: half an hour that day, then National Day (1–7 Oct off in 2026),
    # then the remaining 2.5 h from 08:30 on Thursday 8 Oct, the first working day after it: 11:00.
    resumed = sla.resume(WORKING, paused, datetime(2026, 9, 30, 17, 0, tzinfo=ZoneInfo("Asia/Shanghai")), SHARE)
    assert resumed.deadline == datetime(2026, 10, 8, 11, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
