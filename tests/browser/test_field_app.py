"""The grid worker's phone app (/field) on a 390×844 phone, in Chromium with its geolocation and network emulated.

A real camera file (a JPEG with EXIF GPS and time, larger than the app's 1600 px) goes through the app's own resize;
the server's judgement of it (the EXIF kept on the original, the verdict on a check) is what proves the EXIF
survived. Offline is Chromium's network emulation: the report waits on the phone and is sent once when the
signal returns. Screenshots of every page go to var/screenshots/ and to /tmp/gg/shots/field-*.png.
"""

from __future__ import annotations

import io
import random
import shutil
import sqlite3
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from PIL import ExifTags, Image
from selenium.webdriver.common.by import By
from shapely.geometry import shape
from shapely.ops import polylabel

from gridgov_cli.demo import DEMO_POINT
from tests.browser.conftest import wait_until
from tests.browser.pages import PHONE, ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SHOTS = Path("/tmp/gg/shots")
CITY_TZ = timezone(timedelta(hours=8))  # EXIF times are the phone's local time (Beijing)
WORKER = "gw-field-app"


# ---- the phone ------------------------------------------------------------------------------------------------------

class Phone(ConsolePage):
    """The console on an emulated phone: its screen, its position, its signal."""

    def screen(self) -> None:
        """A 390×844 phone screen (device metrics: a desktop window cannot be made that narrow)."""
        self.driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride", {
            "width": PHONE[0], "height": PHONE[1], "deviceScaleFactor": 1, "mobile": True})

    def stand_at(self, lon: float, lat: float, accuracy: float = 8.0) -> None:
        """The phone's GPS answers this position (Chromium's geolocation emulation, permission granted)."""
        self.driver.execute_cdp_cmd("Browser.grantPermissions", {"permissions": ["geolocation"], "origin": self.url})
        self.driver.execute_cdp_cmd("Emulation.setGeolocationOverride",
                                    {"latitude": lat, "longitude": lon, "accuracy": accuracy})

    def signal(self, on: bool) -> None:
        """Network on or off (Chromium's network emulation; the page sees navigator.onLine and the events)."""
        self.driver.execute_cdp_cmd("Network.enable", {})
        self.driver.execute_cdp_cmd("Network.emulateNetworkConditions", {
            "offline": not on, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1})

    def tap(self, element) -> None:
        """Tap an element as a thumb would: scrolled to the middle of the screen first (not under the tab bar)."""
        self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
        element.click()

    def tab(self, name: str) -> None:
        """Open one of the app's tabs (上报 report, 任务 tasks, 我的 mine, 消息 inbox) with the thumb bar."""
        self.test_id(f"tab-{name}").click()
        self.one(f'[data-view="field"][data-tab="{name}"]')

    def pick_category(self, code: str, search: str) -> None:
        """Choose a category by typing part of its name in the picker."""
        self.tap(self.test_id("report-category"))
        self.one("[data-test=report-category] input").send_keys(search)
        options = f".el-select-dropdown__item[data-code='{code}']"
        option = wait_until(f"the option {code}", lambda: [o for o in self.css(options) if o.is_displayed()])[0]
        assert option.size["height"] >= 44, f"category rows are thumb targets: {option.size['height']} px"
        option.click()

    def attach(self, control: str, path: Path, count: int) -> None:
        """Pick a photo file into the picker ``control`` (report, fix, verify) and wait for it to be prepared."""
        self.one(f"input[data-test={control}-file]").send_keys(str(path))
        wait_until(f"{count} photo(s) in {control}",
                   lambda: len(self.css(f"[data-test={control}-photo]")) >= count, 30)

    def snap(self, shot, name: str) -> None:
        """A screenshot for the test's artefacts and for the issue's note (/tmp/gg/shots/field-<name>.png)."""
        path = shot(name)
        SHOTS.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, SHOTS / f"field-{name}.png")


@pytest.fixture
def phone(driver, stack):
    """The worker's phone, left as found: metrics, geolocation and network back to normal, the app's storage gone."""
    page = Phone(driver, stack.url("console"))
    driver.get(f"{page.url}/login")
    page.screen()
    yield page
    page.signal(True)
    for command in ("Emulation.clearDeviceMetricsOverride", "Emulation.clearGeolocationOverride"):
        driver.execute_cdp_cmd(command, {})
    driver.get(f"{page.url}/login")
    # the worker's session lives in localStorage (the app opens without signal); the next test starts signed out
    driver.execute_script("localStorage.clear(); sessionStorage.clear(); indexedDB.deleteDatabase('gridgov-field');")
    driver.execute_cdp_cmd("Storage.clearDataForOrigin",
                           {"origin": page.url, "storageTypes": "service_workers,cache_storage"})


# ---- what the test brings: a camera file, a place in the grid -------------------------------------------------------

def _dms(value: float) -> tuple[float, float, float]:
    degrees = int(value)
    minutes = int((value - degrees) * 60)
    return float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4)


def camera_jpeg(path: Path, lon: float, lat: float, seed: int, size: tuple[int, int] = (2400, 1800)) -> Path:
    """A photo as a phone camera writes it: larger than the app's 1600 px, with EXIF GPS and the time taken. Its
    picture is low-frequency noise from ``seed``, so each photo has its own perceptual hash (no "reused" flag)."""
    rng = random.Random(seed)
    small = Image.new("RGB", (16, 12))
    small.putdata([(rng.randrange(256), rng.randrange(256), rng.randrange(256)) for _ in range(16 * 12)])
    picture = small.resize(size, Image.Resampling.BICUBIC)
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "gridgov-phone"
    exif[ExifTags.Base.Orientation] = 1
    exif[ExifTags.IFD.GPSInfo] = {
        ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: _dms(lat),
        ExifTags.GPS.GPSLongitudeRef: "E", ExifTags.GPS.GPSLongitude: _dms(lon)}
    exif[ExifTags.IFD.Exif] = {ExifTags.Base.DateTimeOriginal: datetime.now(CITY_TZ).strftime("%Y:%m:%d %H:%M:%S")}
    out = io.BytesIO()
    picture.save(out, "JPEG", quality=90, exif=exif.tobytes())
    path.write_bytes(out.getvalue())
    # the file is what a camera gives: its EXIF GPS reads back
    assert Image.open(path).getexif().get_ifd(ExifTags.IFD.GPSInfo)[ExifTags.GPS.GPSLatitudeRef] == "N"
    return path


def well_inside(api, lon: float, lat: float) -> tuple[str, float, float]:
    """The grid at a point and the point of it farthest from its edges (a fix there is inside by far)."""
    grid = api.grid_at(lon, lat)["grid_code"]
    feature = api.client.get(f"{api.stack.url('grid-registry')}/v1/grids/{grid}", headers=api.centre).json()
    centre = polylabel(shape(feature["geometry"]), tolerance=1e-6)
    return grid, centre.x, centre.y


def my_reports(api, description: str) -> list[dict]:
    """The worker's own reports with this description (intake's GET /v1/reports?mine=true)."""
    resp = api.client.get(f"{api.stack.url('event-intake')}/v1/reports", params={"mine": "true", "limit": 100},
                          headers=api.stack.auth(sub=WORKER, role="grid_worker"))
    assert resp.status_code == 200, resp.text
    return [r for r in resp.json()["items"] if r["description"] == description]


def media_exif(stack, media_id: str) -> tuple[float | None, float | None]:
    """The EXIF position intake read from a photo's original (a test-only look at its table)."""
    with sqlite3.connect(stack.data_dir / "event-intake.db", timeout=30) as conn:
        row = conn.execute("SELECT exif_lat, exif_lon FROM media WHERE id = ?", (media_id,)).fetchone()
    assert row is not None, f"media {media_id} not stored"
    return row


def handled_ticket(api, point: tuple[float, float], description: str) -> dict:
    """A ticket at ``point`` that a department has handled (waiting for the grid worker's check)."""
    ticket = api.ticket_of(api.report(description, point))
    api.claim(ticket)
    resp = api.client.post(f"{api.stack.url('dispatch')}/v1/tickets/{ticket['id']}/handle",
                           json={"note": "已清运垃圾并冲洗路面"},
                           headers=api.stack.auth(sub="colleague", role="dept_dispatcher",
                                                  department=ticket["department"]))
    assert resp.status_code == 200, resp.text
    return ticket


# ---- the tests ------------------------------------------------------------------------------------------------------

def test_report_with_camera_photo_and_gps_is_accepted_with_exif_kept(phone, api, stack, shot, tmp_path):
    grid, lon, lat = well_inside(api, *DEMO_POINT)
    phone.stand_at(lon, lat, accuracy=8)
    phone.sign_in("grid_worker", WORKER, grid=grid, size=(600, 1000), expect_view="field")
    phone.screen()
    # the top of the app names the worker's grid (town · village · grid), never its 15-digit code
    where = api.grid_at(lon, lat)
    wait_until("the grid's name", lambda: where["grid_name"] in phone.test_id("field-grid").text)
    wait_until("the grid's name in the top bar", lambda: where["grid_name"] in phone.test_id("who").text)
    assert grid not in phone.test_id("who").text
    phone.snap(shot, "report")

    description = f"手机上报：路边暴露垃圾 {uuid.uuid4().hex[:6]}"
    phone.pick_category("01002", "垃圾")
    phone.type_into("report-description", description)
    phone.attach("report", camera_jpeg(tmp_path / "scene.jpg", lon, lat, seed=1), 1)
    cell = phone.test_id("report-photo")
    assert cell.get_attribute("data-gps") == "true"  # the app read the EXIF GPS of the camera file
    assert cell.get_attribute("data-resized") == "true"  # 2400 px: resized on the phone
    phone.tap(phone.test_id("report-locate"))
    accuracy = phone.test_id("report-accuracy")
    assert "±8 米" in accuracy.text
    assert phone.css("[data-test=report-outside-grid]") == []  # the fix is in the worker's grid
    phone.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", phone.test_id("report-map"))
    phone.snap(shot, "report-located")
    # every control a thumb uses is at least 44 px tall
    small = phone.driver.execute_script("""
      const sel = '.field-view button, .field-view .el-input__wrapper, .field-view .el-select__wrapper,'
        + ' .field-view .leaflet-bar a, .field-view a.task-link';
      return [...document.querySelectorAll(sel)].filter((e) => e.offsetParent !== null)
        .map((e) => [e.dataset.test || e.className, Math.round(e.getBoundingClientRect().height)])
        .filter(([, h]) => h < 44);""")
    assert small == [], small
    phone.tap(phone.test_id("report-submit"))
    result = phone.test_id("report-result")
    report_id = result.get_attribute("data-report-id")
    assert "已上报" in result.text

    report = api.client.get(f"{stack.url('event-intake')}/v1/reports/{report_id}", headers=api.centre).json()
    assert (round(report["lon"], 5), round(report["lat"], 5)) == (round(lon, 5), round(lat, 5))
    assert len(report["media_ids"]) == 1
    # the photo arrived resized but with its EXIF: intake read the camera's GPS from it
    exif_lat, exif_lon = media_exif(stack, report["media_ids"][0])
    assert exif_lat == pytest.approx(lat, abs=1e-4) and exif_lon == pytest.approx(lon, abs=1e-4)
    assert len(my_reports(api, description)) == 1
    # the category just used is offered first next time
    phone.one("[data-test=report-frequent-item][data-code='01002']")

    # 我的: the report with its state, by name
    phone.tab("mine")
    row = phone.one(f"[data-test=my-report][data-id='{report_id}']")
    assert "暴露垃圾" in row.text and "01002" not in row.text
    phone.snap(shot, "mine")
    phone.tab("inbox")
    phone.one("[data-test=field-inbox]")
    phone.snap(shot, "inbox")
    assert phone.csp_violations() == []


def test_report_handled_on_spot_carries_fix_note_and_fix_photo(phone, api, stack, shot, tmp_path):
    grid, lon, lat = well_inside(api, *DEMO_POINT)
    phone.stand_at(lon, lat, accuracy=6)
    phone.sign_in("grid_worker", WORKER, grid=grid, size=(600, 1000), expect_view="field")
    phone.screen()
    description = f"手机上报：自行处置 {uuid.uuid4().hex[:6]}"
    phone.pick_category("01002", "垃圾")
    phone.type_into("report-description", description)
    phone.attach("report", camera_jpeg(tmp_path / "before.jpg", lon, lat, seed=6), 1)
    phone.tap(phone.test_id("report-locate"))
    phone.test_id("report-accuracy")
    phone.tap(phone.one("[data-test=report-onspot]"))
    phone.type_into("report-handled-note", "已当场清理")
    phone.tap(phone.test_id("report-submit"))
    # without the photo of the fix the form says so next to it, and sends nothing
    assert "处置后照片" in phone.one(".el-form-item.is-error").text
    phone.attach("fix", camera_jpeg(tmp_path / "after.jpg", lon, lat, seed=7), 1)
    phone.snap(shot, "report-on-spot")
    # A refresh (or the phone dropping the tab while the camera was open) keeps both photos, the fix and 自行处置.
    phone.driver.refresh()
    phone.wait_view("field")
    wait_until("the draft back", lambda: phone.css("[data-test=report-restored]")
               and len(phone.css("[data-test=report-photo]")) == 1 and len(phone.css("[data-test=fix-photo]")) == 1)
    assert phone.test_id("report-photo").get_attribute("data-gps") == "true"  # what was read of the photo, kept
    assert "±6 米" in phone.test_id("report-accuracy").text
    assert phone.test_id("report-handled-note").get_attribute("value") == "已当场清理"
    phone.size(390, 844)
    phone.snap(shot, "report-restored")
    phone.tap(phone.test_id("report-submit"))
    report_id = phone.test_id("report-result").get_attribute("data-report-id")
    report = api.client.get(f"{stack.url('event-intake')}/v1/reports/{report_id}", headers=api.centre).json()
    assert report["handled_on_spot"] is True and report["handled_note"] == "已当场清理"
    assert len(report["media_ids"]) == 2  # the scene, then the fix
    assert not phone.css("[data-test=report-restored]") and not phone.css("[data-test=report-photo]")
    # Among the tasks to verify, the fix is told in Chinese (the trail's system note is English text for the desk's
    # translation: "handled on the spot by <worker>: <note>").
    ticket = api.ticket_of(report_id, "handled")
    phone.tab("tasks")
    task = phone.row(ticket["id"], "handled")
    note = wait_until("the fix's note", lambda: (text := task.find_element(
        By.CSS_SELECTOR, "[data-test=task-handle-note]").text) and "已当场清理" in text and text)
    assert "现场自行处置" in note and "handled" not in note, note
    phone.snap(shot, "tasks-on-spot")


def test_warn_when_point_outside_worker_grid_and_refuse_outside_city(phone, api, shot):
    grid, lon, lat = well_inside(api, *DEMO_POINT)
    phone.stand_at(lon + 0.05, lat, accuracy=10)  # ~5 km east: in the city, not in this grid
    phone.sign_in("grid_worker", WORKER, grid=grid, size=(600, 1000), expect_view="field")
    phone.screen()
    phone.tap(phone.test_id("report-locate"))
    assert "不在您负责的网格内" in phone.test_id("report-outside-grid").text
    phone.snap(shot, "report-outside-grid")

    # Beijing: the service refuses it, naming the location; the reason shows next to the location control
    description = f"手机上报：市外坐标 {uuid.uuid4().hex[:6]}"
    phone.pick_category("01002", "垃圾")
    phone.type_into("report-description", description)
    phone.type_into("report-lon", "116.397")
    phone.type_into("report-lat", "39.909")
    phone.tap(phone.test_id("report-submit"))
    error = phone.test_id("report-location-error")
    assert "本市" in error.text
    phone.snap(shot, "report-outside-city")
    assert my_reports(api, description) == []
    assert phone.css("[data-test=outbox]") == []  # refused at once: nothing left waiting on the phone


def test_report_made_offline_is_sent_once_when_signal_returns(phone, api, shot, tmp_path):
    grid, lon, lat = well_inside(api, *DEMO_POINT)
    phone.stand_at(lon, lat, accuracy=12)
    phone.sign_in("grid_worker", WORKER, grid=grid, size=(600, 1000), expect_view="field")
    phone.screen()
    # the app shell is kept by the service worker: it is there to open without signal
    wait_until("the service worker to control the app and keep its shell", lambda: phone.driver.execute_async_script(
        "const done = arguments[arguments.length - 1]; setTimeout(() => done(false), 2000);"
        "caches.keys().then((keys) => Promise.all(keys.filter((k) => k.startsWith('gridgov-shell-'))"
        ".map((k) => caches.open(k).then((c) => c.match('/static/app/app.js')))))"
        ".then((found) => done(found.some(Boolean) && Boolean(navigator.serviceWorker.controller)))"
        ".catch(() => done(false));"), 60)

    phone.signal(False)
    phone.driver.get(f"{phone.url}/field")  # opened without signal: the kept shell answers
    phone.wait_view("field")
    phone.test_id("field-offline")
    description = f"手机上报：无信号时上报 {uuid.uuid4().hex[:6]}"
    phone.pick_category("01002", "垃圾")  # the catalog as kept from the last visit
    phone.type_into("report-description", description)
    phone.attach("report", camera_jpeg(tmp_path / "offline.jpg", lon, lat, seed=2), 1)
    phone.tap(phone.test_id("report-locate"))
    phone.test_id("report-accuracy")
    phone.tap(phone.test_id("report-submit"))
    queued = phone.test_id("report-queued")
    assert "恢复信号后自动发送" in queued.text
    item = phone.test_id("outbox-item")
    assert item.get_attribute("data-state") == "pending"
    phone.driver.execute_script("window.scrollTo(0, 0)")
    phone.snap(shot, "offline-queued")
    assert my_reports(api, description) == []  # nothing reached intake

    phone.signal(True)  # the "online" event sends what waits
    wait_until("the outbox to empty", lambda: not phone.css("[data-test=outbox-item]"), 60)
    wait_until("the report at intake", lambda: my_reports(api, description), 30)
    # a second chance to send (another "online", a tap on 立即发送) sends nothing more: exactly one report
    phone.signal(False)
    phone.signal(True)
    time.sleep(3)
    assert len(my_reports(api, description)) == 1


def test_verify_outside_grid_is_refused_then_inside_is_accepted(phone, api, stack, shot, tmp_path):
    grid, lon, lat = well_inside(api, *DEMO_POINT)
    ticket = handled_ticket(api, (lon, lat), f"浏览器测试：待核查 {uuid.uuid4().hex[:6]}")
    phone.stand_at(lon + 0.05, lat, accuracy=10)  # ~5 km away from the grid
    phone.sign_in("grid_worker", WORKER, grid=grid, size=(600, 1000), expect_view="field")
    phone.screen()
    phone.tab("tasks")
    task = phone.row(ticket["id"], "handled")
    # the department's note, by name, with a pin on the map
    wait_until("the department's note", lambda: "已清运垃圾" in task.find_element(
        By.CSS_SELECTOR, "[data-test=task-handle-note]").text)
    phone.tap(task.find_element(By.CSS_SELECTOR, "[data-test=task-map-toggle]"))
    phone.one(f"[data-test=task-map] [data-pin='{ticket['id']}']")
    phone.snap(shot, "tasks")

    # outside the grid: refused with the reason, nothing changed
    def in_task(selector: str):
        return phone.row(ticket["id"], "handled").find_element(By.CSS_SELECTOR, selector)

    in_task("input[data-test=verify-file]").send_keys(str(camera_jpeg(tmp_path / "far.jpg", lon + 0.05, lat, 3)))
    wait_until("the check photo", lambda: phone.css(f"[data-id='{ticket['id']}'] [data-test=verify-photo]"))
    phone.tap(in_task("[data-test=verify-pass]"))
    assert "核查通过" in phone.accept_confirmation()
    error = phone.one(f"[data-id='{ticket['id']}'] [data-test=verify-error]", 40)
    assert "网格外" in error.text
    phone.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", error)
    phone.snap(shot, "verify-refused")
    after = api.ticket(ticket["id"])
    assert after["state"] == "handled"
    assert [t["action"] for t in after["transitions"]].count("verify") == 0
    assert phone.css("[data-test=outbox-item]") == []

    # on site, inside the grid: accepted, with the server's verdict
    phone.stand_at(lon, lat, accuracy=8)
    phone.tap(in_task("[data-test=verify-photo] .photo-remove"))
    in_task("input[data-test=verify-file]").send_keys(str(camera_jpeg(tmp_path / "near.jpg", lon, lat, 4)))
    wait_until("the check photo", lambda: phone.css(f"[data-id='{ticket['id']}'] [data-test=verify-photo]"))
    phone.tap(in_task("[data-test=verify-locate]"))
    wait_until("the fix's accuracy", lambda: phone.css(f"[data-id='{ticket['id']}'] [data-test=verify-accuracy]"))
    phone.tap(in_task("[data-test=verify-pass]"))
    phone.accept_confirmation()
    verdict = phone.one(f"[data-test=verify-verdict][data-ticket='{ticket['id']}']", 40)
    assert verdict.get_attribute("data-verdict") == "inside", verdict.text
    assert "在网格内" in verdict.text
    phone.gone(f"[data-test=verify-list] [data-id='{ticket['id']}']")
    phone.driver.execute_script("window.scrollTo(0, 0)")
    phone.snap(shot, "verify-accepted")
    after = api.ticket(ticket["id"])
    assert after["state"] == "verified"
    assert after["geofence"]["verdict"] == "inside"


def test_verification_made_offline_is_sent_once_and_a_lost_answer_counts_as_done(phone, api, stack, shot, tmp_path):
    grid, lon, lat = well_inside(api, *DEMO_POINT)
    ticket = handled_ticket(api, (lon, lat), f"浏览器测试：离线核查 {uuid.uuid4().hex[:6]}")
    phone.stand_at(lon, lat, accuracy=8)
    phone.sign_in("grid_worker", WORKER, grid=grid, size=(600, 1000), expect_view="field")
    phone.screen()
    phone.tab("tasks")
    phone.row(ticket["id"], "handled")

    def in_task(selector: str):
        return phone.row(ticket["id"]).find_element(By.CSS_SELECTOR, selector)

    phone.signal(False)
    in_task("input[data-test=verify-file]").send_keys(str(camera_jpeg(tmp_path / "check.jpg", lon, lat, 5)))
    wait_until("the check photo", lambda: phone.css(f"[data-id='{ticket['id']}'] [data-test=verify-photo]"))
    phone.tap(in_task("[data-test=verify-pass]"))
    phone.accept_confirmation()
    phone.one(f"[data-id='{ticket['id']}'] [data-test=verify-queued]")
    item = phone.test_id("outbox-item")
    assert item.get_attribute("data-kind") == "verify" and item.get_attribute("data-state") == "pending"
    phone.driver.execute_script("window.scrollTo(0, 0)")
    phone.snap(shot, "offline-verify-queued")
    assert api.ticket(ticket["id"])["state"] == "handled"  # nothing reached dispatch

    # The first send landed but its answer was lost (here: the same worker's check made directly): the replay
    # finds the ticket verified by this worker and counts the item as done, not as a failure, and checks once.
    resp = api.client.post(f"{stack.url('dispatch')}/v1/tickets/{ticket['id']}/verify", json={"passed": True},
                           headers=stack.auth(sub=WORKER, role="grid_worker", grid=grid))
    assert resp.status_code == 200, resp.text
    phone.signal(True)
    wait_until("the outbox to empty", lambda: not phone.css("[data-test=outbox-item]"), 60)
    verdict = phone.one(f"[data-test=verify-verdict][data-ticket='{ticket['id']}']", 30)
    assert "补发确认" in verdict.text
    after = api.ticket(ticket["id"])
    assert after["state"] == "verified"
    assert [t["action"] for t in after["transitions"]].count("verify") == 1


# Ages the fix of every check waiting in the phone's outbox (IndexedDB gridgov-field/outbox) by `arguments[0]`
# minutes, as if the phone had kept it that long without signal.
_AGE_QUEUED_FIX = """
  const [minutes, done] = arguments;
  const open = indexedDB.open('gridgov-field', 1);
  open.onsuccess = () => {
    const t = open.result.transaction('outbox', 'readwrite');
    const store = t.objectStore('outbox');
    const all = store.getAll();
    all.onsuccess = () => {
      for (const item of all.result) {
        if (item.kind !== 'verify' || !item.body.fix) continue;
        item.body.fix.fixed_at = new Date(Date.now() - minutes * 60000).toISOString();
        store.put(item);
      }
    };
    t.oncomplete = () => done(all.result.length);
  };
  open.onerror = () => done(-1);
"""


def test_verification_kept_past_fix_age_is_refused_then_sent_once_with_new_fix(phone, api, stack, shot, tmp_path):
    grid, lon, lat = well_inside(api, *DEMO_POINT)
    ticket = handled_ticket(api, (lon, lat), f"浏览器测试：过期定位 {uuid.uuid4().hex[:6]}")
    phone.stand_at(lon, lat, accuracy=8)
    phone.sign_in("grid_worker", WORKER, grid=grid, size=(600, 1000), expect_view="field")
    phone.screen()
    phone.tab("tasks")
    phone.row(ticket["id"], "handled")

    def in_task(selector: str):
        return phone.row(ticket["id"]).find_element(By.CSS_SELECTOR, selector)

    phone.signal(False)
    # seed 8: a picture no other test of this grid uploads (the same one would be flagged "reused")
    in_task("input[data-test=verify-file]").send_keys(str(camera_jpeg(tmp_path / "check.jpg", lon, lat, 8)))
    wait_until("the check photo", lambda: phone.css(f"[data-id='{ticket['id']}'] [data-test=verify-photo]"))
    phone.tap(in_task("[data-test=verify-pass]"))
    phone.accept_confirmation()
    phone.one(f"[data-id='{ticket['id']}'] [data-test=verify-queued]")
    assert phone.driver.execute_async_script(_AGE_QUEUED_FIX, 20) == 1  # kept 20 minutes without signal

    # Signal again: dispatch refuses the stale fix, the check stays on the phone with the reason, nothing changed.
    phone.signal(True)
    item = phone.one("[data-test=outbox-item][data-state=refused]", 60)
    assert "定位时间" in phone.test_id("outbox-error").text
    assert phone.css("[data-test=outbox-retry]") == []  # the same stale fix again would be refused again
    assert api.ticket(ticket["id"])["state"] == "handled"

    # Back on site: a new fix is taken and the check is sent with it, once.
    phone.tap(item.find_element(By.CSS_SELECTOR, "[data-test=outbox-relocate]"))
    wait_until("the outbox to empty", lambda: not phone.css("[data-test=outbox-item]"), 60)
    after = api.ticket(ticket["id"])
    assert after["state"] == "verified"
    assert [t["action"] for t in after["transitions"]].count("verify") == 1
    assert after["geofence"]["verdict"] == "inside"
