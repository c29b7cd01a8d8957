"""Manual placement in triage (issue #13 item 4, 人工定位): the command centre's dispatch of a ticket that is not
located carries where it placed the point, and dispatch stores it with the transition and publishes it."""

import pytest

from gridgov_common.events.tickets import TicketEvent

GRID, VILLAGE, TOWN = "441900002003004", "441900002003", "441900002"
PLACED = {"lon": 113.7512, "lat": 23.0207, "grid_code": GRID, "village_code": VILLAGE, "town_code": TOWN}


def centre(token):
    return token("command_centre", sub="cc-1")


def dispatch(stack, tid, body, headers):
    return stack.client.post(f"/v1/tickets/{tid}/dispatch", json=body, headers=headers)


def detail(stack, tid):
    return stack.client.get(f"/v1/tickets/{tid}", headers=centre(stack.token)).json()


def assert_unchanged(stack, tid, before, events_before):
    after = detail(stack, tid)
    for key in ("state", "version", "lon", "lat", "grid_code", "village_code", "town_code", "location_status",
                "department"):
        assert after[key] == before[key], key
    assert len(stack.events(tid)) == events_before


def _places_and_publishes(stack):
    tid = stack.ticket_for(status="unlocated")["id"]
    resp = dispatch(stack, tid, {"department": "water", "note": "人工定位：东城", "location": PLACED},
                    centre(stack.token))
    assert resp.status_code == 200, resp.text
    ticket = resp.json()
    assert ticket["state"] == "dispatched" and ticket["department"] == "water"
    assert (ticket["lon"], ticket["lat"]) == (PLACED["lon"], PLACED["lat"])
    assert (ticket["grid_code"], ticket["village_code"], ticket["town_code"]) == (GRID, VILLAGE, TOWN)
    assert ticket["location_status"] == "located"
    stored = detail(stack, tid)
    assert stored["location_status"] == "located" and stored["grid_code"] == GRID and stored["lon"] == PLACED["lon"]
    step = stored["transitions"][-1]
    assert step["action"] == "dispatch" and step["actor_id"] == "cc-1"
    assert step["note"].startswith(f"placed by hand by cc-1 at {PLACED['lon']}, {PLACED['lat']}: grid {GRID}")
    assert step["note"].endswith("; 人工定位：东城")
    envelope = stack.events(tid)[-1]
    event = TicketEvent.model_validate(envelope.payload)
    assert envelope.type == "ticket.dispatched" and event.note == step["note"]
    assert (event.grid_code, event.village_code, event.town_code) == (GRID, VILLAGE, TOWN)
    # the grid's worker now sees the ticket it will verify
    worker = stack.token("grid_worker", sub="gw-2", grid=GRID)
    assert stack.client.get(f"/v1/tickets/{tid}", headers=worker).status_code == 200


def test_dispatch_with_location_places_unlocated_ticket_and_publishes_it(stack):
    _places_and_publishes(stack)


def test_dispatch_with_location_places_unlocated_ticket_on_postgresql(pg_stack):
    _places_and_publishes(pg_stack)


def test_dispatch_with_location_places_town_only_ticket(stack):
    tid = stack.ticket_for(status="town_only", category="09001")["id"]
    assert detail(stack, tid)["state"] == "registered"
    resp = dispatch(stack, tid, {"department": "water", "location": PLACED}, centre(stack.token))
    assert resp.status_code == 200, resp.text
    assert resp.json()["location_status"] == "located" and resp.json()["town_code"] == TOWN


def test_dispatch_with_location_on_located_ticket_is_409_naming_location_and_changes_nothing(stack):
    # a located report no rule routes (no rule for class 09) waits for triage with the registry's own grid
    tid = stack.ticket_for(category="09001")["id"]
    before = detail(stack, tid)
    assert before["state"] == "registered" and before["location_status"] == "located"
    events_before = len(stack.events(tid))
    resp = dispatch(stack, tid, {"department": "water", "location": PLACED}, centre(stack.token))
    assert resp.status_code == 409, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["location"]
    assert_unchanged(stack, tid, before, events_before)
    # without a location the same ticket dispatches as before
    assert dispatch(stack, tid, {"department": "water"}, centre(stack.token)).status_code == 200


@pytest.mark.parametrize("role", ["dept_dispatcher", "grid_worker", "admin", "citizen"])
def test_dispatch_with_location_by_other_role_is_403_and_changes_nothing(stack, role):
    tid = stack.ticket_for(status="unlocated")["id"]
    before, events_before = detail(stack, tid), len(stack.events(tid))
    headers = stack.token(role, sub="someone", department="water", grid=GRID)
    resp = dispatch(stack, tid, {"department": "water", "location": PLACED}, headers)
    assert resp.status_code == 403, resp.text
    assert_unchanged(stack, tid, before, events_before)


def test_rule_return_with_location_is_422_naming_location(stack):
    tid = stack.ticket_for()["id"]
    stack.client.post(f"/v1/tickets/{tid}/return", json={"note": "不是我们的"},
                      headers=stack.token("dept_dispatcher", sub="d-water", department="water"))
    resp = stack.client.post(f"/v1/tickets/{tid}/rule_return", json={"location": PLACED}, headers=centre(stack.token))
    assert resp.status_code == 422, resp.text
    assert resp.json()["error"]["details"][0]["field"].endswith("location")
    assert detail(stack, tid)["state"] == "returned"


BAD = [
    ("lon", {"lon": 181.0}),
    ("lon", {"lon": True}),
    ("lon", {"lon": "113.75"}),
    ("lat", {"lat": -90.5}),
    ("lat", {"lat": None}),
    ("grid_code", {"grid_code": "44190000200300"}),
    ("grid_code", {"grid_code": "44190000200300x"}),
    ("village_code", {"village_code": "441900002009"}),  # not the grid's village
    ("town_code", {"town_code": "441900001"}),  # not the village's town
    ("town_code", {"town_code": "4419000020"}),
]


@pytest.mark.parametrize(("field", "change"), BAD, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD)])
def test_dispatch_with_bad_location_is_422_naming_field_and_changes_nothing(stack, field, change):
    tid = stack.ticket_for(status="unlocated")["id"]
    before, events_before = detail(stack, tid), len(stack.events(tid))
    resp = dispatch(stack, tid, {"department": "water", "location": {**PLACED, **change}}, centre(stack.token))
    assert resp.status_code == 422, resp.text
    fields = [d["field"] for d in resp.json()["error"]["details"]]
    assert any(f.endswith(f"location.{field}") for f in fields), fields
    assert_unchanged(stack, tid, before, events_before)


def test_dispatch_with_location_missing_a_code_or_extra_field_is_422(stack):
    tid = stack.ticket_for(status="unlocated")["id"]
    before, events_before = detail(stack, tid), len(stack.events(tid))
    partial = {k: v for k, v in PLACED.items() if k != "grid_code"}
    for location, field in ((partial, "location.grid_code"), ({**PLACED, "status": "located"}, "location.status")):
        resp = dispatch(stack, tid, {"department": "water", "location": location}, centre(stack.token))
        assert resp.status_code == 422, resp.text
        assert any(d["field"].endswith(field) for d in resp.json()["error"]["details"]), resp.text
    assert_unchanged(stack, tid, before, events_before)


def test_dispatch_with_location_and_overlong_note_is_422_naming_note(stack):
    tid = stack.ticket_for(status="unlocated")["id"]
    before, events_before = detail(stack, tid), len(stack.events(tid))
    resp = dispatch(stack, tid, {"department": "water", "note": "长" * 1990, "location": PLACED}, centre(stack.token))
    assert resp.status_code == 422, resp.text
    assert [d["field"] for d in resp.json()["error"]["details"]] == ["note"]
    assert_unchanged(stack, tid, before, events_before)
