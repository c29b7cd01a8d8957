"""The ticket detail page (issue #13 item 2) in headless Chromium, at a wall screen and a laptop: names instead of
codes, the report's photo full size, the audit trail growing after a claim made on the page, the service's Chinese
errors next to the control that caused them, a dispatcher handling with a note and a photo (kept over a refresh),
the command centre pressing (督办), suspending (挂起) and resuming (恢复) from the page, and a Chinese page for a
ticket that does not exist.
"""

from __future__ import annotations

import re
import struct
import zlib

import pytest
from selenium.webdriver.common.by import By

from gridgov_cli.demo import DEMO_POINT
from tests.browser.conftest import wait_until
from tests.browser.pages import DESK_SIZES, ConsolePage

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

SIZES = pytest.mark.parametrize("size", list(DESK_SIZES), ids=list(DESK_SIZES))
CHINESE = re.compile(r"[\u4e00-\u9fff]")
PHOTO_SIZE = (800, 600)


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A plain PNG of one colour (the media service reads and strips it like a phone's photo)."""
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw))
            + chunk(b"IEND", b""))


def report_with_photo(api, description: str) -> dict:
    """A grid worker's patrol report with one photo at the demo point; its dispatched ticket."""
    grid = api.grid_at(*DEMO_POINT)["grid_code"]
    worker = api.stack.auth(sub="detail-worker", role="grid_worker", grid=grid)
    media = api.client.post(f"{api.stack.url('event-intake')}/v1/media", content=png(*PHOTO_SIZE, (200, 90, 40)),
                            headers={**worker, "Content-Type": "image/png"})
    assert media.status_code == 201, media.text
    resp = api.client.post(f"{api.stack.url('event-intake')}/v1/reports/patrol", headers=worker,
                           json={"category_code": "01002", "description": description, "lon": DEMO_POINT[0],
                                 "lat": DEMO_POINT[1], "media_ids": [media.json()["media_id"]]})
    assert resp.status_code == 202, resp.text
    return api.ticket_of(resp.json()["report_id"])


def names(api) -> tuple[dict[str, str], dict[str, str]]:
    """The city's department and category names by code."""
    dispatch = api.stack.url("dispatch")
    departments = {d["code"]: d["name_zh"] for d in api.client.get(f"{dispatch}/v1/departments",
                                                                    headers=api.centre).json()}
    categories = {i["code"]: i["name_zh"] for i in api.client.get(f"{dispatch}/v1/catalog",
                                                                  headers=api.centre).json()["items"]}
    return departments, categories


def signed_in(driver, url: str, role: str, sub: str, size: str, department: str | None = None,
              name: str | None = None) -> ConsolePage:
    """The console signed in as ``role`` at the screen ``size`` (not waiting for the role's home page)."""
    page = ConsolePage(driver, url)
    page.sign_in(role, sub, department=department, size=DESK_SIZES[size], expect_view=None, name=name)
    wait_until("the sign-in", lambda: driver.execute_script("return sessionStorage.getItem('gridgov.console.session')"))
    return page


def trail(page: ConsolePage) -> list[str]:
    """The actions of the audit trail as shown, oldest first."""
    return [e.get_attribute("data-action") for e in page.css('[data-test="trail-item"]')]


def into_view(page: ConsolePage, selector: str) -> None:
    """Scroll the element into the middle of the screen (for the screenshot)."""
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", page.one(selector))


def block_feed(driver, blocked: bool) -> None:
    """Keep the page from hearing the live feed (a page opened before a colleague acted, not yet told of it)."""
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/api/events*"] if blocked else []})


@SIZES
def test_ticket_detail_shows_names_photo_and_claim_on_page(stack, api, driver, shot, size):
    ticket = report_with_photo(api, f"详情页测试：路边暴露垃圾（{size}）")
    departments, categories = names(api)
    department = ticket["department"]
    page = signed_in(driver, stack.url("console"), "dept_dispatcher", "detail-dispatcher", size,
                     department=department, name="王敏")
    page.open(f"/tickets/{ticket['id']}", "ticket")
    header_who = page.test_id("who").text  # the header says who is signed in by name
    assert "王敏" in header_who and "detail-dispatcher" not in header_who, header_who

    # Names, not codes: category, department, town and village.
    assert page.test_id("ticket-category").text == categories["01002"]
    assert page.test_id("ticket-department").text == departments[department]
    area = wait_until("the grid named", lambda: (text := page.test_id("ticket-area").text) and "…" not in text
                      and text)
    assert not re.search(r"\d{6,}", area) and area.count("·") == 2, area  # town · village · grid, by name
    header = page.one(".ticket-head").text
    assert department not in header and "01002" not in header
    # The grid's workers by name, those on duty first, each with their duty: whom the desk calls for a look on site
    roster = api.client.get(f"{api.stack.url('grid-registry')}/v1/grids/{ticket['grid_code']}/workers",
                            headers=api.centre).json()["workers"]
    assert roster, "the test city's demo roster staffs the demo point's grid"
    shown = wait_until("the grid's workers", lambda: page.driver.execute_script("""
      return [...document.querySelectorAll('[data-test=grid-workers] .grid-worker')].map((e) =>
        [e.dataset.worker, e.dataset.onDuty, e.textContent.replace(/\\s+/g, '')]);"""), 10)
    assert sorted(w for w, _, _ in shown) == sorted(w["worker_id"] for w in roster)
    duty = [on for _, on, _ in shown]
    assert duty == sorted(duty, key=lambda on: on != "true")  # on duty first
    by_id = {w["worker_id"]: w for w in roster}
    for w, on, text in shown:
        duty_word = "在岗" if by_id[w]["on_duty"] else "离岗"
        assert text == by_id[w]["name"] + duty_word and on == str(by_id[w]["on_duty"]).lower(), shown
    page.one('[data-test="ticket-map"] path.leaflet-interactive')  # the grid drawn on the map
    # The system's words in Chinese: the routing reason, the trail's 立案 and 派遣 notes, each rule's basis in the
    # trace (rule ids, codes and times aside: they are names of their own)
    texts = wait_until("the routing in words", lambda: (t := page.driver.execute_script("""
      const t = (s) => [...document.querySelectorAll(s)].map((e) => e.textContent.trim());
      return [...t('[data-test=routing-reason]'), ...t('[data-test=routing] .routing-basis'),
              ...t('[data-test=trail-item][data-action=register] .trail-note'),
              ...t('[data-test=trail-item][data-action=dispatch] .trail-note')];
      """)) and len(t) > 3 and t, 10)
    ids = re.compile(r"[A-Za-z0-9_.:-]*[-_0-9][A-Za-z0-9_.:-]*")  # rule ids, codes, times
    english = [x for x in texts if re.search(r"[A-Za-z]{3,}", ids.sub("", x))]
    assert not english and all(CHINESE.search(x) for x in texts), english or texts
    shot("detail")

    # The report's photo: a thumbnail, full size on click.
    page.one('[data-test="photo"][data-kind="before"] img').click()
    viewer = page.one(".el-image-viewer__wrapper img.el-image-viewer__img")
    natural = wait_until("the full-size photo", lambda: driver.execute_script(
        "return arguments[0].complete && [arguments[0].naturalWidth, arguments[0].naturalHeight]", viewer))
    assert tuple(natural) == PHOTO_SIZE
    shot("photo-full-size")
    page.one(".el-image-viewer__close").click()
    page.gone(".el-image-viewer__wrapper")

    # A claim made on the page: confirmed in Chinese, then the trail grows by it.
    before = trail(page)
    page.test_id("action-claim").click()
    assert "签收" in page.accept_confirmation()
    wait_until("the claim in the trail", lambda: trail(page) == [*before, "claim"])
    page.one('[data-view="ticket"][data-state="claimed"]')
    # by the name the dispatcher signed in with, the account id only on hover
    who = page.one('[data-test="trail-item"][data-action="claim"] .trail-who')
    assert who.text == "部门调度员 王敏" and who.get_attribute("title") == "detail-dispatcher", who.text
    into_view(page, '[data-test="trail-item"][data-action="claim"]')
    shot("claimed")

    # A handling report without a note: the service's Chinese reason next to the note, its message under the button.
    page.test_id("action-handle").click()
    page.accept_confirmation()
    alert = page.test_id("action-error-handle").text
    reason = wait_until("the note's reason", lambda: page.one('[data-section="handle"] .el-form-item__error').text)
    assert CHINESE.search(reason) and CHINESE.search(alert), (reason, alert)
    assert "String should" not in reason + alert
    assert trail(page) == [*before, "claim"]  # nothing was recorded
    into_view(page, '[data-section="handle"]')
    shot("handle-error")


@SIZES
def test_claim_twice_shows_chinese_error_next_to_claim(stack, api, driver, shot, size):
    ticket = report_with_photo(api, f"详情页测试：重复签收（{size}）")
    page = signed_in(driver, stack.url("console"), "dept_dispatcher", "detail-dispatcher", size,
                     department=ticket["department"])
    block_feed(driver, True)
    try:
        page.open(f"/tickets/{ticket['id']}", "ticket")
        api.claim(ticket)  # a colleague claims it first; this page has not heard yet
        page.test_id("action-claim").click()
        page.accept_confirmation()
        error = page.test_id("action-error-claim")
        section = page.one('[data-section="claim"]')
        text = error.text
        assert text and CHINESE.search(text), text
        assert section.find_element(By.CSS_SELECTOR, '[data-test="action-error-claim"]') == error  # by the button
        page.one('[data-view="ticket"][data-state="claimed"]')  # and the page shows where the ticket stands now
        assert page.one('[data-section="claim"] [data-test="action-error-claim"]').text == text
        shot("claim-twice")
    finally:
        block_feed(driver, False)


@SIZES
def test_dispatcher_handles_with_note_and_photo(stack, api, driver, shot, size, tmp_path):
    ticket = report_with_photo(api, f"详情页测试：处置反馈（{size}）")
    api.claim(ticket)
    photo = tmp_path / "fix.png"
    photo.write_bytes(png(640, 480, (40, 160, 80)))
    note = f"已清运垃圾并冲洗地面（{size}）"
    page = signed_in(driver, stack.url("console"), "dept_dispatcher", "detail-dispatcher", size,
                     department=ticket["department"])
    page.open(f"/tickets/{ticket['id']}", "ticket")
    page.type_into("handle-note", note)
    page.one('input[data-test="handle-photo-input"]').send_keys(str(photo))
    page.one('[data-section="handle"] [data-test="photo"] img')

    # What was typed and uploaded survives a refresh.
    driver.refresh()
    page.wait_view("ticket")
    assert page.test_id("handle-note").get_attribute("value") == note
    page.one('[data-section="handle"] [data-test="photo"] img')
    shot("handle-ready")

    page.test_id("action-handle").click()
    assert "1 张" in page.accept_confirmation()
    page.one('[data-view="ticket"][data-state="handled"]', 30)
    handled = [e for e in page.css('[data-test="trail-item"]') if e.get_attribute("data-action") == "handle"]
    assert len(handled) == 1 and note in handled[0].text
    page.one('[data-test="trail-item"][data-action="handle"] [data-test="photo"] img')
    page.one('[data-test="photo"][data-kind="after"] img')
    into_view(page, '[data-test="trail-item"][data-action="handle"]')
    shot("handled")
    stored = api.ticket(ticket["id"])
    step = [t for t in stored["transitions"] if t["action"] == "handle"][0]
    assert step["note"] == note and len(step["photos"]) == 1
    # The note was sent: its draft is gone, so the next ticket's box starts empty.
    assert driver.execute_script(f"return localStorage.getItem('gridgov.console.draft.ticket:{ticket['id']}:handle')") \
        is None


@SIZES
def test_command_centre_supervises_suspends_and_resumes(stack, api, driver, shot, size):
    ticket = report_with_photo(api, f"详情页测试：督办挂起（{size}）")
    api.claim(ticket)
    page = signed_in(driver, stack.url("console"), "command_centre", "detail-centre", size)
    page.open(f"/tickets/{ticket['id']}", "ticket")

    page.type_into("supervise-note", "请今日内处置完毕")
    page.test_id("action-supervise").click()
    assert "督办" in page.accept_confirmation()
    page.test_id("supervised")
    wait_until("督办 in the trail", lambda: "supervise" in trail(page))
    shot("supervised")

    page.type_into("suspend-note", "涉及产权纠纷，待法院判决")
    page.test_id("action-suspend").click()
    assert "挂起" in page.accept_confirmation()
    page.one('[data-view="ticket"][data-state="suspended"]')
    pause = page.one('[data-test="stage-pause"]').text
    assert "挂起" in pause and "至今" in pause
    into_view(page, '[data-test="stage-pause"]')
    shot("suspended")

    page.test_id("action-resume").click()
    assert "恢复" in page.accept_confirmation()
    page.one('[data-view="ticket"][data-state="claimed"]')
    wait_until("the pause closed", lambda: "恢复" in page.one('[data-test="stage-pause"]').text)
    assert trail(page)[-3:] == ["supervise", "suspend", "resume"]
    into_view(page, '[data-test="trail-item"][data-action="resume"]')
    shot("resumed")


def test_missing_ticket_shows_chinese_page(stack, driver, shot):
    page = signed_in(driver, stack.url("console"), "command_centre", "detail-centre", "1366x768")
    page.open("/tickets/no-such-ticket", "ticket")
    failure = page.test_id("ticket-failure").text
    assert "工单不存在" in failure
    assert page.one('[data-view="ticket"]').get_attribute("data-error") == "404"
    shot("missing")
