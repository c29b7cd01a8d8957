"""Reports flowing into a stack while something goes wrong, and the checks that nothing was lost or doubled."""

from __future__ import annotations

import threading
import time
from collections import Counter

import httpx

from gridgov_cli.demo import DEMO_POINT

# Each worker's rest between two posts. Unthrottled, four workers posted ~140 reports/s: over a service's restart
# that piled up thousands of reports, and each test then waited a minute for dispatch (~45 tickets/s on a loaded
# 2-core machine) to work through them. At 0.05 s the flow (~30-60/s measured) still keeps up with or outruns
# dispatch, so a backlog is in flight at every kill and restart, as the fault tests need; it is just not thousands
# deep.
FLOW_PAUSE_S = 0.05


class ReportFlow(threading.Thread):
    """Posts patrol reports at the demo point until stopped; remembers which were accepted (202)."""

    def __init__(self, stack, workers: int = 4, pause: float = FLOW_PAUSE_S):
        super().__init__(daemon=True)
        self.stack = stack
        self.workers = workers
        self.pause = pause
        self.accepted: list[str] = []
        self.refused = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()

    def _post_one(self, client: httpx.Client, headers: dict[str, str]) -> None:
        try:
            resp = client.post(f"{self.stack.urls.intake}/v1/reports/patrol", headers=headers, json={
                "category_code": "01002", "description": "fault-test", "lon": DEMO_POINT[0], "lat": DEMO_POINT[1]})
        except httpx.HTTPError:
            with self._lock:
                self.refused += 1
            time.sleep(0.05)
            return
        with self._lock:
            if resp.status_code == 202:
                self.accepted.append(resp.json()["report_id"])
            else:
                self.refused += 1

    def run(self) -> None:
        """Post from several threads until stopped."""
        headers = self.stack.auth(sub="flow-worker", role="grid_worker")

        def worker() -> None:
            with httpx.Client(timeout=5.0) as client:
                while not self._stopping.is_set():
                    self._post_one(client, headers)
                    if self.pause:
                        time.sleep(self.pause)

        # Daemon threads, not a pool: a test that fails before stop() must not leave threads that keep the pytest
        # process alive after its summary (a pool's threads are joined at interpreter exit, for ever).
        threads = [threading.Thread(target=worker, daemon=True) for _ in range(self.workers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def wait_accepted(self, count: int, timeout: float = 60.0) -> None:
        """Block until at least ``count`` reports were accepted."""
        deadline = time.monotonic() + timeout
        while len(self.accepted) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"only {len(self.accepted)} reports accepted in {timeout}s")
            time.sleep(0.02)

    def stop(self) -> list[str]:
        """Stop posting; returns the accepted report ids."""
        self._stopping.set()
        self.join(30)
        return list(self.accepted)


def paged(base_url: str, path: str, headers: dict[str, str], page_size: int = 200) -> list[dict]:
    """Every item of a ``{"items": [...]}`` listing that pages with ``limit``/``offset``."""
    items: list[dict] = []
    with httpx.Client(timeout=30.0) as client:
        while True:
            page = client.get(f"{base_url}{path}", headers=headers,
                              params={"limit": page_size, "offset": len(items)}).json()
            items.extend(page["items"])
            if len(page["items"]) < page_size:
                return items


def all_tickets(stack) -> list[dict]:
    """Every ticket on the stack."""
    return paged(stack.urls.dispatch, "/v1/tickets", stack.auth(sub="checker", role="command_centre"))


def inbox_all(stack, **claims) -> list[dict]:
    """Every inbox message of a principal."""
    return paged(stack.urls.notification, "/v1/inbox", stack.auth(**claims))


def assert_each_report_one_ticket_and_one_notice(stack, accepted: list[str], timeout: float = 120.0) -> dict:
    """Every accepted report became exactly one dispatched ticket, and its department heard of it once."""
    wanted = set(accepted)

    def settled():
        tickets = all_tickets(stack)
        dispatched = {t["report_id"] for t in tickets if t["state"] == "dispatched"}
        return tickets if wanted <= dispatched else None

    tickets = stack.wait_for(f"{len(wanted)} accepted reports to become dispatched tickets", settled, timeout)
    per_report = Counter(t["report_id"] for t in tickets)
    doubled = {r: n for r, n in per_report.items() if n > 1}
    assert not doubled, f"reports with more than one ticket: {doubled}"
    missing = wanted - set(per_report)
    assert not missing, f"accepted reports without a ticket: {sorted(missing)[:5]}"
    mine = [t for t in tickets if t["report_id"] in wanted]
    department = mine[0]["department"]
    ticket_ids = {t["id"] for t in mine}

    def noticed():
        notices = [m for m in inbox_all(stack, sub="checker", role="dept_dispatcher", department=department)
                   if m["event_type"] == "ticket.dispatched" and m["ticket_id"] in ticket_ids]
        return notices if {m["ticket_id"] for m in notices} == ticket_ids else None

    notices = stack.wait_for("a dispatch notice for every ticket", noticed, timeout)
    per_ticket = Counter(m["ticket_id"] for m in notices)
    assert all(n == 1 for n in per_ticket.values()), f"tickets noticed twice: {per_ticket.most_common(3)}"
    return {"tickets": len(mine), "total_tickets": len(tickets)}
