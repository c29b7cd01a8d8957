"""The ticket events are built beside the transition table, from a ticket's values alone (no table, no session)."""

from datetime import UTC, datetime
from types import SimpleNamespace

from gridgov_dispatch.tickets.access import SYSTEM
from gridgov_dispatch.tickets.lifecycle import event_envelope, ticket_event

AT = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)


def ticket(**changes):
    values = dict(id="t-1", report_id="r-1", state="claimed", category_code="01002", department="water",
                  grid_code="441900101001001", village_code="441900101001", town_code="441900101", reporter_id="p-1",
                  deadline=datetime(2026, 3, 4, 6, 0, tzinfo=UTC), priority="normal", channel="patrol",
                  stage="handle", deadline_provisional=False, sla_level="green", escalation_level=0,
                  supervised=False)
    return SimpleNamespace(**{**values, **changes})


def test_ticket_event_tells_the_state_after_the_action_and_every_follower():
    event = ticket_event(ticket(), "claim", "dispatched", SYSTEM, "on my way", AT, [("r-2", "p-2"), ("r-3", "p-3")])
    assert (event.action, event.from_state, event.to_state) == ("claim", "dispatched", "claimed")
    assert (event.department, event.stage, event.deadline) == ("water", "handle", ticket().deadline)
    assert (event.actor_id, event.actor_role, event.note, event.occurred_at) == ("dispatch", "system", "on my way", AT)
    assert event.merged_report_ids == ["r-2", "r-3"] and event.merged_reporter_ids == ["p-2", "p-3"]


def test_event_envelope_is_past_tense_keyed_by_ticket_and_correlated_by_report():
    event = ticket_event(ticket(), "claim", "dispatched", SYSTEM, None, AT, [])
    envelope = event_envelope(event, causation_id="cause-1")
    assert (envelope.type, envelope.producer, envelope.key) == ("ticket.claimed", "dispatch", "t-1")
    assert (envelope.correlation_id, envelope.causation_id) == ("r-1", "cause-1")
    assert envelope.payload == event.model_dump(mode="json")
