"""The citizen's 随手拍 on a 390×844 phone (issue #14), in headless Chromium: log in with a phone and an SMS code
(the code read from the embedded stack's SMS carrier, a file), a wrong code three times and bad photos refused with
Chinese messages, a report with a real JPEG and the phone's (emulated) position, the case driven to closed through
the API by the department, the grid worker and the command centre, seen closed with its reply in 我的案件, and
rated on the follow-up page its message links to (absolutely); the rating lands in dispatch. Anonymous reporting
too. Screenshots of every citizen page go to /tmp/gg/shots/citizen-*.png."""

from __future__ import annotations

import io
import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest
from PIL import Image
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By

from gridgov_cli.demo import DEMO_POINT
from tests.browser.conftest import wait_until
from tests.browser.pages import PHONE, ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/gg/shots")
LINK = re.compile(r"https?://[^\s]+/followups/([A-Za-z0-9_-]+)")


class CitizenPhone(ConsolePage):
    """The console's citizen pages on an emulated phone, standing somewhere."""

    def screen(self) -> None:
        """A 390×844 phone screen (device metrics: a desktop window cannot be made that narrow)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})

    def stand_at(self, lon: float, lat: float, accuracy: float = 10.0) -> None:
        """The phone's GPS answers this WGS84 position (Chromium's emulation, permission granted)."""
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": self.url})
        self.driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                                    {"latitude": lat, "longitude": lon, "accuracy": accuracy})

    def snap(self, shot, name: str) -> None:
        """A screenshot for the test's artefacts and for the issue's note (/tmp/gg/shots/citizen-<name>.png)."""
        path = shot(name)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / f"citizen-{name}.png")

    def text_of(self, name: str, timeout: float = 30.0) -> str:
        """The text of ``data-test="<name>"`` once it has some."""
        return wait_until(f"text in {name}", lambda: (found := self.css(f'[data-test="{name}"]'))
                          and found[0].text.strip(), timeout)

    def page_text(self) -> str:
        """Everything the page shows now, as text."""
        return self.driver.find_element(By.TAG_NAME, "body").text

    def answer_box(self, saying: str, timeout: float = 15.0) -> str:
        """Press the primary button of the message box that says ``saying`` (a confirmation, or the alert that
        follows it at once: the generic accept_confirmation waits for no box at all, which a quick alert defeats)."""

        def press():
            for box in self.css(".el-message-box"):
                try:
                    if box.is_displayed() and saying in box.text:
                        text = box.text
                        box.find_element(By.CSS_SELECTOR, ".el-message-box__btns .el-button--primary").click()
                        return text
                except StaleElementReferenceException:
                    return None
            return None

        return wait_until(f"a message box saying {saying}", press, timeout)

    def tap(self, name: str) -> None:
        """Tap ``data-test="<name>"`` as a thumb would: scrolled to the middle of the screen first (the bottom
        tab bar covers the last 56 px)."""
        element = self.test_id(name)
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def attach(self, path: Path) -> None:
        """Choose a file from the gallery."""
        self.one("input[data-test=photo-input]").send_keys(str(path))


@pytest.fixture
def phone(driver, stack):
    """A citizen's phone, signed out; left as found (metrics, geolocation and storage cleared)."""
    page = CitizenPhone(driver, stack.url("console"))
    driver.get(f"{page.url}/citizen/login")
    driver.execute_script("localStorage.clear(); sessionStorage.clear();")
    page.screen()
    yield page
    for command in ("Emulation.clearDeviceMetricsOverride", "Emulation.clearGeolocationOverride"):
        driver.execute_cdp_cmd(command, {})
    driver.get(f"{page.url}/citizen/login")
    driver.execute_script("localStorage.clear(); sessionStorage.clear();")


def sms_code(stack, phone_number: str, after: int = 0) -> tuple[str, int]:
    """The newest SMS code sent to ``phone_number`` among the carrier's lines after the first ``after``, and how
    many lines the log has now."""
    path = stack.data_dir / "sms.log"

    def probe():
        lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
        codes = [re.search(r"\b(\d{6})\b", m["text"]).group(1) for m in map(json.loads, lines[after:])
                 if m["to"] == phone_number and "验证码" in m["text"]]
        return codes and (codes[-1], len(lines))

    return wait_until(f"an SMS code to {phone_number}", probe, 30)


def sms_lines(stack) -> int:
    path = stack.data_dir / "sms.log"
    return len(path.read_text(encoding="utf-8").splitlines()) if path.exists() else 0


def camera_jpeg(path: Path, size: tuple[int, int] = (3000, 2000)) -> Path:
    """A real JPEG as large as a phone camera's, with some structure in it (the page resizes it before upload)."""
    picture = Image.new("RGB", size, (90, 120, 80))
    for n in range(0, size[0], 150):
        picture.paste((200, 60 + n % 120, 40), (n, size[1] // 3, n + 100, size[1] // 3 + 400))
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90)
    path.write_bytes(out.getvalue())
    return path


def act(api, ticket_id: str, action: str, headers: dict, body: dict | None = None) -> dict:
    resp = api.client.post(f"{api.stack.url('dispatch')}/v1/tickets/{ticket_id}/{action}", json=body or {},
                           headers=headers)
    assert resp.status_code == 200, f"{action}: {resp.text}"
    return resp.json()


def send_code(phone: CitizenPhone, number: str) -> None:
    phone.type_into("citizen-phone", number)
    phone.test_id("citizen-send-code").click()
    phone.test_id("citizen-code-sent")


def test_citizen_reports_with_photo_follows_case_to_closed_and_rates_it(phone, api, stack, shot, tmp_path):
    lon, lat = DEMO_POINT
    phone.stand_at(lon, lat)
    phone.open("/citizen/login", "citizen-login")
    phone.csp_violations()  # from here on, every page runs under the Content-Security-Policy
    phone.snap(shot, "login")

    # A wrong code three times locks the request: the page says so in Chinese, next to the code.
    seen = sms_lines(stack)
    send_code(phone, "13700137000")
    code, seen = sms_code(stack, "13700137000", seen)
    wrong = "000000" if code != "000000" else "111111"
    for attempt in (1, 2):
        phone.type_into("citizen-code", wrong)
        phone.test_id("citizen-confirm").click()
        wait_until(f"wrong code {attempt} refused", lambda a=attempt: f"还可尝试 {3 - a} 次" in phone.page_text())
    phone.snap(shot, "login-wrong-code")
    phone.type_into("citizen-code", wrong)
    phone.test_id("citizen-confirm").click()
    assert "验证码错误已达 3 次，本次验证码已作废，请重新获取" in phone.text_of("citizen-code-error")
    phone.snap(shot, "login-locked")

    # The right code for another phone signs the citizen in.
    send_code(phone, "13800138000")
    code, seen = sms_code(stack, "13800138000", seen)
    phone.snap(shot, "login-code")
    phone.type_into("citizen-code", code)
    phone.test_id("citizen-confirm").click()
    phone.wait_view("citizen-report")
    assert phone.text_of("citizen-who") == "138****8000"
    citizen_sub = phone.driver.execute_script(
        "return JSON.parse(localStorage.getItem('gridgov.console.field-session')).sub")
    assert citizen_sub.startswith("c-") and "13800138000" not in citizen_sub

    # Bad photos: a file that is not an image, one too large: a clear Chinese message, nothing added.
    fake = tmp_path / "not-a-photo.jpg"
    fake.write_text("这不是图片")
    phone.attach(fake)
    assert "无法读取这张照片" in phone.text_of("photo-error")
    phone.snap(shot, "report-bad-photo")
    huge = tmp_path / "huge.jpg"
    huge.write_bytes(b"\xff\xd8\xff" + b"\0" * (21 * 1024 * 1024))
    phone.attach(huge)
    assert "照片过大" in phone.text_of("photo-error")
    assert not phone.css("[data-test=photo-thumb]")

    # The report: a real camera JPEG (3000×2000, resized on the phone), the phone's position, a tile, a description.
    phone.attach(camera_jpeg(tmp_path / "scene.jpg"))
    wait_until("the photo preview", lambda: phone.css("[data-test=photo-thumb] img"))
    assert "已定位" in phone.text_of("location-text")
    phone.test_id("category-01002").click()
    phone.driver.execute_script("window.scrollTo(0, 0)")
    phone.snap(shot, "report")
    phone.type_into("description", "小区门口垃圾堆了三天没人清理")
    phone.snap(shot, "report-filled")
    phone.test_id("submit-report").click()
    assert "暴露垃圾" in phone.answer_box("不能撤回")  # the report cannot be taken back: asked first
    phone.answer_box("上报成功")  # → 查看我的案件
    phone.wait_view("citizen-cases")

    resp = api.client.get(f"{stack.url('event-intake')}/v1/reports", params={"mine": "true"},
                          headers=stack.auth(sub=citizen_sub, role="citizen"))
    [report] = resp.json()["items"]
    assert report["channel"] == "citizen" and report["category_code"] == "01002" and len(report["media_ids"]) == 1
    # GCJ-02 from the page, converted back by intake: the WGS84 point the phone stood at, within a metre.
    assert abs(report["lon"] - lon) < 1e-5 and abs(report["lat"] - lat) < 1e-5
    with sqlite3.connect(stack.data_dir / "event-intake.db", timeout=30) as conn:
        stored_phone, source_crs, size = conn.execute(
            "SELECT r.reporter_phone, r.source_crs, m.size FROM report r JOIN media m ON m.report_id = r.id "
            "WHERE r.id = ?", (report["id"],)).fetchone()
    assert stored_phone == "13800138000" and source_crs == "gcj02"
    assert size < 1_500_000  # resized on the phone before upload

    # The department, the grid worker and the command centre take it to closed (through the API).
    ticket = api.ticket_of(report["id"])
    department, grid = ticket["department"], ticket["grid_code"]
    dept = stack.auth(sub="d-citizen", role="dept_dispatcher", department=department)
    act(api, ticket["id"], "claim", dept)
    act(api, ticket["id"], "handle", dept, {"note": "已安排环卫清运"})
    act(api, ticket["id"], "verify", stack.auth(sub="gw-citizen", role="grid_worker", grid=grid), {"passed": True})
    act(api, ticket["id"], "close", api.centre, {"note": "垃圾已清运完毕，感谢您的反映"})

    # 我的案件: closed, with its steps and the reply.
    def closed_case():
        phone.open("/citizen/cases", "citizen-cases")
        return phone.css(f"[data-test=case][data-id='{report['id']}'][data-state=closed]")

    wait_until("the case closed in 我的案件", closed_case, 60)
    assert phone.text_of("case-status") == "已办结"
    assert phone.text_of("case-reply").startswith("办理答复垃圾已清运完毕")
    assert phone.text_of("case-progress").splitlines() == [
        "已提交", "已受理", "已派遣", "处理中", "已处置", "已核查", "已办结"]
    rate_button = wait_until("the 评价 button (the follow-up reached the inbox)",
                             lambda: closed_case() and phone.css("[data-test=case-rate]"), 60)
    phone.snap(shot, "cases")

    # The follow-up message carries an absolute link to the rating page; opening it shows the form.
    citizen_headers = stack.auth(sub=citizen_sub, role="citizen")

    def followup_link():
        items = api.client.get(f"{stack.url('notification')}/v1/inbox", headers=citizen_headers).json()["items"]
        asks = [LINK.search(i["body"]) for i in items if i["event_type"] == "followup.requested"]
        return asks and asks[0]

    found = wait_until("the follow-up message", followup_link, 60)
    assert found.group(0).startswith(phone.url + "/followups/"), found.group(0)
    assert rate_button[0].is_displayed()
    phone.driver.get(found.group(0))
    phone.wait_view("followup")
    phone.test_id("followup-submit").click()
    assert "请选择满意程度" in phone.text_of("followup-satisfaction-error")
    phone.test_id("followup-solved").click()
    phone.test_id("followup-star-5").click()
    phone.type_into("followup-comment", "处理很及时")
    phone.snap(shot, "followup")
    phone.test_id("followup-submit").click()
    assert "提交后不能修改" in phone.accept_confirmation()
    assert "感谢您的评价" in phone.text_of("followup-done")
    phone.snap(shot, "followup-done")

    # The rating lands in dispatch's ratings of the ticket.
    def rating():
        resp = api.client.get(f"{stack.url('dispatch')}/v1/tickets/{ticket['id']}/ratings", headers=api.centre)
        return resp.status_code == 200 and resp.json()["items"]

    [landed] = wait_until("the rating in dispatch", rating, 60)
    assert (landed["reporter_id"], landed["solved"], landed["satisfaction"]) == (citizen_sub, True, 5)

    # 积分: the verified report earned points.
    phone.open("/citizen/rewards", "citizen-rewards")
    assert int(phone.text_of("rewards-balance")) > 0
    assert "上报问题经核查属实" in phone.text_of("rewards-entry")
    phone.snap(shot, "rewards")
    assert phone.csp_violations() == []  # photo previews and thumbnails are data: URLs, the icons inline SVG


def test_anonymous_citizen_reports_and_sees_only_own_cases(phone, api, stack, shot, tmp_path):
    lon, lat = DEMO_POINT
    phone.stand_at(lon, lat)
    phone.open("/citizen/login", "citizen-login")
    phone.test_id("citizen-anonymous").click()
    phone.accept_confirmation()
    phone.wait_view("citizen-report")
    assert phone.text_of("citizen-who") == "匿名市民"
    phone.attach(camera_jpeg(tmp_path / "anon.jpg", (1200, 900)))
    wait_until("the photo preview", lambda: phone.css("[data-test=photo-thumb] img"))
    phone.type_into("category-search", "井盖")
    phone.tap("category-result-11001")
    assert "上水井盖" in phone.text_of("category-chosen")
    phone.type_into("description", "井盖缺失，有行人踩空危险")
    phone.test_id("submit-report").click()
    assert "上水井盖" in phone.answer_box("不能撤回")
    phone.answer_box("上报成功")
    phone.wait_view("citizen-cases")
    cases = wait_until("the anonymous case", lambda: phone.css("[data-test=case]"))
    assert len(cases) == 1 and "井盖缺失" in cases[0].text  # only this device's own report
    phone.snap(shot, "cases-anonymous")
    sub = phone.driver.execute_script("return JSON.parse(localStorage.getItem('gridgov.console.field-session')).sub")
    device = phone.driver.execute_script("return localStorage.getItem('gridgov.citizen.device')")
    assert sub.startswith("anon-") and device not in sub


def test_citizen_without_a_fix_picks_the_place_on_the_map(phone, api, stack, shot, tmp_path):
    # Indoors, or location refused: the phone has no position. The page says so and offers the map instead.
    phone.open("/citizen/login", "citizen-login")
    phone.driver.execute_cdp_cmd("Emulation.setGeolocationOverride", {})  # no coordinates: position unavailable
    phone.test_id("citizen-anonymous").click()
    phone.accept_confirmation()
    phone.wait_view("citizen-report")
    assert "也可在下方地图上点选问题位置" in phone.text_of("location-error")
    assert phone.text_of("location-text") == "尚未定位"
    phone.attach(camera_jpeg(tmp_path / "nofix.jpg", (1200, 900)))
    wait_until("the photo preview", lambda: phone.css("[data-test=photo-thumb] img"))
    phone.test_id("category-01002").click()
    phone.type_into("description", "楼下垃圾桶满了没人清")
    # A tap on the city (the map shows it whole) picks a point and zooms in on it; a second tap there fixes it.
    world = '[data-test=location-map] [data-test=grid-map]'
    wait_until("the city's towns on the map", lambda: len(phone.css(f"{world} path.leaflet-interactive")) > 3)
    for _ in range(2):
        phone.tap("location-map")
        wait_until("the map settled", lambda: phone.one(world).get_attribute("data-moving") == "false"
                   and float(phone.one(world).get_attribute("data-zoom")) >= 14)
    assert phone.text_of("location-text") == "已在地图上选点"
    named = phone.text_of("location-place")  # 镇街 · 村（社区）: where the report will go, in words
    assert " · " in named and not re.search(r"\d", named), named
    phone.snap(shot, "report-picked-on-map")
    # A refresh (or the phone dropping the tab while the camera was open) keeps the photo, the tapped point, the
    # category and the description; the point is not replaced by a new try for a fix.
    phone.driver.refresh()
    phone.wait_view("citizen-report")
    wait_until("the draft back", lambda: phone.css("[data-test=report-restored]")
               and phone.css("[data-test=photo-thumb] img"))
    assert len(phone.css("[data-test=photo-thumb]")) == 1
    assert phone.text_of("location-text") == "已在地图上选点"
    wait_until("the point named again", lambda: phone.css("[data-test=location-place]")
               and phone.text_of("location-place") == named)
    assert "chosen" in phone.test_id("category-01002").get_attribute("class")
    assert phone.test_id("description").get_attribute("value") == "楼下垃圾桶满了没人清"
    phone.snap(shot, "report-restored-after-refresh")
    phone.tap("submit-report")
    phone.answer_box("不能撤回")
    phone.answer_box("上报成功")
    phone.wait_view("citizen-cases")
    sub = phone.driver.execute_script("return JSON.parse(localStorage.getItem('gridgov.console.field-session')).sub")
    [report] = api.client.get(f"{stack.url('event-intake')}/v1/reports", params={"mine": "true"},
                              headers=stack.auth(sub=sub, role="citizen")).json()["items"]
    # The tapped point is where the ticket went: the village the page named.
    ticket = api.ticket_of(report["id"])
    village = api.client.get(f"{stack.url('grid-registry')}/v1/grids/{ticket['village_code']}",
                             headers=api.centre).json()["properties"]["name"]
    assert named.endswith(village), (named, village)
    # Sent, the draft is gone: the next report starts empty.
    phone.open("/citizen", "citizen-report")
    wait_until("the form up", lambda: phone.one("[data-view=citizen-report]").get_attribute("data-loaded") == "true")
    assert not phone.css("[data-test=report-restored]") and not phone.css("[data-test=photo-thumb]")
    assert phone.text_of("location-text") != "已在地图上选点"
