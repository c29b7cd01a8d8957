"""Benchmark: page weight and time to interactive of the grid worker's phone app (/field) on "Fast 3G".

Chromium (headless, a 390×844 phone at 3× pixels) with DevTools' Fast 3G preset (latency 562.5 ms, 1.6 Mbps down,
750 kbps up, each ×0.9 as DevTools applies them), its HTTP cache off. Time to interactive here is navigation start →
the page's ``[data-view=field][data-loaded=true]`` (drawn, its first data in, its controls live). Two visits:
cold (no cache, no service worker) and repeat (the service worker answers the app shell; the API still travels).
Optional ``--cpu4``: the CPU slowed 4× (a mid-range phone).

    uv run --frozen python bench/field_app_load.py http://127.0.0.1:8021 441900004003002 [--cpu4]

needs a running console (``gridgov serve console``) with DEV login and the grid code of a worker.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service

FAST_3G = {"offline": False, "latency": 562.5, "downloadThroughput": 1.6 * 1024 * 1024 / 8 * 0.9,
           "uploadThroughput": 750 * 1024 / 8 * 0.9}
WEIGHTS = """
  const n = performance.getEntriesByType('navigation')[0];
  const r = performance.getEntriesByType('resource');
  const files = r.filter((e) => e.name.includes('/static/'));
  const api = r.filter((e) => e.name.includes('/api/'));
  const sum = (xs, k) => xs.reduce((a, e) => a + (e[k] || 0), 0);
  // when the last file or read before interactive arrived: the network's share of the time, which a loaded
  // machine's CPU moves less than the time to interactive
  const last = Math.round(Math.max(0, ...files.concat(api).map((e) => e.responseEnd)));
  return {dom_content_loaded_ms: Math.round(n.domContentLoadedEventEnd), last_response_end_ms: last,
          files: files.length,
          files_transferred: sum(files, 'transferSize'), files_decoded: sum(files, 'decodedBodySize'),
          api_calls: api.length, api_transferred: sum(api, 'transferSize')};"""


def sign_in(base: str, grid: str) -> dict:
    """A grid worker's session from the console's DEV login, as the app keeps it."""
    body = json.dumps({"role": "grid_worker", "sub": "gw-bench", "grid": grid}).encode()
    request = urllib.request.Request(f"{base}/api/login", data=body, headers={"Content-Type": "application/json"})
    answer = json.loads(urllib.request.urlopen(request, timeout=30).read())
    return {**answer, "expires_at": int(time.time() * 1000) + answer["expires_in"] * 1000}


def visit(driver, base: str) -> dict:
    """Open /field; answers the seconds until it is interactive and what it loaded."""
    started = time.monotonic()
    driver.get(f"{base}/field")
    while not driver.execute_script("return !!document.querySelector('[data-view=field][data-loaded=true]')"):
        time.sleep(0.05)
    return {"interactive_s": round(time.monotonic() - started, 2), **driver.execute_script(WEIGHTS)}


def main(base: str, grid: str, cpu4: bool) -> None:
    """Measure the cold and the repeat visit and print them as JSON lines."""
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=600,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(options=options, service=Service("/usr/bin/chromedriver"))
    try:
        driver.set_page_load_timeout(120)
        driver.set_script_timeout(120)
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 390, "height": 844, "deviceScaleFactor": 3, "mobile": True})
        driver.get(f"{base}/healthz")  # same origin, without loading the app: the session goes in first
        driver.execute_script("localStorage.setItem('gridgov.console.field-session', arguments[0])",
                              json.dumps(sign_in(base, grid)))
        driver.execute_cdp_cmd("Network.enable", {})
        driver.execute_cdp_cmd("Network.setCacheDisabled", {"cacheDisabled": True})
        driver.execute_cdp_cmd("Network.emulateNetworkConditions", FAST_3G)
        if cpu4:
            driver.execute_cdp_cmd("Emulation.setCPUThrottlingRate", {"rate": 4})
        print(json.dumps({"visit": "cold", "cpu4": cpu4, **visit(driver, base)}))
        controlled = driver.execute_async_script("""const done = arguments[arguments.length - 1];
          const t = setTimeout(() => done(false), 110000);
          navigator.serviceWorker.ready.then(async () => {
            while (!navigator.serviceWorker.controller) await new Promise((r) => { setTimeout(r, 200); });
            clearTimeout(t); done(true); });""")
        if not controlled:
            raise SystemExit("the service worker never took control: no repeat visit to measure")
        time.sleep(2)  # the worker's precache finishes (it runs under the same throttle)
        print(json.dumps({"visit": "repeat (service worker shell)", "cpu4": cpu4, **visit(driver, base)}))
    finally:
        driver.quit()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], "--cpu4" in sys.argv[3:])
