"""The read model's projection: each event type's increments, idempotent facts, the late rule, ratings."""

from datetime import UTC, date, datetime, timedelta

import pytest

from gridgov_analytics.cube.projection import FactState, Increment, local_day, project
from gridgov_common.events.feedback import FEEDBACK_RECEIVED_TYPE, FeedbackReceived
from gridgov_common.events.tickets import TICKET_EVENT_NAMES, TicketEvent

T0 = datetime(2026, 9, 1, 15, 30, tzinfo=UTC)  # 23:30 in China: still 1 September there
DEADLINE = T0 + timedelta(days=2)
GRID, VILLAGE, TOWN = "441900001001001", "441900001001", "441900001"


def event(action: str, at: datetime, **change) -> tuple[str, TicketEvent]:
    payload = dict(ticket_id="T1", report_id="R1", action=action, from_state=None, to_state=action,
                   category_code="04002", department="water", grid_code=GRID, village_code=VILLAGE,
                   town_code=TOWN, reporter_id="citizen-1", deadline=DEADLINE, actor_id="dispatch",
                   actor_role="system", occurred_at=at, channel="hotline")
    payload.update(change)
    return f"ticket.{TICKET_EVENT_NAMES[action]}", TicketEvent(**payload)


def rating(at: datetime, satisfaction: int = 5, solved: bool = True, followup: str = "F1") -> FeedbackReceived:
    return FeedbackReceived(followup_id=followup, ticket_id="T1", report_id="R1", reporter_id="citizen-1",
                            channel="hotline", solved=solved, satisfaction=satisfaction, answered_at=at,
                            answered_by="reporter")


def run(*messages) -> tuple[FactState | None, list[Increment]]:
    fact, out = None, []
    for event_type, payload in messages:
        fact, increments = project(fact, event_type, payload)
        out.extend(increments)
    return fact, out


def measures(increments: list[Increment]) -> list[str]:
    return [i.measure for i in increments]


def test_register_counts_once_on_the_local_day():
    fact, out = run(event("register", T0))
    assert out == [Increment(date(2026, 9, 1), GRID, VILLAGE, TOWN, "04002", "hotline", "registered", 1)]
    assert fact.registered_day == date(2026, 9, 1) and fact.state == "register"
    later = T0 + timedelta(hours=1)  # 00:30 on 2 September in China
    assert local_day(later) == date(2026, 9, 2)
    _, out = run(event("register", later))
    assert out[0].day == date(2026, 9, 2)


def test_each_event_type_adds_its_measure():
    at = [T0 + timedelta(hours=h) for h in range(8)]
    fact, out = run(event("register", at[0]), event("dispatch", at[1]), event("return", at[2]),
                    event("merge", at[3]), event("handle", at[4]), event("rework", at[5]),
                    event("close", at[6]), event("reopen", at[7]))
    assert measures(out) == ["registered", "returned", "merged", "reworked", "closed", "reopened"]
    assert (fact.returned_n, fact.merged_n, fact.reworked_n, fact.reopened_n) == (1, 1, 1, 1)
    assert fact.closed_at == at[6] and not fact.late


def test_steps_without_a_measure_only_move_the_state():
    fact, out = run(event("register", T0), event("claim", T0 + timedelta(hours=1)),
                    event("suspend", T0 + timedelta(hours=2)))
    assert measures(out) == ["registered"] and fact.state == "suspend"


def test_applying_an_event_twice_changes_nothing():
    reg, close = event("register", T0), event("close", T0 + timedelta(hours=3))
    fact, first = run(reg, close)
    again, increments = project(fact, *close)
    assert increments == [] and again == fact
    again, increments = project(fact, *reg)  # an older event comes again: already held
    assert increments == [] and again == fact


def test_two_events_at_one_instant_both_count_once():
    fact, out = run(event("register", T0), event("merge", T0))
    assert measures(out) == ["registered", "merged"]
    again, increments = project(fact, *event("merge", T0))
    assert increments == []


def test_closed_after_its_deadline_is_late():
    _, out = run(event("register", T0), event("close", DEADLINE + timedelta(minutes=1)))
    assert measures(out) == ["registered", "closed", "closed_late"]
    _, out = run(event("register", T0), event("close", DEADLINE - timedelta(minutes=1)))
    assert measures(out) == ["registered", "closed"]


def test_escalated_or_red_ticket_closes_late_even_before_its_deadline():
    fact, out = run(event("register", T0), event("escalate", T0 + timedelta(hours=1), escalation_level=1),
                    event("escalate", T0 + timedelta(hours=2), escalation_level=2),
                    event("close", T0 + timedelta(hours=3)))
    assert measures(out) == ["registered", "escalated", "closed", "closed_late"]  # first escalation only
    assert fact.late and fact.escalated
    fact, out = run(event("register", T0), event("handle", T0 + timedelta(hours=1), sla_level="red"),
                    event("close", T0 + timedelta(hours=2)))
    assert measures(out)[-1] == "closed_late" and fact.late


def test_rating_counts_rated_and_dissatisfied_on_the_ticket_codes():
    fact, _ = run(event("register", T0))
    fact, out = project(fact, FEEDBACK_RECEIVED_TYPE, rating(T0 + timedelta(days=1), satisfaction=2))
    assert measures(out) == ["rated", "dissatisfied"] and out[0].grid_code == GRID
    fact, out = project(fact, FEEDBACK_RECEIVED_TYPE, rating(T0 + timedelta(days=2), solved=False, followup="F2"))
    assert measures(out) == ["rated", "dissatisfied"] and fact.rated_n == 2 and fact.solved is False
    fact, out = project(fact, FEEDBACK_RECEIVED_TYPE, rating(T0 + timedelta(days=3), satisfaction=4,
                                                             followup="F3"))
    assert measures(out) == ["rated"]
    assert project(fact, FEEDBACK_RECEIVED_TYPE, rating(T0 + timedelta(days=3), satisfaction=4, followup="F3"))[1] \
        == []


def test_rating_before_the_ticket_waits_for_its_codes():
    fact, out = project(None, FEEDBACK_RECEIVED_TYPE, rating(T0 + timedelta(days=1), satisfaction=1))
    assert out == [] and len(fact.pending) == 1
    fact, out = project(fact, *event("register", T0))
    assert measures(out) == ["registered", "rated", "dissatisfied"]
    assert out[1].day == date(2026, 9, 2) and out[1].grid_code == GRID and fact.pending == ()


def test_unlocated_ticket_counts_on_empty_codes():
    _, out = run(event("register", T0, grid_code=None, village_code=None, town_code=TOWN, channel=None))
    assert out[0][1:6] == ("", "", TOWN, "04002", "")


@pytest.mark.parametrize("channel", ["video_ai", "iot"])
def test_device_ticket_counts_on_its_channel_and_its_evidence_counts_nothing(channel):
    # Issue #16: a camera's or sensor's ticket is counted like any other, on its own channel; the device's
    # evidence (repeats, "resolved") and its verification move the state only.
    at = [T0 + timedelta(hours=h) for h in range(5)]
    fact, out = run(event("register", at[0], channel=channel),
                    event("sensor_evidence", at[1], to_state="handled", channel=channel),
                    event("sensor_evidence", at[2], to_state="handled", channel=channel),
                    event("verify", at[3], actor_id="system:sensing", channel=channel),
                    event("close", at[4], channel=channel))
    assert measures(out) == ["registered", "closed"]
    assert {i.channel for i in out} == {channel} and fact.channel == channel
