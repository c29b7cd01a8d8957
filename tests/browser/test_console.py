"""The console in headless Chromium: each role signs in and clicks the loop through, as a user would.

Report from the grid worker's form → the ticket counted on the command centre's map and in the dispatcher's queue
→ claim → handle → verify → close; a missed deadline shows red on the board; an API error shows its message.
Screenshots go to the test's tmp dir and var/screenshots/.
"""

from __future__ import annotations

import json

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select

from gridgov_cli.demo import DEMO_POINT
from tests.browser.conftest import HOSTILE_NAME, HOSTILE_TOWN, wait_until

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

RED = "#d93025"


class Page:
    """The console page in the browser, in a user's words."""

    def __init__(self, driver, url: str):
        self.driver = driver
        self.url = url

    def css(self, selector: str):
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector: str, timeout: float = 30.0):
        return wait_until(f"{selector} on the page", lambda: (found := self.css(selector)) and found[0], timeout)

    def sign_in(self, role: str, sub: str, department: str | None = None, grid: str | None = None,
                expect_ready: bool = True) -> None:
        # A grid worker is on a phone; the others at a desk.
        self.driver.set_window_size(*((412, 915) if role == "grid_worker" else (1400, 1400)))
        self.driver.get(self.url)
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.get(self.url)
        Select(self.one("#login-role")).select_by_value(role)
        self._type("#login-sub", sub)
        if department is not None:
            self._type("#login-department", department)
        if grid is not None:
            self._type("#login-grid", grid)
        self.one("#login-submit").click()
        if expect_ready:
            wait_until(f"the {role} view", lambda: self.driver.execute_script("return document.body.dataset.ready"))

    def _type(self, selector: str, text: str) -> None:
        field = self.one(selector)
        field.clear()
        field.send_keys(text)

    def error_text(self) -> str:
        box = self.one("#error-box")
        wait_until("the error box to show", box.is_displayed)
        return box.text

    def row(self, table: str, ticket_id: str, state: str | None = None, timeout: float = 40.0):
        selector = f"{table} [data-id='{ticket_id}']" + (f"[data-state='{state}']" if state else "")
        return self.one(selector, timeout)

    def area(self, code: str):
        """The polygon of an area on the map."""
        return self.one(f"#map path.area-{code}")


@pytest.fixture
def page(driver, stack) -> Page:
    return Page(driver, stack.url("console") + "/")


def sent_requests(driver) -> list[dict]:
    """The requests Chromium sent since the last call (URL and headers), from its network log."""
    found = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            found.append(message["params"]["request"])
    return found


def test_close_ticket_reported_from_form_through_every_role(page, api, shot):
    csp_violations(page.driver)
    where = api.grid_at(*DEMO_POINT)
    grid, town = where["grid_code"], where["town_code"]

    # 网格员: report from the mobile form (category from intake's Open311 list, location typed in).
    page.sign_in("grid_worker", "gw-browser", grid=grid)
    wait_until("the category list", lambda: len(page.css("#report-category option")) > 3)
    Select(page.one("#report-category")).select_by_value("01002")
    page._type("#report-description", "浏览器测试：路边暴露垃圾")
    # A tap on the map fills the location; the worker then corrects it by hand.
    map_element = page.one("#map")
    page.driver.execute_script("arguments[0].scrollIntoView()", map_element)
    ActionChains(page.driver).move_to_element(map_element).click().perform()
    wait_until("the tap to fill the location", lambda: page.one("#report-lon").get_attribute("value"))
    assert 113 < float(page.one("#report-lon").get_attribute("value")) < 115
    assert 22 < float(page.one("#report-lat").get_attribute("value")) < 24
    page._type("#report-lon", str(DEMO_POINT[0]))
    page._type("#report-lat", str(DEMO_POINT[1]))
    submit = page.one("#report-submit")
    page.driver.execute_script("arguments[0].scrollIntoView()", submit)
    submit.click()
    report_id = wait_until("the report to be accepted",
                           lambda: page.one("#report-result").get_attribute("data-report-id"))
    assert "已上报" in page.one("#report-result").text
    shot("1-reported")
    ticket = api.ticket_of(report_id)

    # 指挥中心: the ticket's town is counted on the map and the ticket is in the recent list.
    page.sign_in("command_centre", "cc-browser")
    page.row("#recent", ticket["id"], "dispatched")
    wait_until("the town counted on the map", lambda: "level-none" not in page.area(town).get_attribute("class"))
    assert int(page.one(f"#area-table tr[data-code='{town}'] td.open").text) >= 1
    shot("2-centre-map")

    # 部门调度员: the ticket is in the department's queue; claim it, then report the handling.
    page.sign_in("dept_dispatcher", "dd-browser", department=ticket["department"])
    page.row("#queue", ticket["id"], "dispatched").find_element(By.CSS_SELECTOR, "[data-action=claim]").click()
    row = page.row("#queue", ticket["id"], "claimed")
    row.find_element(By.NAME, "note").send_keys("已清理完毕")
    row.find_element(By.CSS_SELECTOR, "[data-action=handle]").click()
    page.row("#queue", ticket["id"], "handled")
    shot("3-dispatcher-handled")

    # 网格员: verify on site.
    page.sign_in("grid_worker", "gw-browser", grid=grid)
    page.row("#verify-list", ticket["id"]).find_element(By.CSS_SELECTOR, "[data-action=verify-pass]").click()
    wait_until("the ticket to leave the verification list",
               lambda: not page.css(f"#verify-list [data-id='{ticket['id']}']"))
    shot("4-verified")

    # 指挥中心: close it and see it closed.
    page.sign_in("command_centre", "cc-browser")
    page.row("#to-close", ticket["id"]).find_element(By.CSS_SELECTOR, "[data-action=close]").click()
    page.row("#recent", ticket["id"], "closed")
    assert "已结案" in page.row("#recent", ticket["id"]).text
    shot("5-closed")
    assert api.ticket(ticket["id"])["state"] == "closed"
    assert csp_violations(page.driver) == []  # every role's view ran under the page's Content-Security-Policy


def test_show_breach_red_on_board_when_deadline_passes(page, api, shot):
    town = api.grid_at(*DEMO_POINT)["town_code"]
    ticket = api.ticket_of(api.report("浏览器测试：超期工单"))
    page.sign_in("command_centre", "cc-board")
    page.row("#recent", ticket["id"])
    wait_until("the live feed to connect", lambda: "已连接" in page.one("#feed-status").text)

    api.pass_deadline(ticket["id"])

    breach = page.row("#breaches", ticket["id"], timeout=60)
    assert "level-red" in breach.get_attribute("class")
    wait_until("the town to turn red on the map", lambda: page.area(town).get_attribute("fill") == RED)
    assert int(page.one(f"#area-table tr[data-code='{town}'] td.red").text) >= 1
    # The live feed (server-sent events) told the page, which is why the board refreshed by itself.
    page.one(f"#feed li[data-id='{ticket['id']}']")
    assert "超期" in page.one("#feed").text
    # The feed is read with fetch() and an Authorization header: the token is in no URL the page requested.
    requests = sent_requests(page.driver)
    feeds = [r for r in requests if r["url"].split("?")[0].endswith("/api/events")]
    assert feeds and all(r["url"].endswith("/api/events") for r in feeds)
    assert all(r["headers"].get("Authorization", "").startswith("Bearer ") for r in feeds)
    assert not [r["url"] for r in requests if "token=" in r["url"]]
    shot("breach-red")


def test_show_api_error_when_claiming_a_ticket_twice(page, api, shot):
    ticket = api.ticket_of(api.report("浏览器测试：重复签收"))
    page.sign_in("dept_dispatcher", "dd-slow", department=ticket["department"])
    claim = page.row("#queue", ticket["id"], "dispatched").find_element(By.CSS_SELECTOR, "[data-action=claim]")
    # A colleague claims it first while this page still shows it unclaimed (its live feed paused to keep it so).
    page.driver.execute_script("window.gridgovConsole.stopFeed()")
    api.claim(ticket)
    claim.click()
    text = page.error_text()
    assert "工单当前状态为“已签收”，不能签收" in text  # the browser asks for zh-CN: the service answers in Chinese
    assert "HTTP 409" in text
    shot("claim-twice-error")


def test_show_error_when_dispatcher_signs_in_without_department(page, shot):
    page.sign_in("dept_dispatcher", "dd-nodept", expect_ready=False)
    assert "部门调度员必须指定部门" in page.error_text()  # in Chinese: the browser runs with --lang=zh-CN
    assert page.one("#login-panel").is_displayed()
    shot("login-error")


DESK = (1366, 768)


def csp_violations(driver) -> list[str]:
    """Content-Security-Policy violations Chromium logged since the last call (reading the log empties it)."""
    return [e["message"] for e in driver.get_log("browser") if "Content Security Policy" in e["message"]]


def test_load_page_under_csp_without_violations(page, shot):
    csp_violations(page.driver)
    page.sign_in("command_centre", "cc-csp")
    page.driver.set_window_size(*DESK)
    wait_until("the live feed to connect", lambda: "已连接" in page.one("#feed-status").text)
    page.one("#map path.area")
    shot("csp-centre")
    assert csp_violations(page.driver) == []
    # The policy is in force, not just sent: a script injected inline is refused (and the refusal logged).
    page.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s)")
    assert page.driver.execute_script("return typeof window.__inline") == "undefined"
    assert wait_until("the refusal in the browser log", lambda: csp_violations(page.driver))


def _signed_in_by_sso(driver, url: str, stack) -> None:
    """Open the page as a user the city's SSO signed in: a token the services accept, put where the page keeps it."""
    session = {"token": stack.mint(sub="cc-sso", role="command_centre"), "token_type": "bearer",
               "expires_in": 3600, "role": "command_centre", "sub": "cc-sso", "department": None, "grid": None}
    driver.get(url)
    driver.execute_script("sessionStorage.setItem('gridgov.console.session', arguments[0])", json.dumps(session))
    driver.get(url)
    wait_until("the command-centre view", lambda: driver.execute_script("return document.body.dataset.ready"))


def test_point_to_city_sso_when_dev_login_off(driver, sso_console, shot):
    driver.set_window_size(*DESK)
    driver.get(sso_console + "/")
    driver.execute_script("sessionStorage.clear()")
    driver.get(sso_console + "/")
    page = Page(driver, sso_console + "/")
    sso = page.one("#login-sso")
    wait_until("the SSO notice", sso.is_displayed)
    assert "请通过城市统一身份认证登录" in sso.text
    assert not page.one("#login-form").is_displayed()
    shot("sso-login")
    refused = httpx.post(f"{sso_console}/api/login", json={"role": "admin", "sub": "intruder"})
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["field"] == "login"


def test_show_hostile_grid_name_as_text_in_map_tooltip(driver, sso_console, stack, shot):
    csp_violations(driver)
    driver.set_window_size(*DESK)
    _signed_in_by_sso(driver, sso_console + "/", stack)
    page = Page(driver, sso_console + "/")

    def tooltip_over(selector: str):
        area = page.one(selector)
        driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", page.one("#map"))
        ActionChains(driver).move_to_element(area).perform()
        shown = wait_until("the area's tooltip", lambda: [t for t in page.css(".leaflet-tooltip") if t.is_displayed()])
        return shown[0]

    tip = tooltip_over(f"#map path.area-{HOSTILE_TOWN}")
    assert HOSTILE_NAME in tip.text  # shown as the text it is
    assert tip.find_elements(By.TAG_NAME, "img") == []
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    shot("hostile-town-tooltip")

    Select(page.one("#map-level")).select_by_value("grid")
    tip = tooltip_over(f"#map path.area-{HOSTILE_TOWN}001001")
    assert f"第1网格{HOSTILE_NAME}" in tip.text
    assert tip.find_elements(By.TAG_NAME, "img") == []
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    shot("hostile-grid-tooltip")
    assert csp_violations(driver) == []
