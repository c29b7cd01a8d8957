"""The console in headless Chromium: each role signs in and clicks the loop through, as a user would.

Report from the grid worker's form (/field) → the ticket counted on the map → the dispatcher claims and handles it
in the queue (/queue) → the grid worker verifies it (/field) → the command centre closes it on its page
(/tickets/<id>); a missed deadline shows red on the map and the board; an API error shows in Chinese next to the
control; every page runs under the Content-Security-Policy; a hostile area name shows as text.
Screenshots go to the test's tmp dir and var/screenshots/.
"""

from __future__ import annotations

import json
import re
from urllib.parse import urlsplit

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from gridgov_cli.demo import DEMO_POINT
from tests.browser.conftest import HOSTILE_NAME, HOSTILE_TOWN, wait_until
from tests.browser.pages import DESK, ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

RED = "#d93025"
RED_RGB = "rgb(217, 48, 37)"


@pytest.fixture
def console(driver, stack) -> ConsolePage:
    return ConsolePage(driver, stack.url("console"))


def sent_requests(driver) -> list[dict]:
    """The requests Chromium sent since the last call (URL and headers), from its network log."""
    found = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            found.append(message["params"]["request"])
    return found


def pick_category(console: ConsolePage, code: str, search: str) -> None:
    """Choose a category in the report form by typing part of its name, as a worker would."""
    console.test_id("report-category").click()
    field = console.one("[data-test=report-category] input")
    field.send_keys(search)
    options = f".el-select-dropdown__item[data-code='{code}']"
    option = wait_until(f"the option {code}", lambda: [o for o in console.css(options) if o.is_displayed()])
    option[0].click()


def test_close_ticket_reported_from_form_through_every_role(console, api, shot):
    console.csp_violations()
    where = api.grid_at(*DEMO_POINT)
    grid, town = where["grid_code"], where["town_code"]

    # 网格员 on a phone: report from the form (category found by name, location tapped then typed).
    console.sign_in("grid_worker", "gw-browser", grid=grid, expect_view="field")
    assert where["grid_name"] in console.test_id("field-grid").text
    pick_category(console, "01002", "垃圾")
    console.type_into("report-description", "浏览器测试：路边暴露垃圾")
    tap = console.one("[data-test=report-map] .grid-map")
    console.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", tap)
    ActionChains(console.driver).move_to_element(tap).click().perform()
    wait_until("the tap to fill the location", lambda: console.test_id("report-lon").get_attribute("value"))
    # the map is centred on the worker's grid: the tap lands in it
    assert abs(float(console.test_id("report-lon").get_attribute("value")) - DEMO_POINT[0]) < 0.05
    assert abs(float(console.test_id("report-lat").get_attribute("value")) - DEMO_POINT[1]) < 0.05
    console.type_into("report-lon", str(DEMO_POINT[0]))
    console.type_into("report-lat", str(DEMO_POINT[1]))
    console.test_id("report-submit").click()
    result = console.test_id("report-result")
    report_id = result.get_attribute("data-report-id")
    assert "已上报" in result.text
    shot("1-reported")
    ticket = api.ticket_of(report_id)

    # 指挥中心: the ticket's town is counted on the map.
    console.sign_in("command_centre", "cc-browser")
    console.open("/map", "map")
    wait_until("the town counted on the map",
               lambda: int(console.one(f"path.area-{town}").get_attribute("data-open")) >= 1)
    shot("2-centre-map")

    # 部门调度员: the ticket is in the department's queue; claim it, then report the handling.
    console.sign_in("dept_dispatcher", "dd-browser", department=ticket["department"], expect_view="queue")
    console.row(ticket["id"], "dispatched").find_element(By.CSS_SELECTOR, "[data-test=claim]").click()
    assert "签收" in console.accept_confirmation()
    row = console.row(ticket["id"], "claimed")
    row.find_element(By.CSS_SELECTOR, "input[data-test=note]").send_keys("已清理完毕")
    row.find_element(By.CSS_SELECTOR, "[data-test=handle]").click()
    console.accept_confirmation()
    wait_until("the ticket handled", lambda: api.ticket(ticket["id"])["state"] == "handled")
    shot("3-dispatcher-handled")

    # 网格员: verify on site (the phone app's 任务 tab).
    console.sign_in("grid_worker", "gw-browser", grid=grid, expect_view="field")
    console.test_id("tab-tasks").click()
    task = console.row(ticket["id"], "handled")
    assert task.find_element(By.CSS_SELECTOR, "a").get_attribute("href").endswith(f"/tickets/{ticket['id']}")
    check = task.find_element(By.CSS_SELECTOR, "[data-test=verify-pass]")
    console.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", check)  # clear of the tab bar
    check.click()
    assert "核查通过" in console.accept_confirmation()
    console.gone(f"[data-test=verify-list] [data-id='{ticket['id']}']")
    shot("4-verified")

    # 指挥中心: close it from the 待结案 queue; it leaves the queue, closed.
    console.sign_in("command_centre", "cc-browser", expect_view="board")
    console.one(".topbar a.nav-link[href='/closing']").click()
    console.wait_view("closing")
    console.row(ticket["id"], "verified")
    console.test_id(f"close-{ticket['id']}").click()
    assert "结案" in console.accept_confirmation()
    console.gone(f"[data-id='{ticket['id']}']")
    shot("5-closed")
    assert api.ticket(ticket["id"])["state"] == "closed"
    assert console.csp_violations() == []  # every role's page ran under the Content-Security-Policy


def test_show_breach_red_on_map_and_board_when_deadline_passes(console, api, shot):
    town = api.grid_at(*DEMO_POINT)["town_code"]
    ticket = api.ticket_of(api.report("浏览器测试：超期工单"))
    console.sign_in("command_centre", "cc-board")
    console.open("/map", "map")
    sent_requests(console.driver)  # from here on: what the map's live feed sends

    api.pass_deadline(ticket["id"])

    # The live feed tells the map, which outlines the town red without a reload.
    area = console.one(f"path.area-{town}")
    wait_until("the town outlined red on the map", lambda: "breach" in area.get_attribute("class").split(), 90)
    assert area.get_attribute("stroke") == RED
    assert int(console.one(f"[data-test=area-list] li[data-code='{town}'] .sla-red").text) >= 1
    shot("breach-map")
    # The feed is read with fetch() and an Authorization header: the token is in no URL the page requested.
    requests = sent_requests(console.driver)
    feeds = [r for r in requests if r["url"].split("?")[0].endswith("/api/events")]
    assert all(r["url"].endswith("/api/events") for r in feeds)
    assert all(r["headers"].get("Authorization", "").startswith("Bearer ") for r in feeds)
    assert not [r["url"] for r in requests if "token=" in r["url"]]

    console.open("/board", "board")
    breach = console.one(f".breach-list li[data-id='{ticket['id']}'] .sla-red", 60)
    assert breach.value_of_css_property("color") in (RED_RGB, "rgba(217, 48, 37, 1)")
    # how long, as the wall reads it: "超期 1小时00分" (an hour past the deadline), not "超期 1.0 小时"
    assert re.fullmatch(r"超期 (1小时0\d分|59分)", breach.text), breach.text
    shot("breach-board")


def test_show_api_error_in_chinese_when_claiming_a_ticket_twice(console, api, shot):
    ticket = api.ticket_of(api.report("浏览器测试：重复签收"))
    # The page's live feed is cut, so the row still shows the ticket unclaimed after a colleague claims it.
    console.driver.execute_cdp_cmd("Network.enable", {})
    console.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/events*"]})
    try:
        console.sign_in("dept_dispatcher", "dd-slow", department=ticket["department"], expect_view="queue")
        claim = console.row(ticket["id"], "dispatched").find_element(By.CSS_SELECTOR, "[data-test=claim]")
        api.claim(ticket)
        claim.click()
        console.accept_confirmation()
        error = console.one(f"[data-id='{ticket['id']}'] [data-test=row-error]")
        # the browser asks for zh-CN: the service answers in Chinese, shown next to the row's buttons
        assert "工单当前状态为“已签收”，不能签收" in error.text
        shot("claim-twice-error")
    finally:
        console.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})


def test_show_field_error_when_dispatcher_signs_in_without_department(console, shot):
    console.sign_in("dept_dispatcher", "dd-nodept", expect_view=None)
    error = console.one(".el-form-item.is-error .el-form-item__error")
    assert "部门" in error.text
    # next to the field it names
    assert console.css(".el-form-item.is-error input[data-test=login-department]")
    assert urlsplit(console.driver.current_url).path == "/login"  # not signed in
    shot("login-error")


def test_show_field_error_when_a_grid_worker_mistypes_the_grid(console, api, shot):
    where = api.grid_at(*DEMO_POINT)
    grid, village = where["grid_code"], where["village_code"]
    # a grid code one digit short of the real one, then the village's code: both refused beside the grid field
    wrongs = ((grid[:-1], "当前网格版本中没有这个网格编码"), (village, f"{village} 是村（社区）编码，不是网格编码"))
    for wrong, reason in wrongs:
        console.sign_in("grid_worker", "gw-typo", grid=wrong, expect_view=None)
        error = console.one(".el-form-item.is-error .el-form-item__error")
        assert error.text == reason
        assert console.css(".el-form-item.is-error input[data-test=login-grid]")
        assert urlsplit(console.driver.current_url).path == "/login"  # not signed in
    shot("login-error-grid")
    console.sign_in("grid_worker", "gw-typo", grid=grid, expect_view="field")  # the right code signs in


# Every page of each role, as its navigation offers it, plus the pages a link opens (a ticket, a drilled map).
ROLES = [("command_centre", {}), ("dept_dispatcher", {"department": "urban-management"}),
         ("grid_worker", {"grid": None}), ("admin", {})]


def test_load_every_page_under_csp_without_violations(console, api, shot):
    ticket = api.ticket_of(api.report("浏览器测试：安全策略"))
    where = api.grid_at(*DEMO_POINT)
    console.driver.get(f"{console.url}/login")
    console.csp_violations()
    console.test_id("login-sub")
    assert console.csp_violations() == []
    opened = []
    for role, extra in ROLES:
        kwargs = {k: (where["grid_code"] if k == "grid" else v) for k, v in extra.items()}
        console.sign_in(role, f"csp-{role}", **kwargs)
        paths = [a.get_attribute("href").removeprefix(console.url) for a in console.css(".topbar a.nav-link")]
        paths += [f"/tickets/{ticket['id']}", f"/map?area={where['grid_code']}"]
        for path in dict.fromkeys(paths):
            console.open(path)
            opened.append((role, path))
            violations = console.csp_violations()
            assert violations == [], (role, path, violations)
    assert len(opened) >= 10
    console.size(*DESK)
    shot("csp-last-page")
    # The policy is in force, not just sent: a script injected inline is refused (and the refusal logged).
    console.driver.execute_script(
        "const s = document.createElement('script'); s.textContent = 'window.__inline = 1'; document.body.append(s)")
    assert console.driver.execute_script("return typeof window.__inline") == "undefined"
    assert wait_until("the refusal in the browser log", console.csp_violations)


def _signed_in_by_sso(driver, url: str, stack) -> None:
    """Open the page as a user the city's SSO signed in: a token the services accept, put where the page keeps it."""
    session = {"token": stack.mint(sub="cc-sso", role="command_centre"), "token_type": "bearer",
               "expires_in": 3600, "role": "command_centre", "sub": "cc-sso", "department": None, "grid": None}
    driver.get(f"{url}/login")
    driver.execute_script("sessionStorage.setItem('gridgov.console.session', arguments[0])",
                          json.dumps({**session, "expires_at": 4102444800000}))


def test_point_to_city_sso_when_dev_login_off(driver, sso_console, shot):
    console = ConsolePage(driver, sso_console)
    console.size(*DESK)
    driver.get(f"{sso_console}/login")
    driver.execute_script("sessionStorage.clear()")
    driver.get(f"{sso_console}/board")  # any page sends a signed-out user to the login page
    notice = console.test_id("sso-notice")
    assert "统一身份认证" in notice.text
    assert console.css("[data-test=login-sub]") == []  # no DEV login form
    shot("sso-login")
    refused = httpx.post(f"{sso_console}/api/login", json={"role": "admin", "sub": "intruder"})
    assert refused.status_code == 403
    assert refused.json()["error"]["details"][0]["field"] == "login"


def test_show_hostile_grid_name_as_text_on_map(driver, sso_console, stack, shot):
    console = ConsolePage(driver, sso_console)
    console.size(*DESK)
    console.csp_violations()
    _signed_in_by_sso(driver, sso_console, stack)
    console.open("/map", "map")

    def shown_tips() -> list[dict]:
        """Text and image count of the visible tooltips, read in one script: the map re-renders its tooltips as
        it settles, so element handles found first and read later can go stale between the two steps."""
        return driver.execute_script(
            "return [...document.querySelectorAll('.leaflet-tooltip')]"
            ".filter(t => t.offsetParent !== null && getComputedStyle(t).visibility !== 'hidden')"
            ".map(t => ({text: t.textContent, imgs: t.querySelectorAll('img').length}))")

    def label_of(code: str) -> list[dict]:
        """The label (or, below the label zoom, the hover tooltip) naming area ``code``."""
        area = console.one(f"path.area-{code}")
        if not shown_tips():
            ActionChains(driver).move_to_element(area).perform()
        return wait_until("the area's tooltip", shown_tips)

    tips = label_of(HOSTILE_TOWN)
    assert any(HOSTILE_NAME in t["text"] for t in tips)  # shown as the text it is
    assert all(t["imgs"] == 0 for t in tips)
    assert console.one(f"[data-test=area-list] li[data-code='{HOSTILE_TOWN}']").text.startswith(HOSTILE_NAME)
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    shot("hostile-town-label")

    console.open(f"/map?area={HOSTILE_TOWN}001001", "map")
    crumbs = console.test_id("map-crumbs")
    assert HOSTILE_NAME in crumbs.text and crumbs.find_elements(By.TAG_NAME, "img") == []
    tips = label_of(f"{HOSTILE_TOWN}001001")
    assert any(f"第1网格{HOSTILE_NAME}" in t["text"] for t in tips)
    assert all(t["imgs"] == 0 for t in tips)
    assert driver.execute_script("return typeof window.__xss") == "undefined"
    shot("hostile-grid-label")
    assert console.csp_violations() == []
