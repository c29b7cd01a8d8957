"""Follow-up ratings (回访) on the embedded stack: recorded once, a bad one reopens a closed ticket as rework
exactly once, a good one does not, and 满意率 counts them."""

import time
import uuid
from datetime import UTC, datetime, timedelta

from gridgov_common.bus.envelope import Envelope, new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import FEEDBACK_RECEIVED
from gridgov_common.events.feedback import FeedbackReceived
from gridgov_common.events.tickets import TicketEvent
from gridgov_dispatch.feedback import service as ratings
from gridgov_dispatch.indicators.formulas import CHINA_TIME

from .conftest import GRID


def close_ticket(stack) -> dict:
    """A ticket dispatched to water, claimed, handled, verified and closed through the API."""
    tid = stack.ticket_for()["id"]
    water = stack.token("dept_dispatcher", sub="d-water", department="water")
    steps = [("claim", water, None), ("handle", water, {"note": "已更换管段"}),
             ("verify", stack.token("grid_worker", sub="gw-7", grid=GRID), {"passed": True}),
             ("close", stack.token("command_centre", sub="cc-1"), {"note": "结案"})]
    for action, headers, body in steps:
        resp = stack.client.post(f"/v1/tickets/{tid}/{action}", json=body, headers=headers)
        assert resp.status_code == 200, (action, resp.text)
    return resp.json()


def rating(ticket: dict, *, solved=False, satisfaction=1, comment=None, followup_id=None, closed_at=None,
           answered_by="reporter") -> Envelope:
    payload = FeedbackReceived(
        followup_id=followup_id or str(uuid.uuid4()), ticket_id=ticket["id"], report_id=ticket["report_id"],
        reporter_id=ticket["reporter_id"], channel=ticket["channel"], solved=solved, satisfaction=satisfaction,
        comment=comment, answered_at=datetime.now(UTC), answered_by=answered_by,
        closed_at=closed_at or datetime.fromisoformat(ticket["closed_at"]))
    return new_envelope(type="feedback.received", producer="notification", key=ticket["id"], payload=payload,
                        correlation_id=ticket["report_id"])


def publish(stack, *envelopes: Envelope) -> None:
    stack.runtime.bus.publish([OutgoingMessage(FEEDBACK_RECEIVED, e.key, e.to_bytes()) for e in envelopes])


def wait_rated(stack, ticket_id: str, count: int, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        with stack.runtime.db.session() as session:
            got = len(ratings.for_ticket(session, ticket_id))
        if got >= count:
            assert got == count
            return
        assert time.monotonic() < deadline, f"{got} of {count} ratings recorded"
        time.sleep(0.02)


def detail(stack, tid: str) -> dict:
    return stack.client.get(f"/v1/tickets/{tid}", headers=stack.token("command_centre")).json()


def test_bad_rating_reopens_closed_ticket_once_even_when_delivered_twice(stack):
    ticket = close_ticket(stack)
    bad = rating(ticket, comment="水管还在漏")
    republished = bad.model_copy(update={"id": uuid.uuid4()})  # the same answer under a new envelope id
    sentinel = rating(ticket, solved=True, satisfaction=5)  # after them on the ticket's key: all were consumed
    publish(stack, bad, bad, republished, sentinel)
    wait_rated(stack, ticket["id"], 2)
    after = detail(stack, ticket["id"])
    assert after["state"] == "claimed" and after["rework_count"] == 1 and after["closed_at"] is None
    assert after["stage"] == "handle" and after["deadline"]  # the department's clock runs again
    reopens = [t for t in after["transitions"] if t["action"] == "reopen"]
    assert len(reopens) == 1 and reopens[0]["actor_role"] == "system"
    assert "未解决" in reopens[0]["note"] and "满意度 1/5" in reopens[0]["note"] and "水管还在漏" in reopens[0]["note"]
    events = [TicketEvent.model_validate(e.payload) for e in stack.events(ticket["id"])]
    assert [e.action for e in events].count("reopen") == 1
    assert events[-1].action == "reopen" and events[-1].department == "water"


def test_good_rating_leaves_ticket_closed(stack):
    ticket = close_ticket(stack)
    publish(stack, rating(ticket, solved=True, satisfaction=3))
    wait_rated(stack, ticket["id"], 1)
    after = detail(stack, ticket["id"])
    assert after["state"] == "closed" and after["rework_count"] == 0
    assert "reopen" not in [t["action"] for t in after["transitions"]]


def test_second_bad_rating_leaves_reopened_ticket_alone(stack):
    ticket = close_ticket(stack)
    publish(stack, rating(ticket, satisfaction=2, solved=True), rating(ticket, satisfaction=1))
    wait_rated(stack, ticket["id"], 2)
    after = detail(stack, ticket["id"])
    assert after["state"] == "claimed" and after["rework_count"] == 1
    assert [t["action"] for t in after["transitions"]].count("reopen") == 1


def test_late_bad_rating_of_an_earlier_closure_does_not_reopen(stack):
    ticket = close_ticket(stack)
    earlier = datetime.fromisoformat(ticket["closed_at"]) - timedelta(days=2)
    publish(stack, rating(ticket, closed_at=earlier))
    wait_rated(stack, ticket["id"], 1)
    assert detail(stack, ticket["id"])["state"] == "closed"


def test_indicators_satisfaction_rate_counts_ratings_answered_today(stack):
    first, second = close_ticket(stack), close_ticket(stack)
    publish(stack, rating(first, solved=True, satisfaction=5), rating(first, solved=True, satisfaction=4),
            rating(second, solved=True, satisfaction=3))
    wait_rated(stack, first["id"], 2)
    wait_rated(stack, second["id"], 1)
    today = datetime.now(CHINA_TIME).date().isoformat()
    report = stack.client.get("/v1/indicators", params={"period": today, "group_by": "department"},
                              headers=stack.token("command_centre")).json()
    city = report["city"]["satisfaction_rate"]
    assert (city["numerator"], city["denominator"], city["value"]) == (2, 3, round(2 / 3, 4))
    [water] = [g for g in report["groups"] if g["group"] == "water"]
    assert water["satisfaction_rate"]["denominator"] == 3
