"""The department dispatcher's workbench (/queue, issue #13 item 3) in headless Chromium, as a dispatcher uses it.

A queue of 50 tickets claimed in one batch (with a colleague's claim in between, named in the result) and each
handled with a note and a photo of the fix; a note being typed that survives a live update of the list (same
input, caret kept) and a refresh; the queue in deadline order with an overdue ticket red on top; errors in Chinese
next to the control that caused them. Screenshots go to the test's tmp dir and var/screenshots/.
"""

from __future__ import annotations

import re
import sqlite3
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from tests.browser.conftest import Api, _require_browser, wait_until
from tests.browser.pages import DESK, DESK_SIZES, ConsolePage
from tests.support.stack import Stack

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CJK = re.compile(r"[\u4e00-\u9fff]")
# Points in 南城街道 (town 441900004) on a 10 × 5 lattice, ~100 m apart: 01002 reports there go to one department.
QUEUE_POINTS = [(round(113.744 + (i % 10) * 0.0009, 5), round(23.014 + (i // 10) * 0.0012, 5)) for i in range(50)]
# Points in 东城街道 (town 441900003) for the smaller tests, so the 50-ticket queue stays exactly 50.
SMALL_POINTS = [(113.762, 23.032), (113.765, 23.034), (113.758, 23.031), (113.764, 23.028), (113.768, 23.036)]


def png(width: int = 24, height: int = 16, rgb: tuple[int, int, int] = (40, 160, 90)) -> bytes:
    """A small valid PNG of one colour (the photo of a fix)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    """This module's own embedded stack: the 50-ticket queue must hold this module's tickets only, whatever other
    browser tests filed before; started with a generous timeout (a shared CI machine can be slow to import)."""
    _require_browser()
    s = Stack("embedded", tmp_path_factory.mktemp("workbench-stack"))
    s.start(timeout=420)
    yield s
    s.close()


@pytest.fixture(scope="module")
def api(stack) -> Api:
    """Direct service calls on this module's stack."""
    return Api(stack)


@pytest.fixture
def page(driver, stack) -> ConsolePage:
    """The console in the browser, with no drafts left from an earlier test."""
    p = ConsolePage(driver, stack.url("console"))
    driver.get(f"{p.url}/login")
    driver.execute_script("localStorage.clear()")
    return p


@pytest.fixture
def photo(tmp_path) -> Path:
    """A photo file on disk, as the dispatcher's camera roll holds it."""
    path = tmp_path / "fix.png"
    path.write_bytes(png())
    return path


def make_tickets(api, points: list[tuple[float, float]], tag: str) -> list[dict]:
    """Patrol reports at ``points`` (described with ``tag``); their tickets once all are dispatched, which must all
    have gone to one department."""
    report_ids = {api.report(f"{tag} 第{i + 1}处路边暴露垃圾", point): i for i, point in enumerate(points)}
    dispatch = api.stack.url("dispatch")

    def probe():
        items = api.client.get(f"{dispatch}/v1/tickets", params={"limit": 500, "state": "dispatched"},
                               headers=api.centre).json()["items"]
        found = [t for t in items if t["report_id"] in report_ids]
        return found if len(found) == len(report_ids) else None

    tickets = wait_until(f"{len(points)} tickets tagged {tag} to be dispatched", probe, 120)
    departments = {t["department"] for t in tickets}
    assert len(departments) == 1, f"the reports went to several departments: {departments}"
    return sorted(tickets, key=lambda t: report_ids[t["report_id"]])


def act(api, ticket: dict, action: str, body: dict | None = None) -> dict:
    """A colleague of the ticket's department acts on it through the API."""
    resp = api.client.post(f"{api.stack.url('dispatch')}/v1/tickets/{ticket['id']}/{action}", json=body or {},
                           headers=api.stack.auth(sub="colleague", role="dept_dispatcher",
                                                  department=ticket["department"]))
    assert resp.status_code == 200, resp.text
    return resp.json()


def when(iso: str) -> datetime:
    """A time the API answered, in UTC (a naive one is UTC: SQLite keeps no offset)."""
    at = datetime.fromisoformat(iso.replace("Z", "+00:00"))
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def make_overdue(api, ticket: dict) -> None:
    """Move the ticket's deadline into the past and wait until dispatch has it red with that deadline. The move is
    a direct write under dispatch's feet: a clock update of dispatch's own that read the row just before may write
    the old deadline back, so the move is repeated until it holds."""

    def probe():
        now = api.ticket(ticket["id"])
        if when(now["deadline"]) >= when(ticket["deadline"]):
            api.pass_deadline(ticket["id"])  # written back (or not yet moved): move it again
            return None
        return now if now["sla_level"] == "red" else None

    wait_until("dispatch to hold the ticket red with its deadline passed", probe, 90)


def asked(page: ConsolePage) -> str:
    """The question of the confirmation box, once it has opened (its text is empty while it fades in)."""
    return wait_until("the confirmation's question", lambda: page.one(".el-message-box").text.strip())


def in_row(page: ConsolePage, ticket_id: str, test: str):
    """The control ``data-test=<test>`` inside a ticket's row."""
    return page.row(ticket_id).find_element(By.CSS_SELECTOR, f'[data-test="{test}"]')


def click(page: ConsolePage, element) -> None:
    """Click after scrolling the element to the middle of the window (clear of toasts at the top)."""
    page.driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", element)
    element.click()


def row_ids(page: ConsolePage) -> list[str]:
    """The ticket ids of the queue's rows, top to bottom."""
    return page.driver.execute_script(
        "return [...document.querySelectorAll('[data-view=queue] .q-row')].map(r => r.dataset.id)")


def sign_in_dispatcher(page: ConsolePage, department: str, size: tuple[int, int]) -> None:
    """Sign in as the department's dispatcher at a desk of ``size``; the queue is the first page."""
    page.sign_in("dept_dispatcher", "disp-1", department=department, size=size, expect_view=None)
    page.wait_view("queue", timeout=90)  # a loaded CI machine has been seen to take over 30 s for the first page


def test_dispatcher_works_queue_of_50_tickets_claims_in_batch_and_handles_each_with_photo(page, api, shot, photo):
    tickets = make_tickets(api, QUEUE_POINTS, "批量")
    department = tickets[0]["department"]
    ids = {t["id"] for t in tickets}
    sign_in_dispatcher(page, department, DESK)
    wait_until("the 50 tickets in the queue", lambda: set(row_ids(page)) == ids)
    # Names, not codes: the category and the town · village of each row.
    first = page.row(tickets[0]["id"])
    assert "暴露垃圾" in first.text and "01002" not in first.text
    assert "南城街道" in first.text and "441900004" not in first.text
    shot("queue-50-1366x768")

    # Batch claim: select the page, ask, and while the question is open a colleague claims one of them.
    page.test_id("select-page").click()
    assert page.test_id("batch-claim").text.strip() == "签收 50 张"
    page.test_id("batch-claim").click()
    question = asked(page)
    assert "50" in question and "签收" in question
    taken = tickets[7]
    act(api, taken, "claim")
    page.accept_confirmation()
    result = page.test_id("batch-result", timeout=60)
    wait_until("the batch result", lambda: "签收成功" in result.text)
    summary = page.test_id("batch-summary").text
    assert "签收成功 49 张" in summary and "失败 1 张" in summary, summary
    failures = page.css('[data-test="batch-failure"]')
    assert [f.get_attribute("data-id") for f in failures] == [taken["id"]]
    assert taken["id"][-8:] in failures[0].text and CJK.search(failures[0].text.split("\n")[-1])
    shot("queue-50-batch-result-1366x768")
    page.test_id("batch-result-close").click()
    wait_until("all 50 to be claimed", lambda: all(page.row(t["id"]).get_attribute("data-state") == "claimed"
                                                   for t in tickets))

    # Handle each, the one due soonest first, with a note and a photo of the fix.
    for n, ticket_id in enumerate(row_ids(page)):
        note = in_row(page, ticket_id, "note")
        click(page, note)
        note.send_keys(f"已清运垃圾并冲洗路面（{n + 1}）")
        in_row(page, ticket_id, "photo-input").send_keys(str(photo))
        row = page.row(ticket_id)
        wait_until("the photo's thumbnail", lambda r=row: r.find_elements(By.CSS_SELECTOR, '[data-test="photo"] img'))
        click(page, in_row(page, ticket_id, "handle"))
        page.accept_confirmation()
        page.gone(f"[data-id='{ticket_id}']")
        if n == 24:
            shot("queue-50-half-handled-1366x768")
    assert page.test_id("empty").is_displayed()
    shot("queue-50-done-1366x768")

    for ticket in tickets:
        detail = api.ticket(ticket["id"])
        assert detail["state"] == "handled"
        handle = [s for s in detail["transitions"] if s["action"] == "handle"][-1]
        assert handle["note"].startswith("已清运垃圾并冲洗路面") and len(handle["photos"]) == 1
        assert handle["actor_id"] == "disp-1"


@pytest.mark.parametrize("size", list(DESK_SIZES), ids=list(DESK_SIZES))
def test_typing_in_row_survives_live_update_and_refresh(page, api, shot, size):
    mine, other = make_tickets(api, SMALL_POINTS[:2], f"输入{size}")
    act(api, mine, "claim")
    sign_in_dispatcher(page, mine["department"], DESK_SIZES[size])
    page.row(other["id"], state="dispatched")
    note = in_row(page, mine["id"], "note")
    click(page, note)
    note.send_keys("已到场，正在清")

    # A colleague claims the other ticket: the live feed reloads the list while the dispatcher is typing.
    act(api, other, "claim")
    page.row(other["id"], state="claimed", timeout=60)
    same = in_row(page, mine["id"], "note")
    assert same == note, "the list re-created the input being typed in"
    assert page.driver.switch_to.active_element == note, "the caret left the input"
    note.send_keys("运")  # the caret is still at the end: typing goes on where it was
    assert note.get_attribute("value") == "已到场，正在清运"
    shot(f"typing-after-live-update-{size}")

    page.driver.refresh()
    page.wait_view("queue")
    assert in_row(page, mine["id"], "note").get_attribute("value") == "已到场，正在清运"

    # The state the dispatcher picked stays picked over a refresh too (the next sign-in starts at 待办 again).
    page.choose("filter-state", "已签收")
    page.gone(f"[data-id='{other['id']}'][data-state='dispatched']")
    page.driver.refresh()
    page.wait_view("queue")
    page.row(mine["id"], state="claimed")
    assert {r.get_attribute("data-state") for r in page.css("[data-view=queue] .q-row")} == {"claimed"}
    assert "已签收" in page.test_id("filter-state").find_element(By.XPATH, "..").text


@pytest.mark.parametrize("size", list(DESK_SIZES), ids=list(DESK_SIZES))
def test_queue_sorted_by_deadline_with_overdue_red_on_top(page, api, shot, size):
    tickets = make_tickets(api, SMALL_POINTS[2:5], f"排序{size}")
    late = tickets[-1]  # filed last: not due first until its deadline is moved into the past
    make_overdue(api, late)
    sign_in_dispatcher(page, late["department"], DESK_SIZES[size])
    wait_until("the missed deadline to show red", lambda: page.row(late["id"]).get_attribute("data-sla") == "red", 60)
    rows = page.css("[data-view=queue] .q-row[data-in-hand='true']")
    deadlines = [when(r.get_attribute("data-deadline")) for r in rows]
    assert deadlines == sorted(deadlines) and len(deadlines) >= 3
    # The overdue one jumped ahead of the two filed before it (and of every ticket not red); those two are in their
    # own deadline order (dispatched in whatever order dispatch took them), which the sorted deadlines check.
    order = [r.get_attribute("data-id") for r in rows]
    assert order.index(late["id"]) < min(order.index(tickets[0]["id"]), order.index(tickets[1]["id"]))
    levels = [r.get_attribute("data-sla") for r in rows]
    assert levels[0] == "red" and levels == sorted(levels, key=lambda level: level != "red")
    countdown = in_row(page, late["id"], "countdown")
    assert "超期" in countdown.text and "sla-red" in countdown.get_attribute("class")
    shot(f"queue-sorted-overdue-{size}")


@pytest.mark.parametrize("size", list(DESK_SIZES), ids=list(DESK_SIZES))
def test_error_shows_in_chinese_next_to_control(page, api, shot, size, tmp_path):
    [ticket] = make_tickets(api, SMALL_POINTS[:1], f"报错{size}")
    act(api, ticket, "claim")
    sign_in_dispatcher(page, ticket["department"], DESK_SIZES[size])

    # No note: the page says so under the note, in Chinese, and sends nothing.
    click(page, in_row(page, ticket["id"], "handle"))
    note_error = in_row(page, ticket["id"], "note-error")
    assert "请填写处置说明" in note_error.text
    note = in_row(page, ticket["id"], "note")
    assert 0 <= note_error.location["y"] - note.location["y"] < 60

    # Not an image: intake refuses it (415), and its Chinese message shows under the photo button.
    fake = tmp_path / "not-a-photo.jpg"
    fake.write_bytes(b"this is not an image")
    in_row(page, ticket["id"], "photo-input").send_keys(str(fake))
    photo_error = wait_until("the upload error", lambda: page.row(ticket["id"]).find_elements(
        By.CSS_SELECTOR, '[data-test="photo-error"]'))[0]
    assert "上传失败" in photo_error.text and CJK.search(photo_error.text.split("：", 1)[1])
    assert not re.search(r"[A-Za-z]{4,} [A-Za-z]{4,}", photo_error.text), "an English sentence in the error"
    button = in_row(page, ticket["id"], "add-photo")
    assert 0 <= photo_error.location["y"] - button.location["y"] < 80
    shot(f"errors-next-to-controls-{size}")
    assert api.ticket(ticket["id"])["state"] == "claimed"


def test_return_with_reason_from_list_and_request_extension(page, api, shot):
    back, later = make_tickets(api, SMALL_POINTS[3:5], "退单延期")
    act(api, later, "claim")
    sign_in_dispatcher(page, back["department"], DESK)

    # 退单: a reason from the list plus the dispatcher's words; without a reason the dialog says so first.
    click(page, in_row(page, back["id"], "return"))
    page.test_id("return-submit").click()
    wait_until("the missing reason named under the list", lambda: "请选择退单原因" in page.one(
        '[data-test="return-dialog"] .el-form-item__error').text)
    page.choose("return-reason", "不属于本部门职责")
    page.gone('[data-test="return-dialog"] .el-form-item__error')  # chosen: the error under the list is gone
    page.type_into("return-text", "应由住建局处置")
    shot("return-dialog-1366x768")
    page.test_id("return-submit").click()
    page.accept_confirmation()
    page.row(back["id"], state="returned")
    step = api.ticket(back["id"])["transitions"][-1]
    assert step["action"] == "return" and step["note"] == "不属于本部门职责：应由住建局处置"

    # 延期申请: an amount, a unit and the reason, as dispatch's ExtensionBody asks.
    click(page, in_row(page, later["id"], "extend"))
    page.choose("extension-unit", "工作小时")
    page.type_into("extension-note", "需协调产权单位")
    shot("extension-dialog-1366x768")
    page.test_id("extension-submit").click()
    assert "1 工作小时" in asked(page)
    page.accept_confirmation()
    page.row(later["id"], state="extension_requested")
    step = api.ticket(later["id"])["transitions"][-1]
    assert step["action"] == "request_extension" and step["note"] == "需协调产权单位"
    assert in_row(page, later["id"], "waiting").text == "延期申请待指挥中心审批"


def test_inbox_shows_unread_count_and_marks_one_read(page, api, shot):
    [ticket] = make_tickets(api, SMALL_POINTS[:1], "消息")
    sign_in_dispatcher(page, ticket["department"], DESK)

    def unread() -> int:
        count = int(page.test_id("inbox-unread").get_attribute("data-count") or 0)
        if not count:  # the message may still be on its way: the page reads the inbox again when reopened
            page.driver.refresh()
            page.wait_view("queue")
        return count

    before = wait_until("an unread message for the department", unread, 60)
    page.test_id("inbox-button").click()
    message = page.one('[data-test="inbox-message"][data-unread="true"]')
    wait_until("the drawer to open on the message, in Chinese", lambda: CJK.search(message.text))
    shot("inbox-1366x768")
    message.find_element(By.CSS_SELECTOR, '[data-test="inbox-read"]').click()
    wait_until("the message marked read", lambda: message.get_attribute("data-unread") == "false")
    wait_until("the badge to count one less",
               lambda: int(page.test_id("inbox-unread").get_attribute("data-count") or 0) == before - 1)


PAST_TICKETS = 5_200  # more than the 5,000 a console list reads (api.js allPages)


def closed_past(stack: Stack, department: str, n: int) -> list[str]:
    """Write ``n`` closed tickets of ``department``, all older than today's, straight into dispatch's database (a
    test-only data path, as a city's past of months is: what a department's list holds besides its open tickets)."""
    start = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=60)
    rows = []
    for i in range(n):
        at = (start + timedelta(minutes=10 * i)).isoformat(sep=" ")
        rows.append((f"past-{i:06d}", f"past-report-{i:06d}", "01002", f"往期已结案件 {i}", "past-reporter",
                     department, "located", "closed", 6, at, at, at, "patrol", "", "normal", 0, "green", 0, 0, 0, 0))
    with sqlite3.connect(stack.data_dir / "dispatch.db", timeout=30) as conn:
        conn.executemany(
            "INSERT INTO ticket (id, report_id, category_code, description, reporter_id, department, "
            "location_status, state, version, created_at, updated_at, closed_at, channel, department_areas, priority, "
            "deadline_provisional, sla_level, escalation_level, supervised, return_count, rework_count) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    return [r[0] for r in rows]


def test_the_open_tickets_show_behind_a_department_past_of_thousands_closed(page, api, shot):
    [ticket] = make_tickets(api, SMALL_POINTS[3:4], "往期")
    department = ticket["department"]
    past = closed_past(api.stack, department, PAST_TICKETS)
    try:
        # The dispatcher's 待办 and the command centre's 在办 list of the department both ask dispatch for the open
        # tickets: read from the first 5,000 of the department's list (oldest first), they showed none.
        sign_in_dispatcher(page, department, DESK)
        page.row(ticket["id"], "dispatched")
        assert not page.css("[data-id^='past-']")
        shot("queue-behind-a-closed-past")
        page.sign_in("command_centre", "cc-past", size=DESK)
        page.open(f"/tickets?department={department}&open=1", "tickets")
        page.row(ticket["id"])
        assert not page.css("[data-id^='past-']")
        shot("open-list-behind-a-closed-past")
        # Every ticket of the department, newest first (today's on the first page), counted whole, and paged by
        # dispatch: its last page holds the oldest of the past, one read away.
        page.open(f"/tickets?department={department}", "tickets")
        page.row(ticket["id"])
        total = api.client.get(f"{api.stack.url('dispatch')}/v1/tickets", params={"department": department, "limit": 1},
                               headers=api.centre).json()["total"]
        assert total > PAST_TICKETS
        assert page.test_id("list-total").get_attribute("data-total") == str(total)
        assert page.test_id("csv-cap").text == "导出按当前排序的前 5000 条"
        jump = page.test_id("list-pager").find_element(By.CSS_SELECTOR, ".el-pagination__jump input")
        jump.send_keys(Keys.CONTROL, "a")
        jump.send_keys(str(-(-total // 50)), Keys.ENTER)  # the last page
        page.row("past-000000")
        assert 1 <= len(page.css("tr[data-id]")) <= 50
        # A ticket of the past found by a piece of its description, wherever it is in the list.
        page.type_into("filter-search", "往期已结案件 4321")
        page.test_id("filter-search").send_keys(Keys.ENTER)
        page.row("past-004321")
        wait_until("the search's one ticket", lambda: len(page.css("tr[data-id]")) == 1, 20)
        assert parse_qs(urlparse(page.driver.current_url).query)["q"] == ["往期已结案件 4321"]
        shot("list-searched-in-a-closed-past")
        # Oldest first, asked for: the past's first ticket leads the first page.
        page.open(f"/tickets?department={department}&sort=oldest", "tickets")
        wait_until("the oldest ticket first", lambda: page.css("tr[data-id]")[0].get_attribute("data-id")
                   == "past-000000", 30)
    finally:
        with sqlite3.connect(api.stack.data_dir / "dispatch.db", timeout=30) as conn:
            conn.executemany("DELETE FROM ticket WHERE id = ?", [(i,) for i in past])
