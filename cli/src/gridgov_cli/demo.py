"""``gridgov demo``: drive one report round the whole loop over HTTP and print each step with its time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

# A point inside a demo grid (莞城街道) and a category routed to urban management.
DEMO_POINT = (113.75, 23.02)
DEMO_CATEGORY = "01002"  # 暴露垃圾 exposed garbage


class DemoFailed(Exception):
    """A step of the loop did not happen in time."""


@dataclass
class Urls:
    """Base URLs of the four services."""

    intake: str = "http://127.0.0.1:8001"
    registry: str = "http://127.0.0.1:8002"
    dispatch: str = "http://127.0.0.1:8003"
    notification: str = "http://127.0.0.1:8004"
    sensing: str = "http://127.0.0.1:8005"


def _auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def wait_for(what: str, probe: Callable[[], Any], timeout: float) -> Any:
    """Call ``probe`` until it returns something truthy; DemoFailed after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.05)
    raise DemoFailed(f"timed out after {timeout:.0f}s waiting for: {what}")


class _Steps:
    """A demo's HTTP client and its printed steps, each with its time since the demo began."""

    def __init__(self, out: Callable[[str], Any]):
        self.t0 = time.perf_counter()
        self.times: dict[str, float] = {}
        self.out = out
        self.client = httpx.Client(timeout=10.0)

    def step(self, name: str, detail: str) -> None:
        """Record and print a step."""
        self.times[name] = time.perf_counter() - self.t0
        self.out(f"  {self.times[name] * 1000:8.0f} ms  {name:<14} {detail}")

    @staticmethod
    def ok(resp: httpx.Response) -> Any:
        """The answer's JSON; DemoFailed naming the call for a 4xx or 5xx."""
        if resp.status_code >= 400:
            raise DemoFailed(f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}")
        return resp.json()


def run_demo(urls: Urls, mint: Callable[..., str], timeout: float = 30.0, out=print) -> dict[str, float]:
    """Run the loop; returns each step's elapsed seconds since the report was posted."""
    run = _Steps(out)
    steps, client, step, ok = run.times, run.client, run.step, run.ok

    worker = mint(role="grid_worker", sub="demo-grid-worker")
    command = mint(role="command_centre", sub="demo-command-centre")
    out("gridgov demo: one patrol report round the closed loop")
    report = ok(client.post(f"{urls.intake}/v1/reports/patrol", headers=_auth(worker), json={
        "category_code": DEMO_CATEGORY, "description": "演示：路边暴露垃圾 (demo: exposed garbage)",
        "lon": DEMO_POINT[0], "lat": DEMO_POINT[1]}))
    report_id = report["report_id"]
    step("reported", f"report {report_id} accepted by event-intake")

    def find_ticket() -> dict | None:
        page = ok(client.get(f"{urls.dispatch}/v1/tickets", params={"report_id": report_id},
                             headers=_auth(command)))
        items = page.get("items", page) if isinstance(page, dict) else page
        return items[0] if items else None

    ticket = wait_for("the ticket to be registered", find_ticket, timeout)
    step("located", f"grid {ticket.get('grid_code')} village {ticket.get('village_code')} "
                    f"town {ticket.get('town_code')}")
    ticket = wait_for("the ticket to be dispatched",
                      lambda: (t := find_ticket()) and t["state"] == "dispatched" and t, timeout)
    department, grid, ticket_id = ticket["department"], ticket["grid_code"], ticket["id"]
    step("dispatched", f"ticket {ticket_id} to {department}, deadline {ticket.get('deadline')}")

    dispatcher = mint(role="dept_dispatcher", sub="demo-dispatcher", department=department)
    verifier = mint(role="grid_worker", sub="demo-grid-worker", grid=grid)
    ok(client.post(f"{urls.dispatch}/v1/tickets/{ticket_id}/claim", headers=_auth(dispatcher), json={}))
    step("claimed", f"by the {department} dispatcher")
    ok(client.post(f"{urls.dispatch}/v1/tickets/{ticket_id}/handle", headers=_auth(dispatcher),
                   json={"note": "已清理 (cleared)"}))
    step("handled", "the department reports it fixed")
    ok(client.post(f"{urls.dispatch}/v1/tickets/{ticket_id}/verify", headers=_auth(verifier),
                   json={"passed": True, "note": "现场核查通过 (verified on site)"}))
    step("verified", f"by the grid worker of grid {grid}")
    ok(client.post(f"{urls.dispatch}/v1/tickets/{ticket_id}/close", headers=_auth(verifier), json={}))
    step("closed", "结案")

    def inbox_has(token: str) -> dict | None:
        items = ok(client.get(f"{urls.notification}/v1/inbox", headers=_auth(token)))["items"]
        return next((m for m in items if m.get("ticket_id") == ticket_id), None)

    def inbox_event(token: str, event_type: str) -> dict | None:
        items = ok(client.get(f"{urls.notification}/v1/inbox", headers=_auth(token)))["items"]
        return next((m for m in items if m.get("ticket_id") == ticket_id and m.get("event_type") == event_type),
                    None)

    msg = wait_for("the department's inbox message", lambda: inbox_event(dispatcher, "ticket.dispatched"), timeout)
    step("dept inbox", f"{msg['title']}")
    msg = wait_for("the reporter's inbox message", lambda: inbox_event(worker, "ticket.closed"), timeout)
    step("reporter inbox", f"{msg['title']}")
    status = wait_for("intake to show the report closed",
                      lambda: (r := ok(client.get(f"{urls.intake}/v1/reports/{report_id}", headers=_auth(worker))))
                      and r["status"] == "closed" and r, timeout)
    step("report status", f"event-intake shows the report {status['status']}")
    out(f"loop closed in {steps['report status'] * 1000:.0f} ms")
    return steps


# The sensing demo's own devices beside the demo point (registered once, found again on the next run): a camera
# with its 20-digit GB/T 28181 id (4419 东莞, type 132: IPC) and a manhole-cover sensor.
DEMO_CAMERA = {"device_id": "44190000001320009001", "kind": "camera", "name": "演示枪机（莞城）",
               "algorithms": ["exposed_garbage"]}
DEMO_SENSOR = {"device_id": "IOT-demo-manhole-9001", "kind": "sensor", "name": "演示井盖传感器（莞城）",
               "algorithms": ["manhole_displaced"]}


def run_sensing_demo(urls: Urls, mint: Callable[..., str], timeout: float = 30.0, out=print) -> dict[str, float]:
    """Drive a camera's and a sensor's alarms round the loop over HTTP: devices online, three repeats of one camera
    alarm become one alarm group and one dispatched ticket, the sensor's alarm another, its "resolved" reaches the
    ticket. Returns each step's elapsed seconds. A repeat run attaches to the groups still open (their counts grow)."""
    run = _Steps(out)
    client, step, ok = run.client, run.step, run.ok
    admin = _auth(mint(role="admin", sub="demo-admin"))
    gateway = _auth(mint(role="device_gateway", sub="demo-gateway"))
    centre = _auth(mint(role="command_centre", sub="demo-command-centre"))
    out("gridgov demo --sensing: a camera's and a sensor's alarms round the closed loop")
    for device, offset in ((DEMO_CAMERA, 0.0004), (DEMO_SENSOR, -0.0004)):
        known = client.get(f"{urls.sensing}/v1/devices/{device['device_id']}", headers=admin)
        if known.status_code == 404:
            ok(client.post(f"{urls.sensing}/v1/devices", headers=admin,
                           json={**device, "lon": DEMO_POINT[0] + offset, "lat": DEMO_POINT[1] + offset}))
        else:
            ok(known)
        beat = ok(client.post(f"{urls.sensing}/v1/devices/{device['device_id']}/heartbeat", headers=gateway, json={}))
        step("online", f"{device['name']} {device['device_id']} (heartbeat, online: {beat.get('online')})")

    def open_group(device: dict, alarm_type: str) -> dict | None:
        items = ok(client.get(f"{urls.sensing}/v1/alarm-groups", headers=centre,
                              params={"alarm_type": alarm_type, "open": "true", "limit": 1000}))["items"]
        return next((g for g in items if g["device_id"] == device["device_id"]), None)

    def ticket_of(report_id: str) -> dict | None:
        items = ok(client.get(f"{urls.dispatch}/v1/tickets", params={"report_id": report_id}, headers=centre))["items"]
        return items[0] if items and items[0]["state"] != "registered" else None

    now = datetime.now(UTC)
    before = (open_group(DEMO_CAMERA, "exposed_garbage") or {}).get("count", 0)
    tag = now.strftime("%Y%m%d%H%M%S%f")
    alarms = [{"alarm_id": f"demo-{tag}-{i}", "device_id": DEMO_CAMERA["device_id"], "alarm_type": "exposed_garbage",
               "occurred_at": (now - timedelta(seconds=30 - 10 * i)).isoformat(), "confidence": 0.9}
              for i in range(3)]
    alarms.append({"alarm_id": f"demo-{tag}-s", "device_id": DEMO_SENSOR["device_id"],
                   "alarm_type": "manhole_displaced", "occurred_at": now.isoformat(),
                   "evidence": {"reading": 0.12, "unit": "m"}})
    ok(client.post(f"{urls.sensing}/v1/alarms", headers=gateway, json={"alarms": alarms}))
    step("alarms", "3 repeats of the camera's 暴露垃圾, 1 井盖位移 from the sensor accepted by sensing")

    group = wait_for("the camera's alarm group", lambda: (g := open_group(DEMO_CAMERA, "exposed_garbage"))
                     and g["count"] >= before + 3 and g["report_id"] and g, timeout)
    step("grouped", f"group {group['id']} ×{group['count']} ({group['state']}), report {group['report_id']}")
    ticket = wait_for("the camera's ticket", lambda: ticket_of(group["report_id"]), timeout)
    step("dispatched", f"ticket {ticket['id']} ({ticket['channel']}) to {ticket['department']}, {ticket['state']}")
    sensor = wait_for("the sensor's alarm group", lambda: (g := open_group(DEMO_SENSOR, "manhole_displaced"))
                      and g["report_id"] and g, timeout)
    sensor_ticket = wait_for("the sensor's ticket", lambda: ticket_of(sensor["report_id"]), timeout)
    step("sensor ticket", f"ticket {sensor_ticket['id']} ({sensor_ticket['channel']}) to "
                          f"{sensor_ticket['department']}")
    ok(client.post(f"{urls.sensing}/v1/alarms", headers=gateway, json={"alarms": [{
        "alarm_id": f"demo-{tag}-r", "device_id": DEMO_SENSOR["device_id"], "alarm_type": "manhole_displaced",
        "state": "resolved", "occurred_at": datetime.now(UTC).isoformat()}]}))
    resolved = wait_for("the sensor's group resolved", lambda: next(
        (g for g in ok(client.get(f"{urls.sensing}/v1/alarm-groups", headers=centre, params={
            "alarm_type": "manhole_displaced", "report_id": sensor["report_id"]}))["items"]
         if g["resolved_at"]), None), timeout)
    step("resolved", f"the sensor cleared: group {resolved['id']} {resolved['state']}, evidence on the ticket")
    out(f"sensing loop closed in {run.times['resolved'] * 1000:.0f} ms; see 感知告警 (/sensing) on the console")
    return run.times
