from gridgov_console.feed.changes import Snapshot, ticket_changes


def _ticket(ticket_id="t1", state="dispatched", sla_level="green", version=1, updated_at="2026-01-01T00:00:00Z"):
    return {"id": ticket_id, "state": state, "sla_level": sla_level, "escalation_level": 0, "department": "um",
            "version": version, "grid_code": "441900001001001", "town_code": "441900001", "category_code": "01002",
            "updated_at": updated_at}


def test_report_new_ticket_as_created():
    events = ticket_changes(Snapshot(), [_ticket()])
    assert [(e["kind"], e["id"], e["state"], e["previous_state"]) for e in events] == [
        ("created", "t1", "dispatched", None)]


def test_report_state_change_with_previous_state():
    snapshot = Snapshot()
    ticket_changes(snapshot, [_ticket()])
    events = ticket_changes(snapshot, [_ticket(state="claimed", version=2)])
    assert [(e["kind"], e["previous_state"], e["state"]) for e in events] == [("changed", "dispatched", "claimed")]


def test_report_breach_as_sla_change():
    snapshot = Snapshot()
    ticket_changes(snapshot, [_ticket()])
    (event,) = ticket_changes(snapshot, [_ticket(sla_level="red", version=2)])
    assert (event["previous_sla_level"], event["sla_level"]) == ("green", "red")


def test_report_nothing_when_tickets_unchanged():
    snapshot = Snapshot()
    ticket_changes(snapshot, [_ticket(), _ticket("t2")])
    assert ticket_changes(snapshot, [_ticket(), _ticket("t2")]) == []


def test_order_changes_by_update_time():
    items = [_ticket("late", updated_at="2026-01-01T00:00:09Z"), _ticket("early", updated_at="2026-01-01T00:00:01Z")]
    assert [e["id"] for e in ticket_changes(Snapshot(), items)] == ["early", "late"]
