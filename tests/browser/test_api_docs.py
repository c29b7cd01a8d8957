"""/docs and /redoc of a service render its operations in Chromium from the service's own files: no request leaves
the service, no Content-Security-Policy violation (issue #13, item 6)."""

from __future__ import annotations

import json
import threading
import time

import pytest
import uvicorn
from selenium.webdriver.common.by import By

from conftest import TEST_SECRET
from gridgov_common.settings import CommonSettings
from gridgov_dispatch.app import create_app
from gridgov_dispatch.settings import DispatchSettings
from tests.browser.conftest import wait_until
from tests.support.stack import free_port


@pytest.fixture(scope="module")
def dispatch_url(tmp_path_factory):
    """One dispatch service on the embedded stack, served by uvicorn on a free port."""
    settings = DispatchSettings(common=CommonSettings(data_dir=tmp_path_factory.mktemp("docs"), jwt_secret=TEST_SECRET,
                                                      log_json=False))
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "dispatch did not start"
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(20)


def _requests(driver) -> tuple[list[str], list[str]]:
    """(every URL the page asked for, those the browser blocked itself, e.g. by the Content-Security-Policy)."""
    urls, blocked_ids, by_id = [], set(), {}
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
            by_id[message["params"]["requestId"]] = message["params"]["request"]["url"]
        elif message["method"] == "Network.loadingFailed" and message["params"].get("blockedReason"):
            blocked_ids.add(message["params"]["requestId"])
    return urls, [by_id[i] for i in blocked_ids if i in by_id]


# ReDoc's "API docs by Redocly" badge asks for its logo from Redocly's CDN; the page's policy blocks it before it
# leaves the browser (see the blocked check) and ReDoc then hides the image. The only violation either page may log.
REDOC_BADGE = "https://cdn.redoc.ly/redoc/logo-mini.svg"


def _csp_violations(driver) -> list[str]:
    return [e["message"] for e in driver.get_log("browser")
            if "Content Security Policy" in e["message"] and REDOC_BADGE not in e["message"]]


@pytest.mark.parametrize("page, operation_selector", [
    ("/docs", ".opblock"),
    ("/redoc", "[data-section-id^='operation/']"),
], ids=["swagger-ui", "redoc"])
def test_docs_page_renders_operations_from_local_files_only(driver, shot, dispatch_url, page, operation_selector):
    driver.get_log("performance"), driver.get_log("browser")  # start both logs empty
    driver.get(dispatch_url + page)
    count = wait_until(f"{page} to render the operations",
                       lambda: len(driver.find_elements(By.CSS_SELECTOR, operation_selector)) >= 30 and
                       len(driver.find_elements(By.CSS_SELECTOR, operation_selector)), 60)
    if page == "/docs":  # open one ticket action: its error answers are what a client needs to see
        claim = next(e for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")
                     if e.text.endswith("/claim"))
        claim.click()
        conflict = wait_until("the claim action's 409 answer", lambda: driver.find_elements(
            By.CSS_SELECTOR, ".opblock.is-open .response[data-code='409']"), 20)[0]
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", conflict)
        assert "illegal_transition" in conflict.text
    shot(page.strip("/"))
    urls, blocked = _requests(driver)
    foreign = [u for u in urls if not u.startswith((dispatch_url, "data:", f"blob:{dispatch_url}"))]
    assert urls and set(foreign) <= {REDOC_BADGE} and set(foreign) <= set(blocked), foreign  # nothing left
    assert not _csp_violations(driver)
    assert count >= 30
