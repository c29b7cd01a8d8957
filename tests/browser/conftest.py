"""The embedded stack with the console, and headless Chromium (Debian's chromium + chromedriver, via Selenium)."""

from __future__ import annotations

import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from gridgov_cli.demo import DEMO_POINT
from gridgov_cli.stack import SERVICES, wait_ready
from tests.support.stack import Stack, free_port, start_service

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "var" / "screenshots"  # git-ignored (var/); CI keeps them as artefacts
CHROMIUM = os.environ.get("GRIDGOV_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("GRIDGOV_TEST_CHROMEDRIVER", "/usr/bin/chromedriver")


def _require_browser() -> None:
    """Skip loudly without chromium and its driver; fail instead under GRIDGOV_REQUIRE_INFRA=1 (CI)."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not Path(p).is_file()]
    if not missing:
        return
    reason = (f"{', '.join(missing)} not installed (scripts/test-deps.sh, run by `make test`, installs Debian's "
              "chromium and chromium-driver)")
    if os.environ.get("GRIDGOV_REQUIRE_INFRA") == "1":
        pytest.fail(f"GRIDGOV_REQUIRE_INFRA=1 but {reason}")
    pytest.skip(f"SKIPPED BROWSER TEST — {reason}")


# Package scope, not session: the stack, the browser and the SSO console stop after the last browser test instead
# of idling (~0.2 of a core) through the rest of the run (the end-to-end suites come after and are CPU-bound).
@pytest.fixture(scope="package")
def stack(tmp_path_factory):
    """The five processes on the embedded stack (the console among them)."""
    _require_browser()
    # No quiet hours: they hold a non-urgent SMS until 07:00 Beijing time, so a test that watches one be sent failed
    # whenever the suite ran between 22:00 and 07:00 there (14:00–23:00 UTC). The deferral itself is tested in
    # notification's own tests with a fixed clock.
    s = Stack("embedded", tmp_path_factory.mktemp("console-stack"),
              extra_env={"GRIDGOV_NOTIFICATION_QUIET_HOURS_ENABLED": "false"})
    # A shared or busy machine may take minutes to import five services at once: wait longer than the default.
    try:
        s.start(timeout=float(os.environ.get("GRIDGOV_TEST_STACK_START_S", "300")))
        yield s
    finally:
        s.close()  # also when the start timed out: no stack left running behind a failed session


@pytest.fixture(scope="package")
def driver():
    """One headless Chromium for the session (each test signs in afresh)."""
    _require_browser()
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--window-size=1400,1400", "--lang=zh-CN"):
        options.add_argument(arg)
    # The browser's console log, for the Content-Security-Policy checks (a violation is logged there), and its
    # network log, to see what a request carried.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    drv = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    drv.set_page_load_timeout(30)
    yield drv
    drv.quit()


@pytest.fixture
def shot(driver, tmp_path, request) -> Callable[[str], Path]:
    """Save a screenshot under the test's tmp dir and copy it to var/screenshots/ (git-ignored)."""

    def take(name: str) -> Path:
        path = tmp_path / f"{request.node.name}-{name}.png"
        driver.save_screenshot(str(path))
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SCREENSHOTS / path.name)
        return path

    return take


class Api:
    """Direct calls to the services, for what the test sets up around the page (not what it checks)."""

    def __init__(self, stack: Stack):
        self.stack = stack
        self.client = httpx.Client(timeout=10.0)
        self.centre = stack.auth(sub="api-centre", role="command_centre")

    def grid_at(self, lon: float, lat: float) -> dict:
        """The grid, village and town a point falls in."""
        resp = self.client.get(f"{self.stack.url('grid-registry')}/v1/locate", params={"lon": lon, "lat": lat},
                               headers=self.centre)
        resp.raise_for_status()
        return resp.json()

    def report(self, description: str, point: tuple[float, float] = DEMO_POINT) -> str:
        """A patrol report; its id."""
        resp = self.client.post(f"{self.stack.url('event-intake')}/v1/reports/patrol",
                                headers=self.stack.auth(sub="api-worker", role="grid_worker"),
                                json={"category_code": "01002", "description": description,
                                      "lon": point[0], "lat": point[1]})
        assert resp.status_code == 202, resp.text
        return resp.json()["report_id"]

    def ticket_of(self, report_id: str, state: str = "dispatched") -> dict:
        """The ticket of a report once it reaches ``state``."""

        def probe():
            items = self.client.get(f"{self.stack.url('dispatch')}/v1/tickets", params={"report_id": report_id},
                                    headers=self.centre).json()["items"]
            return items[0] if items and items[0]["state"] == state else None

        return self.stack.wait_for(f"the ticket of report {report_id} to be {state}", probe, 60)

    def ticket(self, ticket_id: str) -> dict:
        """A ticket as dispatch has it now."""
        return self.client.get(f"{self.stack.url('dispatch')}/v1/tickets/{ticket_id}", headers=self.centre).json()

    def claim(self, ticket: dict) -> None:
        """Claim a ticket as a colleague of its department."""
        resp = self.client.post(f"{self.stack.url('dispatch')}/v1/tickets/{ticket['id']}/claim", json={},
                                headers=self.stack.auth(sub="colleague", role="dept_dispatcher",
                                                        department=ticket["department"]))
        assert resp.status_code == 200, resp.text

    def pass_deadline(self, ticket_id: str) -> None:
        """Move a ticket's deadline an hour into the past, due for the SLA scan now (a test-only data path:
        dispatch's own SLA watcher then escalates it, as it would after a real missed deadline)."""
        past = (datetime.now(UTC) - timedelta(hours=1)).replace(tzinfo=None).isoformat(sep=" ")
        with sqlite3.connect(self.stack.data_dir / "dispatch.db", timeout=30) as conn:
            changed = conn.execute("UPDATE ticket SET deadline = ?, next_check_at = ? WHERE id = ?",
                                   (past, past, ticket_id)).rowcount
        assert changed == 1


@pytest.fixture(scope="package")
def api(stack) -> Api:
    """Direct service calls on the stack."""
    return Api(stack)


def wait_until(what: str, probe: Callable[[], object], timeout: float = 30.0):
    """Poll ``probe`` until truthy; fail naming ``what``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = probe()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f}s waiting for {what}")


# A grid name as an attacker would import it: markup that runs script if the page ever treats it as HTML.
HOSTILE_NAME = '<img src=x onerror="window.__xss=1">'
HOSTILE_TOWN = "441900099"


def _rect(w: float, s: float, e: float, n: float) -> dict:
    return {"type": "Polygon", "coordinates": [[[w, s], [e, s], [e, n], [w, n], [w, s]]]}


def _area(code: str, name: str, geometry: dict) -> dict:
    return {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": geometry}


# One town (with the hostile name), one village, two grids, over the demo point.
HOSTILE_GRID_SET = {"type": "FeatureCollection", "features": [
    _area(HOSTILE_TOWN, HOSTILE_NAME, _rect(113.74, 23.01, 113.76, 23.03)),
    _area(f"{HOSTILE_TOWN}001", "新社区", _rect(113.74, 23.01, 113.76, 23.03)),
    _area(f"{HOSTILE_TOWN}001001", f"第1网格{HOSTILE_NAME}", _rect(113.74, 23.01, 113.75, 23.03)),
    _area(f"{HOSTILE_TOWN}001002", "第2网格", _rect(113.75, 23.01, 113.76, 23.03)),
]}


@pytest.fixture(scope="package")
def sso_console(stack, tmp_path_factory):
    """A second console as a city runs it, DEV login off (users come signed in by the city's SSO), in front of its
    own grid registry, which holds an imported grid set with a hostile area name (dispatch is the stack's). Its own
    registry keeps the import away from the grid set the other tests see."""
    data_dir = tmp_path_factory.mktemp("sso-console")
    registry_port, console_port = free_port(), free_port()
    env = {**stack.env, "GRIDGOV_DATA_DIR": str(data_dir), "GRIDGOV_REGISTRY_PORT": str(registry_port),
           "GRIDGOV_CONSOLE_PORT": str(console_port), "GRIDGOV_CONSOLE_DEV_LOGIN": "false"}
    procs = [start_service(SERVICES[name], env, data_dir / "logs") for name in ("grid-registry", "console")]
    registry, console = f"http://127.0.0.1:{registry_port}", f"http://127.0.0.1:{console_port}"
    try:
        wait_ready({"grid-registry (sso)": registry, "console (sso)": console},
                   float(os.environ.get("GRIDGOV_TEST_STACK_START_S", "300")))
        resp = httpx.post(f"{registry}/v1/grid-sets", params={"version": "hostile-names"}, json=HOSTILE_GRID_SET,
                          headers=stack.auth(sub="api-admin", role="admin"), timeout=60)
        assert resp.status_code == 201, resp.text
        yield console
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.wait(20)
