"""The console's pages in the browser, in a user's words: shared by every browser test.

Conventions the front end keeps for these tests (services/console/frontend): each page's root element carries
``data-view="<name>"`` and, once its first data has arrived, ``data-loaded="true"``; controls a test drives carry
``data-test="<name>"`` (on an ``el-input`` the attribute lands on the inner ``<input>``); a row of a ticket list
carries ``data-id`` (the ticket id) and ``data-state``.
"""

from __future__ import annotations

from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import wait_until

PHONE = (390, 844)
DESK = (1366, 768)
WALL = (1920, 1080)
DESK_SIZES = {"1920x1080": WALL, "1366x768": DESK}


class ConsolePage:
    """The console in the browser: sign in as a role, open a page, find and drive its controls."""

    def __init__(self, driver, url: str):
        self.driver = driver
        self.url = url.rstrip("/")

    def css(self, selector: str):
        """Every element matching ``selector`` now."""
        return self.driver.find_elements(By.CSS_SELECTOR, selector)

    def one(self, selector: str, timeout: float = 30.0):
        """The first element matching ``selector``, waiting for it to appear."""
        return wait_until(f"{selector} on the page", lambda: (found := self.css(selector)) and found[0], timeout)

    def choose(self, select_test: str, label: str, timeout: float = 20.0) -> None:
        """Open the el-select ``data-test=<select_test>`` and pick its option ``label``."""
        select = self.test_id(select_test)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", select)
        select.click()
        wait_until(f"the option {label}", lambda: [o for o in self.css(".el-select-dropdown__item")
                                                   if o.is_displayed() and o.text.strip() == label], timeout)[0].click()

    def gone(self, selector: str, timeout: float = 30.0) -> None:
        """Wait until nothing matches ``selector``."""
        wait_until(f"{selector} to go", lambda: not self.css(selector), timeout)

    def fill(self, element, value: str) -> None:
        """Set an input's or textarea's value at once, as a paste or a picker does (one input event): typing 10 KB of
        JSON key by key is slow, and typing into a datetime-local depends on the browser's locale."""
        self.driver.execute_script(
            "arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event('input', {bubbles: true}));",
            element, value)

    def settled(self, selector: str, timeout: float = 10.0):
        """The element once it stops moving: a drawer slides in, and a click during the slide lands on whatever
        passes under the pointer."""
        last: dict = {}

        def still():
            rect = self.one(selector).rect
            same = rect == last.get("rect")
            last["rect"] = rect
            return same and self.one(selector)

        return wait_until(f"{selector} to settle", still, timeout)

    def test_id(self, name: str, timeout: float = 30.0):
        """The element with ``data-test="<name>"``."""
        return self.one(f'[data-test="{name}"]', timeout)

    def type_into(self, name: str, text: str) -> None:
        """Replace the text of the input ``data-test="<name>"`` (clears first, as a user selecting all would)."""
        field = self.test_id(name)
        field.send_keys(Keys.CONTROL, "a")
        field.send_keys(Keys.DELETE)
        field.send_keys(text)

    def size(self, width: int, height: int) -> None:
        """Resize the browser window to the user's screen."""
        self.driver.set_window_size(width, height)

    def sign_in(self, role: str, sub: str, department: str | None = None, grid: str | None = None,
                size: tuple[int, int] | None = None, expect_view: str | None = "", name: str | None = None) -> None:
        """Sign in through the login page as ``role`` (with the display name ``name`` when given); wait for the
        role's first page (``expect_view``: its ``data-view`` name, "" for any, None not to wait)."""
        self.size(*(size or (PHONE if role == "grid_worker" else DESK)))
        self.driver.get(f"{self.url}/login")
        self.driver.execute_script("sessionStorage.clear()")
        self.driver.get(f"{self.url}/login")
        self.one(f'[data-role="{role}"]').click()
        self.type_into("login-sub", sub)
        if name is not None:
            self.type_into("login-name", name)
        if department is not None:
            self.type_into("login-department", department)
        if grid is not None:
            self.type_into("login-grid", grid)
        self.test_id("login-submit").click()
        if expect_view is not None:
            self.wait_view(expect_view)

    def open(self, path: str, view: str = "") -> None:
        """Go to ``path`` (e.g. ``/tickets/<id>``) and wait for its page to have loaded."""
        self.driver.get(f"{self.url}{path}")
        self.wait_view(view)

    def wait_view(self, view: str = "", timeout: float = 30.0) -> None:
        """Wait until the page ``view`` (any page when "") shows with its data loaded."""
        selector = f'[data-view="{view}"][data-loaded="true"]' if view else '[data-view][data-loaded="true"]'
        self.one(selector, timeout)

    def form_errors(self, container) -> list[str]:
        """The reasons a form shows beside its fields inside ``container`` now, read in the page at once (a reason's
        element is removed as it fades: read one by one through WebDriver, it may be gone between two calls)."""
        return self.driver.execute_script(
            "return [...arguments[0].querySelectorAll('.el-form-item__error')].map((e) => e.textContent.trim())"
            ".filter(Boolean)", container)

    def message(self, timeout: float = 15.0, saying: str = "") -> str:
        """The text of the newest Element Plus message (ElMessage) shown — with ``saying``, of the newest one that
        says it (an earlier action's message may still be fading out when this one comes). Read in the page
        (``textContent``): a message caught in its fade-in is not yet "displayed" to WebDriver, whose ``.text`` is
        then empty."""
        return wait_until(f"a message{f' saying {saying}' if saying else ''}", lambda: self.driver.execute_script(
            "const all = [...document.querySelectorAll('.el-message .el-message__content')]"
            ".map((e) => e.textContent.trim()).filter((t) => t && t.includes(arguments[0]));"
            "return all.length ? all[all.length - 1] : '';", saying), timeout)

    def accept_confirmation(self, timeout: float = 15.0) -> str:
        """Accept the open confirmation box (ElMessageBox) with its primary button; answers the question it asked."""

        def shown_box():
            try:
                return next((b for b in self.css(".el-message-box") if b.is_displayed()), None)
            except StaleElementReferenceException:  # the box is being drawn: look again
                return None

        def press():
            try:
                box = shown_box()
                if box is None:
                    return None
                text = box.text
                box.find_element(By.CSS_SELECTOR, ".el-message-box__btns .el-button--primary").click()
                return text or " "
            except StaleElementReferenceException:
                return None

        question = wait_until("a confirmation box to accept", press, timeout)
        wait_until("the confirmation to close", lambda: shown_box() is None, timeout)
        return question

    def row(self, ticket_id: str, state: str | None = None, timeout: float = 40.0):
        """The list row of a ticket (in any list on the page), optionally once it is in ``state``."""
        selector = f"[data-id='{ticket_id}']" + (f"[data-state='{state}']" if state else "")
        return self.one(selector, timeout)

    def csp_violations(self) -> list[str]:
        """Content-Security-Policy violations Chromium logged since the last read of its console log."""
        return [e["message"] for e in self.driver.get_log("browser")
                if "Content Security Policy" in e["message"] or "Refused to" in e["message"]]
