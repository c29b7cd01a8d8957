"""并案 across channels: a second report nearby joins the open ticket; a dispatcher sees why and splits it."""

import time

import pytest
from fastapi.testclient import TestClient

from gridgov_dispatch.app import create_app
from gridgov_dispatch.settings import DispatchSettings

from .conftest import Stack


@pytest.fixture
def merging(common_settings, token):
    app = create_app(DispatchSettings(common=common_settings, merge_distance_m=50, merge_window_minutes=120))
    with TestClient(app) as c:
        yield Stack(c, token)


def located_from(stack, channel, lat=23.02, category="04002"):
    envelope = stack.located(category=category)
    envelope.payload["report"].update(channel=channel, lat=lat, reporter_id=f"{channel}-reporter")
    return envelope


def centre(stack):
    return stack.token("command_centre")


def test_consume_nearby_report_of_other_channel_merges_into_open_ticket(merging):
    first = located_from(merging, "patrol")
    merging.publish(first)
    ticket = merging.wait_ticket(first.key)
    second = located_from(merging, "hotline", lat=23.0202)  # about 22 m north
    merging.publish(second)
    merging.wait_handled(2)
    assert merging.client.get("/v1/tickets", params={"report_id": second.key},
                              headers=centre(merging)).json()["items"] == []
    detail = merging.client.get(f"/v1/tickets/{ticket['id']}", headers=centre(merging)).json()
    [merged] = detail["merged_reports"]
    assert merged["report_id"] == second.key and merged["channel"] == "hotline"
    assert 20 < merged["distance_m"] < 25 and merged["minutes"] >= 0
    events = merging.events(ticket["id"])
    assert [e.type for e in events][-1] == "ticket.merged"
    assert events[-1].payload["report_id"] == second.key and "m away" in events[-1].payload["note"]


def test_consume_far_or_other_category_report_opens_its_own_ticket(merging):
    first = located_from(merging, "patrol")
    merging.publish(first)
    merging.wait_ticket(first.key)
    far, other = located_from(merging, "citizen", lat=23.01), located_from(merging, "citizen", category="01002")
    merging.publish(far, other)
    assert merging.wait_ticket(far.key)["report_id"] == far.key
    assert merging.wait_ticket(other.key)["report_id"] == other.key


def test_transition_of_merged_ticket_names_every_reporter(merging):
    first, second = located_from(merging, "patrol"), located_from(merging, "citizen")
    merging.publish(first)
    ticket = merging.wait_ticket(first.key)
    merging.publish(second)
    merging.wait_handled(2)
    resp = merging.client.post(f"/v1/tickets/{ticket['id']}/claim",
                               headers=merging.token("dept_dispatcher", department="water"))
    assert resp.status_code == 200, resp.text
    claimed = merging.events(ticket["id"])[-1]
    assert claimed.type == "ticket.claimed" and claimed.payload["merged_report_ids"] == [second.key]


def test_split_merged_report_opens_its_own_ticket_and_tells_reporter(merging):
    first, second = located_from(merging, "patrol"), located_from(merging, "hotline")
    merging.publish(first)
    ticket = merging.wait_ticket(first.key)
    merging.publish(second)
    merging.wait_handled(2)
    other_dept = merging.client.post(f"/v1/tickets/{ticket['id']}/split", json={"report_id": second.key},
                                     headers=merging.token("dept_dispatcher", department="housing"))
    assert other_dept.status_code == 403
    resp = merging.client.post(f"/v1/tickets/{ticket['id']}/split", json={"report_id": second.key},
                               headers=merging.token("dept_dispatcher", department="water"))
    assert resp.status_code == 200, resp.text
    own = resp.json()
    assert own["report_id"] == second.key and own["id"] != ticket["id"] and own["state"] == "dispatched"
    again = merging.client.post(f"/v1/tickets/{ticket['id']}/split", json={"report_id": second.key},
                                headers=centre(merging))
    assert again.status_code == 404
    [merged] = merging.client.get(f"/v1/tickets/{ticket['id']}", headers=centre(merging)).json()["merged_reports"]
    assert merged["split_ticket_id"] == own["id"]
    split_event = merging.events(own["id"])[-1]
    assert split_event.type == "ticket.split" and split_event.payload["report_id"] == second.key


def test_consume_merged_report_redelivered_changes_nothing(merging):
    first, second = located_from(merging, "patrol"), located_from(merging, "citizen")
    merging.publish(first)
    ticket = merging.wait_ticket(first.key)
    merging.publish(second)
    merging.wait_handled(2)
    second.id = __import__("uuid").uuid4()  # the same report under a new envelope id
    merging.publish(second)
    merging.wait_handled(3)
    time.sleep(0.05)
    detail = merging.client.get(f"/v1/tickets/{ticket['id']}", headers=centre(merging)).json()
    assert len(detail["merged_reports"]) == 1
    assert [e.type for e in merging.events(ticket["id"])].count("ticket.merged") == 1
