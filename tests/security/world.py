"""A small world per service, so that "of the grid" and "of the department" mean something to the matrix.

Everything is created through the service's own API or by publishing the events another service would
publish on the bus (the service's consumers then create what they create in production) — never raw rows:

- event-intake: a patrol report with a photo by grid worker ``worker-g1`` in grid G1, whose ticket was
  dispatched to department ``water`` (a ``ticket.dispatched`` event); an Open311 client's api_key.
- grid-registry: ``worker-g1`` on the roster of grid G1 (the demo grid set is seeded at start).
- dispatch: a ticket in grid G1 dispatched to ``water`` (from a ``report.located`` event); a fresh one
  replaces it after every call that changed it, so each call meets a ticket in state ``dispatched``.
- notification: an inbox message to ``department:water`` (a ``ticket.dispatched`` event), a follow-up of
  citizen ``citizen-1`` (a ``ticket.closed`` event), and a contact point.
- console: nothing of its own (no database); its proxy paths name dispatch's ticket list, which the echoing
  upstream of services.console_client answers.
"""

from __future__ import annotations

import base64
import functools
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from conftest import TEST_SECRET
from gridgov_common.auth import mint_token
from gridgov_common.bus.envelope import new_envelope
from gridgov_common.bus.interface import OutgoingMessage
from gridgov_common.bus.topics import REPORTS_LOCATED, TICKETS_EVENTS
from gridgov_common.events.reports import REPORT_LOCATED, Location, ReportLocated, ReportReceived
from gridgov_common.events.tickets import TicketEvent

GRID = "441900004003002"  # G1: the demo grid set's grid at (113.75, 23.02), 南城街道 › 洲源社区 › 第2网格
OTHER_GRID = "441900004003001"  # G2: its neighbour
VILLAGE, TOWN = GRID[:12], GRID[:9]
DEPARTMENT, OTHER_DEPARTMENT = "water", "urban-management"
CATEGORY = "04002"  # a burst water main: routed to the water department
WAIT_S = 20.0
# A valid 1×1 PNG: the smallest photo every upload check accepts.
PNG = base64.b64decode("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJ"
                       "RU5ErkJggg==")

# The principals of the matrix, in the table's column order: column → token claims (None: no token).
PRINCIPALS: dict[str, dict[str, str] | None] = {
    "anonymous": None,
    "citizen": {"sub": "citizen-1", "role": "citizen"},
    "grid-worker": {"sub": "worker-g1", "role": "grid_worker", "grid": GRID},
    "other-grid-worker": {"sub": "worker-g2", "role": "grid_worker", "grid": OTHER_GRID},
    "dispatcher": {"sub": "dispatcher-water", "role": "dept_dispatcher", "department": DEPARTMENT},
    "other-dispatcher": {"sub": "dispatcher-urban", "role": "dept_dispatcher", "department": OTHER_DEPARTMENT},
    "command-centre": {"sub": "centre-1", "role": "command_centre"},
    "admin": {"sub": "admin-1", "role": "admin"},
    "device-gateway": {"sub": "gateway-1", "role": "device_gateway"},  # a machine: alarms and heartbeats only
}


def headers_of(principal: str) -> dict[str, str]:
    """The Authorization header of a matrix principal (none for anonymous)."""
    token = _token_of(principal)
    return {} if token is None else {"Authorization": f"Bearer {token}"}


@functools.cache
def _token_of(principal: str) -> str | None:
    # One token per principal for the whole run: minted twice a second apart, `iat` differs, and a check that the
    # console forwarded the caller's own token must compare it with the very one that was sent.
    claims = PRINCIPALS[principal]
    return None if claims is None else mint_token(TEST_SECRET, **claims)


def wait_until(what: str, probe: Callable[[], object]) -> object:
    """Poll ``probe`` until it answers something truthy; fail naming ``what`` after WAIT_S."""
    deadline = time.monotonic() + WAIT_S
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"seeding the world: timed out waiting for {what}"
        time.sleep(0.02)


def _ticket_event(event_type: str, *, ticket_id: str, report_id: str, reporter_id: str, **change) -> OutgoingMessage:
    """A ticket event as dispatch publishes it (department water, grid G1)."""
    now = datetime.now(UTC)
    event = TicketEvent(**{
        "ticket_id": ticket_id, "report_id": report_id, "action": event_type.removeprefix("ticket."),
        "from_state": None, "to_state": event_type.removeprefix("ticket."), "category_code": CATEGORY,
        "department": DEPARTMENT, "grid_code": GRID, "village_code": VILLAGE, "town_code": TOWN,
        "reporter_id": reporter_id, "deadline": now + timedelta(days=1), "actor_id": "dispatch",
        "actor_role": "system", "occurred_at": now, **change})
    envelope = new_envelope(type=event_type, producer="dispatch", key=ticket_id, payload=event,
                            correlation_id=report_id)
    return OutgoingMessage(TICKETS_EVENTS, envelope.key, envelope.to_bytes())


@dataclass
class World:
    """The seeded objects a service's paths name, and how to renew what a call may have changed."""

    client: TestClient
    values: dict[str, str] = field(default_factory=dict)  # path/query parameter name → value
    renew: Callable[[World, str, str], None] | None = None  # (world, method, path) after a 2xx change
    seeded: int = 0

    def ok(self, method: str, path: str, principal: str = "admin", **kwargs) -> dict:
        """Call the service's API as ``principal`` and return the JSON of a 2xx answer (fail otherwise)."""
        response = self.client.request(method, path, headers={**headers_of(principal),
                                                              **kwargs.pop("headers", {})}, **kwargs)
        assert response.status_code < 300, f"seeding the world: {method} {path} -> {response.status_code} " \
                                           f"{response.text[:300]}"
        return response.json() if response.content else {}


def seed_event_intake(client: TestClient) -> World:
    """A photo patrol report by worker-g1, dispatched to water; an Open311 api_key."""
    from gridgov_event_intake.open311.handlers import create_client

    world = World(client)
    runtime = client.app.state.runtime
    media = world.ok("POST", "/v1/media", "grid-worker", content=PNG, headers={"Content-Type": "image/png"})
    report = world.ok("POST", "/v1/reports/patrol", "grid-worker", json={
        "category_code": CATEGORY, "description": "自来水管破裂，路面冒水", "lon": 113.75, "lat": 23.02,
        "media_ids": [media["media_id"]]})
    report_id = report["report_id"]
    runtime.bus.publish([_ticket_event("ticket.dispatched", ticket_id=str(uuid.uuid4()), report_id=report_id,
                                       reporter_id="worker-g1", from_state="registered")])
    wait_until("the report to follow its ticket to department water", lambda: world.ok(
        "GET", f"/v1/reports/{report_id}", "command-centre").get("department") == DEPARTMENT)
    world.values.update(report_id=report_id, request_id=report_id, token=report_id, media_id=media["media_id"],
                        citizen="citizen-1", service_code=CATEGORY, fmt="json",
                        api_key=create_client(runtime.db, f"matrix-{uuid.uuid4().hex[:8]}"))
    return world


def seed_grid_registry(client: TestClient) -> World:
    """worker-g1 on the roster of grid G1 (through the admin API)."""
    world = World(client)
    world.ok("PUT", "/v1/workers/worker-g1", json={"name": "网格员一", "grid_code": GRID, "on_duty": True})
    world.values.update(worker_id="worker-g1", code=GRID, department=DEPARTMENT, lon="113.75", lat="23.02")
    return world


def _new_ticket(world: World) -> None:
    """A fresh ticket in grid G1 dispatched to water, from a report.located event as grid-registry sends it."""
    world.seeded += 1
    report_id = str(uuid.uuid4())
    # Each seed 2 km further east, so it never merges (并案) into the previous ticket.
    lon = 113.75 + 0.02 * world.seeded
    located = ReportLocated(
        report=ReportReceived(report_id=report_id, channel="patrol", category_code=CATEGORY,
                              description="自来水管破裂，路面冒水", lon=lon, lat=23.02, reporter_id="worker-g1",
                              reporter_role="grid_worker", submitted_at=datetime.now(UTC)),
        location=Location(status="located", grid_code=GRID, village_code=VILLAGE, town_code=TOWN))
    envelope = new_envelope(type=REPORT_LOCATED, producer="grid-registry", key=report_id, payload=located,
                            correlation_id=report_id)
    world.client.app.state.runtime.bus.publish([OutgoingMessage(REPORTS_LOCATED, envelope.key,
                                                                envelope.to_bytes())])
    items = wait_until(f"a ticket for report {report_id}", lambda: world.ok(
        "GET", "/v1/tickets", "command-centre", params={"report_id": report_id})["items"])
    ticket = items[0]
    assert (ticket["state"], ticket["department"], ticket["grid_code"]) == ("dispatched", DEPARTMENT, GRID), \
        f"seeding the world: the ticket should be dispatched to {DEPARTMENT} in {GRID}, got {ticket}"
    world.values.update(ticket_id=ticket["id"], report_id=report_id)


def _renew_ticket(world: World, method: str, path: str) -> None:
    if method != "GET" and "{ticket_id}" in path:
        _new_ticket(world)


def seed_dispatch(client: TestClient) -> World:
    """A ticket dispatched to water in grid G1, renewed after every call that changed it."""
    world = World(client, renew=_renew_ticket)
    _new_ticket(world)
    world.values.update(year=str(datetime.now(UTC).year), department=DEPARTMENT, town=TOWN)
    return world


def seed_notification(client: TestClient) -> World:
    """An inbox message to department:water, a follow-up of citizen-1, a contact point."""
    from gridgov_notification.followups import service as followups

    world = World(client)
    runtime = client.app.state.runtime
    dispatched, closed = str(uuid.uuid4()), str(uuid.uuid4())
    runtime.bus.publish([
        _ticket_event("ticket.dispatched", ticket_id=dispatched, report_id=str(uuid.uuid4()),
                      reporter_id="worker-g1", from_state="registered"),
        _ticket_event("ticket.closed", ticket_id=closed, report_id=str(uuid.uuid4()), reporter_id="citizen-1",
                      from_state="verified", channel="citizen", deadline=None, note="已修复"),
    ])
    items = wait_until("the dispatched ticket in water's inbox", lambda: [
        i for i in world.ok("GET", "/v1/inbox", "dispatcher")["items"] if i["ticket_id"] == dispatched])

    def followup_token() -> str | None:
        with runtime.db.session() as session:
            rows = followups.for_ticket(session, closed)
            return rows[0].token if rows else None

    token = wait_until("citizen-1's follow-up", followup_token)
    contact = world.ok("POST", "/v1/contacts", json={"address": "department:water", "channel": "email",
                                                     "target": "water@example.org"})
    world.values.update(message_id=items[0]["id"], token=token, contact_id=contact["id"])
    return world


def seed_analytics(client: TestClient) -> World:
    """Nothing to seed: analytics' endpoints take no path parameters (its read model starts empty)."""
    return World(client, values={})


CAMERA = "44190004081320000001"  # a camera of the world's town, in grid G1


def seed_sensing(client: TestClient) -> World:
    """A camera in grid G1 (owner water), an alarm of a verify-first type that opened a group and a 核实 task for
    G1, and a snooze rule."""
    world = World(client)
    world.ok("POST", "/v1/devices", json={"device_id": CAMERA, "kind": "camera", "name": "洲源路口", "lon": 113.75,
                                          "lat": 23.02, "owner_department": DEPARTMENT,
                                          "algorithms": ["piled_materials"]})
    world.ok("POST", "/v1/alarms", json={"alarms": [{"alarm_id": "matrix-1", "device_id": CAMERA,
                                                      "alarm_type": "piled_materials", "confidence": 0.95,
                                                      "occurred_at": datetime.now(UTC).isoformat()}]})
    tasks = wait_until("the 核实 task of the camera's alarm", lambda: world.ok(
        "GET", "/v1/verifications", "grid-worker", params={"state": "pending"})["items"])
    rule = world.ok("POST", "/v1/suppression-rules", "command-centre", json={
        "name": "matrix snooze", "kind": "snooze", "for": "2h", "device_ids": [CAMERA]})
    world.values.update(device_id=CAMERA, code="piled_materials", group_id=tasks[0]["group_id"],
                        task_id=tasks[0]["id"], rule_id=rule["id"])
    return world


def seed_console(client: TestClient) -> World:
    """The proxy's path parameters: dispatch's ticket list (the upstream echoes, so any service would do)."""
    return World(client, values={"service": "dispatch", "path": "v1/tickets"})


SEEDS: dict[str, Callable[[TestClient], World]] = {
    "event-intake": seed_event_intake,
    "grid-registry": seed_grid_registry,
    "dispatch": seed_dispatch,
    "notification": seed_notification,
    "analytics": seed_analytics,
    "sensing": seed_sensing,
    "console": seed_console,
}
