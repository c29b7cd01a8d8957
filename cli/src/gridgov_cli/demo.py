"""``gridgov demo``: drive one report round the whole loop over HTTP and print each step with its time."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
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


def run_demo(urls: Urls, mint: Callable[..., str], timeout: float = 30.0, out=print) -> dict[str, float]:
    """Run the loop; returns each step's elapsed seconds since the report was posted."""
    t0 = time.perf_counter()
    steps: dict[str, float] = {}
    client = httpx.Client(timeout=10.0)

    def step(name: str, detail: str) -> None:
        steps[name] = time.perf_counter() - t0
        out(f"  {steps[name] * 1000:8.0f} ms  {name:<14} {detail}")

    def ok(resp: httpx.Response) -> dict:
        if resp.status_code >= 400:
            raise DemoFailed(f"{resp.request.method} {resp.request.url} -> {resp.status_code}: {resp.text}")
        return resp.json()

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
